"""The booking core meets real database faults on PostgreSQL: a deadlock, a lock
timeout, a backend terminated mid-transaction, a dead connection.

Each fault is made by a second, raw connection (psycopg, outside Django) on
the test database: it holds a row lock the booking needs, then either closes
a real lock cycle, lets the booking's lock_timeout expire, or ends the
booking's backend with pg_terminate_backend. The booking runs in a thread with
its own Django connection; the test waits for PostgreSQL to report that
backend waiting on a lock before making the fault.
"""

import logging
import threading
import time

import psycopg
import pytest
from django.core import mail
from django.db import OperationalError, close_old_connections, connection, transaction
from rest_framework.test import APIClient

from accounts.models import Patient
from accounts.services import user_access_token
from accounts.tests.factories import PatientFactory
from audit.chain import chain_problems
from audit.models import AuditEvent
from scheduling.models import Appointment, AppointmentSlot, IdempotencyKey
from scheduling.services import appointment_book, appointment_cancel
from scheduling.tests.factories import SlotFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]

WAIT = 15  # seconds: the bound on every wait below, far above what each takes
BOOK_URL = "/api/v1/appointments/book"


def raw_connection() -> psycopg.Connection:
    """A connection of our own to the test database, outside Django's."""
    return psycopg.connect(**connection.get_connection_params())


def lock_row(conn: psycopg.Connection, model, pk: int) -> None:
    conn.execute(f"SELECT 1 FROM {model._meta.db_table} WHERE id = %s FOR UPDATE", [pk])


def wait_until_waiting_on_lock(pid: int) -> None:
    """Until PostgreSQL reports backend `pid` waiting for a lock (an event, polled)."""
    with raw_connection() as probe:
        probe.autocommit = True
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            row = probe.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited on a lock")


class InThread:
    """Run `call` in a thread with its own Django connection; `pid` is that
    connection's backend, known before the call starts."""

    def __init__(self, call, *, before=None):
        self.call, self.before = call, before
        self.result = self.error = None
        self.pid_known = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.pid_known.wait(WAIT)

    def _run(self):
        try:
            connection.ensure_connection()
            if self.before:
                self.before()
            self.pid = connection.connection.info.backend_pid
            self.pid_known.set()
            self.result = self.call()
        except BaseException as exc:  # noqa: BLE001 - asserted on by the test
            self.error = exc
        finally:
            self.pid_known.set()
            connection.close()

    def join(self):
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the booking is still running"
        return self


def deadlock_with(slot: AppointmentSlot, patient: Patient, call) -> InThread:
    """Run `call` (a booking of `slot` by `patient`) into a real deadlock: our
    connection holds the slot's row, the booking locks the patient and waits
    for the slot, then we ask for the patient's row. The booking's backend
    detects the cycle (its deadlock_timeout, 1 s, is the shorter: ours is
    raised) and PostgreSQL aborts its transaction; we then let go of both rows."""
    with raw_connection() as blocker:
        blocker.execute("SET deadlock_timeout = '20s'")  # superuser setting: the booking is the victim
        lock_row(blocker, AppointmentSlot, slot.pk)
        booking = InThread(call)
        wait_until_waiting_on_lock(booking.pid)
        lock_row(blocker, Patient, patient.pk)  # returns once the booking's transaction is aborted
        blocker.rollback()
    return booking.join()


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_access_token(user)}")
    return client


def retries_logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "healthsvc.db" and "attempt" in r.getMessage()]


def assert_nothing_booked(slot: AppointmentSlot) -> None:
    slot.refresh_from_db()
    assert not Appointment.objects.filter(slot=slot).exists()
    assert slot.booked_count == 0
    assert mail.outbox == []
    # No audit row claims a booking happened, and the chain is whole.
    assert not AuditEvent.objects.filter(action="book").exists()
    assert list(chain_problems()) == []


def test_deadlocked_booking_runs_again_and_books_once(caplog):
    caplog.set_level(logging.WARNING, logger="healthsvc.db")
    slot, patient = SlotFactory(capacity=2), PatientFactory()

    booking = deadlock_with(slot, patient, lambda: appointment_book(patient=patient, slot_id=slot.pk))

    assert booking.error is None, booking.error
    assert booking.result.slot_id == slot.pk
    [retry] = retries_logged(caplog)
    assert "appointment_book: DeadlockDetected (SQLSTATE 40P01), attempt 1 of 3" in retry
    slot.refresh_from_db()
    assert slot.booked_count == 1 == Appointment.objects.filter(slot=slot).count()
    # One confirmation for the patient, sent after the commit; none for the aborted attempt.
    assert sum(patient.user.email in address for m in mail.outbox for address in m.to) == 1


