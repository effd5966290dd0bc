"""Conditional GET on the catalogue: ETag and 304 on every read; one object's
answer (clinic, doctor, slot) also Last-Modified and If-Modified-Since."""

from datetime import timedelta

import pytest
from django.utils.http import http_date, parse_http_date

from scheduling import services
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[0, 30], ids=["cache-off", "cache-on"])
def catalogue_cache(request, settings):
    settings.CATALOGUE_CACHE_SECONDS = request.param


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _urls(doctor, slot) -> dict[str, str]:
    return {"clinic": f"/api/v1/clinics/{doctor.clinic_id}", "doctor": f"/api/v1/doctors/{doctor.pk}",
            "slot": f"/api/v1/slots/{slot.pk}"}


@pytest.mark.parametrize("kind", ["clinic", "doctor", "slot"])
def test_one_object_sends_etag_and_last_modified_and_304s_on_either(api_client, doctor, catalogue_cache, kind):
    slot = SlotFactory(doctor=doctor)
    url = _urls(doctor, slot)[kind]
    first = api_client.get(url)
    assert first.status_code == 200 and first["ETag"].startswith('"')
    modified = parse_http_date(first["Last-Modified"])
    again = api_client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]
    assert again["Last-Modified"] == first["Last-Modified"]
    assert api_client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    assert api_client.get(url, HTTP_IF_MODIFIED_SINCE=http_date(modified - 1)).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    assert api_client.get(url, HTTP_IF_NONE_MATCH='"other"',
                          HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200
    assert api_client.get(url, HTTP_IF_MODIFIED_SINCE="not a date").status_code == 200


def test_last_modified_is_the_newest_row_the_answer_shows(api_client, doctor):
    slot = SlotFactory(doctor=doctor)
    type(doctor.user).objects.filter(pk=doctor.user_id).update(updated_at=doctor.updated_at + timedelta(days=1))
    assert parse_http_date(api_client.get(f"/api/v1/doctors/{doctor.pk}")["Last-Modified"]) == int(
        (doctor.updated_at + timedelta(days=1)).timestamp())
    type(doctor.clinic).objects.filter(pk=doctor.clinic_id).update(updated_at=slot.updated_at + timedelta(days=2))
    assert parse_http_date(api_client.get(f"/api/v1/slots/{slot.pk}")["Last-Modified"]) == int(
        (slot.updated_at + timedelta(days=2)).timestamp())


def test_a_booking_changes_the_slots_etag(api_client, auth_client, doctor, patient, settings, commits):
    settings.CATALOGUE_CACHE_SECONDS = 30
    slot = SlotFactory(doctor=doctor, capacity=2)
    before = api_client.get(f"/api/v1/slots/{slot.pk}")
    with commits():
        assert auth_client(patient.user).post("/api/v1/appointments/book", {"slot_id": slot.pk},
                                              format="json").status_code == 201
    after = api_client.get(f"/api/v1/slots/{slot.pk}", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after.json()["booked_count"] == 1 and after["ETag"] != before["ETag"]


def test_a_closed_slot_is_404_not_a_stale_304(api_client, doctor, settings, commits):
    settings.CATALOGUE_CACHE_SECONDS = 30
    slot = SlotFactory(doctor=doctor)
    etag = api_client.get(f"/api/v1/slots/{slot.pk}")["ETag"]
    with commits():
        services.slot_deactivate(slot_id=slot.pk)
    response = api_client.get(f"/api/v1/slots/{slot.pk}", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"


@pytest.mark.parametrize("url", ["/api/v1/clinics", "/api/v1/doctors", "/api/v1/slots"])
def test_lists_send_an_etag_but_no_last_modified(api_client, doctor, url):
    SlotFactory(doctor=doctor)
    response = api_client.get(url)
    assert response.status_code == 200 and response["ETag"] and "Last-Modified" not in response
    assert api_client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_one_slot_read_is_flat_in_queries(api_client, doctor, django_assert_max_num_queries):
    slot = SlotFactory(doctor=doctor)
    with django_assert_max_num_queries(1):
        assert api_client.get(f"/api/v1/slots/{slot.pk}").status_code == 200
