import hashlib
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone as django_timezone  # `timezone` is also a Clinic field

from accounts.models import TokenFamily
from accounts.tokens import user_tokens_revoke
from healthsvc.models import TimeStampedModel
from healthsvc.timezones import canonical_zone_names, local_date_bounds, zone_aliases


def validate_timezone(value: str) -> None:
    """Only canonical IANA zone names: an alias names its zone in the message,
    and the host's `localtime` or `posixrules` is no zone at all."""
    if value in canonical_zone_names():
        return
    canonical = zone_aliases().get(value)
    hint = f" Use {canonical!r}." if canonical in canonical_zone_names() else ""
    raise ValidationError(
        f"{value!r} is not a canonical IANA time zone name (e.g. Asia/Kolkata).{hint}", code="invalid_timezone"
    )


# Bounds of the per-clinic booking policy (the defaults live in settings.BOOKING_POLICY).
MAX_NOTICE_MINUTES = 60 * 24 * 30
MAX_HORIZON_DAYS = 730
MAX_CANCELLATION_WINDOW_MINUTES = 60 * 24 * 30
MAX_ACTIVE_BOOKINGS = 100


@dataclass(frozen=True)
class BookingPolicy:
    """The booking rules a clinic's patients meet (staff and doctors are exempt):
    book at least `min_notice_minutes` ahead and at most `booking_horizon_days`
    days ahead, cancel or move at least `cancellation_window_minutes` before the
    visit, and hold at most `max_active_bookings_per_patient` future visits."""

    min_notice_minutes: int
    booking_horizon_days: int
    cancellation_window_minutes: int
    max_active_bookings_per_patient: int


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
    # The booking policy; null means the server's default (settings.BOOKING_POLICY).
    min_notice_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(MAX_NOTICE_MINUTES)],
        help_text="No booking less than this many minutes ahead. Empty: the server's default.",
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_HORIZON_DAYS)],
        help_text="No booking more than this many days ahead. Empty: the server's default.",
    )
    cancellation_window_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(MAX_CANCELLATION_WINDOW_MINUTES)],
        help_text="Patients cannot cancel or move a visit less than this many minutes before it "
                  "(staff and the doctor can). Empty: the server's default.",
    )
    max_active_bookings_per_patient = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_ACTIVE_BOOKINGS)],
        help_text="How many future visits at this clinic one patient may hold. Empty: the server's default.",
    )

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
            models.CheckConstraint(
                condition=models.Q(min_notice_minutes__isnull=True)
                | models.Q(min_notice_minutes__lte=MAX_NOTICE_MINUTES),
                name="clinics_clinic_min_notice_range",
            ),
            models.CheckConstraint(
                condition=models.Q(booking_horizon_days__isnull=True)
                | models.Q(booking_horizon_days__gte=1, booking_horizon_days__lte=MAX_HORIZON_DAYS),
                name="clinics_clinic_booking_horizon_range",
            ),
            models.CheckConstraint(
                condition=models.Q(cancellation_window_minutes__isnull=True)
                | models.Q(cancellation_window_minutes__lte=MAX_CANCELLATION_WINDOW_MINUTES),
                name="clinics_clinic_cancellation_window_range",
            ),
            models.CheckConstraint(
                condition=models.Q(max_active_bookings_per_patient__isnull=True)
                | models.Q(max_active_bookings_per_patient__gte=1,
                           max_active_bookings_per_patient__lte=MAX_ACTIVE_BOOKINGS),
                name="clinics_clinic_max_active_bookings_range",
            ),
        ]
        indexes = [
            models.Index(fields=["city"], name="clinics_clinic_city_idx"),
            models.Index(Upper("city"), name="clinics_clinic_city_ci_idx"),  # ?city= in any case
        ]

    def __str__(self):
        return f"{self.name} ({self.city})"

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def booking_window(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """[earliest, latest) start a patient may book here: the minimum notice
        from now, up to the end of the local day `booking_horizon_days` ahead."""
        now = now or django_timezone.now()
        policy = self.booking_policy
        last_day = django_timezone.localtime(now, self.tzinfo).date() + timedelta(days=policy.booking_horizon_days)
        return now + timedelta(minutes=policy.min_notice_minutes), local_date_bounds(last_day, self.tzinfo)[1]

    @property
    def booking_policy(self) -> BookingPolicy:
        """This clinic's rules, each falling back to the server's default."""
        defaults = settings.BOOKING_POLICY
        return BookingPolicy(**{
            name: defaults[name] if getattr(self, name) is None else getattr(self, name)
            for name in BookingPolicy.__dataclass_fields__
        })


def calendar_feed_token_sha256(token: str) -> str:
    """What Doctor.calendar_feed_sha256 keeps of a feed token."""
    return hashlib.sha256(token.encode()).hexdigest()


class DoctorQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """Deactivating profiles in bulk (the admin's action) ends those
        doctors' tokens at once, as Doctor.save does for one."""
        if "is_active" not in kwargs or kwargs["is_active"]:
            return super().update(**kwargs)
        user_ids = list(self.filter(is_active=True).values_list("user_id", flat=True))
        count = super().update(**kwargs)
        _doctor_access_end(user_ids)
        return count


def _doctor_access_end(user_ids) -> None:
    """A deactivated doctor loses access at once: every token of theirs stops
    working, and their sessions and logins are refused while the profile is
    inactive (accounts.backends.user_may_sign_in)."""
    for user_id in user_ids:
        user_tokens_revoke(user_id, TokenFamily.EndReason.CREDENTIALS)


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
    requires_approval = models.BooleanField(
        default=False,
        help_text="New bookings start pending and hold their place until the doctor or staff confirm them.",
    )
    # SHA-256 (hex) of the doctor's private calendar feed token, never the token
    # itself: a copy of the database must not let anyone read the feed. Empty:
    # no feed (clinics.services.doctor_calendar_feed_rotate makes one).
    calendar_feed_sha256 = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = DoctorQuerySet.as_manager()

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
            # ?specialty= matches in any case (UPPER(specialty) = UPPER(%s) on PostgreSQL).
            models.Index(Upper("specialty"), name="clinics_doctor_spec_ci_idx"),
            models.Index(fields=["clinic", "is_active"], name="clinics_doctor_clinic_idx"),
        ]

    def __str__(self):
        return f"Dr. {self.user.name} ({self.specialty})"

    @classmethod
    def from_db(cls, db, field_names, values):
        doctor = super().from_db(db, field_names, values)
        doctor._loaded_active = dict(zip(field_names, values)).get("is_active")
        return doctor

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        deactivated = (
            getattr(self, "_loaded_active", None) is True and self.is_active is False
            and (update_fields is None or "is_active" in update_fields)
        )
        super().save(*args, **kwargs)
        self._loaded_active = self.is_active
        if deactivated:
            _doctor_access_end([self.user_id])