def test_deadlock_inside_an_outer_transaction_is_not_retried_there(caplog):
    caplog.set_level(logging.WARNING, logger="healthsvc.db")
    slot, patient = SlotFactory(), PatientFactory()

    def book_in_outer_atomic():
        with transaction.atomic():  # the caller owns the transaction: only it may run it again
            return appointment_book(patient=patient, slot_id=slot.pk)

    booking = deadlock_with(slot, patient, book_in_outer_atomic)

    assert isinstance(booking.error, OperationalError)
    assert isinstance(booking.error.__cause__, psycopg.errors.DeadlockDetected)
    assert retries_logged(caplog) == []
    assert_nothing_booked(slot)


def test_api_booking_with_idempotency_key_retries_its_whole_transaction(caplog):
    caplog.set_level(logging.WARNING, logger="healthsvc.db")
    slot, patient = SlotFactory(), PatientFactory()
    client = api(patient.user)

    booking = deadlock_with(slot, patient, lambda: client.post(
        BOOK_URL, {"slot_id": slot.pk}, format="json", HTTP_IDEMPOTENCY_KEY="deadlock-1"))

    assert booking.result.status_code == 201, booking.result.content
    # The key's transaction is the outermost, so it (not appointment_book inside it) ran again.
    [retry] = retries_logged(caplog)
    assert retry.startswith("_run_with_key: DeadlockDetected")
    assert IdempotencyKey.objects.get(key="deadlock-1").response_status == 201
    slot.refresh_from_db()
    assert slot.booked_count == 1 == Appointment.objects.filter(slot=slot).count()


def test_deadlock_on_the_last_attempt_is_503_with_nothing_changed(settings, caplog):
    settings.DB_CONFLICT_ATTEMPTS = 1
    slot, patient = SlotFactory(), PatientFactory()
    client = api(patient.user)

    booking = deadlock_with(slot, patient, lambda: client.post(
        BOOK_URL, {"slot_id": slot.pk}, format="json", HTTP_IDEMPOTENCY_KEY="deadlock-2"))

    response = booking.result
    assert response.status_code == 503
    assert response.json() == {"detail": response.json()["detail"], "error_code": "SERVICE_UNAVAILABLE"}
    assert response["Retry-After"] == str(settings.DB_UNAVAILABLE_RETRY_AFTER)
    assert not IdempotencyKey.objects.filter(key="deadlock-2").exists()  # the key is free for the retry
    assert_nothing_booked(slot)


def set_lock_timeout(ms: int):
    def before():
        with connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {int(ms)}")
    return before


def test_lock_timeout_is_503_at_once_in_the_api_and_the_portal_and_not_retried(patient, caplog):
    from django.test import Client

    caplog.set_level(logging.WARNING, logger="healthsvc.db")
    slot = SlotFactory()
    client = api(patient.user)
    portal = Client()  # the view's error is answered by DatabaseUnavailableMiddleware, not raised
    portal.force_login(patient.user)

    with raw_connection() as blocker:
        lock_row(blocker, AppointmentSlot, slot.pk)  # e.g. a hung transaction holding the slot
        booking = InThread(lambda: client.post(BOOK_URL, {"slot_id": slot.pk}, format="json"),
                           before=set_lock_timeout(200)).join()
        page = InThread(lambda: portal.post(f"/book/{slot.pk}/", {"reason_for_visit": "Cough"}),
                        before=set_lock_timeout(200)).join()
        blocker.rollback()

    assert booking.result.status_code == 503
    assert booking.result.json()["error_code"] == "SERVICE_UNAVAILABLE"
    assert booking.result["Retry-After"] == "5"
    assert page.result.status_code == 503, page.result.content[:300]
    assert page.result["Retry-After"] == "5"
    assert b"nothing was saved" in page.result.content
    assert retries_logged(caplog) == []
    assert_nothing_booked(slot)


