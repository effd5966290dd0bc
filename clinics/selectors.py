"""Reads for clinics and doctors."""

from django.db.models import ExpressionWrapper, F, FloatField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ASin, Cast, Cos, Power, Radians, Sin, Sqrt
from django.utils import timezone

from accounts.models import User
from clinics.models import Clinic, Doctor
from healthsvc.exceptions import NotFoundError

EARTH_RADIUS_KM = 6371.0088


def clinic_list(*, user: User | None = None, city: str | None = None, search: str | None = None) -> QuerySet[Clinic]:
    """Active clinics by name (admins also see inactive ones)."""
    clinics = Clinic.objects.all()
    if not (user and user.is_authenticated and user.role == User.Role.ADMIN):
        clinics = clinics.filter(is_active=True)
    if city:
        clinics = clinics.filter(city__iexact=city.strip())
    if search:
        term = search.strip()
        clinics = clinics.filter(Q(name__icontains=term) | Q(city__icontains=term) | Q(address__icontains=term))
    return clinics.order_by("name", "id")


def clinic_annotate_distance(clinics: QuerySet[Clinic], *, lat: float, lng: float, radius_km: float | None):
    """Great-circle (haversine) distance in km computed by the database, nearest
    first; works on PostgreSQL and SQLite (Django registers the math functions)."""
    lat1, lng1 = Radians(lat), Radians(lng)
    lat2 = Radians(Cast("latitude", FloatField()))
    lng2 = Radians(Cast("longitude", FloatField()))
    a = Power(Sin((lat2 - lat1) / 2), 2) + Cos(lat1) * Cos(lat2) * Power(Sin((lng2 - lng1) / 2), 2)
    distance = ExpressionWrapper(2 * EARTH_RADIUS_KM * ASin(Sqrt(a)), output_field=FloatField())
    clinics = clinics.filter(latitude__isnull=False, longitude__isnull=False).annotate(distance_km=distance)
    if radius_km is not None:
        clinics = clinics.filter(distance_km__lte=radius_km)
    return clinics.order_by("distance_km", "id")


def clinic_get(*, clinic_id: int, user: User | None = None) -> Clinic:
    """One clinic; inactive ones only for admins. Raises NotFoundError."""
    try:
        return clinic_list(user=user).get(pk=clinic_id)
    except Clinic.DoesNotExist:
        raise NotFoundError("Clinic not found.") from None


def doctor_list(
    *, user: User | None = None, specialty: str | None = None, clinic_id: int | None = None,
    city: str | None = None, search: str | None = None, with_next_free: bool = False,
) -> QuerySet[Doctor]:
    """Active doctors at active clinics (admins see all), with user and clinic;
    optionally annotated with `next_free_start`, their earliest bookable slot."""
    doctors = Doctor.objects.select_related("user", "clinic")
    if not (user and user.is_authenticated and user.role == User.Role.ADMIN):
        doctors = doctors.filter(is_active=True, clinic__is_active=True)
    if specialty:
        doctors = doctors.filter(specialty__iexact=specialty.strip())
    if clinic_id is not None:
        doctors = doctors.filter(clinic_id=clinic_id)
    if city:
        doctors = doctors.filter(clinic__city__iexact=city.strip())
    if search:
        term = search.strip()
        doctors = doctors.filter(
            Q(user__name__icontains=term) | Q(specialty__icontains=term) | Q(clinic__name__icontains=term)
        )
    if with_next_free:
        from scheduling.models import AppointmentSlot

        next_free = (
            AppointmentSlot.objects.filter(
                doctor=OuterRef("pk"), is_active=True, start__gt=timezone.now(), booked_count__lt=F("capacity")
            )
            .order_by("start")
            .values("start")[:1]
        )
        doctors = doctors.annotate(next_free_start=Subquery(next_free))
    return doctors.order_by("user__name", "id")


def doctor_get(*, doctor_id: int, user: User | None = None) -> Doctor:
    """One doctor (inactive ones only for admins). Raises NotFoundError."""
    try:
        return doctor_list(user=user).get(pk=doctor_id)
    except Doctor.DoesNotExist:
        raise NotFoundError("Doctor not found.") from None


def specialty_list() -> list[str]:
    """The specialties of active doctors, for search forms."""
    return list(
        Doctor.objects.filter(is_active=True).order_by("specialty").values_list("specialty", flat=True).distinct()
    )
