"""Clinics and doctors endpoints of the contract (shared/docs/API.md), with their refusals."""

import math
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from clinics.models import Clinic, Doctor
from clinics.selectors import EARTH_RADIUS_KM
from clinics.tests.factories import ClinicFactory, DoctorFactory
from healthsvc.testing import assert_error

pytestmark = pytest.mark.django_db

POLICY = {"min_notice_minutes", "booking_horizon_days", "cancellation_window_minutes",
          "max_active_bookings_per_patient"}
CLINIC_FIELDS = {"id", "name", "address", "phone", "email", "city", "state", "zip_code", "timezone",
                 "latitude", "longitude", "is_active", *POLICY}
DOCTOR_FIELDS = {"id", "user_id", "name", "email", "specialty", "license_number", "qualifications",
                 "experience_years", "max_patients_per_day", "clinic_id", "is_active", "requires_approval"}
PAGE_FIELDS = {"count", "next", "previous", "results"}
STRONG = "plum-orchard-sunset-42"

PUNE = (18.5204, 73.8567)
MUMBAI = (19.0760, 72.8777)
DELHI = (28.6139, 77.2090)
LONDON = (51.5074, -0.1278)

CLINICS = reverse("api:clinic-list")
DOCTORS = reverse("api:doctor-list")


def clinic_url(pk):
    return reverse("api:clinic-detail", args=[pk])


def clinic_doctors_url(pk):
    return reverse("api:clinic-doctor-list", args=[pk])


def doctor_url(pk):
    return reverse("api:doctor-detail", args=[pk])


_error = assert_error


def haversine_km(a, b):
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _at(name, point, **kwargs):
    return ClinicFactory(name=name, latitude=point[0], longitude=point[1], **kwargs)


@pytest.fixture
def admin_client(auth_client, admin_user):
    return auth_client(admin_user)


@pytest.fixture
def non_admin_clients(api_client, auth_client, patient, doctor):
    """(client, expected status, expected code) for everyone who is not an admin."""
    return [
        (api_client, 401, "NOT_AUTHENTICATED"),
        (auth_client(patient.user), 403, "PERMISSION_DENIED"),
        (auth_client(doctor.user), 403, "PERMISSION_DENIED"),
    ]


CLINIC_BODY = {
    "name": "Lotus Clinic", "address": "12 FC Road", "phone": "+91 20 5555", "email": "desk@lotus.example",
    "city": "Pune", "state": "MH", "zip_code": "411004", "timezone": "Asia/Kolkata",
    "latitude": 18.5204, "longitude": 73.8567,
}


# --- GET /clinics -----------------------------------------------------------------


def test_anyone_lists_active_clinics_with_the_contract_fields(api_client):
    clinic = _at("Heart Care", PUNE, phone="+91 1", email="a@b.example")
    ClinicFactory(name="Closed", is_active=False)
    response = api_client.get(CLINICS)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAGE_FIELDS and body["count"] == 1
    [item] = body["results"]
    assert set(item) == CLINIC_FIELDS
    assert item == {
        "id": clinic.pk, "name": "Heart Care", "address": clinic.address, "phone": "+91 1", "email": "a@b.example",
        "city": "Pune", "state": "MH", "zip_code": "411001", "timezone": "Asia/Kolkata",
        "latitude": 18.5204, "longitude": 73.8567, "is_active": True,
        "min_notice_minutes": None, "booking_horizon_days": None, "cancellation_window_minutes": None,
        "max_active_bookings_per_patient": None,
    }
    assert isinstance(item["latitude"], float) and isinstance(item["longitude"], float)


def test_clinic_without_coordinates_has_null_latitude_and_longitude(api_client, clinic):
    item = api_client.get(CLINICS).json()["results"][0]
    assert (item["latitude"], item["longitude"]) == (None, None)


def test_admin_lists_inactive_clinics_too(admin_client):
    ClinicFactory(name="A")
    ClinicFactory(name="B", is_active=False)
    body = admin_client.get(CLINICS).json()
    assert [(c["name"], c["is_active"]) for c in body["results"]] == [("A", True), ("B", False)]


def test_clinics_filter_by_city_and_search(api_client):
    ClinicFactory(name="Heart Pune", city="Pune")
    ClinicFactory(name="Skin Mumbai", city="Mumbai", address="3 Marine Drive")
    assert [c["name"] for c in api_client.get(CLINICS, {"city": "mumbai"}).json()["results"]] == ["Skin Mumbai"]
    assert [c["name"] for c in api_client.get(CLINICS, {"search": "marine"}).json()["results"]] == ["Skin Mumbai"]
    assert [c["name"] for c in api_client.get(CLINICS, {"search": "heart"}).json()["results"]] == ["Heart Pune"]


def test_clinics_pages_are_stable_and_complete(api_client):
    for i in range(25):
        ClinicFactory(name="Same name")
    first = api_client.get(CLINICS, {"page_size": 10}).json()
    pages = [first] + [api_client.get(CLINICS, {"page_size": 10, "page": n}).json() for n in (2, 3)]
    ids = [c["id"] for page in pages for c in page["results"]]
    assert first["count"] == 25 and len(ids) == 25 and len(set(ids)) == 25 and ids == sorted(ids)
    assert first["next"] and first["previous"] is None


