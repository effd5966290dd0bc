"""Closing a patient's account: the part of it that spans appointments
(accounts cannot reach them: it sits below scheduling)."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.exceptions import PatientIsDependentError
from accounts.models import Patient, User
from accounts.selectors import patient_get_for_update
from accounts.services import user_deactivate
from audit.services import audit_record
from healthsvc.db import retry_on_conflict
from scheduling.models import Appointment, WaitlistEntry

from .lifecycle import appointment_cancel
from .waitlist import waitlist_leave

# Shown to the patient in the cancellation mail and on the appointment.
DEACTIVATION_REASON = "The clinic closed your account, so this visit was cancelled."


@dataclass(frozen=True)
class PatientDeactivation:
    patient: Patient
    deactivated: bool  # False: the account was inactive already
    cancelled_ids: tuple[int, ...]
    left_waitlist_ids: tuple[int, ...]


@retry_on_conflict
@transaction.atomic
def patient_deactivate(*, patient_id: int, by: User) -> PatientDeactivation:
    """Deactivate a patient's account (admin): their login stops at once
    (every token revoked, login refused), their record, appointments and audit
    rows stay. They, and the family members they book for, leave every
    waitlist; then their future active appointments are cancelled through
    appointment_cancel: the places return to the slots (and the waitlists are
    offered them), and the patient is told by mail, since otherwise they would
    turn up for a visit that no longer exists; the doctor hears as of any
    cancellation by the clinic. Visits that have begun or ended are left as
    they are. Idempotent.

    Locks the patient row, their family members' rows, then the user row, then
    each appointment and its slot (lifecycle's order). Raises PatientNotFoundError,
    PatientIsDependentError (a family member has no login to close).
    """
    patient = patient_get_for_update(patient_id=patient_id)
    if patient.is_dependent:
        raise PatientIsDependentError()
    # The family members' rows too, in id order: a booking for one of them
    # (which locks that row, booking.py) then either ends before this, and is
    # cancelled below, or waits and finds the account closed (locks.patient_lock).
    list(Patient.objects.select_for_update().filter(guardian=patient).order_by("id").values_list("pk", flat=True))
    deactivated = user_deactivate(user=patient.user, by=by, patient_id=patient.pk)
    family = Patient.objects.filter(pk=patient.pk) | Patient.objects.filter(guardian=patient)
    # Off the waitlists first (an offered place goes to the next patient), so
    # that no place the cancellations below free is offered to this account.
    waiting = (WaitlistEntry.objects.filter(patient__in=family, status__in=WaitlistEntry.OPEN_STATUSES)
               .order_by("id").values_list("pk", flat=True))
    left = tuple(waitlist_leave(entry_id=entry_id).pk for entry_id in list(waiting))
    future = (
        Appointment.objects.filter(
            patient__in=family, status__in=Appointment.ACTIVE_STATUSES, start__gt=timezone.now(),
        ).order_by("start", "id").values_list("pk", flat=True)
    )
    cancelled = tuple(
        appointment_cancel(appointment_id=appointment_id, by=by, reason=DEACTIVATION_REASON).pk
        for appointment_id in list(future)
    )
    if deactivated or cancelled or left:
        audit_record("deactivate", obj=patient, actor=by,
                     detail={"cancelled_appointments": len(cancelled), "left_waitlists": len(left)})
    return PatientDeactivation(patient=patient, deactivated=deactivated, cancelled_ids=cancelled,
                               left_waitlist_ids=left)
