"""The appointment's state machine: the one place a status changes.

    pending ──confirm──▶ confirmed ──(visit starts)──▶ completed | no_show
       │                     │
       └──decline / cancel───┴──cancel──▶ cancelled

A booking starts `pending` when its doctor requires approval (it holds its
place all the same) and `confirmed` otherwise. Moving a booking to another
doctor starts it again in that doctor's first status (a doctor who approves
each booking approves this one too); moving it to another time of the same
doctor keeps its status. `cancelled`, `completed` and `no_show` are final. Every service below locks the appointment row first, so
two changes of one appointment queue and the second sees the first's result.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from clinics.models import Doctor
from healthsvc.db import retry_on_conflict
from healthsvc.exceptions import PermissionDeniedError
from scheduling.exceptions import InvalidStateError
from scheduling.models import Appointment
from scheduling.notifications import Event
from scheduling.tasks import notify

from .locks import appointment_get_for_update, slot_get_for_update
from .places import change_booked_count
from .policy import policy_check_change
from .waitlist import waitlist_offer_freed

Status = Appointment.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset({Status.CONFIRMED, Status.CANCELLED}),
    Status.CONFIRMED: frozenset({Status.CANCELLED, Status.COMPLETED, Status.NO_SHOW}),
    Status.CANCELLED: frozenset(),
    Status.COMPLETED: frozenset(),
    Status.NO_SHOW: frozenset(),
}
OUTCOME_STATUSES = (Status.COMPLETED, Status.NO_SHOW)
# A recorded outcome may be switched (completed <-> no_show) this long after
# it was first recorded: the contract's "corrected within 7 days".
OUTCOME_CORRECTION_WINDOW = timedelta(days=7)


def transition_allowed(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def initial_status(doctor: Doctor) -> str:
    """The status a new booking of this doctor starts in."""
    return Status.PENDING if doctor.requires_approval else Status.CONFIRMED


def restart_for_doctor(appointment: Appointment, doctor: Doctor) -> None:
    """An active appointment being moved to `doctor`'s slot: to another doctor,
    it starts again in that doctor's first status; to the same, it keeps its own."""
    if doctor.pk != appointment.doctor_id:
        appointment.status = initial_status(doctor)


def _move(appointment: Appointment, new: str) -> None:
    """Set the new status after checking the table. Raises InvalidStateError."""
    if not transition_allowed(appointment.status, new):
        current = appointment.get_status_display().lower()
        raise InvalidStateError(f"A {current} appointment cannot become {Status(new).label.lower()}.")
    appointment.status = new


def changeable_refusal(appointment: Appointment, *, verb: str = "changed") -> InvalidStateError | None:
    """Why the appointment can no longer be cancelled or moved by anyone, or
    None: only an active one whose visit has not begun can (freeing a place on
    a slot that has begun would hide a no-show)."""
    if not appointment.is_active:
        return InvalidStateError(f"A {appointment.get_status_display().lower()} appointment cannot be {verb}.")
    if not appointment.is_changeable:
        return InvalidStateError("The visit has already started; mark it completed or no-show instead.")
    return None


def check_changeable(appointment: Appointment, *, verb: str) -> None:
    """Raises changeable_refusal's InvalidStateError, if any."""
    if (refusal := changeable_refusal(appointment, verb=verb)) is not None:
        raise refusal


def _cancel(appointment: Appointment, *, by: User | None, reason: str, internal_note: str = "") -> Appointment:
    """Cancel a locked appointment and give its place back to the slot."""
    slot = slot_get_for_update(slot_id=appointment.slot_id)
    _move(appointment, Status.CANCELLED)
    appointment.cancelled_at = timezone.now()
    appointment.cancelled_reason = reason or ""
    appointment.cancelled_internal_note = internal_note or ""
    appointment.cancelled_by = by
    appointment.sequence += 1
    appointment.save(update_fields=[
        "status", "cancelled_at", "cancelled_reason", "cancelled_internal_note", "cancelled_by", "sequence",
        "updated_at",
    ])
    change_booked_count(slot, -1)
    waitlist_offer_freed(slot)  # the first patient waiting for that day is offered the place
    return appointment


def check_may_write_internal_note(by: User | None) -> None:
    """An internal note is for the doctor and staff: a patient, who would never
    read it back, may not write one. Raises PermissionDeniedError."""
    if by is not None and by.role == User.Role.PATIENT:
        raise PermissionDeniedError("Only the doctor or clinic staff may leave an internal note.")


@retry_on_conflict
@transaction.atomic
def appointment_cancel(
    *, appointment_id: int, by: User | None = None, reason: str = "", internal_note: str = ""
) -> Appointment:
    """Cancel an active appointment and give its place back to the slot.
    `reason` is shown to the patient, `internal_note` only to the doctor and staff.

    Locks the appointment, then its slot. Raises AppointmentNotFoundError,
    PermissionDeniedError (a patient's internal note), InvalidStateError (not
    active, or the visit has begun) and, for a patient inside the clinic's
    cancellation window, CancellationWindowPassedError.
    """
    if internal_note:
        check_may_write_internal_note(by)
    # Locking the appointment first makes a second cancel (or a reschedule)
    # of it wait, then see the new status and refuse.
    appointment = appointment_get_for_update(appointment_id=appointment_id)
    check_changeable(appointment, verb="cancelled")
    policy_check_change(appointment=appointment, by=by)
    _cancel(appointment, by=by, reason=reason, internal_note=internal_note)
    notify(appointment, Event.CANCELLED, by=by)
    audit_record("cancel", obj=appointment, actor=by)
    return appointment


