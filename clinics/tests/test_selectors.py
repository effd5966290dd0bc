"""Reads for clinics and doctors: who sees what, the filters, and distances in the DB."""

import math

import pytest

from clinics.exceptions import ClinicNotFoundError, DoctorNotFoundError
from clinics.models import Clinic
from clinics.selectors import (
    EARTH_RADIUS_KM,
    clinic_annotate_distance,
    clinic_get,
    clinic_list,
    doctor_get,
    doctor_list,
    specialty_list,
)
from clinics.tests.factories import ClinicFactory, DoctorFactory

pytestmark = pytest.mark.django_db

PUNE = (18.5204, 73.8567)
MUMBAI = (19.0760, 72.8777)
DELHI = (28.6139, 77.2090)
LONDON = (51.5074, -0.1278)


def haversine_km(a, b):
    """Reference distance computed in Python, independent of the database."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _at(name, point, **kwargs):
    return ClinicFactory(name=name, latitude=point[0], longitude=point[1], **kwargs)


# --- clinics ------------------------------------------------------------------


def test_clinic_list_hides_inactive_clinics_except_from_admins(patient, admin_user):
    active, inactive = ClinicFactory(name="A"), ClinicFactory(name="B", is_active=False)
    assert list(clinic_list()) == [active]
    assert list(clinic_list(user=patient.user)) == [active]
    assert list(clinic_list(user=admin_user)) == [active, inactive]


def test_clinic_list_filters_city_exactly_in_any_case_and_orders_by_name():
    b, a = ClinicFactory(name="Beta", city="Pune"), ClinicFactory(name="Alpha", city="pune")
    ClinicFactory(name="Gamma", city="Pune East")
    assert list(clinic_list(city=" PUNE ")) == [a, b]


def test_clinic_list_search_matches_name_city_or_address():
    by_name = ClinicFactory(name="Sunrise Heart", city="Pune", address="1 Road")
    by_city = ClinicFactory(name="Other", city="Sunrise Bay", address="2 Road")
    by_address = ClinicFactory(name="Third", city="Pune", address="5 Sunrise Lane")
    ClinicFactory(name="Unrelated", city="Pune", address="9 Road")
    assert set(clinic_list(search="sunrise")) == {by_name, by_city, by_address}


def test_clinic_get_refuses_inactive_clinic_to_non_admins(patient, admin_user):
    clinic = ClinicFactory(is_active=False)
    with pytest.raises(ClinicNotFoundError):
        clinic_get(clinic_id=clinic.pk)
    with pytest.raises(ClinicNotFoundError):
        clinic_get(clinic_id=clinic.pk, user=patient.user)
    assert clinic_get(clinic_id=clinic.pk, user=admin_user) == clinic
    with pytest.raises(ClinicNotFoundError):
        clinic_get(clinic_id=clinic.pk + 1000)


def test_distance_is_computed_in_the_database_nearest_first():
    delhi, mumbai, london = _at("Delhi", DELHI), _at("Mumbai", MUMBAI), _at("London", LONDON)
    ClinicFactory(name="No coordinates")
    clinics = list(clinic_annotate_distance(clinic_list(), lat=PUNE[0], lng=PUNE[1], radius_km=None))
    assert clinics == [mumbai, delhi, london]
    for clinic, point in zip(clinics, (MUMBAI, DELHI, LONDON)):
        assert clinic.distance_km == pytest.approx(haversine_km(PUNE, point), rel=0.01)
    # And against published great-circle distances (Pune-Mumbai ~120 km, -Delhi ~1173 km, -London ~7306 km).
    assert 115 < clinics[0].distance_km < 125
    assert 1160 < clinics[1].distance_km < 1185
    assert 7250 < clinics[2].distance_km < 7360


def test_distance_radius_keeps_only_clinics_within_it():
    mumbai = _at("Mumbai", MUMBAI)
    _at("Delhi", DELHI)
    clinics = clinic_annotate_distance(clinic_list(), lat=PUNE[0], lng=PUNE[1], radius_km=200)
    assert list(clinics) == [mumbai]


def test_distance_of_the_same_point_is_zero_and_of_the_antipode_half_the_globe():
    here = _at("Here", (10.0, 20.0))
    antipode = _at("Antipode", (-10.0, -160.0))
    clinics = list(clinic_annotate_distance(Clinic.objects.all(), lat=10.0, lng=20.0, radius_km=None))
    assert clinics == [here, antipode]
    assert clinics[0].distance_km == pytest.approx(0, abs=1e-6)
    assert clinics[1].distance_km == pytest.approx(math.pi * EARTH_RADIUS_KM, rel=1e-6)


def test_distance_ties_are_ordered_by_id():
    first, second = _at("Z first", PUNE), _at("A second", PUNE)
    clinics = clinic_annotate_distance(clinic_list(), lat=PUNE[0], lng=PUNE[1], radius_km=None)
    assert list(clinics) == [first, second]


# --- doctors ------------------------------------------------------------------


def test_doctor_list_hides_inactive_doctors_and_closed_clinics_except_from_admins(admin_user):
    open_clinic, closed_clinic = ClinicFactory(), ClinicFactory(is_active=False)
    visible = DoctorFactory(clinic=open_clinic, user__name="A")
    inactive = DoctorFactory(clinic=open_clinic, is_active=False, user__name="B")
    at_closed = DoctorFactory(clinic=closed_clinic, user__name="C")
    assert list(doctor_list()) == [visible]
    assert list(doctor_list(user=admin_user)) == [visible, inactive, at_closed]


def test_doctor_list_filters_and_orders_by_name():
    pune, mumbai = ClinicFactory(name="Heart Pune", city="Pune"), ClinicFactory(name="Skin Mumbai", city="Mumbai")
    zed = DoctorFactory(clinic=pune, specialty="Cardiology", user__name="Zed")
    amy = DoctorFactory(clinic=pune, specialty="Dermatology", user__name="Amy")
    bob = DoctorFactory(clinic=mumbai, specialty="cardiology", user__name="Bob")
    assert list(doctor_list()) == [amy, bob, zed]
    assert list(doctor_list(specialty="CARDIOLOGY")) == [bob, zed]
    assert list(doctor_list(clinic_id=pune.pk)) == [amy, zed]
    assert list(doctor_list(city="mumbai")) == [bob]
    # "skin" is the everyday word for Dermatology (clinics.search) and still
    # finds the clinic named for it.
    assert list(doctor_list(search="skin")) == [amy, bob]
    assert list(doctor_list(search="ze")) == [zed]
    assert list(doctor_list(search="derma")) == [amy]


def test_doctor_get_refuses_inactive_doctor_to_non_admins(admin_user):
    doctor = DoctorFactory(is_active=False)
    with pytest.raises(DoctorNotFoundError):
        doctor_get(doctor_id=doctor.pk)
    assert doctor_get(doctor_id=doctor.pk, user=admin_user) == doctor


def test_doctor_get_loads_user_and_clinic_in_one_query(django_assert_num_queries, doctor):
    with django_assert_num_queries(1):
        found = doctor_get(doctor_id=doctor.pk)
        assert (found.user.name, found.clinic.name) == (doctor.user.name, doctor.clinic.name)


def test_specialty_list_is_distinct_and_sorted():
    DoctorFactory(specialty="Neurology")
    DoctorFactory(specialty="Cardiology")
    DoctorFactory(specialty="Cardiology")
    DoctorFactory(specialty="Oncology", is_active=False)
    assert specialty_list() == ["Cardiology", "Neurology"]
