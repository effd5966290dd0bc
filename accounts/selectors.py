"""Reads for patients, scoped to who is asking."""

from django.db.models import QuerySet

from accounts.exceptions import PatientNotFoundError
from accounts.models import Patient, User


def patient_list_for_user(*, user: User) -> QuerySet[Patient]:
    """Patients the user may see: all for admins, themselves for a patient,
    those with an appointment with them for a doctor, none otherwise."""
    patients = Patient.objects.select_related("user").order_by("id")
    if user.role == User.Role.ADMIN:
        return patients
    if user.role == User.Role.PATIENT:
        return patients.filter(user=user)
    if user.role == User.Role.DOCTOR and hasattr(user, "doctor"):
        return patients.filter(appointments__doctor=user.doctor).distinct()
    return patients.none()


def patient_get_for_user(*, user: User, patient_id: int) -> Patient:
    """One patient the user may see. Raises PatientNotFoundError whether the row
    is missing or belongs to someone the user may not see."""
    try:
        return patient_list_for_user(user=user).get(pk=patient_id)
    except Patient.DoesNotExist:
        raise PatientNotFoundError() from None
