"""Reads for patients, scoped to who is asking."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.exceptions import PatientNotFoundError
from accounts.models import Patient, User

# The appointment statuses that let a doctor read the patient, as the strings
# scheduling.models.Appointment.Status stores: accounts sits below scheduling
# and may not import it. A cancelled appointment grants nothing.
_DOCTOR_READS_THROUGH = ("pending", "confirmed", "completed", "no_show")


def _doctor_care_relation(doctor) -> Exists:
    """Whether the patient (the outer row) has a current or recent visit with
    the doctor: one not cancelled whose visit has not ended or ended within
    DOCTOR_PATIENT_ACCESS_DAYS. A visit left pending or confirmed long after
    it ended is not a current one, so it ages out too."""
    # The appointment model, reached through the relation so that accounts
    # does not import scheduling; the lookup is served by the (patient, start) index.
    appointment = Patient._meta.get_field("appointments").related_model
    since = timezone.now() - timedelta(days=settings.DOCTOR_PATIENT_ACCESS_DAYS)
    return Exists(appointment.objects.filter(
        patient=OuterRef("pk"), doctor=doctor, status__in=_DOCTOR_READS_THROUGH, end__gte=since,
    ))


def in_care_of(user: User, prefix: str = "") -> Q:
    """The patients a patient account acts for: itself and its dependents, as a
    filter on a Patient (or on a relation to one, with `prefix`, e.g. "patient__")."""
    return Q(**{f"{prefix}user": user}) | Q(**{f"{prefix}guardian__user": user})


def patient_ids_in_care_of(user: User) -> QuerySet:
    """The ids of in_care_of(user), as a subquery for other apps' filters
    (`patient_id__in=`): one query with theirs, served by the user and guardian indexes."""
    return Patient.objects.filter(in_care_of(user)).values("pk")


def patient_list_for_user(*, user: User) -> QuerySet[Patient]:
    """Patients the user may see: all for admins, themselves and their
    dependents for a patient, for an active doctor those with a current or
    recent visit with them (_doctor_care_relation), none otherwise."""
    patients = Patient.objects.select_related("user", "guardian__user").order_by("id")
    if user.role == User.Role.ADMIN:
        return patients
    if user.role == User.Role.PATIENT:
        return patients.filter(in_care_of(user))
    doctor = getattr(user, "doctor", None) if user.role == User.Role.DOCTOR else None
    if doctor is not None and doctor.is_active:
        return patients.filter(_doctor_care_relation(doctor))
    return patients.none()


def patient_get_for_user(*, user: User, patient_id: int) -> Patient:
    """One patient the user may see. Raises PatientNotFoundError whether the row
    is missing or belongs to someone the user may not see."""
    try:
        return patient_list_for_user(user=user).get(pk=patient_id)
    except Patient.DoesNotExist:
        raise PatientNotFoundError() from None


def patient_get_for_update(*, patient_id: int) -> Patient:
    """The patient's row, locked (SELECT ... FOR UPDATE) until the transaction
    ends: a write checked against the profile's current state cannot be
    overtaken by another. Raises PatientNotFoundError."""
    try:
        return Patient.objects.select_for_update().get(pk=patient_id)
    except Patient.DoesNotExist:
        raise PatientNotFoundError() from None


def patient_is_readable(*, user: User, patient_id: int) -> bool:
    """Whether the user may read the patient's profile and medical summary (the
    rule of patient_list_for_user), in one query, for pages that show it only then."""
    return patient_list_for_user(user=user).filter(pk=patient_id).exists()


def dependent_list(*, guardian: Patient) -> QuerySet[Patient]:
    """The guardian's dependents, by name."""
    return Patient.objects.filter(guardian=guardian).select_related("guardian__user").order_by("name", "id")


def dependent_get(*, guardian: Patient, dependent_id: int) -> Patient:
    """One of the guardian's dependents. Raises PatientNotFoundError for anyone
    else's, so ids cannot be probed."""
    try:
        return dependent_list(guardian=guardian).get(pk=dependent_id)
    except Patient.DoesNotExist:
        raise PatientNotFoundError() from None


def patient_profile_is_empty(*, patient: Patient) -> bool:
    """True while the patient has filled in none of their medical profile (the
    details their doctor reads before the visit): the portal prompts for it."""
    return not (patient.date_of_birth or patient.blood_group or patient.allergies or patient.emergency_contact)


def admin_list() -> QuerySet:
    """Every admin account, active or not, oldest first (the role index serves the filter)."""
    return User.objects.filter(role=User.Role.ADMIN).order_by("id")
