"""Row locks used by the booking services.

Every service takes its locks in one global order, so two services can never
wait on each other in a cycle (no deadlock):

    appointment -> patient -> doctor(s) by id -> slot(s) by id

A service may skip a level, never go back up. The doctor row also guards the
doctor's schedule: availability rules, leaves and slot generation take it,
so a booking, a new leave and a generation of one doctor never interleave. On SQLite `select_for_update`
is a no-op; there `"transaction_mode": "IMMEDIATE"` makes every transaction
take the database's single write lock at BEGIN, which serialises writers.
"""

from accounts.models import Patient
from clinics.models import Doctor
from scheduling.exceptions import AppointmentNotFoundError, SlotNotFoundError
from scheduling.models import Appointment, AppointmentSlot


def appointment_get_for_update(*, appointment_id: int) -> Appointment:
    """Lock one appointment row. Raises AppointmentNotFoundError."""
    try:
        return Appointment.objects.select_for_update(of=("self",)).get(pk=appointment_id)
    except Appointment.DoesNotExist:
        raise AppointmentNotFoundError() from None


def patient_lock(*, patient_id: int) -> None:
    """Lock a patient row: one patient's bookings queue, so overlap checks hold."""
    list(Patient.objects.select_for_update().filter(pk=patient_id).values_list("pk", flat=True))


def doctor_get_for_update(*, doctor_id: int) -> Doctor:
    """Lock a doctor row: bookings of one doctor queue, so the daily limit holds."""
    return Doctor.objects.select_for_update().get(pk=doctor_id)


def slots_get_for_update(*, slot_ids: list[int]) -> dict[int, AppointmentSlot]:
    """Lock slot rows in id order (with their clinic, not locked). Raises SlotNotFoundError."""
    ids = sorted(set(slot_ids))
    slots = {
        slot.pk: slot
        for slot in AppointmentSlot.objects.select_related("clinic")
        .select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
    }
    if len(slots) != len(ids):
        raise SlotNotFoundError()
    return slots


def slot_get_for_update(*, slot_id: int) -> AppointmentSlot:
    """Lock one slot row. Raises SlotNotFoundError."""
    return slots_get_for_update(slot_ids=[slot_id])[slot_id]
