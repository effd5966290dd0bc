"""Writes for clinics and doctors.

Lock order, extending scheduling/services/locks.py: ... -> doctor -> clinic.
Scheduling never locks clinic rows, so taking a clinic lock last cannot close
a cycle.
"""

import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.services import user_check_password, user_save_new
from audit.services import audit_record
from clinics.exceptions import (
    ClinicNotFoundError,
    ClinicsValidationError,
    DoctorNotFoundError,
    DoctorProfileExistsError,
    DoctorUpdateNotAllowedError,
    LicenseNumberTakenError,
    UserInactiveError,
)
from clinics.models import Clinic, Doctor, calendar_feed_token_sha256

CLINIC_FIELDS = frozenset({
    "name", "address", "city", "state", "zip_code", "phone", "email", "timezone", "latitude", "longitude", "is_active",
    "min_notice_minutes", "booking_horizon_days", "cancellation_window_minutes", "max_active_bookings_per_patient",
})
DOCTOR_USER_FIELDS = frozenset({"name"})
DOCTOR_FIELDS = frozenset({
    "specialty", "license_number", "qualifications", "experience_years", "max_patients_per_day", "clinic_id",
    "is_active", "requires_approval",
})
DOCTOR_SELF_EDITABLE_FIELDS = frozenset({"qualifications", "experience_years"})


def _invalid(field: str, message: str) -> ClinicsValidationError:
    return ClinicsValidationError(message, extra={"errors": {field: [message]}})


