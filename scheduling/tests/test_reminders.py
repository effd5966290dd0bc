"""Reminders (`manage.py send_reminders`): each due visit's patient is
reminded once, however often and however concurrently the command and its
tasks run, and never of a visit that was cancelled, moved or opted out of."""

import smtplib
import uuid
from datetime import timedelta
from io import StringIO
from unittest import mock

import icalendar
import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.models import Appointment, Reminder
from scheduling.tasks import appointment_reminder_task, notifications_suppressed
from scheduling.tests.factories import SlotFactory
from scheduling.tests.test_concurrency import assert_errors_only, run_concurrently

pytestmark = pytest.mark.django_db

REASON = "ZEBRA-REASON-FOR-VISIT"
ALLERGY = "PEANUT-ALLERGY-7731"
CLINICAL_NOTE = "CLINICAL-NOTE-QUOKKA"
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def clinic(db):
    return ClinicFactory(name="Heart Care", address="12 FC Road", city="Pune", state="MH", zip_code="411001",
                         timezone="Asia/Kolkata")


@pytest.fixture
def doctor(clinic):
    return DoctorFactory(clinic=clinic, user__name="Anil Mehta", user__email="mehta@example.com")


@pytest.fixture
def patient(db):
    return PatientFactory(user__name="Pat Patient", user__email="pat@example.com", allergies=ALLERGY)


def _hours_ahead(hours: float):
    return timezone.now().replace(second=0, microsecond=0) + timedelta(hours=hours)


def _book(patient, doctor, admin_user, hours=5.0):
    """A visit `hours` from now, booked by staff without its booking mails."""
    slot = SlotFactory(doctor=doctor, start=_hours_ahead(hours), duration_minutes=30)
    with notifications_suppressed():
        return services.appointment_book(patient=patient, slot_id=slot.pk, reason=REASON, booked_by=admin_user)


