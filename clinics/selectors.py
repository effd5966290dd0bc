"""Reads for clinics and doctors."""

import hmac

from django.db.models import ExpressionWrapper, FloatField, Q, QuerySet, Value
from django.db.models.functions import ASin, Cast, Cos, Least, Power, Radians, Sin, Sqrt

from accounts.models import User
from clinics.exceptions import ClinicNotFoundError, DoctorNotFoundError
from clinics.models import Clinic, Doctor, calendar_feed_token_sha256

EARTH_RADIUS_KM = 6371.0088


def _sees_inactive(user: User | None) -> bool:
    return bool(user and user.is_authenticated and user.role == User.Role.ADMIN)


def clinic_filter(clinics: QuerySet[Clinic], *, city: str | None = None, search: str | None = None) -> QuerySet[Clinic]:
    """Narrow clinics to a city (exact, any case) and a free-text term (name, city, address)."""
    if city and city.strip():
        clinics = clinics.filter(city__iexact=city.strip())
    if search and search.strip():
        term = search.strip()
        clinics = clinics.filter(Q(name__icontains=term) | Q(city__icontains=term) | Q(address__icontains=term))
    return clinics


def clinic_list(*, user: User | None = None, city: str | None = None, search: str | None = None) -> QuerySet[Clinic]:
    """Active clinics by name (admins also see inactive ones)."""
    clinics = Clinic.objects.all()
    if not _sees_inactive(user):
        clinics = clinics.filter(is_active=True)
    return clinic_filter(clinics, city=city, search=search).order_by("name", "id")


def clinic_annotate_distance(clinics: QuerySet[Clinic], *, lat: float, lng: float, radius_km: float | None):
    """Great-circle (haversine) distance in km computed by the database, nearest
    first; only clinics with coordinates. Works on PostgreSQL and SQLite
    (Django registers the math functions there)."""
    lat1, lng1 = Radians(Value(float(lat))), Radians(Value(float(lng)))
    lat2 = Radians(Cast("latitude", FloatField()))
    lng2 = Radians(Cast("longitude", FloatField()))
    a = Power(Sin((lat2 - lat1) / 2), 2) + Cos(lat1) * Cos(lat2) * Power(Sin((lng2 - lng1) / 2), 2)
    # Clamp: float rounding may push sqrt(a) a hair above 1 for (near-)antipodal
    # points, and ASIN of that is an error on both databases, not a NULL.
    central_angle = 2 * ASin(Least(Sqrt(a), Value(1.0)))
    distance = ExpressionWrapper(EARTH_RADIUS_KM * central_angle, output_field=FloatField())
    clinics = clinics.filter(latitude__isnull=False, longitude__isnull=False).annotate(distance_km=distance)
    if radius_km is not None:
        clinics = clinics.filter(distance_km__lte=radius_km)
    return clinics.order_by("distance_km", "id")


def clinic_get(*, clinic_id: int, user: User | None = None) -> Clinic:
    """One clinic; inactive ones only for admins. Raises ClinicNotFoundError."""
    try:
        return clinic_list(user=user).get(pk=clinic_id)
    except Clinic.DoesNotExist:
        raise ClinicNotFoundError() from None


def doctor_filter(
    doctors: QuerySet[Doctor], *, specialty: str | None = None, clinic_id: int | None = None,
    city: str | None = None, search: str | None = None,
) -> QuerySet[Doctor]:
    """Narrow doctors by specialty and clinic city (exact, any case), clinic id,
    and a free-text term (name, specialty, clinic name)."""
    if specialty and specialty.strip():
        doctors = doctors.filter(specialty__iexact=specialty.strip())
    if clinic_id is not None:
        doctors = doctors.filter(clinic_id=clinic_id)
    if city and city.strip():
        doctors = doctors.filter(clinic__city__iexact=city.strip())
    if search and search.strip():
        term = search.strip()
        doctors = doctors.filter(
            Q(user__name__icontains=term) | Q(specialty__icontains=term) | Q(clinic__name__icontains=term)
        )
    return doctors


def doctor_list(
    *, user: User | None = None, specialty: str | None = None, clinic_id: int | None = None,
    city: str | None = None, search: str | None = None,
) -> QuerySet[Doctor]:
    """Active doctors at active clinics (admins see all), with user and clinic, by name."""
    doctors = Doctor.objects.select_related("user", "clinic")
    if not _sees_inactive(user):
        doctors = doctors.filter(is_active=True, clinic__is_active=True)
    doctors = doctor_filter(doctors, specialty=specialty, clinic_id=clinic_id, city=city, search=search)
    return doctors.order_by("user__name", "id")


# What a doctor's list entry shows: the doctor's own columns and the user's name and email.
DOCTOR_ROW_FIELDS = (
    "id", "user_id", "specialty", "license_number", "qualifications", "experience_years",
    "max_patients_per_day", "clinic_id", "is_active", "requires_approval", "user__name", "user__email",
)


def doctor_rows_lean(doctors: QuerySet[Doctor]) -> QuerySet[Doctor]:
    """doctor_list's doctors with only DOCTOR_ROW_FIELDS loaded (no clinic row,
    no user password or dates): for lists that show those fields only."""
    return doctors.select_related(None).select_related("user").only(*DOCTOR_ROW_FIELDS)


def doctor_get(*, doctor_id: int, user: User | None = None) -> Doctor:
    """One doctor with user and clinic (inactive ones only for admins). Raises DoctorNotFoundError."""
    try:
        return doctor_list(user=user).get(pk=doctor_id)
    except Doctor.DoesNotExist:
        raise DoctorNotFoundError() from None


def doctor_get_by_calendar_feed_token(*, token: str) -> Doctor:
    """The active doctor whose private calendar feed token this is, with user
    and clinic. Raises DoctorNotFoundError alike for a malformed token, an
    unknown doctor, one without a feed and a wrong or replaced secret; the
    hashes are compared in constant time."""
    doctor_id, dot, _ = token.partition(".")
    if not dot or not doctor_id.isascii() or not doctor_id.isdigit() or len(doctor_id) > 18:
        raise DoctorNotFoundError()
    doctor = (
        Doctor.objects.select_related("user", "clinic")
        .filter(pk=int(doctor_id), is_active=True, user__is_active=True).first()
    )
    if doctor is None or not doctor.calendar_feed_sha256 or not hmac.compare_digest(
        doctor.calendar_feed_sha256, calendar_feed_token_sha256(token)
    ):
        raise DoctorNotFoundError()
    return doctor


def specialty_list() -> list[str]:
    """The specialties of active doctors, for search forms."""
    return list(
        Doctor.objects.filter(is_active=True).order_by("specialty").values_list("specialty", flat=True).distinct()
    )