@retry_on_conflict
@transaction.atomic
def appointment_confirm(*, appointment_id: int, by: User | None = None) -> Appointment:
    """The doctor or staff accept a pending booking. Locks the appointment.
    Raises AppointmentNotFoundError, InvalidStateError (not pending)."""
    appointment = appointment_get_for_update(appointment_id=appointment_id)
    _move(appointment, Status.CONFIRMED)
    appointment.sequence += 1
    appointment.save(update_fields=["status", "sequence", "updated_at"])
    notify(appointment, Event.CONFIRMED, by=by)
    audit_record("confirm", obj=appointment, actor=by)
    return appointment


@retry_on_conflict
@transaction.atomic
def appointment_decline(*, appointment_id: int, by: User | None = None, reason: str = "") -> Appointment:
    """The doctor or staff turn down a pending booking: it is cancelled with
    the reason (shown to the patient) and its place returns to the slot.
    Locks the appointment, then its slot. Raises InvalidStateError (not pending)."""
    appointment = appointment_get_for_update(appointment_id=appointment_id)
    if appointment.status != Status.PENDING:
        raise InvalidStateError(f"Only a pending appointment can be declined; this one is {appointment.status}.")
    _cancel(appointment, by=by, reason=reason)
    notify(appointment, Event.DECLINED, by=by)
    audit_record("decline", obj=appointment, actor=by)
    return appointment


@retry_on_conflict
@transaction.atomic
def appointment_set_outcome(
    *, appointment_id: int, status: str | None = None, notes: str | None = None,
    note_for_patient: str | None = None, by: User | None = None, allow_correction: bool = False,
) -> Appointment:
    """Record how a visit went (completed / no-show), the doctor's clinical
    note (doctor and staff only) and the note for the patient; None leaves one as it is.

    With `allow_correction` (the API's PATCH: one appointment, on purpose; not
    the admin's bulk actions, where it would overwrite by accident), a
    recorded outcome may be corrected (completed <-> no_show) within
    OUTCOME_CORRECTION_WINDOW of when it was first recorded (a correction does
    not restart the window); the audit trail records it as an
    `outcome_correction` with the old and new status. Both statuses hold the
    place, so the slot's count does not change.

    Locks the appointment. Raises InvalidStateError for a transition the
    status does not allow, an outcome before the visit has started, or a
    correction after the window.
    """
    appointment = appointment_get_for_update(appointment_id=appointment_id)
    fields = ["updated_at"]
    corrected_from = None
    if status is not None and status != appointment.status:
        if status not in OUTCOME_STATUSES:
            raise InvalidStateError(f"An outcome is completed or no_show, not {status}.")
        if appointment.status == Status.PENDING:
            raise InvalidStateError("Confirm the appointment before recording how the visit went.")
        if allow_correction and appointment.status in OUTCOME_STATUSES:
            _check_correctable(appointment)
            corrected_from = appointment.status
            appointment.status = status
        else:
            if transition_allowed(appointment.status, status) and appointment.start > timezone.now():
                raise InvalidStateError("A visit can be marked completed or no-show only once it has started.")
            _move(appointment, status)
            appointment.outcome_recorded_at = timezone.now()
            fields.append("outcome_recorded_at")
        fields.append("status")
    if notes is not None:
        appointment.notes = notes
        fields.append("notes")
    if note_for_patient is not None:
        appointment.note_for_patient = note_for_patient
        fields.append("note_for_patient")
    appointment.save(update_fields=fields)
    written = sorted(set(fields) - {"updated_at", "outcome_recorded_at"})
    # The names of what was written, never the notes themselves.
    if corrected_from is not None:
        audit_record("outcome_correction", obj=appointment, actor=by,
                     detail={"from": corrected_from, "to": appointment.status, "fields": written})
    else:
        audit_record("outcome", obj=appointment, actor=by, detail={"status": appointment.status, "fields": written})
    return appointment


def _check_correctable(appointment: Appointment) -> None:
    """Raises InvalidStateError once the correction window has passed. An
    outcome recorded before outcome_recorded_at existed counts from the
    appointment's last change (the migration fills it in so)."""
    recorded_at = appointment.outcome_recorded_at or appointment.updated_at
    if timezone.now() > recorded_at + OUTCOME_CORRECTION_WINDOW:
        days = OUTCOME_CORRECTION_WINDOW.days
        raise InvalidStateError(
            f"The outcome was recorded more than {days} days ago ({recorded_at:%Y-%m-%d %H:%M} UTC) and can no "
            "longer be corrected."
        )