def _send_reminders() -> str:
    out = StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the command as cron does; with the immediate backend its tasks send at once."""
    def run_once():
        with django_capture_on_commit_callbacks(execute=True):
            return _send_reminders()
    return run_once


def _everything(message) -> str:
    parts = [message.subject, message.body, *(html for html, _ in message.alternatives)]
    parts += [a[1] if isinstance(a[1], str) else a[1].decode() for a in message.attachments]
    return "\n".join(parts)


def test_a_due_visit_is_reminded_once_however_often_the_command_runs(patient, doctor, admin_user, run):
    appointment = _book(patient, doctor, admin_user)
    assert run() == "Queued 1 reminder(s)."
    assert run() == "Queued 0 reminder(s)."
    (message,) = mail.outbox
    assert message.to == ["Pat Patient <pat@example.com>"]
    assert message.subject.startswith("Reminder: your appointment with Dr. Anil Mehta on ")
    local = timezone.localtime(appointment.start, doctor.clinic.tzinfo)
    assert f"{local:%H:%M}" in message.body and "IST (Asia/Kolkata)" in message.body
    assert "12 FC Road" in message.body and "Pune MH 411001" in message.body
    assert f"http://127.0.0.1:8000/appointments/{appointment.pk}/" in message.body
    ((html, kind),) = message.alternatives
    assert kind == "text/html" and f'href="http://127.0.0.1:8000/appointments/{appointment.pk}/"' in html
    ((name, ics, mimetype),) = message.attachments
    assert name == f"appointment-{appointment.pk}.ics" and "method=REQUEST" in mimetype
    (event,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert event["SEQUENCE"] == appointment.sequence
    reminder = Reminder.objects.get()
    assert (reminder.appointment_id, reminder.start, reminder.sent_at is not None) == (
        appointment.pk, appointment.start, True)


def test_the_reminder_carries_no_health_data(patient, doctor, admin_user, run):
    appointment = _book(patient, doctor, admin_user)
    Appointment.objects.filter(pk=appointment.pk).update(notes=CLINICAL_NOTE, note_for_patient="NOTE-EMU")
    run()
    (message,) = mail.outbox
    for secret in (REASON, ALLERGY, CLINICAL_NOTE, "NOTE-EMU"):
        assert secret not in _everything(message)


def test_a_cancelled_visit_gets_none(patient, doctor, admin_user, run):
    appointment = _book(patient, doctor, admin_user)
    with notifications_suppressed():
        services.appointment_cancel(appointment_id=appointment.pk, by=admin_user, reason="x")
    assert run() == "Queued 0 reminder(s)."
    assert mail.outbox == [] and not Reminder.objects.exists()


def test_a_patient_who_wants_no_reminders_gets_none_until_they_opt_in(patient, doctor, admin_user, run):
    _book(patient, doctor, admin_user)
    patient.wants_reminders = False
    patient.save(update_fields=["wants_reminders"])
    assert run() == "Queued 0 reminder(s)."
    assert mail.outbox == []
    patient.wants_reminders = True
    patient.save(update_fields=["wants_reminders"])
    assert run() == "Queued 1 reminder(s)."
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("hours", [0.5, 24.5, -2])
def test_a_visit_outside_the_window_gets_none(patient, doctor, admin_user, run, hours):
    """Within the hour (the booking mail and the calendar's alarm suffice), beyond 24 hours, or past."""
    appointment = _book(patient, doctor, admin_user, hours=5)
    Appointment.objects.filter(pk=appointment.pk).update(start=_hours_ahead(hours),
                                                         end=_hours_ahead(hours) + timedelta(minutes=30))
    assert run() == "Queued 0 reminder(s)."
    assert mail.outbox == []


def test_reminder_hours_before_sets_the_window(settings, patient, doctor, admin_user, run):
    _book(patient, doctor, admin_user, hours=30)
    assert run() == "Queued 0 reminder(s)."
    settings.REMINDER_HOURS_BEFORE = 48
    assert run() == "Queued 1 reminder(s)."
    assert len(mail.outbox) == 1


def test_a_pending_visit_is_reminded_that_it_waits_for_approval(clinic, patient, admin_user, run):
    approving = DoctorFactory(clinic=clinic, requires_approval=True)
    appointment = _book(patient, approving, admin_user)
    assert appointment.status == Appointment.Status.PENDING
    run()
    (message,) = mail.outbox
    assert "still waits for the doctor's approval" in message.body


def test_the_query_count_stays_flat_as_data_grows(clinic, admin_user):
    """Four queries whatever the number of visits (the enqueues aside)."""
    def queries_with(due: int) -> int:
        Reminder.objects.all().delete()
        for _ in range(due):
            _book(PatientFactory(), DoctorFactory(clinic=clinic), admin_user, hours=3)
        with CaptureQueriesContext(connection) as ctx:
            services.reminders_queue()  # its enqueues wait for a commit the test never makes
        return len(ctx.captured_queries)

    assert queries_with(1) == queries_with(6) == 4
    assert Reminder.objects.count() == 7


def test_a_task_run_twice_sends_once(patient, doctor, admin_user, run):
    run()
    _book(patient, doctor, admin_user)
    run()
    reminder = Reminder.objects.get()
    assert appointment_reminder_task.call(reminder_id=reminder.pk) is False
    assert len(mail.outbox) == 1


def test_a_send_that_fails_leaves_it_unsent_and_the_retry_sends_once(patient, doctor, admin_user, run):
    """A crash before the commit (here the mail server failing) rolls back the
    claim: the retry sends it, then nothing sends it again."""
    _book(patient, doctor, admin_user)
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=smtplib.SMTPServerDisconnected("down")):
        run()  # the immediate backend records the failure
    reminder = Reminder.objects.get()
    assert mail.outbox == [] and reminder.sent_at is None
    assert appointment_reminder_task.call(reminder_id=reminder.pk) is True
    assert appointment_reminder_task.call(reminder_id=reminder.pk) is False
    assert run() == "Queued 0 reminder(s)."
    assert len(mail.outbox) == 1


def test_a_lost_task_is_queued_again_after_an_hour_once(patient, doctor, admin_user, run):
    appointment = _book(patient, doctor, admin_user)
    lost = mock.Mock(**{"enqueue.side_effect": RuntimeError("queue down")})
    with mock.patch("scheduling.services.reminders.appointment_reminder_task", lost):
        assert run() == "Queued 1 reminder(s)."  # robust: logged, the command goes on
    assert mail.outbox == []
    assert run() == "Queued 0 reminder(s)."  # not yet an hour
    Reminder.objects.update(queued_at=timezone.now() - timedelta(minutes=61))
    assert run() == "Queued 1 reminder(s)."
    assert run() == "Queued 0 reminder(s)."
    (message,) = mail.outbox
    assert str(appointment.pk) in message.body


