from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models.functions import Lower
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
        from accounts.tokens import token_state_forget  # noqa: PLC0415

        user_ids = list(self.values_list("pk", flat=True))
        count = super().update(**kwargs, token_version=models.F("token_version") + 1)
        for user_id in user_ids:
            token_state_forget(user_id)
        transaction.on_commit(lambda: [token_state_forget(user_id) for user_id in user_ids], using=self.db)
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
        return self.get(email__iexact=username)


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
            from accounts.tokens import token_state_forget  # noqa: PLC0415

            # Now, and again once committed: a request in between may have cached
            # the state this transaction is about to replace.
            user_id = self.pk
            token_state_forget(user_id)
            transaction.on_commit(lambda: token_state_forget(user_id), using=kwargs.get("using"))

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

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

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="patient")
    date_of_birth = models.DateField(null=True, blank=True, validators=[validate_birth_date])
    blood_group = models.CharField(max_length=3, choices=BloodGroup.choices, null=True, blank=True)
    allergies = models.TextField(blank=True)
    emergency_contact = models.CharField(max_length=200, blank=True, validators=[validate_emergency_contact])

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(blood_group__isnull=True)
                | models.Q(blood_group__in=["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"]),
                name="accounts_patient_blood_group_valid",
            ),
        ]

    def __str__(self):
        return self.user.name
