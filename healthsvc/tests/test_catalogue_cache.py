"""The public catalogue (clinics, doctors, a doctor's free slots) served from the
shared cache, dropped when what it shows changes, with ETag and 304.

The rest of the suite runs with the cache off (tests never commit, and the
stamps move on commit); here it is on and `commits` runs the commit hooks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinics.services import clinic_deactivate
from healthsvc.testing import assert_error
from scheduling import services
from scheduling.tests.factories import SlotFactory

SLOTS = "/api/v1/slots"


@pytest.fixture(autouse=True)
def catalogue_on(settings):
    settings.CATALOGUE_CACHE_SECONDS = 30


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """`with commits():` runs the block's on_commit hooks at its end, as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_a_second_read_is_served_without_the_database(api_client, doctor, django_assert_num_queries):
    SlotFactory.create_batch(3, doctor=doctor)
    first = api_client.get(SLOTS, {"doctor_id": doctor.pk})
    with django_assert_num_queries(0):
        again = api_client.get(SLOTS, {"doctor_id": doctor.pk})
    assert again.status_code == 200 and again.json() == first.json() and len(_ids(again)) == 3
    assert again["ETag"] == first["ETag"] and again["Content-Type"] == "application/json"
    assert {"Authorization", "Cookie"} <= {part.strip() for part in again["Vary"].split(",")}


def test_if_none_match_gives_304(api_client, doctor):
    SlotFactory(doctor=doctor)
    etag = api_client.get("/api/v1/doctors").get("ETag")
    response = api_client.get("/api/v1/doctors", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response["ETag"] == etag and response.content == b""
    assert api_client.get("/api/v1/doctors", HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_a_booking_drops_the_doctors_free_slots(auth_client, api_client, doctor, patient, commits):
    slots = SlotFactory.create_batch(2, doctor=doctor)
    before = api_client.get(SLOTS, {"doctor_id": doctor.pk})
    assert _ids(before) == [s.pk for s in slots]
    with commits():
        assert auth_client(patient.user).post("/api/v1/appointments/book", {"slot_id": slots[0].pk},
                                              format="json").status_code == 201
    after = api_client.get(SLOTS, {"doctor_id": doctor.pk})
    assert _ids(after) == [slots[1].pk] and after["ETag"] != before["ETag"]
    assert _ids(api_client.get(SLOTS)) == [slots[1].pk]  # the list of all slots too


def test_a_cancel_gives_the_place_back_in_the_list(auth_client, api_client, doctor, patient, commits):
    slot = SlotFactory(doctor=doctor)
    with commits():
        appointment = services.appointment_book(patient=patient, slot_id=slot.pk, booked_by=patient.user)
    assert _ids(api_client.get(SLOTS, {"doctor_id": doctor.pk})) == []
    with commits():
        services.appointment_cancel(appointment_id=appointment.pk, by=patient.user)
    assert _ids(api_client.get(SLOTS, {"doctor_id": doctor.pk})) == [slot.pk]


def test_another_doctors_booking_keeps_this_doctors_answer(api_client, doctor, other_doctor, patient, commits,
                                                            django_assert_num_queries):
    SlotFactory(doctor=doctor)
    theirs = SlotFactory(doctor=other_doctor)
    api_client.get(SLOTS, {"doctor_id": doctor.pk})
    with commits():
        services.appointment_book(patient=patient, slot_id=theirs.pk, booked_by=patient.user)
    with django_assert_num_queries(0):
        assert api_client.get(SLOTS, {"doctor_id": doctor.pk}).status_code == 200


def test_a_leave_and_new_slots_change_the_list(api_client, doctor, commits):
    slot = SlotFactory(doctor=doctor)
    assert _ids(api_client.get(SLOTS, {"doctor_id": doctor.pk})) == [slot.pk]
    with commits():
        services.leave_create(doctor=doctor, start=slot.start - timedelta(hours=1), end=slot.end)
    assert _ids(api_client.get(SLOTS, {"doctor_id": doctor.pk})) == []
    with commits():
        new = services.slot_create(doctor=doctor, clinic=doctor.clinic, start=slot.start + timedelta(days=2))
    assert _ids(api_client.get(SLOTS, {"doctor_id": doctor.pk})) == [new.pk]


def test_generated_slots_appear(api_client, doctor, commits):
    from datetime import time

    assert _ids(api_client.get(SLOTS, {"doctor_id": doctor.pk})) == []
    with commits():
        services.availability_rule_create(
            doctor=doctor, clinic=doctor.clinic, weekday=0, start_time=time(9), end_time=time(10), slot_minutes=30)
        today = timezone.localdate()
        services.slots_generate(doctor=doctor, date_from=today + timedelta(days=1), date_to=today + timedelta(days=8))
    assert len(_ids(api_client.get(SLOTS, {"doctor_id": doctor.pk}))) == 2


def test_a_doctors_new_name_and_a_closed_clinic_show_at_once(api_client, doctor, commits):
    assert api_client.get(f"/api/v1/doctors/{doctor.pk}").json()["name"] == doctor.user.name
    with commits():
        doctor.user.name = "Asha Verma"
        doctor.user.save()
    assert api_client.get(f"/api/v1/doctors/{doctor.pk}").json()["name"] == "Asha Verma"
    SlotFactory(doctor=doctor)
    assert len(_ids(api_client.get(SLOTS))) == 1
    with commits():
        clinic_deactivate(clinic=doctor.clinic)
    assert_error(api_client.get(f"/api/v1/doctors/{doctor.pk}"), 404, "NOT_FOUND")
    assert _ids(api_client.get(SLOTS)) == [] and api_client.get("/api/v1/clinics").json()["count"] == 0


def test_staff_are_never_served_the_public_answer(api_client, auth_client, doctor, admin_user, commits):
    with commits():
        doctor.is_active = False
        doctor.save()
    assert api_client.get("/api/v1/doctors").json()["count"] == 0
    assert auth_client(admin_user).get("/api/v1/doctors").json()["count"] == 1


def test_a_bad_query_is_refused_and_not_stored(api_client, db):
    assert_error(api_client.get(SLOTS, {"doctor_id": "abc"}), 400, "VALIDATION_ERROR")
    assert_error(api_client.get(SLOTS, {"doctor_id": "abc"}), 400, "VALIDATION_ERROR")


def test_patients_share_the_public_answer(auth_client, api_client, doctor, patient, django_assert_num_queries):
    SlotFactory(doctor=doctor)
    api_client.get(SLOTS, {"doctor_id": doctor.pk})
    client = auth_client(patient.user)
    client.get("/api/v1/appointments")  # caches the token's state
    with django_assert_num_queries(0):
        assert len(_ids(client.get(SLOTS, {"doctor_id": doctor.pk}))) == 1
