"""Booking, cancelling and rescheduling appointments.

Each service is one transaction that locks the rows it counts (see locks.py
for the order). The database constraints on AppointmentSlot and Appointment
are the backstop: if this code were ever wrong, the write fails and the
violation is reported as the same domain error, never as a 500.
"""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Patient, User
from accounts.services import patient_acts_for
from audit.services import audit_record
from clinics.models import Doctor
from healthsvc.db import retry_on_conflict, violated_constraint
from healthsvc.exceptions import PermissionDeniedError
from healthsvc.timezones import local_day_bounds
from scheduling.exceptions import (
    AlreadyBookedError,
    DailyLimitReachedError,
    OverlappingAppointmentError,
    PatientAccountClosedError,
    SlotFullError,
    InvalidStateError,
    SlotUnavailableError,
    WaitlistEntryNotFoundError,
)
from scheduling.models import Appointment, AppointmentSlot, Leave, WaitlistEntry
from scheduling.notifications import Event
from scheduling.tasks import notify

from .lifecycle import check_changeable, initial_status, restart_for_doctor
from .locks import appointment_get_for_update, doctor_get_for_update_by_slot, patient_lock, slots_get_for_update
from .places import change_booked_count, change_held_count
from .policy import policy_check_booking, policy_check_change, policy_exempt
from .waitlist import waitlist_entry_mark_booked, waitlist_expire_offer, waitlist_offer_freed

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


def _facts_sql() -> str:
    """The one query behind _booking_facts, written once (the ORM would compile
    five subqueries on every booking, which cost more than the round trips they save)."""
    appointments, leaves = Appointment._meta.db_table, Leave._meta.db_table
    patients, users = Patient._meta.db_table, User._meta.db_table
    active = ", ".join(f"'{status}'" for status in ACTIVE)
    held = ", ".join(f"'{status}'" for status in Appointment.PLACE_HOLDING_STATUSES)
    end = connection.ops.quote_name("end")
    return (
        f"SELECT EXISTS(SELECT 1 FROM {leaves} WHERE doctor_id = %s AND start < %s AND {end} > %s), "
        f"EXISTS(SELECT 1 FROM {appointments} WHERE patient_id = %s AND slot_id = %s "
        f"AND status IN ({active}) AND id <> %s), "
        f"(SELECT COUNT(*) FROM {appointments} WHERE doctor_id = %s AND start >= %s AND start < %s "
        f"AND status IN ({held}) AND id <> %s), "
        f"EXISTS(SELECT 1 FROM {appointments} WHERE patient_id = %s AND start < %s AND {end} > %s "
        f"AND status IN ({active}) AND id <> %s), "
        f"(SELECT COUNT(*) FROM {appointments} WHERE patient_id = %s AND clinic_id = %s AND start > %s "
        f"AND status IN ({active}) AND id <> %s), "
        # Whether the account that books for the patient (theirs, or their
        # guardian's) is open, read now, after the patient lock: an account
        # closed while this booking waited on it shows as closed here.
        f"(SELECT COALESCE(u.is_active, gu.is_active) FROM {patients} p "
        f"LEFT JOIN {users} u ON u.id = p.user_id LEFT JOIN {patients} g ON g.id = p.guardian_id "
        f"LEFT JOIN {users} gu ON gu.id = g.user_id WHERE p.id = %s)"
    )


def _booking_facts(*, slot: AppointmentSlot, doctor: Doctor, patient: Patient, exclude_id: int | None) -> dict:
    """Everything the rules below count, in one query run under the locks: the
    doctor's leave over the slot, the patient's active visit on it, the
    doctor's visits that local day (completed and no-show visits used their
    place that day too), the patient's overlapping visits and their future
    visits at the clinic (for the clinic's policy), and whether the account
    booking for them is still open."""
    day_start, day_end = local_day_bounds(slot.start, slot.clinic.tzinfo)
    at = connection.ops.adapt_datetimefield_value
    start, end, excluded = at(slot.start), at(slot.end), exclude_id or 0
    with connection.cursor() as cursor:
        cursor.execute(_facts_sql(), [
            doctor.pk, end, start,
            patient.pk, slot.pk, excluded,
            doctor.pk, at(day_start), at(day_end), excluded,
            patient.pk, end, start, excluded,
            patient.pk, slot.clinic_id, at(timezone.now()), excluded,
            patient.pk,
        ])
        on_leave, already, that_day, overlapping, at_clinic, account_open = cursor.fetchone()
    return {"on_leave": bool(on_leave), "already_booked": bool(already), "held_that_day": that_day,
            "overlapping": bool(overlapping), "held_at_clinic": at_clinic, "account_open": bool(account_open)}