def test_a_reminder_that_never_goes_out_is_given_up_after_three_queueings(patient, doctor, admin_user, run):
    """A mail server refusing it every time: queued, re-queued twice an hour
    apart, then left unsent (the admin lists it) instead of hourly until the visit."""
    _book(patient, doctor, admin_user, hours=20)
    queued = []
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=smtplib.SMTPRecipientsRefused({})):
        for _ in range(5):
            queued.append(run())
            Reminder.objects.update(queued_at=timezone.now() - timedelta(minutes=61))
    assert queued == ["Queued 1 reminder(s)."] * 3 + ["Queued 0 reminder(s)."] * 2
    reminder = Reminder.objects.get()
    assert (reminder.queue_count, reminder.sent_at) == (3, None)
    assert mail.outbox == []


def test_staff_see_unsent_reminders_in_the_admin_and_cannot_edit_them(patient, doctor, admin_user, staff_client):
    sent, unsent = _book(patient, doctor, admin_user, hours=5), _book(patient, doctor, admin_user, hours=7)
    now = timezone.now()
    Reminder.objects.create(appointment=sent, start=sent.start, sequence=0, batch=uuid.uuid4(), sent_at=now)
    given_up = Reminder.objects.create(appointment=unsent, start=unsent.start, sequence=0, batch=uuid.uuid4(),
                                       queue_count=3)
    listing = staff_client.get("/admin/scheduling/reminder/?sent=no")
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [given_up]
    page = staff_client.get(f"/admin/scheduling/reminder/{given_up.pk}/change/")
    assert page.status_code == 200 and b'name="sent_at"' not in page.content
    assert staff_client.post(f"/admin/scheduling/reminder/{given_up.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Reminder.objects.count() == 2


# --- the database backend: queued now, sent later by a worker ------------------------


@pytest.fixture
def database_tasks(settings, transactional_db):
    settings.TASKS = DATABASE_TASKS


def _run_worker():
    call_command("db_worker", batch=True, no_startup_delay=True, reload=False, interval=0, verbosity=0)


def test_a_visit_moved_after_its_reminder_was_queued_gets_the_new_one_only(
    database_tasks, patient, doctor, admin_user
):
    appointment = _book(patient, doctor, admin_user, hours=5)
    assert _send_reminders() == "Queued 1 reminder(s)."
    new_slot = SlotFactory(doctor=doctor, start=_hours_ahead(9), duration_minutes=30)
    with notifications_suppressed():
        services.appointment_reschedule(appointment_id=appointment.pk, slot_id=new_slot.pk, by=admin_user)
    _run_worker()
    assert mail.outbox == []  # the queued one was for the old time
    assert not Reminder.objects.exists()
    assert _send_reminders() == "Queued 1 reminder(s)."
    _run_worker()
    (message,) = mail.outbox
    local = timezone.localtime(new_slot.start, doctor.clinic.tzinfo)
    assert f"{local:%H:%M}" in message.subject
    assert Reminder.objects.get().start == new_slot.start


def test_a_worker_retry_after_a_failed_send_sends_once(database_tasks, patient, doctor, admin_user):
    _book(patient, doctor, admin_user)
    _send_reminders()
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("connection refused")):
        _run_worker()
    first, retry = DBTaskResult.objects.order_by("enqueued_at")
    assert first.status == TaskResultStatus.FAILED and first.exception_class_path.endswith("MailRetryScheduled")
    assert Reminder.objects.get().sent_at is None
    DBTaskResult.objects.update(run_after=timezone.now())
    _run_worker()
    assert _send_reminders() == "Queued 0 reminder(s)."
    _run_worker()
    assert len(mail.outbox) == 1 and Reminder.objects.get().sent_at is not None
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists()  # nothing else waits


# --- real threads, real connections (SQLite and PostgreSQL) --------------------------


@pytest.mark.django_db(transaction=True)
def test_two_commands_at_once_send_each_reminder_once(clinic, admin_user):
    for _ in range(3):
        _book(PatientFactory(), DoctorFactory(clinic=clinic), admin_user, hours=4)
    outcomes = run_concurrently([services.reminders_queue] * 2)
    assert_errors_only(outcomes)
    assert sum(o.result for o in outcomes) == 3
    assert len(mail.outbox) == 3 and len({m.to[0] for m in mail.outbox}) == 3
    assert Reminder.objects.filter(sent_at__isnull=False).count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_reminders_task_at_once_send_it_once(patient, doctor, admin_user):
    _book(patient, doctor, admin_user)
    with mock.patch("scheduling.services.reminders.appointment_reminder_task"):
        services.reminders_queue()  # recorded, its task not enqueued
    reminder = Reminder.objects.get()
    outcomes = run_concurrently([lambda: appointment_reminder_task.call(reminder_id=reminder.pk)] * 2)
    assert_errors_only(outcomes)
    assert sorted(o.result for o in outcomes) == [False, True]
    assert len(mail.outbox) == 1
