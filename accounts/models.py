from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac
from django.utils import timezone

from healthsvc.models import TimeStampedModel

validate_phone = RegexValidator(
    r"^\+?[0-9][0-9 ()./-]{5,18}[0-9]$",
    "Enter a phone number of digits, spaces or dashes, optionally starting with +.",
)


def validate_emergency_contact(value: str) -> None:
    if value and sum(char.isdigit() for char in value) < 6:
        raise ValidationError("Include a phone number for your emergency contact.", code="no_phone")


def validate_birth_date(value) -> None:
    if value > timezone.localdate():
        raise ValidationError("The date of birth cannot be in the future.", code="future")
    if value.year < 1900:
        raise ValidationError("Enter a date of birth after 1900.", code="too_old")


class LoadsWholeRowMixin:
    """For instances made with only some fields (accounts.authentication builds
    the request's user from token claims): the first deferred field read loads
    every deferred field in one query, not one query per field."""

    _load_whole_row = False

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        if fields is not None and self._load_whole_row:
            fields = list(set(fields) | self.get_deferred_fields())
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)


class UserQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """A bulk change of a password, role or active flag ends the users' tokens
        too, as User.save does for one (raw SQL does not: it bypasses both)."""
        if not set(kwargs) & set(User.REVOKING_FIELDS):
            return super().update(**kwargs)
        from accounts.tokens import token_state_forget, token_state_refresh  # noqa: PLC0415

        user_ids = list(self.values_list("pk", flat=True))
        count = super().update(**kwargs, token_version=models.F("token_version") + 1)
        TokenFamily.objects.filter(user_id__in=user_ids).end(TokenFamily.EndReason.CREDENTIALS)
        for user_id in user_ids:
            token_state_forget(user_id)
        transaction.on_commit(lambda: [token_state_refresh(user_id) for user_id in user_ids], using=self.db)
        return count


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("role", User.Role.PATIENT)
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        """`createsuperuser` makes a role-admin user who can use /admin/ and the API."""
        extra_fields.update(role=User.Role.ADMIN, is_staff=True, is_superuser=True, is_verified=True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # Emails are stored lowercased: an exact match on the same folding the
        # lockout keys on (accounts.lockout), so no spelling that the database's
        # case-insensitive match would also accept (e.g. "ſ" for "s") reaches
        # the account under another lockout count.
        return self.get(email=(username or "").strip().lower())


class User(LoadsWholeRowMixin, AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        PATIENT = "patient", "Patient"
        DOCTOR = "doctor", "Doctor"
        ADMIN = "admin", "Admin"

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)
    mobile_no = models.CharField(max_length=20, blank=True, validators=[validate_phone])
    is_verified = models.BooleanField(
        default=False, help_text="Doctors can open slots only once an admin has verified them."
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log in to the admin site.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    token_version = models.PositiveIntegerField(
        default=0, editable=False,
        help_text="Raised when the password, role or active flag changes: tokens issued before stop working.",
    )

    objects = UserManager()

    # A change to any of these ends every token issued before it (accounts.tokens).
    REVOKING_FIELDS = ("password", "role", "is_active")

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["patient", "doctor", "admin"]),
                name="accounts_user_role_valid",
            ),
        ]
        indexes = [models.Index(fields=["role"], name="accounts_user_role_idx")]

    def __str__(self):
        return f"{self.name} <{self.email}>"

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._revoking_loaded = {
            name: value for name, value in zip(field_names, values) if name in cls.REVOKING_FIELDS
        }
        return user

    def save(self, *args, **kwargs):
        loaded = getattr(self, "_revoking_loaded", None) or {}
        update_fields = kwargs.get("update_fields")
        changed = [
            name for name, value in loaded.items()
            if (update_fields is None or name in update_fields) and getattr(self, name) != value
        ]
        if changed:
            self.token_version += 1
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "token_version"}
        super().save(*args, **kwargs)
        self._revoking_loaded = {name: getattr(self, name) for name in self.REVOKING_FIELDS
                                 if name not in self.get_deferred_fields()}
        if changed:
            from accounts.tokens import token_state_forget, token_state_refresh  # noqa: PLC0415

            TokenFamily.objects.filter(user_id=self.pk).end(TokenFamily.EndReason.CREDENTIALS)
            # Now, and again once committed: a request in between may have cached
            # the state this transaction is about to replace.
            user_id = self.pk
            token_state_forget(user_id)
            transaction.on_commit(lambda: token_state_refresh(user_id), using=kwargs.get("using"))

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def _get_session_auth_hash(self, secret=None):
        """Django's session hash (a session lives while it matches), of the
        password and the token version: whatever ends a user's tokens (a
        password, role or active change, log out everywhere, a two-factor
        reset) ends their portal sessions too. Django's password change keeps
        the session it was made in (update_session_auth_hash)."""
        return salted_hmac(
            "accounts.User.get_session_auth_hash", f"{self.password}:{self.token_version}",
            secret=secret, algorithm="sha256",
        ).hexdigest()

    @property
    def is_patient(self) -> bool:
        return self.role == self.Role.PATIENT

    @property
    def is_doctor(self) -> bool:
        return self.role == self.Role.DOCTOR

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Patient(LoadsWholeRowMixin, TimeStampedModel):
    class BloodGroup(models.TextChoices):
        A_POS = "A+", "A+"
        A_NEG = "A-", "A-"
        B_POS = "B+", "B+"
        B_NEG = "B-", "B-"
        AB_POS = "AB+", "AB+"
        AB_NEG = "AB-", "AB-"
        O_POS = "O+", "O+"
        O_NEG = "O-", "O-"

    # An account holder has a user; a dependent (a child, a parent) has none of
    # its own and a guardian, the account holder who books for it.
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="patient", null=True, blank=True)
    guardian = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="dependents", null=True, blank=True,
        help_text="For a dependent: the patient account that books for them.",
    )
    name = models.CharField(
        max_length=User._meta.get_field("name").max_length, blank=True,
        help_text="A dependent's full name (an account holder's name is on their user).",
    )
    date_of_birth = models.DateField(null=True, blank=True, validators=[validate_birth_date])
    blood_group = models.CharField(max_length=3, choices=BloodGroup.choices, null=True, blank=True)
    # The limit is the API's and the portal's (their fields read it from here).
    allergies = models.TextField(blank=True, max_length=2000)
    emergency_contact = models.CharField(max_length=200, blank=True, validators=[validate_emergency_contact])
    # The patient's own choice (profile page, PATCH /patients/{id}); the reminder
    # mails that honour it come later (issue 10).
    wants_reminders = models.BooleanField(
        default=True, help_text="Email the patient a reminder the day before each visit.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(blood_group__isnull=True)
                | models.Q(blood_group__in=["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"]),
                name="accounts_patient_blood_group_valid",
            ),
            # A dependent has no login: exactly one of the two is set.
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, guardian__isnull=True)
                | models.Q(user__isnull=True, guardian__isnull=False),
                name="accounts_patient_user_or_guardian",
            ),
            models.CheckConstraint(
                condition=models.Q(guardian__isnull=True) | ~models.Q(name=""),
                name="accounts_patient_dependent_named",
            ),
        ]

    def __str__(self):
        return self.display_name

    def clean(self):
        super().clean()
        if self.guardian_id is not None and self.guardian.guardian_id is not None:
            raise ValidationError({"guardian": "A family member cannot be the guardian of another."})

    @property
    def is_dependent(self) -> bool:
        return self.guardian_id is not None

    @property
    def display_name(self) -> str:
        """The name to show: the user's for an account holder, the dependent's own."""
        return self.name if self.user_id is None else self.user.name

    @property
    def name_with_guardian(self) -> str:
        """For doctors and staff: a dependent's name with whose family member they are."""
        if self.guardian_id is None:
            return self.display_name
        return f"{self.name} (family member of {self.guardian.display_name})"

    @property
    def contact_user(self) -> "User":
        """Who is emailed about this patient: the user, or a dependent's guardian's user."""
        return self.user if self.user_id is not None else self.guardian.user