def test_near_orders_nearest_first_with_distance(api_client):
    _at("London", LONDON)
    _at("Delhi", DELHI)
    _at("Mumbai", MUMBAI)
    ClinicFactory(name="No coordinates")
    response = api_client.get(CLINICS, {"near": f"{PUNE[0]},{PUNE[1]}"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [c["name"] for c in results] == ["Mumbai", "Delhi", "London"]
    assert all(set(c) == CLINIC_FIELDS | {"distance_km"} for c in results)
    for item, point in zip(results, (MUMBAI, DELHI, LONDON)):
        assert isinstance(item["distance_km"], float)
        assert item["distance_km"] == pytest.approx(haversine_km(PUNE, point), rel=0.01)
    # Published great-circle distances from Pune: Mumbai ~120 km, Delhi ~1173 km, London ~7306 km.
    assert [round(c["distance_km"], -1) for c in results] == [120, 1170, 7310]


def test_near_with_radius_keeps_clinics_within_it(api_client):
    _at("Mumbai", MUMBAI)
    _at("Delhi", DELHI)
    results = api_client.get(CLINICS, {"near": "18.5204,73.8567", "radius_km": "200"}).json()["results"]
    assert [c["name"] for c in results] == ["Mumbai"]


def test_near_combines_with_city(api_client):
    _at("Mumbai", MUMBAI, city="Mumbai")
    _at("Delhi", DELHI, city="Delhi")
    results = api_client.get(CLINICS, {"near": "18.5204,73.8567", "city": "Delhi"}).json()["results"]
    assert [c["name"] for c in results] == ["Delhi"]


def test_near_accepts_the_extremes(api_client):
    _at("Pune", PUNE)
    assert api_client.get(CLINICS, {"near": "-90,-180"}).status_code == 200
    assert api_client.get(CLINICS, {"near": " 90 , 180 ", "radius_km": "0"}).status_code == 200


@pytest.mark.parametrize("near", ["abc", "18.5", "18.5,73.8,1", "18.5;73.8", ",", "18.5,", "91,0", "-90.01,0",
                                  "0,181", "0,-180.5", "nan,0", "0,inf", "1e400,0"])
def test_malformed_near_is_a_validation_error(api_client, near):
    body = _error(api_client.get(CLINICS, {"near": near}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"near"}


@pytest.mark.parametrize("radius", ["-1", "abc", "20017", "1e9", "nan", "inf"])
def test_negative_or_absurd_radius_is_a_validation_error(api_client, radius):
    body = _error(api_client.get(CLINICS, {"near": "18.5,73.8", "radius_km": radius}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"radius_km"}


def test_radius_without_near_is_a_validation_error(api_client):
    body = _error(api_client.get(CLINICS, {"radius_km": "10"}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"radius_km"}


def test_a_bad_token_on_a_public_list_is_refused(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    _error(api_client.get(CLINICS), 401, "TOKEN_INVALID")


# --- POST /clinics ------------------------------------------------------------------


def test_admin_creates_a_clinic(admin_client):
    response = admin_client.post(CLINICS, CLINIC_BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == CLINIC_FIELDS
    assert {k: body[k] for k in CLINIC_BODY} == CLINIC_BODY and body["is_active"] is True
    clinic = Clinic.objects.get(pk=body["id"])
    assert (clinic.name, clinic.timezone, clinic.latitude, clinic.longitude) == (
        "Lotus Clinic", "Asia/Kolkata", Decimal("18.520400"), Decimal("73.856700"))


def test_create_clinic_needs_only_name_address_city(admin_client):
    response = admin_client.post(CLINICS, {"name": "Min", "address": "1 Road", "city": "Pune"})
    assert response.status_code == 201
    assert (response.json()["timezone"], response.json()["latitude"]) == ("UTC", None)
    clinic = Clinic.objects.get(pk=response.json()["id"])
    assert (clinic.name, clinic.timezone, clinic.latitude, clinic.is_active) == ("Min", "UTC", None, True)


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "IST", "asia/kolkata", "+05:30", ""])
def test_create_clinic_refuses_a_non_iana_timezone(admin_client, timezone):
    body = _error(admin_client.post(CLINICS, {**CLINIC_BODY, "timezone": timezone}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"timezone"}
    assert not Clinic.objects.exists()


@pytest.mark.parametrize("timezone", ["localtime", "posixrules", "Factory", "Asia/Calcutta", "US/Eastern"])
def test_create_clinic_refuses_host_zone_files_and_aliases(admin_client, timezone):
    # zoneinfo.available_timezones() lists these on many hosts; none is a canonical IANA zone.
    body = _error(admin_client.post(CLINICS, {**CLINIC_BODY, "timezone": timezone}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"timezone"}
    assert not Clinic.objects.exists()


def test_an_alias_refusal_names_the_canonical_zone(admin_client):
    body = _error(admin_client.post(CLINICS, {**CLINIC_BODY, "timezone": "Asia/Calcutta"}), 400, "VALIDATION_ERROR")
    assert "Asia/Kolkata" in body["errors"]["timezone"][0]


def test_clinic_timezone_is_a_plain_string_in_the_schema():
    # No enum of some 350 names: the list is healthsvc/data/timezones.txt (healthsvc/tests/test_schema.py).
    schemas = _openapi()["components"]["schemas"]
    assert "TimezoneEnum" not in schemas
    assert schemas["ClinicInput"]["properties"]["timezone"]["type"] == "string"


# --- the booking policy ---------------------------------------------------------------


def test_admin_sets_a_clinics_booking_policy_and_null_restores_the_default(admin_client, clinic, settings):
    policy = {"min_notice_minutes": 0, "booking_horizon_days": 30, "cancellation_window_minutes": 1440,
              "max_active_bookings_per_patient": 2}
    response = admin_client.patch(clinic_url(clinic.pk), policy)
    assert response.status_code == 200, response.content
    assert {k: response.json()[k] for k in POLICY} == policy
    clinic.refresh_from_db()
    assert clinic.booking_policy.booking_horizon_days == 30 and clinic.min_notice_minutes == 0

    response = admin_client.patch(clinic_url(clinic.pk), {"booking_horizon_days": None})
    assert response.status_code == 200 and response.json()["booking_horizon_days"] is None
    clinic.refresh_from_db()
    assert clinic.booking_horizon_days is None
    assert clinic.booking_policy.booking_horizon_days == settings.BOOKING_POLICY["booking_horizon_days"]


def test_create_clinic_takes_a_booking_policy(admin_client):
    response = admin_client.post(CLINICS, {**CLINIC_BODY, "min_notice_minutes": 30, "booking_horizon_days": 14})
    assert response.status_code == 201, response.content
    clinic = Clinic.objects.get(pk=response.json()["id"])
    assert (clinic.min_notice_minutes, clinic.booking_horizon_days, clinic.cancellation_window_minutes) == (
        30, 14, None)


@pytest.mark.parametrize(("field", "value"), [
    ("min_notice_minutes", -1), ("min_notice_minutes", 60 * 24 * 30 + 1), ("booking_horizon_days", 0),
    ("booking_horizon_days", 731), ("cancellation_window_minutes", -5),
    ("cancellation_window_minutes", 60 * 24 * 30 + 1), ("max_active_bookings_per_patient", 0),
    ("max_active_bookings_per_patient", 101), ("booking_horizon_days", "30"), ("min_notice_minutes", 1.5),
])
def test_booking_policy_out_of_range_or_of_another_type_is_refused(admin_client, clinic, field, value):
    body = _error(admin_client.patch(clinic_url(clinic.pk), {field: value}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {field}
    clinic.refresh_from_db()
    assert getattr(clinic, field) is None


def test_only_admins_change_a_booking_policy(non_admin_clients, clinic):
    for client, status, code in non_admin_clients:
        _error(client.patch(clinic_url(clinic.pk), {"max_active_bookings_per_patient": 1}), status, code)
    clinic.refresh_from_db()
    assert clinic.max_active_bookings_per_patient is None


@pytest.mark.parametrize("change, field", [
    ({"name": ""}, "name"), ({"latitude": 90.5}, "latitude"), ({"longitude": -181}, "longitude"),
    ({"latitude": "north"}, "latitude"), ({"email": "not-an-email"}, "email"), ({"longitude": None}, "latitude"),
])
def test_create_clinic_refuses_bad_fields(admin_client, change, field):
    body = _error(admin_client.post(CLINICS, {**CLINIC_BODY, **change}), 400, "VALIDATION_ERROR")
    assert field in body["errors"]
    assert not Clinic.objects.exists()


def test_create_clinic_refuses_malformed_json(admin_client):
    response = admin_client.generic("POST", CLINICS, "{not json", content_type="application/json")
    _error(response, 400, "VALIDATION_ERROR")


def test_only_admins_create_clinics(non_admin_clients):
    for client, status, code in non_admin_clients:
        _error(client.post(CLINICS, CLINIC_BODY), status, code)
    assert not Clinic.objects.filter(name="Lotus Clinic").exists()


# --- /clinics/{id} --------------------------------------------------------------------


def test_anyone_reads_a_clinic(api_client, clinic):
    response = api_client.get(clinic_url(clinic.pk))
    assert response.status_code == 200
    assert set(response.json()) == CLINIC_FIELDS and response.json()["id"] == clinic.pk


def test_unknown_or_inactive_clinic_is_not_found_except_inactive_for_admin(api_client, patient, auth_client,
                                                                           admin_client):
    closed = ClinicFactory(is_active=False)
    _error(api_client.get(clinic_url(closed.pk)), 404, "NOT_FOUND")
    _error(auth_client(patient.user).get(clinic_url(closed.pk)), 404, "NOT_FOUND")
    _error(api_client.get(clinic_url(closed.pk + 1000)), 404, "NOT_FOUND")
    assert admin_client.get(clinic_url(closed.pk)).json()["is_active"] is False


def test_admin_replaces_a_clinic_with_put(admin_client, clinic):
    response = admin_client.put(clinic_url(clinic.pk), {**CLINIC_BODY, "timezone": "Europe/London"})
    assert response.status_code == 200, response.content
    assert set(response.json()) == CLINIC_FIELDS
    clinic.refresh_from_db()
    assert (clinic.name, clinic.timezone, clinic.latitude) == ("Lotus Clinic", "Europe/London", Decimal("18.520400"))


def test_put_needs_the_required_fields(admin_client, clinic):
    body = _error(admin_client.put(clinic_url(clinic.pk), {"phone": "1"}), 400, "VALIDATION_ERROR")
    assert {"name", "address", "city"} <= set(body["errors"])
    clinic.refresh_from_db()
    assert clinic.phone == ""


def test_admin_patches_some_clinic_fields(admin_client, clinic):
    response = admin_client.patch(clinic_url(clinic.pk), {"phone": "+91 2", "latitude": 1.5, "longitude": 2.5})
    assert response.status_code == 200
    assert (response.json()["phone"], response.json()["latitude"], response.json()["name"]) == ("+91 2", 1.5,
                                                                                                "Heart Care")
    clinic.refresh_from_db()
    assert (clinic.phone, clinic.latitude, clinic.longitude) == ("+91 2", Decimal("1.5"), Decimal("2.5"))


def test_patch_refuses_a_bad_timezone_and_changes_nothing(admin_client, clinic):
    body = _error(admin_client.patch(clinic_url(clinic.pk), {"name": "New", "timezone": "Pune/Time"}),
                  400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"timezone"}
    clinic.refresh_from_db()
    assert (clinic.name, clinic.timezone) == ("Heart Care", "Asia/Kolkata")


def test_patch_refuses_half_a_coordinate_pair(admin_client, clinic):
    body = _error(admin_client.patch(clinic_url(clinic.pk), {"latitude": 10}), 400, "VALIDATION_ERROR")
    assert "latitude" in body["errors"]
    clinic.refresh_from_db()
    assert clinic.latitude is None


def test_admin_reactivates_a_clinic_with_patch(admin_client):
    closed = ClinicFactory(is_active=False)
    assert admin_client.patch(clinic_url(closed.pk), {"is_active": True}).json()["is_active"] is True
    closed.refresh_from_db()
    assert closed.is_active is True


def test_delete_is_a_soft_delete(admin_client, api_client, clinic, doctor):
    response = admin_client.delete(clinic_url(clinic.pk))
    assert response.status_code == 204 and not response.content
    clinic.refresh_from_db()
    assert clinic.is_active is False and Clinic.objects.filter(pk=clinic.pk).exists()
    _error(api_client.get(clinic_url(clinic.pk)), 404, "NOT_FOUND")
    assert api_client.get(CLINICS).json()["count"] == 0
    assert api_client.get(DOCTORS).json()["count"] == 0  # its doctors leave the public list
    assert admin_client.delete(clinic_url(clinic.pk)).status_code == 204  # idempotent


def test_delete_unknown_clinic_is_not_found(admin_client):
    _error(admin_client.delete(clinic_url(424242)), 404, "NOT_FOUND")


def test_only_admins_change_or_delete_clinics(non_admin_clients, clinic):
    for client, status, code in non_admin_clients:
        _error(client.put(clinic_url(clinic.pk), CLINIC_BODY), status, code)
        _error(client.patch(clinic_url(clinic.pk), {"name": "Hijacked"}), status, code)
        _error(client.delete(clinic_url(clinic.pk)), status, code)
    clinic.refresh_from_db()
    assert (clinic.name, clinic.is_active) == ("Heart Care", True)


# --- /clinics/{id}/doctors --------------------------------------------------------------


def test_anyone_lists_a_clinics_doctors(api_client, clinic, doctor):
    elsewhere = DoctorFactory()
    DoctorFactory(clinic=clinic, is_active=False)
    response = api_client.get(clinic_doctors_url(clinic.pk))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAGE_FIELDS and body["count"] == 1
    assert set(body["results"][0]) == DOCTOR_FIELDS and body["results"][0]["id"] == doctor.pk
    assert elsewhere.pk not in [d["id"] for d in body["results"]]


def test_doctors_of_an_unknown_or_inactive_clinic_are_not_found(api_client):
    closed = ClinicFactory(is_active=False)
    _error(api_client.get(clinic_doctors_url(closed.pk)), 404, "NOT_FOUND")
    _error(api_client.get(clinic_doctors_url(closed.pk + 1000)), 404, "NOT_FOUND")


def test_clinic_doctors_is_read_only(admin_client, clinic):
    _error(admin_client.post(clinic_doctors_url(clinic.pk), {}), 405, "METHOD_NOT_ALLOWED")


# --- GET /doctors -------------------------------------------------------------------


def test_anyone_lists_doctors_with_the_contract_fields(api_client, doctor):
    DoctorFactory(is_active=False)
    response = api_client.get(DOCTORS)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAGE_FIELDS and body["count"] == 1
    assert body["results"][0] == {
        "id": doctor.pk, "user_id": doctor.user.pk, "name": doctor.user.name, "email": doctor.user.email,
        "specialty": "Cardiology", "license_number": doctor.license_number, "qualifications": "",
        "experience_years": 0, "max_patients_per_day": 20, "clinic_id": doctor.clinic_id, "is_active": True,
        "requires_approval": False,
    }


def test_doctors_filter_by_specialty_clinic_city_and_search(api_client):
    pune, mumbai = ClinicFactory(name="Heart Pune", city="Pune"), ClinicFactory(name="Skin Mumbai", city="Mumbai")
    a = DoctorFactory(clinic=pune, specialty="Cardiology", user__name="Anil Kumar")
    b = DoctorFactory(clinic=mumbai, specialty="Dermatology", user__name="Bina Shah")

    def ids(**params):
        return [d["id"] for d in api_client.get(DOCTORS, params).json()["results"]]

    assert ids() == [a.pk, b.pk]
    assert ids(specialty="dermatology") == [b.pk]
    assert ids(clinic_id=pune.pk) == [a.pk]
    assert ids(city="MUMBAI") == [b.pk]
    assert ids(search="anil") == [a.pk]
    assert ids(search="skin") == [b.pk]
    assert ids(specialty="cardiology", city="Mumbai") == []


def test_doctors_search_reads_text_as_a_patient_types_it(api_client):
    """?search= is the portal's search (clinics.selectors.doctor_search)."""
    pune = ClinicFactory(name="Sunrise Heart & Skin Clinic", city="Pune")
    london = ClinicFactory(name="Thames Family Practice", city="London", timezone="Europe/London")
    mehta = DoctorFactory(clinic=pune, specialty="Cardiology", user__name="Anil Mehta")
    nair = DoctorFactory(clinic=london, specialty="Dermatology", user__name="Priya Nair")
    rao = DoctorFactory(clinic=pune, specialty="Dermatology", user__name="Kavya Rao")

    def ids(search):
        return [d["id"] for d in api_client.get(DOCTORS, {"search": search}).json()["results"]]

    assert ids("Dr. Mehta") == ids("dr mehta") == ids("cardiologist") == [mehta.pk]
    assert ids("skin doctor") == [rao.pk, nair.pk]
    assert ids("skin doctor London") == [nair.pk]
    assert ids("Pune") == [mehta.pk, rao.pk]
    clinics = api_client.get(CLINICS, {"search": "skin doctor London"}).json()["results"]
    assert [c["id"] for c in clinics] == [london.pk]


def test_a_pasted_paragraph_is_read_by_its_first_words_not_a_huge_query(api_client):
    DoctorFactory(user__name="Anil Mehta")
    nonsense = " ".join(f"word{n}" for n in range(100))
    assert api_client.get(DOCTORS, {"search": f"{nonsense} mehta"}).json()["count"] == 0
    # Only the first eight words count: "mehta" among them, the rest ignored.
    found = api_client.get(DOCTORS, {"search": f"dr anil mehta anil mehta anil mehta mehta {nonsense}"})
    assert found.status_code == 200 and found.json()["count"] == 1
    assert api_client.get(DOCTORS, {"search": "mehta" + "x" * 900}).status_code == 200


def test_a_search_of_punctuation_only_lists_everyone(api_client, doctor):
    response = api_client.get(DOCTORS, {"search": "Dr. ... '"})
    assert response.status_code == 200 and response.json()["count"] == 1


@pytest.mark.parametrize("clinic_id", ["abc", "1.5", "0", "-3", "99999999999999999999999"])
def test_doctors_refuse_a_malformed_clinic_id(api_client, clinic_id):
    body = _error(api_client.get(DOCTORS, {"clinic_id": clinic_id}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"clinic_id"}


def test_admin_lists_inactive_doctors_too(admin_client, doctor):
    inactive = DoctorFactory(is_active=False)
    assert {d["id"] for d in admin_client.get(DOCTORS).json()["results"]} == {doctor.pk, inactive.pk}


# --- POST /doctors --------------------------------------------------------------------


def _doctor_body(clinic, **overrides):
    body = {"name": "Dr. Meera Shah", "email": "Meera@Example.com", "password": STRONG, "specialty": "Cardiology",
            "license_number": "MH-12345", "qualifications": "MBBS, MD", "experience_years": 12,
            "max_patients_per_day": 25, "clinic_id": clinic.pk}
    return {**body, **overrides}


def _counts():
    return User.objects.count(), Doctor.objects.count()


def test_admin_creates_a_doctor_and_their_verified_login(admin_client, clinic):
    response = admin_client.post(DOCTORS, _doctor_body(clinic))
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == DOCTOR_FIELDS and "password" not in body
    doctor = Doctor.objects.select_related("user").get(pk=body["id"])
    assert body == {
        "id": doctor.pk, "user_id": doctor.user.pk, "name": "Dr. Meera Shah", "email": "meera@example.com",
        "specialty": "Cardiology", "license_number": "MH-12345", "qualifications": "MBBS, MD",
        "experience_years": 12, "max_patients_per_day": 25, "clinic_id": clinic.pk, "is_active": True,
        "requires_approval": False,
    }
    assert (doctor.user.role, doctor.user.is_verified) == (User.Role.DOCTOR, True)
    assert doctor.user.check_password(STRONG)


def test_create_doctor_with_only_the_required_fields(admin_client, clinic):
    body = _doctor_body(clinic)
    for optional in ("qualifications", "experience_years", "max_patients_per_day"):
        body.pop(optional)
    response = admin_client.post(DOCTORS, body)
    assert response.status_code == 201
    assert (response.json()["experience_years"], response.json()["max_patients_per_day"]) == (0, 20)
    doctor = Doctor.objects.select_related("user").get(pk=response.json()["id"])
    assert (doctor.experience_years, doctor.max_patients_per_day, doctor.user.role, doctor.user.is_verified) == (
        0, 20, "doctor", True)


def test_create_doctor_refuses_a_taken_email(admin_client, clinic):
    UserFactory(email="meera@example.com")
    before = _counts()
    _error(admin_client.post(DOCTORS, _doctor_body(clinic)), 409, "EMAIL_TAKEN")
    assert _counts() == before


def test_create_doctor_refuses_a_weak_password(admin_client, clinic):
    before = _counts()
    body = _error(admin_client.post(DOCTORS, _doctor_body(clinic, password="password")), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"password"}
    assert _counts() == before


def test_create_doctor_refuses_a_taken_license_number(admin_client, clinic, doctor):
    before = _counts()
    body = _error(admin_client.post(DOCTORS, _doctor_body(clinic, license_number=doctor.license_number)),
                  409, "LICENSE_NUMBER_TAKEN")
    assert set(body["errors"]) == {"license_number"}
    assert _counts() == before
    assert not User.objects.filter(email="meera@example.com").exists()


def test_create_doctor_refuses_an_unknown_or_inactive_clinic(admin_client):
    closed = ClinicFactory(is_active=False)
    before = _counts()
    for clinic_id in (closed.pk, closed.pk + 1000):
        body = _error(admin_client.post(DOCTORS, _doctor_body(closed, clinic_id=clinic_id)), 400, "VALIDATION_ERROR")
        assert set(body["errors"]) == {"clinic_id"}
    assert _counts() == before


@pytest.mark.parametrize("change, field", [
    ({"max_patients_per_day": 0}, "max_patients_per_day"), ({"max_patients_per_day": 501}, "max_patients_per_day"),
    ({"experience_years": -1}, "experience_years"), ({"experience_years": 81}, "experience_years"),
    ({"email": "nope"}, "email"), ({"clinic_id": "x"}, "clinic_id"), ({"name": ""}, "name"),
    ({"experience_years": True}, "experience_years"),
])
def test_create_doctor_refuses_bad_fields(admin_client, clinic, change, field):
    before = _counts()
    body = _error(admin_client.post(DOCTORS, _doctor_body(clinic, **change)), 400, "VALIDATION_ERROR")
    assert field in body["errors"]
    assert _counts() == before


def test_create_doctor_lists_every_missing_field(admin_client):
    body = _error(admin_client.post(DOCTORS, {}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"name", "email", "password", "specialty", "license_number", "clinic_id"}


def test_only_admins_create_doctors(non_admin_clients, clinic):
    before = _counts()
    for client, status, code in non_admin_clients:
        _error(client.post(DOCTORS, _doctor_body(clinic)), status, code)
    assert _counts() == before


# --- /doctors/{id} --------------------------------------------------------------------


def test_anyone_reads_a_doctor(api_client, doctor):
    response = api_client.get(doctor_url(doctor.pk))
    assert response.status_code == 200
    assert set(response.json()) == DOCTOR_FIELDS and response.json()["id"] == doctor.pk


def test_unknown_or_inactive_doctor_is_not_found(api_client, admin_client):
    inactive = DoctorFactory(is_active=False)
    _error(api_client.get(doctor_url(inactive.pk)), 404, "NOT_FOUND")
    _error(api_client.get(doctor_url(inactive.pk + 1000)), 404, "NOT_FOUND")
    assert admin_client.get(doctor_url(inactive.pk)).json()["is_active"] is False


def test_admin_patches_every_editable_doctor_field(admin_client, doctor):
    other_clinic = ClinicFactory()
    change = {"name": "Dr. Renamed", "specialty": "Neurology", "license_number": "NEW-9", "qualifications": "DM",
              "experience_years": 9, "max_patients_per_day": 7, "clinic_id": other_clinic.pk, "is_active": False}
    response = admin_client.patch(doctor_url(doctor.pk), change)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == DOCTOR_FIELDS and {k: body[k] for k in change} == change
    doctor.refresh_from_db()
    doctor.user.refresh_from_db()
    assert (doctor.user.name, doctor.specialty, doctor.license_number, doctor.qualifications) == (
        "Dr. Renamed", "Neurology", "NEW-9", "DM")
    assert (doctor.experience_years, doctor.max_patients_per_day, doctor.clinic_id, doctor.is_active) == (
        9, 7, other_clinic.pk, False)


def test_admin_put_needs_the_required_doctor_fields(admin_client, doctor):
    body = _error(admin_client.put(doctor_url(doctor.pk), {"qualifications": "x"}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"name", "specialty", "license_number", "clinic_id"}
    full = {"name": "Dr. Put", "specialty": "ENT", "license_number": doctor.license_number,
            "clinic_id": doctor.clinic_id}
    assert admin_client.put(doctor_url(doctor.pk), full).json()["specialty"] == "ENT"
    doctor.refresh_from_db()
    assert doctor.specialty == "ENT"


def test_admin_cannot_move_a_doctor_to_an_inactive_clinic(admin_client, doctor):
    closed = ClinicFactory(is_active=False)
    body = _error(admin_client.patch(doctor_url(doctor.pk), {"clinic_id": closed.pk}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"clinic_id"}
    doctor.refresh_from_db()
    assert doctor.clinic_id != closed.pk


def test_admin_cannot_give_a_doctor_another_doctors_license(admin_client, doctor, other_doctor):
    _error(admin_client.patch(doctor_url(doctor.pk), {"license_number": other_doctor.license_number}),
           409, "LICENSE_NUMBER_TAKEN")
    doctor.refresh_from_db()
    assert doctor.license_number != other_doctor.license_number


def test_admin_sets_requires_approval(admin_client, doctor):
    response = admin_client.patch(doctor_url(doctor.pk), {"requires_approval": True})
    assert response.status_code == 200, response.content
    assert response.json()["requires_approval"] is True
    doctor.refresh_from_db()
    assert doctor.requires_approval is True


def test_doctor_cannot_set_their_own_requires_approval(auth_client, doctor):
    _error(auth_client(doctor.user).patch(doctor_url(doctor.pk), {"requires_approval": True}),
           403, "PERMISSION_DENIED")
    doctor.refresh_from_db()
    assert doctor.requires_approval is False


def test_doctor_patches_own_qualifications_and_experience(auth_client, doctor):
    response = auth_client(doctor.user).patch(doctor_url(doctor.pk), {"qualifications": "MBBS", "experience_years": 4})
    assert response.status_code == 200
    assert set(response.json()) == DOCTOR_FIELDS
    doctor.refresh_from_db()
    assert (doctor.qualifications, doctor.experience_years) == ("MBBS", 4)


def test_doctor_puts_own_editable_fields(auth_client, doctor):
    client = auth_client(doctor.user)
    body = _error(client.put(doctor_url(doctor.pk), {"qualifications": "MBBS"}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"experience_years"}
    response = client.put(doctor_url(doctor.pk), {"qualifications": "MBBS", "experience_years": 2})
    assert response.status_code == 200
    doctor.refresh_from_db()
    assert (doctor.qualifications, doctor.experience_years) == ("MBBS", 2)


def test_doctor_own_values_are_still_validated(auth_client, doctor):
    body = _error(auth_client(doctor.user).patch(doctor_url(doctor.pk), {"experience_years": 81}),
                  400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"experience_years"}
    doctor.refresh_from_db()
    assert doctor.experience_years == 0


@pytest.mark.parametrize("field, value", [
    ("name", "Dr. Me"), ("specialty", "Neurology"), ("license_number", "MINE-1"), ("max_patients_per_day", 99),
    ("clinic_id", 1), ("is_active", False), ("email", "me@example.com"), ("specialty", ""),
])
def test_doctor_may_not_change_any_other_field_of_their_own(auth_client, doctor, field, value):
    for method in ("patch", "put"):
        request = getattr(auth_client(doctor.user), method)
        body = {"qualifications": "MBBS", "experience_years": 3, field: value}
        _error(request(doctor_url(doctor.pk), body), 403, "PERMISSION_DENIED")
    doctor.refresh_from_db()
    doctor.user.refresh_from_db()
    assert (doctor.qualifications, doctor.experience_years, doctor.specialty, doctor.max_patients_per_day) == (
        "", 0, "Cardiology", 20)
    assert (doctor.is_active, doctor.user.email != "me@example.com") == (True, True)


def test_another_doctor_a_patient_or_anonymous_may_not_change_a_doctor(api_client, auth_client, doctor,
                                                                        other_doctor, patient):
    change = {"qualifications": "hacked"}
    _error(api_client.patch(doctor_url(doctor.pk), change), 401, "NOT_AUTHENTICATED")
    _error(auth_client(other_doctor.user).patch(doctor_url(doctor.pk), change), 403, "PERMISSION_DENIED")
    _error(auth_client(other_doctor.user).put(doctor_url(doctor.pk), change), 403, "PERMISSION_DENIED")
    _error(auth_client(patient.user).patch(doctor_url(doctor.pk), change), 403, "PERMISSION_DENIED")
    doctor.refresh_from_db()
    assert doctor.qualifications == ""


def test_doctors_are_never_deleted_through_the_api(admin_client, doctor):
    _error(admin_client.delete(doctor_url(doctor.pk)), 405, "METHOD_NOT_ALLOWED")
    assert Doctor.objects.filter(pk=doctor.pk, is_active=True).exists()


# --- query counts -----------------------------------------------------------------------


def _count_queries(django_assert_max_num_queries, limit, client, url, params=None):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured), response.json()["count"]


@pytest.mark.parametrize("params", [{}, {"near": "18.5,73.8"}, {"city": "Pune", "search": "clinic"}])
def test_clinic_list_queries_do_not_grow_with_rows(api_client, django_assert_max_num_queries, params):
    _at("Clinic 0", PUNE)
    one = _count_queries(django_assert_max_num_queries, 2, api_client, CLINICS, params)
    for i in range(29):
        _at(f"Clinic {i + 1}", PUNE)
    thirty = _count_queries(django_assert_max_num_queries, 2, api_client, CLINICS, {**params, "page_size": 100})
    assert (one, thirty) == ((one[0], 1), (one[0], 30))


def test_doctor_list_queries_do_not_grow_with_rows(api_client, admin_client, django_assert_max_num_queries):
    DoctorFactory()
    admin_client.get(DOCTORS)  # the token's state is cached from here on
    one = _count_queries(django_assert_max_num_queries, 2, api_client, DOCTORS)
    one_admin = _count_queries(django_assert_max_num_queries, 2, admin_client, DOCTORS)
    for _ in range(29):
        DoctorFactory()
    thirty = _count_queries(django_assert_max_num_queries, 2, api_client, DOCTORS, {"page_size": 100})
    thirty_admin = _count_queries(django_assert_max_num_queries, 2, admin_client, DOCTORS, {"page_size": 100})
    assert (one[1], thirty[1]) == (1, 30) and one[0] == thirty[0] and one_admin[0] == thirty_admin[0]


def test_clinic_doctor_list_queries_do_not_grow_with_rows(api_client, clinic, django_assert_max_num_queries):
    DoctorFactory(clinic=clinic)
    one = _count_queries(django_assert_max_num_queries, 3, api_client, clinic_doctors_url(clinic.pk))
    for _ in range(29):
        DoctorFactory(clinic=clinic)
    thirty = _count_queries(django_assert_max_num_queries, 3, api_client, clinic_doctors_url(clinic.pk),
                            {"page_size": 100})
    assert (one, thirty) == ((one[0], 1), (one[0], 30))


# --- schema -----------------------------------------------------------------------------


def test_schema_documents_the_endpoints_and_their_errors():
    from drf_spectacular.generators import SchemaGenerator

    from clinics.api import urls

    schema = SchemaGenerator(patterns=urls.urlpatterns).get_schema(request=None, public=True)
    assert {"/clinics", "/clinics/{id}", "/clinics/{id}/doctors", "/doctors", "/doctors/{id}"} <= set(schema["paths"])
    components = schema["components"]["schemas"]
    assert {"ClinicOutput", "ClinicNearOutput", "ClinicInput", "DoctorOutput", "DoctorCreateInput",
            "DoctorUpdateInput", "DoctorSelfUpdateInput", "Error"} <= set(components)
    create = schema["paths"]["/doctors"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409"} <= set(create)
    assert create["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


# --- found by the schema-driven fuzzer (scripts/api_fuzz.sh) -------------------------------


@pytest.mark.parametrize("url", [CLINICS, DOCTORS])
def test_options_describes_the_create_body_to_an_admin(admin_client, url):
    # DRF's metadata asked these views for a serializer_class they did not declare: a 500.
    response = admin_client.options(url)
    assert response.status_code == 200, response.content
    assert "POST" in response.json()["actions"]


def test_options_on_a_clinic_or_a_doctor_describes_put_to_an_admin(admin_client, clinic, doctor):
    for url in (clinic_url(clinic.pk), doctor_url(doctor.pk), clinic_url(987654)):
        response = admin_client.options(url)
        assert response.status_code == 200, response.content
        assert ("PUT" in response.json().get("actions", {})) == (url != clinic_url(987654))


def test_options_shows_a_doctor_the_fields_they_may_change(auth_client, doctor):
    response = auth_client(doctor.user).options(doctor_url(doctor.pk))
    assert response.status_code == 200, response.content
    assert set(response.json()["actions"]["PUT"]) == {"qualifications", "experience_years"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", 5), ("city", ["Pune"]), ("is_active", "yes"), ("is_active", 1), ("latitude", "18.5"),
     ("timezone", 1)],
)
def test_create_clinic_refuses_a_value_of_another_json_type(admin_client, field, value):
    # DRF coerced these (5 -> "5", "yes" -> true, "18.5" -> 18.5); the contract says string, boolean, number.
    body = _error(admin_client.post(CLINICS, {**CLINIC_BODY, field: value}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {field}
    assert not Clinic.objects.exists()


def test_update_doctor_refuses_a_number_sent_as_a_string(admin_client, doctor):
    body = _error(admin_client.patch(doctor_url(doctor.pk), {"experience_years": "5"}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"experience_years"}
    experience = doctor.experience_years
    doctor.refresh_from_db()
    assert doctor.experience_years == experience


@pytest.mark.parametrize("params", [{"near": ""}, {"near": "1e1,0"}, {"near": "18.5,73.8", "radius_km": ""},
                                    {"clinic_id": ""}])
def test_list_filters_present_but_empty_or_not_plain_numbers_are_validation_errors(api_client, params):
    body = _error(api_client.get(DOCTORS if "clinic_id" in params else CLINICS, params), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) <= set(params)


def _openapi():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_clinic_list_items_have_distance_km_only_with_near():
    components = _openapi()["components"]["schemas"]
    assert "distance_km" in components["ClinicNearOutput"]["properties"]
    assert "distance_km" not in components["ClinicNearOutput"]["required"]
    # A clinic without an email answers "", which is no email address.
    assert {"type": "string", "maxLength": 0} in components["ClinicOutput"]["properties"]["email"]["anyOf"]


def test_schema_doctor_update_body_is_either_shape_or_both():
    # oneOf made an admin's partial update that fits both shapes "invalid", though it is accepted.
    schemas = _openapi()["components"]["schemas"]
    assert len(schemas["PatchedDoctorUpdateRequest"]["anyOf"]) == 2 and "oneOf" not in schemas["DoctorUpdateRequest"]


def test_schema_near_pattern_is_what_the_server_accepts(api_client):
    import re

    parameters = _openapi()["paths"]["/api/v1/clinics"]["get"]["parameters"]
    pattern = next(p["schema"]["pattern"] for p in parameters if p["name"] == "near")
    for near in ["18.5,73.8", " 90 , 180 ", "-90,-180", ".5,-.5", "90.000,180.0", "91,0", "0,180.01", "1e1,0", "a,b"]:
        accepted = api_client.get(CLINICS, {"near": near}).status_code == 200
        assert accepted == bool(re.search(pattern, near)), near


def test_clinic_and_doctor_bodies_read_their_limits_from_the_models():
    """One place for each length: the model. The API's refusal at the limit is the
    model's, so a longer column in a migration needs no serializer edit."""
    from accounts.models import User
    from clinics.api.serializers import (
        ClinicInputSerializer,
        DoctorCreateInputSerializer,
        DoctorProfileCreateInputSerializer,
        DoctorUpdateInputSerializer,
    )

    clinic = ClinicInputSerializer().fields
    for name in ("name", "address", "city", "state", "zip_code", "phone"):
        assert clinic[name].max_length == Clinic._meta.get_field(name).max_length, name
    for serializer in (DoctorCreateInputSerializer, DoctorProfileCreateInputSerializer, DoctorUpdateInputSerializer):
        fields = serializer().fields
        for name in ("specialty", "license_number"):
            assert fields[name].max_length == Doctor._meta.get_field(name).max_length, (serializer, name)
        if "name" in fields:
            assert fields["name"].max_length == User._meta.get_field("name").max_length, serializer
    assert DoctorCreateInputSerializer().fields["email"].max_length == User._meta.get_field("email").max_length
