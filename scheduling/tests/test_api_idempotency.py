"""Idempotency-Key on POST /api/v1/appointments/book: a retry replays the first
answer and books nothing; another body with the key is a 422; refusals are not
stored; keys expire after 24 hours; racing requests with one key book once."""

import threading
import time
import traceback
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot, IdempotencyKey
from scheduling.services.idempotency import IDEMPOTENCY_KEY_TTL, idempotency_request_hash
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

BOOK_URL = reverse("api:appointment-book")


def _book(client, body, key):
    return client.post(BOOK_URL, body, HTTP_IDEMPOTENCY_KEY=key) if key is not None else client.post(BOOK_URL, body)


def _booked_count(slot):
    return AppointmentSlot.objects.get(pk=slot.pk).booked_count


def test_retry_with_the_same_key_and_body_replays_the_answer_and_books_nothing(auth_client, patient, doctor):
    slot = SlotFactory(doctor=doctor, capacity=5)
    client, key = auth_client(patient.user), str(uuid.uuid4())
    first = _book(client, {"slot_id": slot.pk, "reason_for_visit": "Cough"}, key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first

    retry = _book(client, {"reason_for_visit": "Cough", "slot_id": slot.pk}, key)  # same JSON, other key order

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Appointment.objects.count() == 1 and _booked_count(slot) == 1
    stored = IdempotencyKey.objects.get()
    assert (stored.user, stored.key, stored.response_status, stored.response_body) == (
        patient.user, key, 201, first.json(),
    )


def test_same_key_with_another_body_is_422(auth_client, patient, doctor):
    first_slot, second_slot = SlotFactory(doctor=doctor), SlotFactory(doctor=doctor)
    client = auth_client(patient.user)
    assert _book(client, {"slot_id": first_slot.pk}, "key-1").status_code == 201

    response = _book(client, {"slot_id": second_slot.pk}, "key-1")

    assert response.status_code == 422
    assert response.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED" and response.json()["detail"]
    assert list(Appointment.objects.values_list("slot_id", flat=True)) == [first_slot.pk]
    assert (_booked_count(first_slot), _booked_count(second_slot)) == (1, 0)
    assert IdempotencyKey.objects.get().response_body["slot_id"] == first_slot.pk


def test_without_a_key_every_request_is_new(auth_client, patient, doctor):
    slot = SlotFactory(doctor=doctor, capacity=2)
    client = auth_client(patient.user)
    assert _book(client, {"slot_id": slot.pk}, None).status_code == 201
    assert _book(client, {"slot_id": slot.pk}, None).json()["error_code"] == "ALREADY_BOOKED"
    assert not IdempotencyKey.objects.exists()


def test_a_refused_booking_stores_nothing_so_a_retry_tries_again(auth_client, patient, slot):
    holder = services.appointment_book(patient=PatientFactory(), slot_id=slot.pk)
    client = auth_client(patient.user)
    refused = _book(client, {"slot_id": slot.pk}, "retry-me")
    assert refused.status_code == 409 and refused.json()["error_code"] == "SLOT_FULL"
    assert not IdempotencyKey.objects.exists()

    services.appointment_cancel(appointment_id=holder.pk)
    response = _book(client, {"slot_id": slot.pk}, "retry-me")

    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Appointment.objects.filter(patient=patient, status="confirmed").count() == 1
    assert IdempotencyKey.objects.get().response_status == 201


def test_an_invalid_request_stores_nothing(auth_client, admin_user, slot):
    response = _book(auth_client(admin_user), {"slot_id": slot.pk}, "admin-key")  # patient_id missing
    assert response.status_code == 400 and not IdempotencyKey.objects.exists()


def test_an_expired_key_is_treated_as_new(auth_client, patient, doctor):
    first_slot, second_slot = SlotFactory(doctor=doctor), SlotFactory(doctor=doctor)
    client = auth_client(patient.user)
    first = _book(client, {"slot_id": first_slot.pk}, "old-key")
    IdempotencyKey.objects.update(created_at=timezone.now() - IDEMPOTENCY_KEY_TTL - timedelta(minutes=1))

    # Another body under the expired key is not a 422: the key is free again.
    response = _book(client, {"slot_id": second_slot.pk}, "old-key")

    assert response.status_code == 201 and response.json()["id"] != first.json()["id"]
    assert (_booked_count(first_slot), _booked_count(second_slot)) == (1, 1)
    stored = IdempotencyKey.objects.get()
    assert stored.response_body["slot_id"] == second_slot.pk
    assert stored.created_at > timezone.now() - timedelta(minutes=1)


def test_an_expired_key_with_the_same_body_books_again(auth_client, patient, slot):
    client = auth_client(patient.user)
    first = _book(client, {"slot_id": slot.pk}, "same-body")
    services.appointment_cancel(appointment_id=first.json()["id"])
    IdempotencyKey.objects.update(created_at=timezone.now() - IDEMPOTENCY_KEY_TTL - timedelta(seconds=1))

    response = _book(client, {"slot_id": slot.pk}, "same-body")

    assert response.status_code == 201 and response.json()["id"] != first.json()["id"]
    assert "Idempotent-Replayed" not in response and _booked_count(slot) == 1


def test_a_key_younger_than_the_ttl_still_replays(auth_client, patient, slot):
    client = auth_client(patient.user)
    first = _book(client, {"slot_id": slot.pk}, "fresh")
    IdempotencyKey.objects.update(created_at=timezone.now() - IDEMPOTENCY_KEY_TTL + timedelta(minutes=1))
    assert _book(client, {"slot_id": slot.pk}, "fresh").json() == first.json()


def test_keys_belong_to_their_user(auth_client, patient, other_patient, doctor):
    slot = SlotFactory(doctor=doctor, capacity=2)
    mine = _book(auth_client(patient.user), {"slot_id": slot.pk}, "shared-key")
    theirs = _book(auth_client(other_patient.user), {"slot_id": slot.pk}, "shared-key")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert theirs.json()["patient_id"] == other_patient.pk and "Idempotent-Replayed" not in theirs
    assert _booked_count(slot) == 2 and IdempotencyKey.objects.count() == 2


def test_admin_retry_on_behalf_of_a_patient_replays(auth_client, admin_user, patient, slot):
    client = auth_client(admin_user)
    body = {"slot_id": slot.pk, "patient_id": patient.pk}
    first = _book(client, body, "admin-retry")
    assert _book(client, body, "admin-retry").json() == first.json()
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "naïve-ключ"])
def test_an_invalid_key_is_a_400(auth_client, patient, slot, key):
    response = auth_client(patient.user).post(BOOK_URL, {"slot_id": slot.pk},
                                              HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"))
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR" and list(body["errors"]) == ["Idempotency-Key"]
    assert not Appointment.objects.exists() and not IdempotencyKey.objects.exists()


def test_request_hash_ignores_key_order_and_names_the_endpoint():
    def digest(scope, payload):
        return idempotency_request_hash(scope=scope, payload=payload)

    assert digest("a", {"x": 1, "y": 2}) == digest("a", {"y": 2, "x": 1})
    assert digest("a", {"x": 1}) != digest("b", {"x": 1})
    assert digest("a", {"x": 1}) != digest("a", {"x": 2})


def test_purge_command_deletes_only_expired_keys(auth_client, patient, doctor):
    client = auth_client(patient.user)
    for n in range(3):
        assert _book(client, {"slot_id": SlotFactory(doctor=doctor).pk}, f"k{n}").status_code == 201
    IdempotencyKey.objects.filter(key__in=["k0", "k1"]).update(
        created_at=timezone.now() - IDEMPOTENCY_KEY_TTL - timedelta(hours=1)
    )
    out = StringIO()

    call_command("purge_idempotency_keys", stdout=out)

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["k2"]
    assert "Deleted 2 expired" in out.getvalue()
    assert Appointment.objects.count() == 3


# --- racing retries (real connections, PostgreSQL) ------------------------------

THREAD_TIMEOUT = 60


def _post_concurrently(clients, bodies, key):
    """POST each body with the key from its own thread and database connection,
    released together by a barrier. Returns each (status, json, replayed) in order."""
    barrier = threading.Barrier(len(clients))
    results, errors = [None] * len(clients), []

    def worker(index):
        try:
            connection.ensure_connection()  # connect before the race, not during it
            barrier.wait(timeout=THREAD_TIMEOUT)
            response = clients[index].post(BOOK_URL, bodies[index], HTTP_IDEMPOTENCY_KEY=key)
            results[index] = (response.status_code, response.json(), response.get("Idempotent-Replayed"))
        except BaseException:  # noqa: BLE001 - reported below
            errors.append(traceback.format_exc())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT)
    assert not [t for t in threads if t.is_alive()], "a request is still running: deadlock"
    assert not errors, "\n".join(errors[:3])
    return results


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("slow_booking", [False, True], ids=["plain", "slow-booking"])
def test_racing_requests_with_one_key_book_once(auth_client, monkeypatch, slow_booking):
    slot = SlotFactory(capacity=10)
    patient = PatientFactory()
    racers = 10
    if slow_booking:
        # The winner holds its uncommitted key row for a while, so the others
        # certainly arrive while it is in flight and wait on the unique index.
        book = services.appointment_book

        def slow_book(**kwargs):
            appointment = book(**kwargs)
            time.sleep(0.5)
            return appointment

        monkeypatch.setattr(services, "appointment_book", slow_book)
    clients = [auth_client(patient.user) for _ in range(racers)]

    results = _post_concurrently(clients, [{"slot_id": slot.pk}] * racers, key="one-key")

    assert {status for status, _, _ in results} == {201}, results
    assert len({body["id"] for _, body, _ in results}) == 1
    assert sorted(replayed or "" for _, _, replayed in results) == [""] + ["true"] * (racers - 1)
    assert Appointment.objects.count() == 1 and _booked_count(slot) == 1
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_requests_with_one_key_and_different_bodies_book_once(auth_client):
    slots = SlotFactory.create_batch(6, capacity=1)
    patient = PatientFactory()
    clients = [auth_client(patient.user) for _ in slots]

    results = _post_concurrently(clients, [{"slot_id": s.pk} for s in slots], key="contested")

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] + [422] * 5, results
    assert all(body["error_code"] == "IDEMPOTENCY_KEY_REUSED" for status, body, _ in results if status == 422)
    assert Appointment.objects.count() == 1
    assert sum(_booked_count(s) for s in slots) == 1
