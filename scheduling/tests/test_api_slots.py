"""The slot endpoints: GET/POST /api/v1/slots, GET/DELETE /api/v1/slots/{id}."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinics.models import Clinic, Doctor
from clinics.tests.factories import ClinicFactory, DoctorFactory
from healthsvc.testing import assert_error
from scheduling import services
from scheduling.models import AppointmentSlot
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

SLOT_FIELDS = {"id", "doctor_id", "clinic_id", "slot_datetime", "duration_minutes", "capacity", "booked_count",
               "is_booked", "available_spots", "is_active", "slot_datetime_local"}
LIST_URL = reverse("api:slot-list")


def detail_url(slot_id):
    return reverse("api:slot-detail", args=[slot_id])


_error = assert_error


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _future(days=3, hour=10):
    return (timezone.now() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


# --- list -----------------------------------------------------------------------


def test_anyone_lists_future_active_slots_with_free_places_by_start(api_client, doctor, patient):
    later = SlotFactory(doctor=doctor, start=_future(days=5))
    sooner = SlotFactory(doctor=doctor, start=_future(days=2), capacity=3)
    services.appointment_book(patient=patient, slot_id=sooner.pk)
    SlotFactory(doctor=doctor, start=timezone.now() - timedelta(hours=2))  # past
    SlotFactory(doctor=doctor, start=_future(days=4), is_active=False)  # deleted
    full = SlotFactory(doctor=doctor, start=_future(days=6))
    services.appointment_book(patient=patient, slot_id=full.pk)

    response = api_client.get(LIST_URL)

    assert _ids(response) == [sooner.pk, later.pk]
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"} and body["count"] == 2
    row = body["results"][0]
    assert set(row) == SLOT_FIELDS
    assert row == {
        "id": sooner.pk, "doctor_id": doctor.pk, "clinic_id": doctor.clinic_id,
        "slot_datetime": sooner.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "duration_minutes": 30, "capacity": 3, "booked_count": 1, "is_booked": False, "available_spots": 2,
        "is_active": True, "slot_datetime_local": sooner.start.astimezone(doctor.clinic.tzinfo).isoformat(),
    }


def test_available_false_lists_full_slots_too(api_client, slot, patient):
    services.appointment_book(patient=patient, slot_id=slot.pk)
    assert _ids(api_client.get(LIST_URL)) == []
    response = api_client.get(LIST_URL, {"available": "false"})
    assert _ids(response) == [slot.pk]
    row = response.json()["results"][0]
    assert (row["booked_count"], row["is_booked"], row["available_spots"]) == (1, True, 0)


def test_slots_of_inactive_doctors_or_clinics_are_not_listed(api_client, doctor, other_doctor):
    SlotFactory(doctor=doctor)
    SlotFactory(doctor=other_doctor)
    Doctor.objects.filter(pk=doctor.pk).update(is_active=False)
    assert len(_ids(api_client.get(LIST_URL))) == 1
    Clinic.objects.filter(pk=other_doctor.clinic_id).update(is_active=False)
    assert _ids(api_client.get(LIST_URL)) == []


def test_list_filters_by_doctor_clinic_and_specialty(api_client, doctor, other_doctor):
    far_clinic = ClinicFactory(city="Mumbai")
    elsewhere = DoctorFactory(clinic=far_clinic, specialty="Cardiology")
    mine, theirs, far = SlotFactory(doctor=doctor), SlotFactory(doctor=other_doctor), SlotFactory(doctor=elsewhere)

    assert _ids(api_client.get(LIST_URL, {"doctor_id": doctor.pk})) == [mine.pk]
    assert _ids(api_client.get(LIST_URL, {"clinic_id": far_clinic.pk})) == [far.pk]
    assert set(_ids(api_client.get(LIST_URL, {"specialty": "cardiology"}))) == {mine.pk, far.pk}
    assert _ids(api_client.get(LIST_URL, {"specialty": "Dermatology", "clinic_id": doctor.clinic_id})) == [theirs.pk]
    assert _ids(api_client.get(LIST_URL, {"doctor_id": 987654})) == []


def test_date_filters_take_a_utc_day_or_an_aware_datetime(api_client, doctor):
    day = (timezone.now() + timedelta(days=10)).date()
    at = lambda hour, minute=0: datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)  # noqa: E731
    before_midnight = SlotFactory(doctor=doctor, start=at(0) - timedelta(minutes=30))
    early, late = SlotFactory(doctor=doctor, start=at(0)), SlotFactory(doctor=doctor, start=at(23, 30))
    next_day = SlotFactory(doctor=doctor, start=at(0) + timedelta(days=1))

    # A date is that whole UTC day, on either side.
    assert _ids(api_client.get(LIST_URL, {"date_from": day.isoformat(), "date_to": day.isoformat()})) == [
        early.pk, late.pk,
    ]
    assert _ids(api_client.get(LIST_URL, {"date_to": day.isoformat()}))[-1] == late.pk
    assert _ids(api_client.get(LIST_URL, {"date_from": (day + timedelta(days=1)).isoformat()})) == [next_day.pk]
    # A datetime with an offset is an exact bound: from inclusive, to exclusive.
    # 05:30+05:30 is 00:00 UTC; 04:59+05:30 is 23:29 UTC the day before.
    assert _ids(api_client.get(LIST_URL, {"date_from": f"{day}T05:30:00+05:30", "date_to": f"{day}T23:30:00Z"})) == [
        early.pk,
    ]
    prev = day - timedelta(days=1)
    assert _ids(api_client.get(LIST_URL, {"date_from": f"{prev}T23:29:00Z", "date_to": f"{day}T05:30:00+05:30"})) == [
        before_midnight.pk,
    ]


def test_date_filter_accepts_an_unencoded_plus_in_the_offset(api_client, doctor):
    slot = SlotFactory(doctor=doctor, start=_future(days=4, hour=12))
    local = slot.start.astimezone(timezone.get_fixed_timezone(330)).strftime("%Y-%m-%dT%H:%M:%S")
    # "?date_from=...+05:30" unencoded: the query string turns "+" into a space.
    response = api_client.get(f"{LIST_URL}?date_from={local}+05:30")
    assert _ids(response) == [slot.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2030-03-01T10:00:00"}, "date_from"),  # naive
        ({"date_to": "tomorrow"}, "date_to"),
        ({"date_from": "2030-02-30"}, "date_from"),
        ({"doctor_id": "abc"}, "doctor_id"),
        ({"clinic_id": "1.5"}, "clinic_id"),
        ({"clinic_id": " 1"}, "clinic_id"),
        ({"doctor_id": ""}, "doctor_id"),
        ({"date_from": ""}, "date_from"),
        ({"available": "yes"}, "available"),
        ({"available": ""}, "available"),
    ],
)
def test_list_rejects_bad_filters(api_client, slot, params, field):
    body = _error(api_client.get(LIST_URL, params), 400, "VALIDATION_ERROR")
    assert list(body["errors"]) == [field]


@pytest.mark.parametrize(
    "params",
    [
        {"date_to": "9999-12-31"},  # its day ends past datetime's range
        {"date_from": "0001-01-01T00:00:00+05:30"},  # in year 0 in UTC
        {"date_from": "0001-01-01", "date_to": "9999-12-31T23:59:59-05:00"},
    ],
)
def test_list_reads_bounds_at_the_calendars_ends_as_open(api_client, slot, params):
    # Valid dates at the edges of the calendar (the OpenAPI document's format:
    # date / date-time allows them) leave nothing out instead of failing.
    response = api_client.get(LIST_URL, params)
    assert response.status_code == 200
    assert _ids(response) == [slot.pk]


def test_list_is_paginated(api_client, doctor):
    SlotFactory.create_batch(25, doctor=doctor)
    first = api_client.get(LIST_URL).json()
    assert (first["count"], len(first["results"]), first["previous"]) == (25, 20, None)
    assert first["next"]
    second = api_client.get(LIST_URL, {"page": 2, "page_size": 20}).json()
    assert len(second["results"]) == 5
    assert len(api_client.get(LIST_URL, {"page_size": 500}).json()["results"]) == 25


@pytest.mark.parametrize("rows", [1, 30])
def test_list_query_count_is_flat(api_client, doctor, rows, django_assert_max_num_queries):
    SlotFactory.create_batch(rows, doctor=doctor)
    with django_assert_max_num_queries(2):  # count + one page
        response = api_client.get(LIST_URL, {"page_size": 100})
    assert len(response.json()["results"]) == rows


# --- retrieve -------------------------------------------------------------------


def test_anyone_gets_a_slot(api_client, slot):
    response = api_client.get(detail_url(slot.pk))
    assert response.status_code == 200
    assert set(response.json()) == SLOT_FIELDS and response.json()["id"] == slot.pk


def test_inactive_or_unknown_slot_is_not_found(api_client, slot):
    AppointmentSlot.objects.filter(pk=slot.pk).update(is_active=False)
    _error(api_client.get(detail_url(slot.pk)), 404, "NOT_FOUND")
    _error(api_client.get(detail_url(987654)), 404, "NOT_FOUND")


# --- create ---------------------------------------------------------------------


def _new_slot(doctor, **overrides):
    body = {"doctor_id": doctor.pk, "clinic_id": doctor.clinic_id, "slot_datetime": "2030-03-01T10:00:00+05:30",
            "duration_minutes": 20, "capacity": 2}
    return {**body, **overrides}


def test_verified_doctor_opens_a_slot_for_themselves(auth_client, doctor):
    response = auth_client(doctor.user).post(LIST_URL, _new_slot(doctor))
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == SLOT_FIELDS
    assert body == {
        "id": body["id"], "doctor_id": doctor.pk, "clinic_id": doctor.clinic_id,
        "slot_datetime": "2030-03-01T04:30:00Z", "duration_minutes": 20, "capacity": 2, "booked_count": 0,
        "is_booked": False, "available_spots": 2, "is_active": True,
        "slot_datetime_local": "2030-03-01T10:00:00+05:30",
    }
    slot = AppointmentSlot.objects.get(pk=body["id"])
    assert (slot.doctor_id, slot.start, slot.end, slot.is_active) == (
        doctor.pk, datetime(2030, 3, 1, 4, 30, tzinfo=UTC), datetime(2030, 3, 1, 4, 50, tzinfo=UTC), True,
    )


def test_admin_opens_a_slot_for_any_doctor_clinic_defaults_to_the_doctors(auth_client, admin_user, doctor):
    body = _new_slot(doctor)
    del body["clinic_id"], body["duration_minutes"], body["capacity"]
    response = auth_client(admin_user).post(LIST_URL, body)
    assert response.status_code == 201, response.content
    slot = AppointmentSlot.objects.get(pk=response.json()["id"])
    assert (slot.doctor_id, slot.clinic_id, slot.duration_minutes, slot.capacity) == (
        doctor.pk, doctor.clinic_id, 30, 1,
    )


def test_create_ignores_booked_count_in_the_body(auth_client, doctor):
    response = auth_client(doctor.user).post(LIST_URL, _new_slot(doctor, booked_count=2, is_active=False))
    assert response.status_code == 201
    slot = AppointmentSlot.objects.get(pk=response.json()["id"])
    assert (slot.booked_count, slot.is_active) == (0, True)


def test_doctor_cannot_open_a_slot_for_another_doctor(auth_client, doctor, other_doctor):
    _error(auth_client(doctor.user).post(LIST_URL, _new_slot(other_doctor)), 403, "PERMISSION_DENIED")
    assert not AppointmentSlot.objects.exists()


def test_unverified_doctor_cannot_open_slots(auth_client, unverified_doctor):
    _error(auth_client(unverified_doctor.user).post(LIST_URL, _new_slot(unverified_doctor)), 403, "PERMISSION_DENIED")
    assert not AppointmentSlot.objects.exists()


def test_patient_cannot_open_slots(auth_client, patient, doctor):
    _error(auth_client(patient.user).post(LIST_URL, _new_slot(doctor)), 403, "PERMISSION_DENIED")
    assert not AppointmentSlot.objects.exists()


def test_anonymous_cannot_open_slots(api_client, doctor):
    _error(api_client.post(LIST_URL, _new_slot(doctor)), 401, "NOT_AUTHENTICATED")
    assert not AppointmentSlot.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slot_datetime": "2030-03-01T10:00:00"}, "slot_datetime"),  # naive
        ({"slot_datetime": "2001-03-01T10:00:00Z"}, "slot_datetime"),  # past (the service's check)
        ({"slot_datetime": "not a time"}, "slot_datetime"),
        ({"slot_datetime": "9999-12-31T23:50:00Z"}, "slot_datetime"),  # its end is past year 9999
        ({"duration_minutes": 4}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 101}, "capacity"),
        ({"doctor_id": 987654}, "doctor_id"),
        ({"clinic_id": 987654}, "clinic_id"),
        ({"doctor_id": None}, "doctor_id"),
    ],
)
def test_create_rejects_bad_shape(auth_client, admin_user, doctor, overrides, field):
    body = _error(auth_client(admin_user).post(LIST_URL, _new_slot(doctor, **overrides)), 400, "VALIDATION_ERROR")
    assert list(body["errors"]) == [field]
    assert not AppointmentSlot.objects.exists()


def test_create_rejects_an_overlapping_slot(auth_client, doctor):
    client = auth_client(doctor.user)
    assert client.post(LIST_URL, _new_slot(doctor)).status_code == 201
    overlapping = _new_slot(doctor, slot_datetime="2030-03-01T04:40:00Z")
    _error(client.post(LIST_URL, overlapping), 409, "SLOT_OVERLAP")
    assert AppointmentSlot.objects.count() == 1


def test_create_for_an_inactive_clinic_is_unavailable(auth_client, admin_user, doctor):
    Clinic.objects.filter(pk=doctor.clinic_id).update(is_active=False)
    _error(auth_client(admin_user).post(LIST_URL, _new_slot(doctor)), 409, "SLOT_UNAVAILABLE")
    assert not AppointmentSlot.objects.exists()


def test_create_at_a_clinic_the_doctor_does_not_work_at_is_refused(auth_client, admin_user, doctor):
    elsewhere = ClinicFactory()
    body = _error(auth_client(admin_user).post(LIST_URL, _new_slot(doctor, clinic_id=elsewhere.pk)),
                  400, "VALIDATION_ERROR")
    assert "clinic_id" in body["errors"]
    assert not AppointmentSlot.objects.exists()


# --- delete ---------------------------------------------------------------------


def _is_active(slot):
    slot.refresh_from_db()
    return slot.is_active


def test_owning_doctor_deletes_a_slot(auth_client, slot):
    response = auth_client(slot.doctor.user).delete(detail_url(slot.pk))
    assert response.status_code == 204 and not response.content
    assert not _is_active(slot)
    _error(auth_client(slot.doctor.user).delete(detail_url(slot.pk)), 404, "NOT_FOUND")


def test_admin_deletes_a_slot_whose_appointments_are_cancelled(auth_client, admin_user, slot, patient):
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    services.appointment_cancel(appointment_id=appointment.pk)
    assert auth_client(admin_user).delete(detail_url(slot.pk)).status_code == 204
    assert not _is_active(slot)


def test_delete_refuses_a_slot_with_active_appointments(auth_client, slot, patient):
    services.appointment_book(patient=patient, slot_id=slot.pk)
    _error(auth_client(slot.doctor.user).delete(detail_url(slot.pk)), 409, "SLOT_HAS_BOOKINGS")
    assert _is_active(slot)
    slot.refresh_from_db()
    assert slot.booked_count == 1


def test_other_doctor_cannot_delete_a_slot(auth_client, slot, other_doctor):
    _error(auth_client(other_doctor.user).delete(detail_url(slot.pk)), 403, "PERMISSION_DENIED")
    assert _is_active(slot)


def test_patient_cannot_delete_a_slot(auth_client, slot, patient):
    _error(auth_client(patient.user).delete(detail_url(slot.pk)), 403, "PERMISSION_DENIED")
    assert _is_active(slot)


def test_anonymous_cannot_delete_a_slot(api_client, slot):
    _error(api_client.delete(detail_url(slot.pk)), 401, "NOT_AUTHENTICATED")
    assert _is_active(slot)


def test_unverified_doctor_cannot_delete_another_doctors_slot(auth_client, slot, unverified_doctor):
    _error(auth_client(unverified_doctor.user).delete(detail_url(slot.pk)), 403, "PERMISSION_DENIED")
    assert _is_active(slot)


def test_slot_endpoints_refuse_other_methods(auth_client, admin_user, slot):
    _error(auth_client(admin_user).put(detail_url(slot.pk), {}), 405, "METHOD_NOT_ALLOWED")
    _error(auth_client(admin_user).delete(LIST_URL), 405, "METHOD_NOT_ALLOWED")


# --- found by the schema-driven fuzzer (scripts/api_fuzz.sh) -------------------------------


def test_options_on_the_slot_list_describes_the_create_body(auth_client, admin_user, doctor, api_client):
    # DRF's metadata asked the view for a serializer_class it did not declare: a 500 for admins and doctors.
    for client in (auth_client(admin_user), auth_client(doctor.user)):
        response = client.options(LIST_URL)
        assert response.status_code == 200, response.content
        assert {"doctor_id", "slot_datetime"} <= set(response.json()["actions"]["POST"])
    assert "actions" not in api_client.options(LIST_URL).json()


@pytest.mark.parametrize(("field", "value"), [("doctor_id", "own id as a string"), ("doctor_id", 2**63),
                                               ("doctor_id", 0), ("capacity", "2"), ("duration_minutes", 20.0)])
def test_create_refuses_ids_and_numbers_of_another_type_or_range(auth_client, admin_user, doctor, field, value):
    value = str(doctor.pk) if value == "own id as a string" else value
    response = auth_client(admin_user).post(LIST_URL, _new_slot(doctor, **{field: value}))
    assert _error(response, 400, "VALIDATION_ERROR")["errors"].keys() == {field}
    assert not AppointmentSlot.objects.exists()
