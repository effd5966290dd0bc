import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from healthsvc.models import TimeStampedModel


@cache
def _iana_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _iana_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name.", code="invalid_timezone")


class Clinic(TimeStampedModel):
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=100, blank=True)
    zip_code = models.CharField(max_length=20, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone],
        help_text="IANA name, e.g. Asia/Kolkata. Slots are shown in this zone.",
    )
    latitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90),
                name="clinics_clinic_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True) | models.Q(longitude__gte=-180, longitude__lte=180),
                name="clinics_clinic_longitude_range",
            ),
        ]
        indexes = [models.Index(fields=["city"], name="clinics_clinic_city_idx")]

    def __str__(self):
        return f"{self.name} ({self.city})"

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Doctor(TimeStampedModel):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="doctor")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="doctors")
    specialty = models.CharField(max_length=100)
    license_number = models.CharField(max_length=64, unique=True)
    qualifications = models.TextField(blank=True)
    experience_years = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(80)])
    max_patients_per_day = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_patients_per_day__gte=1), name="clinics_doctor_max_patients_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(experience_years__lte=80), name="clinics_doctor_experience_range"
            ),
        ]
        indexes = [
            models.Index(fields=["specialty"], name="clinics_doctor_specialty_idx"),
            models.Index(fields=["clinic", "is_active"], name="clinics_doctor_clinic_idx"),
        ]

    def __str__(self):
        return f"Dr. {self.user.name} ({self.specialty})"