def _check_bookable(
    *, slot: AppointmentSlot, doctor: Doctor, patient: Patient, by: User | None, exclude_id: int | None
) -> None:
    """Every rule a booking must pass, checked under the patient, doctor and slot
    locks, in this order (the first that fails is the answer)."""
    if not (slot.is_active and doctor.is_active and slot.clinic.is_active) or slot.is_past:
        raise SlotUnavailableError()
    facts = _booking_facts(slot=slot, doctor=doctor, patient=patient, exclude_id=exclude_id)
    if not facts["account_open"]:
        raise PatientAccountClosedError()
    if facts["on_leave"]:
        raise SlotUnavailableError("The doctor is away at that time.")
    if not policy_exempt(by, doctor_id=slot.doctor_id):
        policy_check_booking(slot=slot, held_at_clinic=facts["held_at_clinic"])
    if slot.is_full:
        raise SlotFullError()
    if facts["already_booked"]:
        raise AlreadyBookedError()
    if facts["held_that_day"] >= doctor.max_patients_per_day:
        raise DailyLimitReachedError()
    if facts["overlapping"]:
        raise OverlappingAppointmentError()


@retry_on_conflict
@transaction.atomic
def appointment_book(*, patient: Patient, slot_id: int, reason: str = "", booked_by: User | None = None) -> Appointment:
    """Book one place on a slot for a patient: `confirmed`, or `pending` when the
    doctor requires approval (a pending booking holds its place too).

    `booked_by` is who asks: a patient (or nobody named) meets the clinic's
    booking policy, staff do not. A patient books for themselves or, as its
    guardian, for a dependent (policy limits count per patient, the dependent's
    own). Locks the patient, the slot's doctor and the slot. Raises
    PermissionDeniedError (a patient booking for someone not theirs),
    SlotNotFoundError, SlotUnavailableError (also on the doctor's
    leave), BookingTooSoonError, BookingTooFarError, SlotFullError,
    AlreadyBookedError, DailyLimitReachedError, OverlappingAppointmentError,
    BookingLimitReachedError, PatientAccountClosedError (the account, or the
    guardian's, was closed).
    """
    if booked_by is not None and booked_by.role == User.Role.PATIENT and not patient_acts_for(
            user=booked_by, patient=patient):
        raise PermissionDeniedError("A patient may book only for themselves or their family members.")
    # Two bookings of one patient queue here (overlap check), two bookings of
    # one doctor on different slots queue on the doctor (daily limit), and
    # bookings of one slot queue on the slot (capacity).
    patient_lock(patient_id=patient.pk)
    doctor = doctor_get_for_update_by_slot(slot_id=slot_id)
    slot = slots_get_for_update(slot_ids=[slot_id])[slot_id]
    return _book_locked(patient=patient, doctor=doctor, slot=slot, reason=reason, booked_by=booked_by)


def _book_locked(
    *, patient: Patient, doctor: Doctor, slot: AppointmentSlot, reason: str, booked_by: User | None
) -> Appointment:
    """appointment_book once its patient, doctor and slot are locked."""
    _check_bookable(slot=slot, doctor=doctor, patient=patient, by=booked_by, exclude_id=None)
    try:
        appointment = Appointment.objects.create(
            patient=patient, doctor=doctor, clinic=slot.clinic, slot=slot, start=slot.start, end=slot.end,
            status=initial_status(doctor), reason_for_visit=reason or "", booked_by=booked_by,
        )
        change_booked_count(slot, +1)
    except IntegrityError as exc:
        error = _domain_error(exc)
        if error is None:
            raise
        raise error from exc
    notify(appointment, Event.BOOKED, by=booked_by)
    audit_record("book", obj=appointment, actor=booked_by, detail={"status": appointment.status})
    return appointment


