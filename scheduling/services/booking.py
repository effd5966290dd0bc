"""Booking, cancelling and rescheduling appointments.

Each service is one transaction that locks the rows it counts (see locks.py
for the order). The database constraints on AppointmentSlot and Appointment
are the backstop: if this code were ever wrong, the write fails and the
violation is reported as the same domain error, never as a 500.
"""

from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Patient, User
from clinics.models import Doctor
from healthsvc.db import violated_constraint
from scheduling.exceptions import (
    AlreadyBookedError,
    DailyLimitReachedError,
    InvalidStateError,
    OverlappingAppointmentError,
    SlotFullError,
    SlotNotFoundError,
    SlotUnavailableError,
)
from scheduling.models import Appointment, AppointmentSlot

from .locks import appointment_get_for_update, doctor_get_for_update, patient_lock, slots_get_for_update

ACTIVE = Appointment.ACTIVE_STATUSES

# Constraint name (PostgreSQL) or a fragment of SQLite's message -> domain error.
_CONSTRAINT_ERRORS = [
    ("scheduling_slot_booked_within_capacity", SlotFullError),
    ("scheduling_appointment_one_active_per_patient_slot", AlreadyBookedError),
    ("scheduling_appointment.patient_id, scheduling_appointment.slot_id", AlreadyBookedError),
    ("scheduling_appointment_no_patient_overlap", OverlappingAppointmentError),
]


def _domain_error(exc: IntegrityError) -> Exception | None:
    """The domain error a constraint violation stands for, or None if unknown."""
    name = violated_constraint(exc)
    for fragment, error in _CONSTRAINT_ERRORS:
        if fragment in name:
            return error()
    return None


def local_day_bounds(moment: datetime, tz) -> tuple[datetime, datetime]:
    """The [start, end) of the local calendar day holding `moment` in `tz` (DST-safe)."""
    day = moment.astimezone(tz).date()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def _slot_doctor_id(slot_id: int) -> int:
    doctor_id = AppointmentSlot.objects.filter(pk=slot_id).values_list("doctor_id", flat=True).first()
    if doctor_id is None:
        raise SlotNotFoundError()
    return doctor_id


def _check_bookable(*, slot: AppointmentSlot, doctor: Doctor, patient: Patient, exclude_id: int | None) -> None:
    """Every rule a booking must pass, checked under the doctor and slot locks."""
    if not (slot.is_active and doctor.is_active and slot.clinic.is_active) or slot.is_past:
        raise SlotUnavailableError()
    if slot.is_full:
        raise SlotFullError()
    active = Appointment.objects.filter(status__in=ACTIVE).exclude(pk=exclude_id)
    if active.filter(patient=patient, slot=slot).exists():
        raise AlreadyBookedError()
    # Completed and no-show visits used their place that day too.
    day_start, day_end = local_day_bounds(slot.start, slot.clinic.tzinfo)
    held = Appointment.objects.filter(status__in=Appointment.PLACE_HOLDING_STATUSES).exclude(pk=exclude_id)
    if held.filter(doctor=doctor, start__gte=day_start, start__lt=day_end).count() >= doctor.max_patients_per_day:
        raise DailyLimitReachedError()
    if active.filter(patient=patient, start__lt=slot.end, end__gt=slot.start).exists():
        raise OverlappingAppointmentError()


def _check_changeable(appointment: Appointment, *, verb: str) -> None:
    """Cancel and reschedule take only an active appointment whose visit has not
    begun (freeing a place on a slot that has begun would hide a no-show)."""
    if not appointment.is_active:
        raise InvalidStateError(f"A {appointment.get_status_display().lower()} appointment cannot be {verb}.")
    if not appointment.is_changeable:
        raise InvalidStateError("The visit has already started; mark it completed or no-show instead.")


def _change_booked_count(slot: AppointmentSlot, delta: int) -> None:
    # F() so the database adds to the value it holds, not to our copy.
    AppointmentSlot.objects.filter(pk=slot.pk).update(booked_count=F("booked_count") + delta, updated_at=timezone.now())
    slot.booked_count += delta


