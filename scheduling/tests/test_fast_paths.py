"""The hot paths' shortcuts give the same answers as the long way round."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinics.tests.factories import ClinicFactory, DoctorFactory
from healthsvc.testing import audit_statements
from scheduling import selectors
from scheduling.api.serializers import SlotOutputSerializer, slot_row_data
from scheduling.models import Appointment
from scheduling.tests.factories import SlotFactory

LIST = "/api/v1/slots"


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York", "Europe/London", "UTC"])
def test_a_slot_row_reads_as_the_serializer_writes(db, zone):
    doctor = DoctorFactory(clinic=ClinicFactory(timezone=zone))
    # Across New York's and London's 2030 DST changes, with and without microseconds.
    starts = [datetime(2030, 3, 10, 6, 30, tzinfo=UTC), datetime(2030, 3, 31, 0, 45, tzinfo=UTC),
              datetime(2030, 11, 3, 5, 30, 0, 123456, tzinfo=UTC), datetime(2030, 7, 1, 12, tzinfo=UTC)]
    for start, capacity, booked in zip(starts, [1, 3, 5, 2], [0, 3, 2, 2]):
        SlotFactory(doctor=doctor, start=start, capacity=capacity, booked_count=booked)
    slots = selectors.slot_list_bookable(doctor_id=doctor.pk, available=False)
    rows = list(selectors.slot_rows(slots))
    assert [slot_row_data(row) for row in rows] == SlotOutputSerializer(list(slots), many=True).data
    assert len(rows) == 4


def test_a_list_that_fits_its_page_is_not_counted(api_client, doctor):
    SlotFactory.create_batch(3, doctor=doctor)
    with CaptureQueriesContext(connection) as queries:
        body = api_client.get(LIST, {"doctor_id": doctor.pk}).json()
    assert body["count"] == 3 and body["next"] is None and len(body["results"]) == 3
    assert [q for q in queries.captured_queries if "COUNT(" in q["sql"]] == []
    assert len(queries.captured_queries) == 1


def test_a_list_with_more_pages_counts_them(api_client, doctor):
    SlotFactory.create_batch(5, doctor=doctor)
    with CaptureQueriesContext(connection) as queries:
        first = api_client.get(LIST, {"page_size": 2}).json()
    assert (first["count"], len(first["results"])) == (5, 2) and "page=2" in first["next"]
    assert len([q for q in queries.captured_queries if "COUNT(" in q["sql"]]) == 1
    last = api_client.get(LIST, {"page_size": 2, "page": 3}).json()
    assert (last["count"], len(last["results"]), last["next"]) == (5, 1, None) and "page=2" in last["previous"]
    assert api_client.get(LIST, {"page_size": 2, "page": 4}).status_code == 404
    exact = api_client.get(LIST, {"page_size": 5}).json()
    assert (exact["count"], exact["next"]) == (5, None)


def test_an_empty_list_is_one_page(api_client, db):
    body = api_client.get(LIST).json()
    assert (body["count"], body["results"], body["next"], body["previous"]) == (0, [], None, None)


def test_a_booking_runs_at_most_eight_statements(auth_client, patient, slot):
    client = auth_client(patient.user)
    client.get("/api/v1/appointments")  # the token's state is cached from here on
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/appointments/book", {"slot_id": slot.pk}, format="json")
    assert response.status_code == 201
    # patient lock, doctor lock (with the slot's time), slot lock, the checks, insert, place:
    # 6 the ORM sends, and the audit row (one statement on PostgreSQL); BEGIN, COMMIT and a
    # pooled connection's health check come on top.
    sql = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(sql) <= 6 + audit_statements(), sql
    slot.refresh_from_db()
    assert slot.booked_count == 1
    assert Appointment.objects.filter(patient=patient, slot=slot, status="confirmed").count() == 1


def test_a_booking_with_an_idempotency_key_adds_two(auth_client, patient, slot):
    client = auth_client(patient.user)
    client.get("/api/v1/appointments")
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/appointments/book", {"slot_id": slot.pk}, format="json",
                               HTTP_IDEMPOTENCY_KEY="k-1234567")
    assert response.status_code == 201
    sql = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(sql) <= 8 + audit_statements(), sql
    replay = client.post("/api/v1/appointments/book", {"slot_id": slot.pk}, format="json",
                         HTTP_IDEMPOTENCY_KEY="k-1234567")
    assert replay.status_code == 201 and replay.json() == response.json() and replay["Idempotent-Replayed"] == "true"
    slot.refresh_from_db()
    assert slot.booked_count == 1 and Appointment.objects.filter(slot=slot).count() == 1  # booked once


def test_an_expired_idempotency_key_is_taken_over(auth_client, patient, slot, other_doctor):
    from scheduling.models import IdempotencyKey

    client = auth_client(patient.user)
    first = client.post("/api/v1/appointments/book", {"slot_id": slot.pk}, format="json",
                        HTTP_IDEMPOTENCY_KEY="k-expiring")
    assert first.status_code == 201
    IdempotencyKey.objects.update(created_at=first_created(IdempotencyKey) - timedelta(hours=25))
    other = SlotFactory(doctor=other_doctor)
    again = client.post("/api/v1/appointments/book", {"slot_id": other.pk}, format="json",
                        HTTP_IDEMPOTENCY_KEY="k-expiring")
    assert again.status_code == 201 and again.json()["slot_id"] == other.pk and "Idempotent-Replayed" not in again
    assert IdempotencyKey.objects.count() == 1


def first_created(model):
    return model.objects.order_by("created_at").values_list("created_at", flat=True).first()


@pytest.mark.parametrize("page", ["1600022875181115928", "58263990073587493002518191685550799523"])
def test_a_page_past_any_table_is_a_404_not_an_overflow(api_client, doctor, page):
    SlotFactory(doctor=doctor)
    for path in (LIST, "/api/v1/doctors", "/api/v1/clinics"):
        response = api_client.get(path, {"page": page, "page_size": 100})
        assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND", (path, response.content)