@retry_on_conflict
def appointment_book_offer(*, entry_id: int, patient: Patient, by: User | None = None) -> Appointment:
    """The patient accepts a waitlist offer: the place held for them becomes
    their booking, in the one transaction that releases the hold, so the
    place is never free in between. Every rule of appointment_book applies
    (a refusal keeps the hold until the offer runs out); an offer past its
    time is expired first (its place offered to the next) and refused.

    Locks the patient, the slot's doctor, the slot, then the entry (locks.py).
    Raises WaitlistEntryNotFoundError (not the patient's), InvalidStateError
    (not offered, or run out) and what appointment_book raises.
    """
    slot_id = (WaitlistEntry.objects.filter(pk=entry_id, patient=patient)
               .values_list("offered_slot_id", flat=True).first())
    if slot_id is None and not WaitlistEntry.objects.filter(pk=entry_id, patient=patient).exists():
        raise WaitlistEntryNotFoundError()
    if slot_id is not None and waitlist_expire_offer(entry_id=entry_id):
        raise InvalidStateError("The offer has run out; the place went to the next patient waiting.")
    with transaction.atomic():
        patient_lock(patient_id=patient.pk)
        entry = None
        if slot_id is not None:
            doctor = doctor_get_for_update_by_slot(slot_id=slot_id)
            slot = slots_get_for_update(slot_ids=[slot_id])[slot_id]
            entry = WaitlistEntry.objects.select_for_update(of=("self",)).get(pk=entry_id)
        if entry is None or entry.status != WaitlistEntry.Status.OFFERED or entry.offered_slot_id != slot_id:
            raise InvalidStateError("There is no place offered on this entry now.")
        if entry.offered_until <= timezone.now():
            raise InvalidStateError("The offer has run out.")
        change_held_count(slot, -1)  # the held place, now this patient's booking
        appointment = _book_locked(patient=patient, doctor=doctor, slot=slot, reason="", booked_by=by)
        waitlist_entry_mark_booked(entry, appointment)
    return appointment


@retry_on_conflict
@transaction.atomic
def appointment_reschedule(*, appointment_id: int, slot_id: int, by: User | None = None) -> Appointment:
    """Move an active appointment to another slot: the new place is held and the
    old one freed, or nothing changes. Moved to another doctor, it starts in
    that doctor's first status (pending when they approve each booking).

    A patient meets the policy twice: the old visit must be outside the
    cancellation window, the new slot inside the booking window. Locks the
    appointment, the patient, the new slot's doctor, then both slots in id
    order. Raises what appointment_book raises, InvalidStateError and
    CancellationWindowPassedError.
    """
    appointment = appointment_get_for_update(appointment_id=appointment_id)
    check_changeable(appointment, verb="rescheduled")
    policy_check_change(appointment=appointment, by=by)
    if appointment.slot_id == slot_id:
        raise AlreadyBookedError("The appointment is already on this slot.")
    patient_lock(patient_id=appointment.patient_id)
    doctor = doctor_get_for_update_by_slot(slot_id=slot_id)
    slots = slots_get_for_update(slot_ids=[appointment.slot_id, slot_id])
    old_slot, new_slot = slots[appointment.slot_id], slots[slot_id]
    _check_bookable(slot=new_slot, doctor=doctor, patient=appointment.patient, by=by, exclude_id=appointment.pk)
    try:
        change_booked_count(old_slot, -1)
        restart_for_doctor(appointment, doctor)
        appointment.slot, appointment.doctor, appointment.clinic = new_slot, doctor, new_slot.clinic
        appointment.start, appointment.end = new_slot.start, new_slot.end
        appointment.sequence += 1
        appointment.save(update_fields=[
            "slot", "doctor", "clinic", "start", "end", "status", "sequence", "updated_at",
        ])
        change_booked_count(new_slot, +1)
    except IntegrityError as exc:
        error = _domain_error(exc)
        if error is None:
            raise
        raise error from exc
    waitlist_offer_freed(old_slot)
    notify(appointment, Event.RESCHEDULED, by=by)
    audit_record("reschedule", obj=appointment, actor=by,
                 detail={"from_slot": old_slot.pk, "to_slot": new_slot.pk, "status": appointment.status})
    return appointment