class TokenFamilyQuerySet(models.QuerySet):
    def live(self):
        return self.filter(ended_at__isnull=True, expires_at__gt=timezone.now())

    def end(self, reason: str) -> int:
        """End the families not ended yet: their refresh tokens stop working."""
        return self.filter(ended_at__isnull=True).update(ended_at=timezone.now(), end_reason=reason)


class TokenFamily(models.Model):
    """One sign-in's chain of refresh tokens (RFC 9700 4.14.2).

    A login starts a family; each refresh rotates its one current token for
    the next. A token already rotated out that comes back means two parties
    hold the chain, so the whole family ends. However often it is refreshed,
    a family ends `expires_at` (REFRESH_FAMILY_LIFETIME after login), and a
    logout, a password, role or active change, or "log out everywhere" ends it
    at once (accounts.tokens).
    """

    class EndReason(models.TextChoices):
        LOGOUT = "logout", "Logged out"
        LOGOUT_ALL = "logout_all", "Logged out everywhere"
        REUSE = "reuse", "A rotated-out refresh token was used again"
        CREDENTIALS = "credentials", "Password, role or active flag changed"
        STAFF = "staff", "Ended by staff"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="token_families")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="The family ends then, however often it is refreshed.")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)

    objects = TokenFamilyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "token families"
        indexes = [models.Index(fields=["user", "ended_at"], name="accounts_tokfam_user_idx")]

    def __str__(self):
        return f"Sign-in {self.pk} of user {self.user_id}"

    @property
    def is_live(self) -> bool:
        return self.ended_at is None and self.expires_at > timezone.now()


class RefreshTokenRecord(models.Model):
    """What verifying one issued refresh token needs, and nothing to use it
    with: its `jti` and a SHA-256 of the token, never the token itself (an
    admin screen or a database dump must not hand out live credentials)."""

    jti = models.CharField(max_length=64, unique=True)
    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="tokens")
    token_sha256 = models.CharField(max_length=64)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    rotated_at = models.DateTimeField(null=True, blank=True, help_text="When it was exchanged for the next one.")

    class Meta:
        indexes = [models.Index(fields=["family"], name="accounts_refresh_family_idx")]

    def __str__(self):
        return f"Refresh token {self.jti[:8]}…"


class FormDraft(models.Model):
    """What a user had typed into a portal form when it arrived after their
    session had ended (the 15-minute idle logout): kept server-side against
    that form's page, never in a URL, and given back only to the same user
    once they sign in again (accounts.services.form_draft_take). Short-lived:
    expired rows are pruned whenever a draft is saved."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="form_drafts")
    page = models.CharField(max_length=200, help_text="The path of the form's page, e.g. /book/12/.")
    data = models.JSONField(default=dict, help_text="The form's fields as typed (never a password).")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "page"], name="accounts_formdraft_one_per_user_page")]
        indexes = [models.Index(fields=["expires_at"], name="accounts_formdraft_expires_idx")]

    def __str__(self):
        return f"Draft of {self.page} for user {self.user_id}"
