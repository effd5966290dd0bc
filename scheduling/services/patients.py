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
from healthsvc.exceptions import PermissionDeniedError
from scheduling.exceptions import InvalidStateError
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

    In two steps, so that no transaction holds the patient's row while it
    waits for one of their appointments (a reschedule locks the appointment,
    then the patient) or their slots in start order (a reschedule locks two
    slots in id order): first the account is closed (_close_account), from
    which moment every booking, move or accepted offer for the family is
    refused (booking.py reads the account's state under the patient lock);
    then each waitlist entry and each visit is let go in a transaction of its
    own, in lifecycle's order. A sweep cut short (the process died) is
    finished by calling this again. Raises PermissionDeniedError (not an
    admin), PatientNotFoundError,
    PatientIsDependentError (a family member has no login to close).
    """
    if by.role != User.Role.ADMIN:
        raise PermissionDeniedError("Only clinic admins may deactivate a patient.")
    patient, deactivated = _close_account(patient_id=patient_id, by=by)
    family = Patient.objects.filter(pk=patient.pk) | Patient.objects.filter(guardian=patient)
    # Off the waitlists first (an offered place goes to the next patient), so
    # that no place the cancellations below free is offered to this account.
    waiting = (WaitlistEntry.objects.filter(patient__in=family, status__in=WaitlistEntry.OPEN_STATUSES)
               .order_by("id").values_list("pk", flat=True))
    left = tuple(entry_id for entry_id in list(waiting) if _let_go(waitlist_leave, entry_id=entry_id))
    future = (
        Appointment.objects.filter(
            patient__in=family, status__in=Appointment.ACTIVE_STATUSES, start__gt=timezone.now(),
        ).order_by("start", "id").values_list("pk", flat=True)
    )
    cancelled = tuple(
        appointment_id for appointment_id in list(future)
        if _let_go(appointment_cancel, appointment_id=appointment_id, by=by, reason=DEACTIVATION_REASON)
    )
    if deactivated or cancelled or left:
        with transaction.atomic():
            audit_record("deactivate", obj=patient, actor=by,
                         detail={"cancelled_appointments": len(cancelled), "left_waitlists": len(left)})
    return PatientDeactivation(patient=patient, deactivated=deactivated, cancelled_ids=cancelled,
                               left_waitlist_ids=left)


@retry_on_conflict
@transaction.atomic
def _close_account(*, patient_id: int, by: User) -> tuple[Patient, bool]:
    """Lock the patient, their family members (in id order) and the user, and
    deactivate the account. A booking for one of them that holds its row lock
    (booking.py) ends first, and the sweep then cancels it; one that waits for
    it finds the account closed. (patient, whether it was open until now)."""
    patient = patient_get_for_update(patient_id=patient_id)
    if patient.is_dependent:
        raise PatientIsDependentError()
    list(Patient.objects.select_for_update().filter(guardian=patient).order_by("id").values_list("pk", flat=True))
    return patient, user_deactivate(user=patient.user, by=by, patient_id=patient.pk)


def _let_go(service, **kwargs) -> bool:
    """Run one step of the sweep (its own transaction). False when the entry or
    visit changed meanwhile so that there is nothing to let go: left or
    expired, cancelled, or begun."""
    try:
        service(**kwargs)
    except InvalidStateError:
        return False
    return True
