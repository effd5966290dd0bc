"""Writes for users and patient profiles."""

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import tokens
from accounts.exceptions import EmailTakenError, InvalidCredentialsError, RoleNotAllowedError, WeakPasswordError
from accounts.models import Patient, User
from healthsvc.exceptions import PermissionDeniedError

SELF_REGISTER_ROLES = {User.Role.PATIENT, User.Role.DOCTOR}


def user_check_password(*, password: str, user: User) -> None:
    """Django's password validators for this (unsaved) user. Raises WeakPasswordError."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise WeakPasswordError(" ".join(exc.messages), extra={"errors": {"password": exc.messages}}) from exc


def user_save_new(*, user: User, password: str) -> User:
    """Save a new user with this password. Raises EmailTakenError, also when a
    concurrent request took the email between the check and the insert."""
    if User.objects.filter(email__iexact=user.email).exists():
        raise EmailTakenError()
    user.set_password(password)
    try:
        # The unique index is the referee when two creates race.
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise EmailTakenError() from exc
    return user


@transaction.atomic
def user_register(*, name: str, email: str, password: str, role: str = User.Role.PATIENT, mobile_no: str = "") -> User:
    """Create an account. Patients get a profile at once; a self-registered doctor
    is unverified (no slots) until an admin verifies them and links a Doctor
    profile. Raises RoleNotAllowedError, WeakPasswordError, EmailTakenError."""
    if role not in SELF_REGISTER_ROLES:
        raise RoleNotAllowedError()
    email = User.objects.normalize_email(email).lower()
    user = User(email=email, name=name, role=role, mobile_no=mobile_no or "", is_verified=role == User.Role.PATIENT)
    user_check_password(password=password, user=user)
    user_save_new(user=user, password=password)
    if role == User.Role.PATIENT:
        Patient.objects.create(user=user)
    return user


def user_tokens(user: User) -> dict[str, str]:
    """A new refresh token for the user and its first access token (accounts.tokens)."""
    refresh = tokens.user_refresh_token(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def user_access_token(user: User) -> str:
    """An access token alone (no refresh token recorded), as the API's
    authentication reads it: for tools that act as the user, e.g. the benchmark."""
    return str(tokens.user_access_token(user))


def user_authenticate(*, email: str, password: str, request=None) -> User:
    """The active user with these credentials. Raises InvalidCredentialsError,
    the same for an unknown email, a wrong password or a deactivated account."""
    user = authenticate(request, email=(email or "").strip().lower(), password=password or "")
    if user is None or not user.is_active:
        raise InvalidCredentialsError()
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user


PATIENT_FIELDS = {"date_of_birth", "blood_group", "allergies", "emergency_contact"}
USER_FIELDS = {"name", "mobile_no"}


def patient_check_update_allowed(*, actor: User, patient: Patient) -> None:
    """Only the patient themselves or an admin may change a patient's profile
    (a doctor may read it, never write it). Raises PermissionDeniedError."""
    if not (actor.role == User.Role.ADMIN or patient.user_id == actor.pk):
        raise PermissionDeniedError("Only the patient or an admin may change this profile.")


@transaction.atomic
def patient_update(*, actor: User, patient: Patient, **fields) -> Patient:
    """Update a patient's contact details (on the user) and medical information.
    Raises PermissionDeniedError unless `actor` is the patient or an admin."""
    patient_check_update_allowed(actor=actor, patient=patient)
    user_changes = {k: v for k, v in fields.items() if k in USER_FIELDS}
    patient_changes = {k: v for k, v in fields.items() if k in PATIENT_FIELDS}
    for key, value in user_changes.items():
        setattr(patient.user, key, value)
    if user_changes:
        patient.user.save(update_fields=[*user_changes, "updated_at"])
    for key, value in patient_changes.items():
        setattr(patient, key, value)
    if patient_changes:
        patient.save(update_fields=[*patient_changes, "updated_at"])
    return patient