def _full_clean(instance, *, exclude: list[str] | None = None) -> None:
    """Model validators (IANA zone, ranges, lengths) for every caller, not only the API."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ClinicsValidationError(extra={"errors": exc.message_dict}) from exc


def _coordinate(value) -> Decimal | None:
    return None if value is None else Decimal(str(round(float(value), 6)))


# --- Clinics -----------------------------------------------------------------


def clinic_get_for_update(*, clinic_id: int) -> Clinic:
    """Lock one clinic row (active or not). Raises ClinicNotFoundError."""
    try:
        return Clinic.objects.select_for_update().get(pk=clinic_id)
    except Clinic.DoesNotExist:
        raise ClinicNotFoundError() from None


def _active_clinic_for_update(*, clinic_id: int) -> Clinic:
    """Lock an active clinic a doctor is being placed at; an unknown or inactive
    one is a 400 on ``clinic_id``, not a 404: the URL named something else."""
    clinic = Clinic.objects.select_for_update().filter(pk=clinic_id, is_active=True).first()
    if clinic is None:
        raise _invalid("clinic_id", "No active clinic with this id.")
    return clinic


def _clinic_apply(clinic: Clinic, fields: dict) -> Clinic:
    unknown = set(fields) - CLINIC_FIELDS
    if unknown:
        raise TypeError(f"Not clinic fields: {sorted(unknown)}")
    for key in ("latitude", "longitude"):
        if key in fields:
            fields[key] = _coordinate(fields[key])
    for key, value in fields.items():
        setattr(clinic, key, value)
    if (clinic.latitude is None) != (clinic.longitude is None):
        raise _invalid("latitude", "Give both latitude and longitude, or neither.")
    _full_clean(clinic)
    clinic.save()
    return clinic


@transaction.atomic
def clinic_create(*, name: str, address: str, city: str, **fields) -> Clinic:
    """Create a clinic. Other fields: state, zip_code, phone, email, timezone
    (IANA, default UTC), latitude and longitude (both or neither), is_active.
    Raises ClinicsValidationError."""
    return _clinic_apply(Clinic(), {"name": name, "address": address, "city": city, **fields})


@transaction.atomic
def clinic_update(*, clinic: Clinic, **fields) -> Clinic:
    """Change the given fields of a clinic. Locks the clinic row, so a concurrent
    update or deactivation is applied after this one, not lost. Raises
    ClinicNotFoundError, ClinicsValidationError."""
    return _clinic_apply(clinic_get_for_update(clinic_id=clinic.pk), dict(fields))


@transaction.atomic
def clinic_deactivate(*, clinic: Clinic) -> Clinic:
    """Soft delete: the clinic and its doctors leave public lists; existing slots
    and appointments stay. Idempotent. Locks the clinic row (doctor_create takes
    the same lock, so no doctor is added to a clinic as it closes)."""
    clinic = clinic_get_for_update(clinic_id=clinic.pk)
    if clinic.is_active:
        clinic.is_active = False
        clinic.save(update_fields=["is_active", "updated_at"])
    return clinic


# --- Doctors -----------------------------------------------------------------


def _save_doctor(doctor: Doctor, **save_kwargs) -> None:
    """Save, turning the unique license index's refusal (the referee when two
    writes race past the check) into LicenseNumberTakenError."""
    try:
        with transaction.atomic():
            doctor.save(**save_kwargs)
    except IntegrityError as exc:
        if Doctor.objects.filter(license_number=doctor.license_number).exclude(pk=doctor.pk).exists():
            raise LicenseNumberTakenError() from exc
        raise


def _check_license_free(license_number: str, *, doctor_id: int | None = None) -> None:
    if Doctor.objects.filter(license_number=license_number).exclude(pk=doctor_id).exists():
        raise LicenseNumberTakenError()


@transaction.atomic
def doctor_create(
    *, name: str, email: str, password: str, specialty: str, license_number: str, clinic_id: int,
    qualifications: str = "", experience_years: int = 0, max_patients_per_day: int = 20,
) -> Doctor:
    """Create a doctor and their verified login in one transaction: any refusal
    leaves neither behind. Locks the clinic. Raises ClinicsValidationError,
    WeakPasswordError, EmailTakenError, LicenseNumberTakenError."""
    clinic = _active_clinic_for_update(clinic_id=clinic_id)
    email = User.objects.normalize_email(email).strip().lower()
    user = User(email=email, name=name.strip(), role=User.Role.DOCTOR, is_verified=True)
    _full_clean(user, exclude=["password"])
    user_check_password(password=password, user=user)
    doctor = Doctor(
        clinic=clinic, specialty=specialty.strip(), license_number=license_number.strip(),
        qualifications=qualifications, experience_years=experience_years, max_patients_per_day=max_patients_per_day,
    )
    _full_clean(doctor, exclude=["user"])
    _check_license_free(doctor.license_number)
    doctor.user = user_save_new(user=user, password=password)
    _save_doctor(doctor)
    return doctor


@transaction.atomic
def doctor_profile_create(
    *, user_id: int, specialty: str, license_number: str, clinic_id: int, by: User | None = None,
    qualifications: str = "", experience_years: int = 0, max_patients_per_day: int = 20,
) -> Doctor:
    """Give a self-registered doctor account its Doctor profile and verify it,
    in one transaction: from then on the doctor may open slots. Locks the user
    row (two admins doing it at once: the second finds the profile), then the
    clinic. Raises ClinicsValidationError (no such user, not a doctor account,
    clinic_id), UserInactiveError, DoctorProfileExistsError, LicenseNumberTakenError."""
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise _invalid("user_id", "No user with this id.")
    if user.role != User.Role.DOCTOR:
        raise _invalid("user_id", f"This user's role is {user.get_role_display().lower()}, not doctor.")
    if not user.is_active:
        raise UserInactiveError()
    if Doctor.objects.filter(user=user).exists():
        raise DoctorProfileExistsError()
    clinic = _active_clinic_for_update(clinic_id=clinic_id)
    doctor = Doctor(
        user=user, clinic=clinic, specialty=specialty.strip(), license_number=license_number.strip(),
        qualifications=qualifications, experience_years=experience_years, max_patients_per_day=max_patients_per_day,
    )
    _full_clean(doctor, exclude=["user"])
    _check_license_free(doctor.license_number)
    _save_doctor(doctor)
    if not user.is_verified:
        user.is_verified = True
        user.save(update_fields=["is_verified", "updated_at"])
    audit_record("create", obj=doctor, actor=by, detail={"user_id": user.pk, "verified": True})
    return doctor


def _user_rename(user: User, name: str) -> None:
    name = name.strip()
    if not name:
        raise _invalid("name", "This field may not be blank.")
    user.name = name
    user.save(update_fields=["name", "updated_at"])


def doctor_check_update_allowed(*, actor: User, doctor: Doctor, fields) -> None:
    """Admins may change every field; a doctor only their own qualifications and
    experience_years; nobody else anything. Raises DoctorUpdateNotAllowedError."""
    if actor.role == User.Role.ADMIN:
        return
    if actor.role != User.Role.DOCTOR or doctor.user_id != actor.pk:
        raise DoctorUpdateNotAllowedError("You may not change this doctor.")
    forbidden = sorted(set(fields) - DOCTOR_SELF_EDITABLE_FIELDS)
    if forbidden:
        raise DoctorUpdateNotAllowedError(
            f"Doctors may change only qualifications and experience_years, not: {', '.join(forbidden)}."
        )


@transaction.atomic
def doctor_update(*, doctor: Doctor, actor: User, **fields) -> Doctor:
    """Change the given fields (see doctor_check_update_allowed for who may change
    what). Locks the doctor row, as bookings do, so max_patients_per_day never
    changes under a booking's daily count; then a new clinic. Raises
    DoctorUpdateNotAllowedError, DoctorNotFoundError, ClinicsValidationError,
    LicenseNumberTakenError."""
    doctor_check_update_allowed(actor=actor, doctor=doctor, fields=fields)
    unknown = set(fields) - DOCTOR_FIELDS - DOCTOR_USER_FIELDS
    if unknown:
        raise TypeError(f"Not doctor fields: {sorted(unknown)}")
    try:
        locked = Doctor.objects.select_for_update(of=("self",)).select_related("user", "clinic").get(pk=doctor.pk)
    except Doctor.DoesNotExist:
        raise DoctorNotFoundError() from None
    clinic_id = fields.pop("clinic_id", locked.clinic_id)
    if clinic_id != locked.clinic_id:
        locked.clinic = _active_clinic_for_update(clinic_id=clinic_id)
    for key in ("specialty", "license_number"):
        if key in fields:
            fields[key] = fields[key].strip()
    if fields.get("license_number", locked.license_number) != locked.license_number:
        _check_license_free(fields["license_number"], doctor_id=locked.pk)
    if "name" in fields:
        _user_rename(locked.user, fields.pop("name"))
    for key, value in fields.items():
        setattr(locked, key, value)
    _full_clean(locked, exclude=["user"])
    _save_doctor(locked)
    return locked


# --- Calendar feed -----------------------------------------------------------


def doctor_calendar_feed_rotate(*, doctor: Doctor) -> str:
    """Give the doctor a new private calendar feed token and return it (the only
    time it exists in the clear: only its SHA-256 is kept). The previous feed
    URL stops working. The token is `<doctor id>.<secret>`, so the feed finds
    the doctor by primary key and compares hashes in constant time
    (clinics.selectors.doctor_get_by_calendar_feed_token). Two rotations at
    once: the last write wins and the other's URL is dead, as a rotation means."""
    token = f"{doctor.pk}.{secrets.token_urlsafe(32)}"
    doctor.calendar_feed_sha256 = calendar_feed_token_sha256(token)
    # An UPDATE of this one column: nothing else of a doctor row read earlier is written back.
    Doctor.objects.filter(pk=doctor.pk).update(calendar_feed_sha256=doctor.calendar_feed_sha256)
    return token
