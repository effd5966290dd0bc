"""Opening, changing and closing appointment slots."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinics.models import Clinic, Doctor
from healthsvc.db import violated_constraint
from scheduling.exceptions import (
    DoctorNotVerifiedError,
    SlotHasBookingsError,
    SlotUnavailableError,
    SlotValidationError,
)
from scheduling.exceptions import SlotOverlapError
from scheduling.models import MAX_SLOT_MINUTES, MIN_SLOT_MINUTES, AppointmentSlot

from .locks import doctor_get_for_update, slot_get_for_update

MAX_CAPACITY = 100
# How far ahead a slot may be opened (booking-policy horizons come later).
MAX_DAYS_AHEAD = 5 * 366


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


@transaction.atomic
def slot_create(
    *, doctor: Doctor, start: datetime, duration_minutes: int = 30, capacity: int = 1, clinic: Clinic | None = None
) -> AppointmentSlot:
    """Open a slot for a verified doctor. Locks the doctor, so two overlapping
    creates cannot both pass the overlap check. Raises SlotValidationError,
    DoctorNotVerifiedError, SlotUnavailableError, SlotOverlapError."""
    _validate_shape(start=start, duration_minutes=duration_minutes, capacity=capacity)
    doctor = doctor_get_for_update(doctor_id=doctor.pk)
    if not doctor.user.is_verified:
        raise DoctorNotVerifiedError()
    clinic = clinic or doctor.clinic
    if clinic.pk != doctor.clinic_id:
        raise _invalid("clinic_id", "The doctor does not work at this clinic.")
    if not (doctor.is_active and clinic.is_active):
        raise SlotUnavailableError("The doctor or the clinic is no longer active.")
    end = start + timedelta(minutes=duration_minutes)
    if AppointmentSlot.objects.filter(doctor=doctor, is_active=True, start__lt=end, end__gt=start).exists():
        raise SlotOverlapError()
    try:
        with transaction.atomic():
            return AppointmentSlot.objects.create(
                doctor=doctor, clinic=clinic, start=start, duration_minutes=duration_minutes, capacity=capacity
            )
    except IntegrityError as exc:
        name = violated_constraint(exc)
        if "scheduling_slot_no_overlap" in name or "scheduling_slot_unique_doctor_start" in name or (
            "scheduling_appointmentslot.doctor_id, scheduling_appointmentslot.start" in name
        ):
            raise SlotOverlapError() from exc
        raise


@transaction.atomic
def slot_update(*, slot_id: int, capacity: int) -> AppointmentSlot:
    """Change a slot's capacity, never below its booked places. Locks the slot."""
    slot = slot_get_for_update(slot_id=slot_id)
    if not 1 <= capacity <= MAX_CAPACITY:
        raise _invalid("capacity", f"Must be between 1 and {MAX_CAPACITY}.")
    if capacity < slot.booked_count:
        raise _invalid("capacity", f"{slot.booked_count} places are already booked.")
    slot.capacity = capacity
    slot.save(update_fields=["capacity", "updated_at"])
    return slot


@transaction.atomic
def slot_deactivate(*, slot_id: int) -> AppointmentSlot:
    """Soft-delete a slot that holds no active appointment. Locks the slot, so
    a booking cannot land between the check and the delete. Raises SlotHasBookingsError."""
    slot = slot_get_for_update(slot_id=slot_id)
    if slot.appointments.filter(status__in=slot.appointments.model.ACTIVE_STATUSES).exists():
        raise SlotHasBookingsError()
    if slot.is_active:
        slot.is_active = False
        slot.save(update_fields=["is_active", "updated_at"])
    return slot
