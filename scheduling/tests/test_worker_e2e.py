"""End to end: a booking commits, a real `manage.py db_worker` process takes
its tasks from the database queue and sends the mails over SMTP to a sink
(aiosmtpd) that this test runs. What production does, on SQLite or PostgreSQL."""

import asyncio
import email
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from email import policy
from io import StringIO

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.models import Reminder
from scheduling.tasks import notifications_suppressed
from scheduling.tests.factories import SlotFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


def _database_url() -> str:
    """The test database, as the worker process must find it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_real_worker_sends_the_booking_mails_over_smtp(settings, smtp_sink, patient, admin_user):
    sink, port = smtp_sink
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    clinic = ClinicFactory(name="Heart Care", timezone="Asia/Kolkata")
    doctor = DoctorFactory(clinic=clinic, user__name="Anil Mehta", user__email="mehta@example.com")
    slot = SlotFactory(doctor=doctor, start=datetime(2030, 3, 1, 4, 30, tzinfo=UTC))
    services.appointment_book(patient=patient, slot_id=slot.pk, reason="Private", booked_by=admin_user)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 2

    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "healthsvc.settings.base", "DEBUG": "true",
        "DATABASE_URL": _database_url(), "TASKS_BACKEND": "database",
        "EMAIL_URL": f"smtp://127.0.0.1:{port}", "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )
    assert worker.returncode == 0, worker.stderr

    assert sorted(m["To"] for m in sink.messages) == ["Anil Mehta <mehta@example.com>", "Pat Patient <pat@example.com>"]
    to_patient = next(m for m in sink.messages if "pat@example.com" in m["To"])
    assert "10:00" in to_patient["Subject"] and "IST" in to_patient["Subject"]
    (invitation,) = [part for part in to_patient.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert "METHOD:REQUEST" in invitation.get_content()
    assert "Private" not in to_patient.as_string()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 2


def test_cron_and_a_real_worker_send_a_reminder_once(settings, smtp_sink, patient, admin_user):
    """`send_reminders` twice, as cron would, then the worker: one reminder over SMTP."""
    sink, port = smtp_sink
    doctor = DoctorFactory(clinic=ClinicFactory(timezone="Asia/Kolkata"))
    slot = SlotFactory(doctor=doctor, start=timezone.now().replace(second=0, microsecond=0) + timedelta(hours=5))
    with notifications_suppressed():
        services.appointment_book(patient=patient, slot_id=slot.pk, reason="Private", booked_by=admin_user)
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "healthsvc.settings.base", "DEBUG": "true",
        "DATABASE_URL": _database_url(), "TASKS_BACKEND": "database",
        "EMAIL_URL": f"smtp://127.0.0.1:{port}", "LOG_LEVEL": "WARNING",
    }

    def manage(*args):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert manage("send_reminders") == "Queued 1 reminder(s)."
    assert manage("send_reminders") == "Queued 0 reminder(s)."
    manage("db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0")
    (message,) = sink.messages
    assert message["Subject"].startswith("Reminder: ") and message["To"] == "Pat Patient <pat@example.com>"
    assert "Private" not in message.as_string()
    assert Reminder.objects.get().sent_at is not None


class StallingSink(Sink):
    """Takes the first message's DATA and never answers it, as a worker's
    mail would be in flight when the worker is killed; answers the rest."""

    def __init__(self):
        super().__init__()
        self.stalled = threading.Event()
        self.release = None

    async def handle_DATA(self, server, session, envelope):
        if not self.stalled.is_set():
            self.stalled.set()
            self.release = asyncio.Event()
            await self.release.wait()
            return "451 gone"
        return await super().handle_DATA(server, session, envelope)


def test_a_task_lost_with_a_killed_worker_is_requeued_and_sent(settings, patient, admin_user):
    """SIGKILL a worker in the middle of sending: its task stays RUNNING (no
    mail went out); requeue_lost_tasks puts it back once it is old enough, and
    the next worker sends every mail once."""
    sink = StallingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        doctor = DoctorFactory(user__name="Anil Mehta", user__email="mehta@example.com")
        slot = SlotFactory(doctor=doctor, start=datetime(2030, 3, 1, 4, 30, tzinfo=UTC))
        services.appointment_book(patient=patient, slot_id=slot.pk, reason="Private", booked_by=admin_user)
        env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "healthsvc.settings.base", "DEBUG": "true",
            "DATABASE_URL": _database_url(), "TASKS_BACKEND": "database",
            "EMAIL_URL": f"smtp://127.0.0.1:{controller.port}", "LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0"]
        worker = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            assert sink.stalled.wait(timeout=60), "the worker never reached the mail server"
        finally:
            worker.kill()
            worker.wait(timeout=10)
        assert sink.messages == []
        statuses = sorted(DBTaskResult.objects.values_list("status", flat=True))
        assert statuses == [TaskResultStatus.READY, TaskResultStatus.RUNNING]

        out = StringIO()
        call_command("requeue_lost_tasks", stdout=out)
        assert out.getvalue().strip() == "Re-queued 0 lost task(s)."  # running for seconds: not lost yet
        settings.TASK_LOST_AFTER_MINUTES = 0
        call_command("requeue_lost_tasks", stdout=out)
        assert out.getvalue().strip().endswith("Re-queued 1 lost task(s).")

        done = subprocess.run([*command, "--batch"], cwd=settings.BASE_DIR, env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert sorted(m["To"] for m in sink.messages) == [
            "Anil Mehta <mehta@example.com>", "Pat Patient <pat@example.com>"]
        assert set(DBTaskResult.objects.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}
    finally:
        if sink.release is not None:
            controller.loop.call_soon_threadsafe(sink.release.set)
        controller.stop()
