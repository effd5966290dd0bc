"""Writes for users and patient profiles."""

from datetime import timedelta

from django.contrib.auth import authenticate
from django.core import signing
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import tokens, two_factor
from accounts.exceptions import (
    AdminNotFoundError,
    EmailTakenError,
    InvalidCredentialsError,
    LoginLockedError,
    OtpInvalidError,
    OtpRequiredError,
    OtpSetupRequiredError,
    RoleNotAllowedError,
    SelfDeactivationError,
    WeakPasswordError,
    WrongPasswordError,
)
from accounts.lockout import retry_after_seconds
from accounts.models import FormDraft, Patient, TokenFamily, User
from audit.services import audit_record
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
    patient = Patient.objects.create(user=user) if role == User.Role.PATIENT else None
    audit_record("create", object_type="user", object_id=user.pk, patient_id=patient.pk if patient else None,
                 actor=user, detail={"role": role})
    return user


def user_tokens(user: User) -> dict[str, str]:
    """A sign-in: a new refresh-token family and its first pair (accounts.tokens)."""
    refresh = tokens.family_start(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def tokens_refresh(*, refresh: str) -> dict[str, str]:
    """The next pair of a sign-in. Raises TokenError or tokens.RefreshRefused."""
    token = tokens.refresh_rotate(refresh)
    return {"access": str(token.access_token), "refresh": str(token)}


def user_logout(*, user: User, refresh: str) -> None:
    """End the sign-in `refresh` belongs to: its refresh token and its access
    tokens stop working. Raises PermissionDeniedError for another user's token."""
    family = tokens.refresh_family(refresh)
    if family.user_id != user.pk:
        raise PermissionDeniedError("That refresh token belongs to another account.")
    tokens.family_end(family, TokenFamily.EndReason.LOGOUT)
    audit_record("logout", object_type="user", object_id=user.pk, actor=user)


def user_logout_everywhere(*, user: User) -> None:
    """Every refresh and access token of the user stops working at once."""
    tokens.user_tokens_revoke(user.pk, TokenFamily.EndReason.LOGOUT_ALL)
    audit_record("logout_all", object_type="user", object_id=user.pk, actor=user)


def user_change_password(*, user: User, old_password: str, new_password: str, request=None) -> dict[str, str]:
    """Change the password after checking the current one; every earlier token
    and session of the user stops working (User.save raises the token version
    and ends their families; Django's session hash ends the sessions). Returns
    a new pair for the caller. Raises WrongPasswordError, LoginLockedError
    (the current password is checked as a login is, so guessing it with a
    stolen token meets the same lockout), WeakPasswordError."""
    email = User.objects.filter(pk=user.pk).values_list("email", flat=True).get()
    # Outside the transaction: a failed attempt's count must survive the refusal.
    checked = _authenticate_counted(request, email=email, password=old_password)
    if checked is None or checked.pk != user.pk:
        raise WrongPasswordError(extra={"errors": {"old_password": ["The current password is wrong."]}})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        try:
            validate_password(new_password, user)
        except ValidationError as exc:
            raise WeakPasswordError(" ".join(exc.messages), extra={"errors": {"new_password": exc.messages}}) from exc
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        audit_record("password_change", object_type="user", object_id=user.pk, actor=user)
        return user_tokens(user)


def user_access_token(user: User, lifetime=None) -> str:
    """An access token alone (no refresh token recorded), as the API's
    authentication reads it: for tools that act as the user, e.g. the
    benchmark (which asks for a `lifetime` longer than its run)."""
    return str(tokens.user_access_token(user, lifetime=lifetime))


def _authenticate_counted(request, *, email: str, password: str) -> User | None:
    """Django's authenticate(), which django-axes counts and locks per
    (account, address): the user, or None. Raises LoginLockedError when the
    pair is locked out. Takes Django's request, not DRF's wrapper: axes marks
    the lockout on it."""
    http_request = getattr(request, "_request", request)
    user = authenticate(http_request, email=(email or "").strip().lower(), password=password or "")
    if getattr(http_request, "axes_locked_out", False):
        raise LoginLockedError(extra={"retry_after": retry_after_seconds()})
    return user


def user_authenticate(*, email: str, password: str, request, otp: str | None = None) -> User:
    """The active user with these credentials and, where the account needs it,
    a valid one-time code. Raises InvalidCredentialsError (the same for an
    unknown email, a wrong password or a deactivated account), LoginLockedError
    when this account is locked out from this client (accounts.lockout),
    OtpRequiredError, OtpSetupRequiredError or OtpInvalidError."""
    user = _authenticate_counted(request, email=email, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentialsError()
    if two_factor.otp_required(user):
        if not two_factor.otp_enabled(user):  # mandatory, but not set up yet: only the portal can
            raise OtpSetupRequiredError()
        if not otp:
            raise OtpRequiredError()
        if two_factor.otp_check(user, otp) is None:
            raise OtpInvalidError()
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    audit_record("login", object_type="user", object_id=user.pk, actor=user)
    return user


PROFILE_FIELDS = frozenset({"name", "mobile_no"})


@transaction.atomic
def user_update_profile(*, user: User, **fields) -> User:
    """Change the caller's own name and mobile number (any role). Locks the
    user row. The names of the fields written are audited, not their values."""
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise TypeError(f"Not profile fields: {sorted(unknown)}")
    user = User.objects.select_for_update().get(pk=user.pk)
    if "name" in fields:
        fields["name"] = fields["name"].strip()
    changes = {key: value for key, value in fields.items() if getattr(user, key) != value}
    if not changes:
        return user
    for key, value in changes.items():
        setattr(user, key, value)
    user.save(update_fields=[*changes, "updated_at"])
    patient = Patient.objects.filter(user=user).values_list("pk", flat=True).first()
    audit_record("update", object_type="user", object_id=user.pk, patient_id=patient, actor=user,
                 detail={"fields": sorted(changes)})
    return user


# --- admins -------------------------------------------------------------------------


def admin_check_manage_allowed(by: User) -> None:
    """Only superusers create and deactivate admins. Raises PermissionDeniedError."""
    if not (by.role == User.Role.ADMIN and by.is_superuser):
        raise PermissionDeniedError("Only superusers may create or deactivate admins.")


@transaction.atomic
def admin_create(*, by: User, name: str, email: str, password: str) -> User:
    """A new admin (role `admin`, verified; not staff nor superuser: the API
    only). Two-factor is mandatory for admins (accounts.two_factor), so the new
    admin sets it up in the portal before the API lets them log in. Raises
    PermissionDeniedError unless `by` is a superuser, WeakPasswordError,
    EmailTakenError."""
    admin_check_manage_allowed(by)
    email = User.objects.normalize_email(email).strip().lower()
    user = User(email=email, name=name.strip(), role=User.Role.ADMIN, is_verified=True)
    user_check_password(password=password, user=user)
    user_save_new(user=user, password=password)
    audit_record("create", object_type="user", object_id=user.pk, actor=by, detail={"role": User.Role.ADMIN})
    return user


@transaction.atomic
def admin_deactivate(*, by: User, admin_id: int) -> User:
    """Deactivate an admin: they can no longer log in, and every token and
    session of theirs stops working at once. Idempotent. Locks the user row.
    Raises PermissionDeniedError unless `by` is a superuser,
    AdminNotFoundError (no such user, or not an admin), SelfDeactivationError."""
    admin_check_manage_allowed(by)
    user = User.objects.select_for_update().filter(pk=admin_id, role=User.Role.ADMIN).first()
    if user is None:
        raise AdminNotFoundError()
    if user.pk == by.pk:
        raise SelfDeactivationError()
    user_deactivate(user=user, by=by)
    return user


@transaction.atomic
def user_deactivate(*, user: User, by: User, patient_id: int | None = None) -> bool:
    """Deactivate an account (admin_deactivate and scheduling's
    patient_deactivate build on it): every token is revoked at once (the
    logout-everywhere revocation, then User.save for the active flag, which
    also ends the portal sessions) and login refuses it. Locks the user row.
    The rows it owns stay. False when it was inactive already."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return False
    tokens.user_tokens_revoke(user.pk, TokenFamily.EndReason.STAFF)
    user.refresh_from_db()
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
    audit_record("deactivate", object_type="user", object_id=user.pk, patient_id=patient_id, actor=by,
                 detail={"role": user.role})
    return True


PATIENT_FIELDS = {"date_of_birth", "blood_group", "allergies", "emergency_contact", "wants_reminders"}
USER_FIELDS = {"name", "mobile_no"}


def patient_acts_for(*, user: User, patient: Patient) -> bool:
    """Whether the user is this patient's own account, or the account of the
    guardian of this dependent."""
    if patient.user_id is not None:
        return patient.user_id == user.pk
    return Patient.objects.filter(pk=patient.guardian_id, user=user).exists()


def patient_check_update_allowed(*, actor: User, patient: Patient) -> None:
    """Only the patient themselves (a dependent's guardian) or an admin may change
    a patient's profile (a doctor may read it, never write it). Raises PermissionDeniedError."""
    if not (actor.role == User.Role.ADMIN or patient_acts_for(user=actor, patient=patient)):
        raise PermissionDeniedError("Only the patient or an admin may change this profile.")


@transaction.atomic
def patient_update(*, actor: User, patient: Patient, **fields) -> Patient:
    """Update a patient's contact details (on the user) and medical information;
    a dependent's through dependent_update. Raises PermissionDeniedError unless
    `actor` is the patient (a dependent's guardian) or an admin."""
    patient_check_update_allowed(actor=actor, patient=patient)
    if patient.is_dependent:  # no user: its name is its own, and it has no phone of its own
        return dependent_update(dependent=patient, by=actor, **fields)
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
    # Which fields were written, never their values (allergies are health data).
    audit_record("update", obj=patient, actor=actor, detail={"fields": sorted([*user_changes, *patient_changes])})
    return patient


DEPENDENT_FIELDS = {"name", "date_of_birth", "blood_group", "allergies", "emergency_contact"}


def _check_guardian(guardian: Patient) -> None:
    """A guardian is a patient with an account of their own: a dependent cannot
    have dependents. Raises PermissionDeniedError."""
    if guardian.user_id is None or guardian.guardian_id is not None:
        raise PermissionDeniedError("A family member cannot add family members of their own.")


@transaction.atomic
def dependent_create(*, guardian: Patient, by: User, name: str, **fields) -> Patient:
    """Add a family member (a child, a parent) the guardian books for; no login
    of its own. Raises PermissionDeniedError unless `by` is the guardian or an
    admin, or when the guardian is itself a dependent."""
    _check_guardian(guardian)
    if not (by.role == User.Role.ADMIN or guardian.user_id == by.pk):
        raise PermissionDeniedError("Only the account holder may add their family members.")
    unknown = set(fields) - DEPENDENT_FIELDS
    if unknown:
        raise ValueError(f"Not fields of a dependent: {sorted(unknown)}")
    dependent = Patient.objects.create(guardian=guardian, name=name.strip(), **fields)
    # Which fields were written, never their values (health data).
    audit_record("create", obj=dependent, actor=by, detail={"guardian_id": guardian.pk, "fields": sorted(["name", *fields])})
    return dependent


@transaction.atomic
def dependent_update(*, dependent: Patient, by: User, **fields) -> Patient:
    """Change a family member's name and medical information. Raises
    PermissionDeniedError unless `by` is the guardian or an admin."""
    if not dependent.is_dependent:
        raise PermissionDeniedError("This patient is not a family member.")
    patient_check_update_allowed(actor=by, patient=dependent)
    changes = {key: value for key, value in fields.items() if key in DEPENDENT_FIELDS | {"wants_reminders"}}
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    for key, value in changes.items():
        setattr(dependent, key, value)
    if changes:
        dependent.save(update_fields=[*changes, "updated_at"])
    audit_record("update", obj=dependent, actor=by, detail={"fields": sorted(changes)})
    return dependent


# --- what a signed-out form had typed (FormDraft) -------------------------------------

DRAFT_SALT = "accounts.form-draft"
# A form page may sit open this long and still keep what it sends after the
# session ended; the draft then waits this long for the sign-in.
DRAFT_TOKEN_MAX_AGE = 12 * 60 * 60
DRAFT_KEEP = timedelta(hours=2)
DRAFT_FIELD_MAX_CHARS = 5000


def form_draft_token(*, user: User, page: str) -> str:
    """The signed token a portal form carries: it names the user and the page,
    so a form that arrives after the session ended can be kept for them."""
    return signing.dumps({"u": user.pk, "p": page}, salt=DRAFT_SALT, compress=True)


def form_draft_owner(*, token: str, page: str) -> int | None:
    """The user id a draft token names, if it is genuine, recent and for this page."""
    try:
        payload = signing.loads(token, salt=DRAFT_SALT, max_age=DRAFT_TOKEN_MAX_AGE)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("p") != page or not isinstance(payload.get("u"), int):
        return None
    return payload["u"]


def form_draft_save(*, user_id: int, page: str, data: dict[str, str]) -> FormDraft | None:
    """Keep what was typed into the page's form for the user (replacing an older
    draft of the same page); prunes expired drafts. None if the user is gone."""
    form_draft_prune()
    data = {name: str(value)[:DRAFT_FIELD_MAX_CHARS] for name, value in data.items()}
    if not User.objects.filter(pk=user_id, is_active=True).exists():
        return None
    draft, _ = FormDraft.objects.update_or_create(
        user_id=user_id, page=page[:200], defaults={"data": data, "expires_at": timezone.now() + DRAFT_KEEP},
    )
    return draft


def form_draft_take(*, user: User, page: str) -> dict[str, str] | None:
    """What the user had typed into this page's form, once: the draft is
    deleted as it is given back. Only the user's own and unexpired drafts."""
    if not user.is_authenticated:
        return None
    draft = FormDraft.objects.filter(user=user, page=page[:200], expires_at__gt=timezone.now()).first()
    if draft is None:
        return None
    draft.delete()
    return draft.data


def form_draft_prune() -> int:
    """Delete every expired draft; the number deleted."""
    return FormDraft.objects.filter(expires_at__lte=timezone.now()).delete()[0]