def test_booking_whose_backend_is_terminated_mid_transaction_leaves_nothing_and_next_one_books():
    slot, patient = SlotFactory(), PatientFactory()
    client = api(patient.user)
    answers, first_answered, lock_released = [], threading.Event(), threading.Event()

    def book_twice():
        answers.append(client.post(BOOK_URL, {"slot_id": slot.pk}, format="json"))
        first_answered.set()
        assert lock_released.wait(WAIT)
        close_old_connections()  # what Django's WSGI handler does between two requests (the test client does not)
        answers.append(client.post(BOOK_URL, {"slot_id": slot.pk}, format="json"))

    with raw_connection() as killer:
        killer.autocommit = True
        with raw_connection() as blocker:
            lock_row(blocker, AppointmentSlot, slot.pk)
            booking = InThread(book_twice)
            # The booking holds the patient's and the doctor's rows and waits for the slot's.
            wait_until_waiting_on_lock(booking.pid)
            assert killer.execute("SELECT pg_terminate_backend(%s)", [booking.pid]).fetchone() == (True,)
            assert first_answered.wait(WAIT)
            assert answers[0].status_code == 503
            assert answers[0]["Retry-After"]
            assert_nothing_booked(slot)
            blocker.rollback()
    lock_released.set()
    booking.join()

    # The dead connection was dropped, not reused: the next request connected afresh.
    assert answers[1].status_code == 201, answers[1].content
    slot.refresh_from_db()
    assert slot.booked_count == 1


@pytest.fixture
def dead_connection():
    """This thread's Django connection, its backend ended from another
    connection; the broken connection is closed again at teardown (the test
    client, unlike the WSGI handler, does not drop it after a request)."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with raw_connection() as killer:
        killer.autocommit = True
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + WAIT
        while killer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline
            time.sleep(0.01)
    yield
    connection.close()


def test_dead_connection_is_a_503_page_and_readyz_reconnects_on_the_next_probe(patient, request):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(patient.user)
    request.getfixturevalue("dead_connection")  # after the login, which needs the database

    page = client.get("/appointments/")  # the session is read from the database, in a middleware

    assert page.status_code == 503
    assert page["Retry-After"] == "5"
    assert b"nothing was saved" in page.content
    assert b"Traceback" not in page.content
    probe = Client()  # the load balancer's, without the session cookie
    assert probe.get("/readyz").status_code == 503
    assert probe.get("/readyz").status_code == 200  # the dead connection was dropped at once


def test_cancel_runs_again_after_a_deadlock(caplog):
    caplog.set_level(logging.WARNING, logger="healthsvc.db")
    slot, patient = SlotFactory(), PatientFactory()
    appointment = appointment_book(patient=patient, slot_id=slot.pk)

    # Cancelling locks the appointment, then the slot: we hold the slot and ask for the appointment.
    with raw_connection() as blocker:
        blocker.execute("SET deadlock_timeout = '20s'")
        lock_row(blocker, AppointmentSlot, slot.pk)
        cancel = InThread(lambda: appointment_cancel(appointment_id=appointment.pk))
        wait_until_waiting_on_lock(cancel.pid)
        lock_row(blocker, Appointment, appointment.pk)
        blocker.rollback()
    cancel.join()

    assert cancel.error is None, cancel.error
    assert len(retries_logged(caplog)) == 1
    slot.refresh_from_db()
    assert slot.booked_count == 0
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CANCELLED


def test_mail_of_a_committed_booking_is_queued_even_if_the_connection_dies_after_the_commit(settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    slot, patient = SlotFactory(), PatientFactory()

    def end_own_backend():  # runs first among the commit hooks: the booking is committed, its mails not queued
        pid = connection.connection.info.backend_pid
        with raw_connection() as killer:
            killer.autocommit = True
            killer.execute("SELECT pg_terminate_backend(%s)", [pid])
            while killer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                time.sleep(0.01)

    with transaction.atomic():
        transaction.on_commit(end_own_backend)
        appointment = appointment_book(patient=patient, slot_id=slot.pk)

    queued = DBTaskResult.objects.filter(args_kwargs__kwargs__appointment_id=appointment.pk)
    assert {t.args_kwargs["kwargs"]["recipient"] for t in queued} == {"patient", "doctor"}