@transaction.atomic
def appointment_book(*, patient: Patient, slot_id: int, reason: str = "", booked_by: User | None = None) -> Appointment:
    """Book one place on a slot for a patient, status confirmed.

    Locks the patient, the slot's doctor and the slot. Raises SlotNotFoundError,
    SlotUnavailableError, SlotFullError, AlreadyBookedError,
    DailyLimitReachedError, OverlappingAppointmentError.
    """
    # Two bookings of one patient queue here (overlap check), two bookings of
    # one doctor on different slots queue on the doctor (daily limit), and
    # bookings of one slot queue on the slot (capacity).
    patient_lock(patient_id=patient.pk)
    doctor = doctor_get_for_update(doctor_id=_slot_doctor_id(slot_id))
    slot = slots_get_for_update(slot_ids=[slot_id])[slot_id]
    _check_bookable(slot=slot, doctor=doctor, patient=patient, exclude_id=None)
    try:
        appointment = Appointment.objects.create(
            patient=patient, doctor=doctor, clinic=slot.clinic, slot=slot, start=slot.start, end=slot.end,
            status=Appointment.Status.CONFIRMED, reason_for_visit=reason or "", booked_by=booked_by,
        )
        _change_booked_count(slot, +1)
    except IntegrityError as exc:
        error = _domain_error(exc)
        if error is None:
            raise
        raise error from exc
    return appointment


@transaction.atomic
def appointment_cancel(*, appointment_id: int, by: User | None = None, reason: str = "") -> Appointment:
    """Cancel an active appointment and give its place back to the slot.

    Locks the appointment, then its slot. Raises AppointmentNotFoundError, and
    InvalidStateError for an inactive appointment or one whose visit has begun.
    """
    # Locking the appointment first makes a second cancel (or a reschedule)
    # of it wait, then see the new status and refuse.
    appointment = appointment_get_for_update(appointment_id=appointment_id)
    _check_changeable(appointment, verb="cancelled")
    slot = slots_get_for_update(slot_ids=[appointment.slot_id])[appointment.slot_id]
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = timezone.now()
    appointment.cancelled_reason = reason or ""
    appointment.cancelled_by = by
    appointment.save(update_fields=["status", "cancelled_at", "cancelled_reason", "cancelled_by", "updated_at"])
    _change_booked_count(slot, -1)
    return appointment


@transaction.atomic
def appointment_reschedule(*, appointment_id: int, slot_id: int, by: User | None = None) -> Appointment:
    """Move an active appointment to another slot: the new place is held and the
    old one freed, or nothing changes.

    Locks the appointment, the patient, the new slot's doctor, then both slots
    in id order. Raises what appointment_book raises, and InvalidStateError.
    """
    appointment = appointment_get_for_update(appointment_id=appointment_id)
    _check_changeable(appointment, verb="rescheduled")
    if appointment.slot_id == slot_id:
        raise AlreadyBookedError("The appointment is already on this slot.")
    patient_lock(patient_id=appointment.patient_id)
    doctor = doctor_get_for_update(doctor_id=_slot_doctor_id(slot_id))
    slots = slots_get_for_update(slot_ids=[appointment.slot_id, slot_id])
    old_slot, new_slot = slots[appointment.slot_id], slots[slot_id]
    _check_bookable(slot=new_slot, doctor=doctor, patient=appointment.patient, exclude_id=appointment.pk)
    try:
        _change_booked_count(old_slot, -1)
        appointment.slot, appointment.doctor, appointment.clinic = new_slot, doctor, new_slot.clinic
        appointment.start, appointment.end = new_slot.start, new_slot.end
        appointment.save(update_fields=["slot", "doctor", "clinic", "start", "end", "updated_at"])
        _change_booked_count(new_slot, +1)
    except IntegrityError as exc:
        error = _domain_error(exc)
        if error is None:
            raise
        raise error from exc
    return appointment


OUTCOME_STATUSES = (Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW)


@transaction.atomic
def appointment_set_outcome(
    *, appointment_id: int, status: str | None = None, notes: str | None = None, by: User | None = None
) -> Appointment:
    """Record how a visit went (completed / no-show) and the doctor's notes.

    Locks the appointment. Raises InvalidStateError for a transition the
    status does not allow, or an outcome before the visit has started.
    """
    appointment = appointment_get_for_update(appointment_id=appointment_id)
    fields = ["updated_at"]
    if status is not None and status != appointment.status:
        if status not in OUTCOME_STATUSES or not appointment.can_become(status):
            raise InvalidStateError(f"Cannot change a {appointment.status} appointment to {status}.")
        if appointment.start > timezone.now():
            raise InvalidStateError("A visit can be marked completed or no-show only once it has started.")
        appointment.status = status
        fields.append("status")
    if notes is not None:
        appointment.notes = notes
        fields.append("notes")
    appointment.save(update_fields=fields)
    return appointment
