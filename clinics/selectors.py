"""Reads for clinics and doctors."""

import difflib
import hmac

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import Exists, ExpressionWrapper, FloatField, OuterRef, Q, QuerySet, Value
from django.db.models.functions import ASin, Cast, Cos, Greatest, Least, Power, Radians, Sin, Sqrt
from django.db.models.lookups import Contains, Exact

from accounts.models import User
from clinics.exceptions import ClinicNotFoundError, DoctorNotFoundError
from clinics.models import Clinic, Doctor, calendar_feed_token_sha256
from clinics.search import (
    TYPO_MIN_LENGTH,
    SearchTerms,
    fold,
    fold_value,
    search_fold,
    search_terms_parse,
    specialty_names,
)

EARTH_RADIUS_KM = 6371.0088


def _sees_inactive(user: User | None) -> bool:
    return bool(user and user.is_authenticated and user.role == User.Role.ADMIN)


# --- free-text search ---------------------------------------------------------------
# One reading of the text for the portal's doctor search and the API's ?search=
# of doctors and clinics (clinics.search parses it). Each recognised specialty
# and each other word narrows the result: a word matches, folded, any of the
# searched columns as a substring, and on PostgreSQL also by trigram word
# similarity (pg_trgm's %>, over the GIN indexes of migration 0006), so a typo
# still finds; SQLite has the substring match only.

DOCTOR_SEARCH_FIELDS = ("user__name", "specialty", "clinic__name", "clinic__city")
CLINIC_SEARCH_FIELDS = ("name", "city", "address")


def _typos_tolerated() -> bool:
    return connection.vendor == "postgresql"


def _text_matches(word: str, fields: tuple[str, ...]) -> Q:
    """The folded word inside any of the fields (or, on PostgreSQL, close to a word of one)."""
    condition = Q(pk__in=[])
    typos = _typos_tolerated() and len(word) >= TYPO_MIN_LENGTH
    for field in fields:
        condition |= Q(Contains(fold(field), fold_value(word)))
        if typos:
            condition |= Q(TrigramWordSimilar(fold(field), fold_value(word)))
    return condition


def _specialty_is(specialty: str, field: str) -> Q:
    condition = Q(pk__in=[])
    for name in specialty_names(specialty):
        condition |= Q(Exact(fold(field), fold_value(search_fold(name))))
    return condition


def _doctor_text_matches(word: str, *, specialty: bool = True, city: bool = True) -> Q:
    """_text_matches over the doctor's name, specialty, clinic name and city.
    Each table is matched on its own (IN subqueries), so each uses its trigram
    index instead of filtering the joined rows."""
    condition = Q(user__in=User.objects.filter(_text_matches(word, ("name",))).values("pk"))
    condition |= Q(clinic__in=Clinic.objects.filter(_text_matches(word, ("name", "city") if city else ("name",)))
                   .values("pk"))
    if specialty:
        condition |= _text_matches(word, ("specialty",))
    return condition


def doctor_search(doctors: QuerySet[Doctor], *, terms: SearchTerms) -> QuerySet[Doctor]:
    """Doctors matching every part of the terms: a specialty phrase by the
    doctor's specialty (or the phrase as written in their or their clinic's
    name: "heart" finds "Heart Care"), each other word in the name,
    specialty, clinic name or city."""
    for specialty, phrase in terms.specialties:
        doctors = doctors.filter(
            _specialty_is(specialty, "specialty") | _doctor_text_matches(phrase, specialty=False, city=False)
        )
    for word in terms.words:
        doctors = doctors.filter(_doctor_text_matches(word))
    return doctors


def clinic_search(clinics: QuerySet[Clinic], *, terms: SearchTerms) -> QuerySet[Clinic]:
    """Clinics matching every part of the terms: a specialty phrase by an
    active doctor of that specialty there (or the phrase in the clinic's name),
    each other word in the name, city or address."""
    for specialty, phrase in terms.specialties:
        has_specialist = Exists(Doctor.objects.filter(_specialty_is(specialty, "specialty"),
                                                      clinic=OuterRef("pk"), is_active=True))
        clinics = clinics.filter(Q(has_specialist) | _text_matches(phrase, ("name",)))
    for word in terms.words:
        clinics = clinics.filter(_text_matches(word, CLINIC_SEARCH_FIELDS))
    return clinics


def doctor_search_suggestions(*, text: str, limit: int = 5) -> list[Doctor]:
    """The active doctors closest to a search that found nobody: those of the
    specialty it names (anywhere: "skin doctor Mumbai" offers dermatologists
    elsewhere), then the closest to its other words."""
    terms = search_terms_parse(text)
    found = []
    if terms.specialties:
        found = list(doctor_search(doctor_list(), terms=SearchTerms(text, terms.specialties, ()))[:limit])
    if terms.words:
        found += [d for d in _doctors_closest_to(" ".join(terms.words), limit=limit) if d not in found]
    return found[:limit]


def _doctors_closest_to(query: str, *, limit: int) -> list[Doctor]:
    """Active doctors by closeness to the words, closest first: trigram word
    similarity to their name, specialty, clinic or city on PostgreSQL;
    difflib's ratio to their name and specialty words elsewhere."""
    doctors = doctor_list()
    if _typos_tolerated():
        closeness = Greatest(*(TrigramWordSimilarity(fold_value(query), fold(f)) for f in DOCTOR_SEARCH_FIELDS))
        return list(doctors.annotate(closeness=closeness).filter(closeness__gte=0.3)
                    .order_by("-closeness", "user__name", "id")[:limit])
    scores = {}
    for pk, name, specialty in doctors.values_list("pk", "user__name", "specialty"):
        candidates = search_fold(f"{name} {specialty}").split()
        scores[pk] = max((difflib.SequenceMatcher(None, word, c).ratio()
                          for word in query.split() for c in candidates), default=0)
    closest = sorted((pk for pk, score in scores.items() if score >= 0.6), key=lambda pk: -scores[pk])[:limit]
    found = doctors.in_bulk(closest)
    return [found[pk] for pk in closest]


def clinic_filter(clinics: QuerySet[Clinic], *, city: str | None = None, search: str | None = None) -> QuerySet[Clinic]:
    """Narrow clinics to a city (exact, any case) and free text (clinic_search)."""
    if city and city.strip():
        clinics = clinics.filter(city__iexact=city.strip())
    if search and search.strip():
        clinics = clinic_search(clinics, terms=search_terms_parse(search))
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
    and free text (doctor_search)."""
    if specialty and specialty.strip():
        doctors = doctors.filter(specialty__iexact=specialty.strip())
    if clinic_id is not None:
        doctors = doctors.filter(clinic_id=clinic_id)
    if city and city.strip():
        doctors = doctors.filter(clinic__city__iexact=city.strip())
    if search and search.strip():
        doctors = doctor_search(doctors, terms=search_terms_parse(search))
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
