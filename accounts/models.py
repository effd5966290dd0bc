from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
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


class UserManager(BaseUserManager):
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


class User(AbstractBaseUser, PermissionsMixin):
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

    objects = UserManager()

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


class Patient(TimeStampedModel):
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
