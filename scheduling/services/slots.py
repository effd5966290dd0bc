"""Opening, changing, closing and reopening appointment slots.

A closed slot (`is_active` false) cannot be booked and is not listed; it keeps
its row, so a slot generation never makes it again (availability.py skips
every start that has a slot, open or closed) and the doctor can reopen it.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from clinics.models import Clinic, Doctor
from healthsvc.db import retry_on_conflict, violated_constraint
from healthsvc.timezones import local_date_bounds, skipped_wall_time_message, wall_time_to_utc
from scheduling.exceptions import (
    CapacityBelowBookedError,
    DoctorNotVerifiedError,
    SlotHasBookingsError,
    SlotOverlapError,
    SlotUnavailableError,
    SlotValidationError,
)
from scheduling.models import MAX_SLOT_MINUTES, MIN_SLOT_MINUTES, Appointment, AppointmentSlot

from .locks import doctor_get_for_update, slot_get_for_update
from .waitlist import waitlist_offer_freed

MAX_CAPACITY = 100
# How far ahead a slot may be opened by hand (patients book within the
# clinic's booking horizon; generation goes at most 366 days ahead).
MAX_DAYS_AHEAD = 5 * 366
_OVERLAP_CONSTRAINTS = (
    "scheduling_slot_no_overlap",
    "scheduling_slot_unique_doctor_start",
    "scheduling_appointmentslot.doctor_id, scheduling_appointmentslot.start",  # SQLite's message
)


def _invalid(field: str, message: str) -> SlotValidationError:
    return SlotValidationError(message, extra={"errors": {field: [message]}})


def _validate_shape(*, start: datetime, duration_minutes: int, capacity: int) -> None:
    if timezone.is_naive(start):
        raise _invalid("slot_datetime", "Give the time with a UTC offset.")
    if start <= timezone.now():
        raise _invalid("slot_datetime", "The slot must start in the future.")
    if start > timezone.now() + timedelta(days=MAX_DAYS_AHEAD):
        raise _invalid("slot_datetime", f"Slots can be opened at most {MAX_DAYS_AHEAD} days ahead.")
    if not MIN_SLOT_MINUTES <= duration_minutes <= MAX_SLOT_MINUTES:
        raise _invalid("duration_minutes", f"Must be between {MIN_SLOT_MINUTES} and {MAX_SLOT_MINUTES}.")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise _invalid("capacity", f"Must be between 1 and {MAX_CAPACITY}.")


def slot_start_at(*, clinic: Clinic, day: date, wall: time) -> datetime:
    """The instant a slot given on the clinic's clocks starts (a repeated wall
    time is its first occurrence). Raises SlotValidationError on `start_time`
    for a wall time the clocks skip."""
    start = wall_time_to_utc(day, wall, clinic.tzinfo)
    if start is None:
        raise _invalid("start_time", skipped_wall_time_message(day, wall, clinic.timezone))
    return start


def _is_overlap(exc: IntegrityError) -> bool:
    name = violated_constraint(exc)
    return any(fragment in name for fragment in _OVERLAP_CONSTRAINTS)


def _overlaps_active(*, doctor_id: int, start: datetime, end: datetime, exclude_id: int | None = None) -> bool:
    others = AppointmentSlot.objects.filter(doctor_id=doctor_id, is_active=True, start__lt=end, end__gt=start)
    return others.exclude(pk=exclude_id).exists()


@retry_on_conflict
@transaction.atomic
def slot_create(
    *, doctor: Doctor, start: datetime, duration_minutes: int = 30, capacity: int = 1, clinic: Clinic | None = None
) -> AppointmentSlot:
    """Open a slot for a verified doctor; its places are offered to the
    patients waiting for that day. Locks the doctor, so two overlapping
    creates cannot both pass the overlap check. Raises SlotValidationError,
    DoctorNotVerifiedError, SlotUnavailableError, SlotOverlapError."""
    _validate_shape(start=start, duration_minutes=duration_minutes, capacity=capacity)
    start = start.astimezone(UTC)  # minutes are added to instants, not to wall times
    doctor = doctor_get_for_update(doctor_id=doctor.pk)
    if not doctor.user.is_verified:
        raise DoctorNotVerifiedError()
    clinic = clinic or doctor.clinic
    if clinic.pk != doctor.clinic_id:
        raise _invalid("clinic_id", "The doctor does not work at this clinic.")
    if not (doctor.is_active and clinic.is_active):
        raise SlotUnavailableError("The doctor or the clinic is no longer active.")
    if _overlaps_active(doctor_id=doctor.pk, start=start, end=start + timedelta(minutes=duration_minutes)):
        raise SlotOverlapError()
    try:
        with transaction.atomic():
            slot = AppointmentSlot.objects.create(
                doctor=doctor, clinic=clinic, start=start, duration_minutes=duration_minutes, capacity=capacity
            )
    except IntegrityError as exc:
        if _is_overlap(exc):
            raise SlotOverlapError() from exc
        raise
    # Not yet committed, so no other transaction can see it: as good as locked.
    waitlist_offer_freed(slot)
    return slot


def _has_active_appointments(slot: AppointmentSlot) -> bool:
    """Active appointments on it, or a place held for a waitlist offer."""
    return slot.held_count > 0 or slot.appointments.filter(status__in=Appointment.ACTIVE_STATUSES).exists()


def _reopen(slot: AppointmentSlot) -> None:
    """Reopen a locked, closed slot (its doctor locked too), offering its free
    places to the waitlist. Raises
    SlotUnavailableError for a slot that has begun, SlotOverlapError."""
    if slot.is_past:
        raise SlotUnavailableError("A slot that has begun cannot be reopened.")
    if _overlaps_active(doctor_id=slot.doctor_id, start=slot.start, end=slot.end, exclude_id=slot.pk):
        raise SlotOverlapError("Another open slot of the doctor overlaps this one.")
    slot.is_active = True
    try:
        with transaction.atomic():
            slot.save(update_fields=["is_active", "updated_at"])
    except IntegrityError as exc:
        if _is_overlap(exc):
            raise SlotOverlapError() from exc
        raise
    waitlist_offer_freed(slot)  # its free places go to the patients waiting for that day


@retry_on_conflict
@transaction.atomic
def slot_update(*, slot_id: int, capacity: int | None = None, is_active: bool | None = None) -> AppointmentSlot:
    """Change a slot's capacity (never below its booked places), or close or
    reopen it (closing one that holds active appointments is refused).

    Locks the slot's doctor (a reopened slot must not overlap another open
    one), then the slot. Raises SlotValidationError, CapacityBelowBookedError,
    SlotHasBookingsError, SlotUnavailableError, SlotOverlapError.
    """
    doctor_id = AppointmentSlot.objects.filter(pk=slot_id).values_list("doctor_id", flat=True).first()
    if doctor_id is not None:
        doctor_get_for_update(doctor_id=doctor_id)
    slot = slot_get_for_update(slot_id=slot_id)
    if capacity is not None:
        if not 1 <= capacity <= MAX_CAPACITY:
            raise _invalid("capacity", f"Must be between 1 and {MAX_CAPACITY}.")
        if capacity < slot.booked_count + slot.held_count:
            held = f" and {slot.held_count} held for the waitlist" if slot.held_count else ""
            raise CapacityBelowBookedError(f"{slot.booked_count} places are already booked{held} on this slot.")
        raised = capacity > slot.capacity
        slot.capacity = capacity
        slot.save(update_fields=["capacity", "updated_at"])
        if raised:
            waitlist_offer_freed(slot)
    if is_active is False and slot.is_active:
        if _has_active_appointments(slot):
            raise SlotHasBookingsError("The slot holds active appointments; cancel them before closing it.")
        slot.is_active = False
        slot.save(update_fields=["is_active", "updated_at"])
    elif is_active is True and not slot.is_active:
        _reopen(slot)
    return slot


@retry_on_conflict
@transaction.atomic
def slot_deactivate(*, slot_id: int) -> AppointmentSlot:
    """Soft-delete a slot that holds no active appointment. Locks the slot, so
    a booking cannot land between the check and the delete. Raises SlotHasBookingsError."""
    slot = slot_get_for_update(slot_id=slot_id)
    if _has_active_appointments(slot):
        raise SlotHasBookingsError()
    if slot.is_active:
        slot.is_active = False
        slot.save(update_fields=["is_active", "updated_at"])
    return slot


def _future_slots_of_day(doctor: Doctor, day: date):
    start, end = local_date_bounds(day, doctor.clinic.tzinfo)
    return AppointmentSlot.objects.filter(doctor=doctor, start__gte=max(start, timezone.now()), start__lt=end)


@retry_on_conflict
@transaction.atomic
def slots_close_day(*, doctor: Doctor, day: date) -> tuple[int, int]:
    """Close every open slot of the doctor's local day `day` that has not begun
    and holds no active appointment. Returns (closed, kept because booked).

    Locks the doctor: bookings of the doctor lock it first, so none lands on a
    slot between the check and the close."""
    doctor = doctor_get_for_update(doctor_id=doctor.pk)
    open_slots = _future_slots_of_day(doctor, day).filter(is_active=True)
    booked = Appointment.objects.filter(slot=OuterRef("pk"), status__in=Appointment.ACTIVE_STATUSES)
    # A place held for a waitlist offer keeps its slot open, as a booking does.
    kept = open_slots.filter(Exists(booked) | Q(held_count__gt=0)).count()
    closed = open_slots.exclude(Exists(booked) | Q(held_count__gt=0)).update(is_active=False, updated_at=timezone.now())
    return closed, kept


@retry_on_conflict
@transaction.atomic
def slots_reopen_day(*, doctor: Doctor, day: date) -> int:
    """Reopen the closed slots of the doctor's local day `day` that have not
    begun, skipping any that would overlap an open one. Returns how many.
    Locks the doctor, then each slot."""
    doctor = doctor_get_for_update(doctor_id=doctor.pk)
    reopened = 0
    for slot_id in _future_slots_of_day(doctor, day).filter(is_active=False).order_by("start", "id").values_list(
        "pk", flat=True
    ):
        slot = slot_get_for_update(slot_id=slot_id)
        try:
            _reopen(slot)
        except (SlotOverlapError, SlotUnavailableError):
            continue
        reopened += 1
    return reopened
