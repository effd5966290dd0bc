"""Each booking event mails the right people, once its transaction commits,
with the calendar invitation, the clinic's time and zone, and no health data."""

import smtplib
from datetime import UTC, datetime, timedelta
from unittest import mock

import icalendar
import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.exceptions import SlotFullError
from scheduling.models import Appointment
from scheduling.notifications import NOTICES
from scheduling.tasks import MailRetryScheduled, appointment_notice_task, notifications_suppressed
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

REASON = "ZEBRA-REASON-FOR-VISIT"
ALLERGY = "PEANUT-ALLERGY-7731"
CLINICAL_NOTE = "CLINICAL-NOTE-QUOKKA"
INTERNAL = "INTERNAL-NOTE-WOMBAT"
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def clinic(db):
    return ClinicFactory(name="Heart Care", address="12 FC Road", city="Pune", state="MH", zip_code="411001",
                         timezone="Asia/Kolkata", phone="+91 20 5555 0101")


@pytest.fixture
def doctor(clinic):
    return DoctorFactory(clinic=clinic, specialty="Cardiology", user__name="Anil Mehta",
                         user__email="mehta@example.com")


@pytest.fixture
def approving_doctor(clinic):
    return DoctorFactory(clinic=clinic, requires_approval=True, user__name="Rita Rao", user__email="rao@example.com")


@pytest.fixture
def patient(db):
    return PatientFactory(user__name="Pat Patient", user__email="pat@example.com", allergies=ALLERGY)


def _slot(doctor, day=1):
    # 04:30 UTC is 10:00 in Pune (IST, UTC+5:30).
    return SlotFactory(doctor=doctor, start=datetime(2030, 3, day, 4, 30, tzinfo=UTC), duration_minutes=45)


def _book(patient, doctor, admin_user, day=1):
    # Years ahead, beyond what a patient may book online: staff book it.
    return services.appointment_book(patient=patient, slot_id=_slot(doctor, day).pk, reason=REASON,
                                     booked_by=admin_user)


def _to(message) -> str:
    return message.to[0]


def _invitation(message) -> icalendar.Calendar | None:
    files = [a for a in message.attachments if a[0].endswith(".ics")]
    assert len(files) <= 1
    return icalendar.Calendar.from_ical(files[0][1]) if files else None


def _html(message) -> str:
    ((html, kind),) = message.alternatives
    assert kind == "text/html"
    return html


def _everything(message) -> str:
    parts = [message.subject, message.body, _html(message)]
    parts += [a[1] if isinstance(a[1], str) else a[1].decode() for a in message.attachments]
    return "\n".join(parts)


@pytest.fixture
def booked(patient, doctor, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = _book(patient, doctor, admin_user)
    mail.outbox.clear()
    return appointment


def test_a_confirmed_booking_mails_the_patient_with_the_invitation_and_the_doctor(
    patient, doctor, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = _book(patient, doctor, admin_user)
    assert sorted(_to(m) for m in mail.outbox) == ["Anil Mehta <mehta@example.com>", "Pat Patient <pat@example.com>"]
    to_patient = next(m for m in mail.outbox if "pat@example.com" in _to(m))
    assert "booked and confirmed" in to_patient.body
    assert "Friday 1 March 2030, 10:00–10:45 IST (Asia/Kolkata)" in to_patient.body
    assert "Fri 1 Mar 2030, 10:00 IST" in to_patient.subject
    assert "12 FC Road" in to_patient.body and "Pune MH 411001" in to_patient.body
    assert f"http://127.0.0.1:8000/appointments/{appointment.pk}/" in to_patient.body
    assert f'href="http://127.0.0.1:8000/appointments/{appointment.pk}/"' in _html(to_patient)
    assert "IST (Asia/Kolkata)" in _html(to_patient)
    invitation = _invitation(to_patient)
    assert invitation["METHOD"] == "REQUEST"
    (event,) = invitation.walk("VEVENT")
    assert event["UID"] == f"appointment-{appointment.pk}@healthsvc" and event["SEQUENCE"] == 0
    assert "method=REQUEST" in to_patient.attachments[0][2]

    to_doctor = next(m for m in mail.outbox if "mehta@example.com" in _to(m))
    assert "Pat Patient booked a visit with you." in to_doctor.body
    assert f"http://127.0.0.1:8000/doctor/appointments/{appointment.pk}/" in to_doctor.body
    assert _invitation(to_doctor) is None


def test_site_url_makes_the_links(settings, patient, doctor, admin_user, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://clinic.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        appointment = _book(patient, doctor, admin_user)
    assert all("https://clinic.example.com/" in m.body for m in mail.outbox)
    assert any(f"https://clinic.example.com/appointments/{appointment.pk}/" in m.body for m in mail.outbox)


def test_a_pending_booking_says_it_waits_for_approval(
    patient, approving_doctor, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _book(patient, approving_doctor, admin_user)
    to_patient = next(m for m in mail.outbox if "pat@example.com" in _to(m))
    to_doctor = next(m for m in mail.outbox if "rao@example.com" in _to(m))
    assert len(mail.outbox) == 2
    assert "waiting for the doctor's approval" in to_patient.body
    (event,) = _invitation(to_patient).walk("VEVENT")
    assert event["STATUS"] == "TENTATIVE"
    assert "it waits for your approval" in to_doctor.body


def test_approval_mails_the_patient_only_with_the_next_sequence(
    patient, approving_doctor, admin_user, django_capture_on_commit_callbacks
):
    pending = _book(patient, approving_doctor, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_confirm(appointment_id=pending.pk, by=approving_doctor.user)
    (message,) = mail.outbox
    assert "pat@example.com" in _to(message) and message.subject.startswith("Confirmed:")
    (event,) = _invitation(message).walk("VEVENT")
    assert event["SEQUENCE"] == 1 and event["STATUS"] == "CONFIRMED"


def test_a_decline_mails_the_patient_the_reason_and_withdraws_the_invitation(
    patient, approving_doctor, admin_user, django_capture_on_commit_callbacks
):
    pending = _book(patient, approving_doctor, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_decline(appointment_id=pending.pk, by=approving_doctor.user, reason="Fully booked, sorry")
    (message,) = mail.outbox
    assert message.subject.startswith("Declined:") and "Fully booked, sorry" in message.body
    assert _invitation(message)["METHOD"] == "CANCEL"


def test_the_patient_cancelling_mails_both_saying_who(booked, patient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(appointment_id=booked.pk, by=patient.user, reason="Feeling better")
    to_patient = next(m for m in mail.outbox if "pat@example.com" in _to(m))
    to_doctor = next(m for m in mail.outbox if "mehta@example.com" in _to(m))
    assert len(mail.outbox) == 2
    assert "cancelled by you" in to_patient.body
    assert "cancelled by the patient" in to_doctor.body
    invitation = _invitation(to_patient)
    (event,) = invitation.walk("VEVENT")
    assert invitation["METHOD"] == "CANCEL" and event["SEQUENCE"] == 1
    assert "method=CANCEL" in to_patient.attachments[0][2]


def test_the_doctor_cancelling_mails_the_patient_only(booked, doctor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(appointment_id=booked.pk, by=doctor.user, reason="Called away", internal_note=INTERNAL)
    (message,) = mail.outbox
    assert "pat@example.com" in _to(message)
    assert "cancelled by Dr. Anil Mehta" in message.body and "Reason: Called away" in message.body
    assert INTERNAL not in _everything(message)


def test_the_clinic_cancelling_mails_both(booked, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(appointment_id=booked.pk, by=admin_user, reason="Power cut",
                                    internal_note=INTERNAL)
    assert len(mail.outbox) == 2
    assert all("cancelled by the clinic" in m.body for m in mail.outbox)
    assert all(INTERNAL not in _everything(m) for m in mail.outbox)


def test_a_reschedule_mails_the_patient_the_new_time_and_invitation(
    booked, doctor, admin_user, django_capture_on_commit_callbacks
):
    later = _slot(doctor, day=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(appointment_id=booked.pk, slot_id=later.pk, by=admin_user)
    message, to_doctor = sorted(mail.outbox, key=lambda m: _to(m) != "Pat Patient <pat@example.com>")
    assert _to(to_doctor) == "Anil Mehta <mehta@example.com>" and _invitation(to_doctor) is None
    assert to_doctor.subject == "Moved: Pat Patient's visit, now Sat 2 Mar 2030, 10:00 IST"
    assert "has moved to the time below" in to_doctor.body and REASON not in _everything(to_doctor)
    assert message.subject.startswith("Moved:") and "Saturday 2 March 2030, 10:00–10:45 IST" in message.body
    invitation = _invitation(message)
    (event,) = invitation.walk("VEVENT")
    assert invitation["METHOD"] == "REQUEST" and event["SEQUENCE"] == 1
    assert event["UID"] == f"appointment-{booked.pk}@healthsvc"
    assert event.decoded("DTSTART") == datetime(2030, 3, 2, 4, 30, tzinfo=UTC)


def test_a_rolled_back_booking_sends_nothing(patient, doctor, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            _book(patient, doctor, admin_user)
            raise RuntimeError("something later in the same transaction failed")
    assert callbacks == [] and mail.outbox == []
    assert not Appointment.objects.exists()


def test_a_refused_booking_sends_nothing(booked, doctor, admin_user, django_capture_on_commit_callbacks):
    other = PatientFactory()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(SlotFullError):
        services.appointment_book(patient=other, slot_id=booked.slot_id, booked_by=admin_user)
    assert mail.outbox == []


def test_nothing_is_sent_before_the_commit(patient, doctor, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _book(patient, doctor, admin_user)
        assert mail.outbox == []
    assert len([c for c in callbacks if c.__qualname__.startswith("enqueue_on_commit.")]) == 2  # one task per recipient
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 2


def test_no_email_carries_health_data(
    patient, doctor, approving_doctor, admin_user, django_capture_on_commit_callbacks
):
    """Reason for visit, allergies, clinical note, note for the patient, the
    internal note: none of it in any mail of any event, nor in the invitation."""
    def step(service, **kwargs):
        # One commit per step, as in real life (a notice of an older version is dropped).
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    first = step(_book, patient=patient, doctor=doctor, admin_user=admin_user)
    step(services.appointment_set_outcome, appointment_id=first.pk, notes=CLINICAL_NOTE,
         note_for_patient="NOTE-FOR-PATIENT-EMU", by=admin_user)
    step(services.appointment_reschedule, appointment_id=first.pk, slot_id=_slot(doctor, day=3).pk, by=admin_user)
    step(services.appointment_cancel, appointment_id=first.pk, by=admin_user, reason="Sorry", internal_note=INTERNAL)
    pending = step(_book, patient=patient, doctor=approving_doctor, admin_user=admin_user, day=4)
    step(services.appointment_confirm, appointment_id=pending.pk, by=admin_user)
    declined = step(_book, patient=patient, doctor=approving_doctor, admin_user=admin_user, day=5)
    step(services.appointment_decline, appointment_id=declined.pk, by=admin_user, reason="No")
    events = {(m.subject.split(":")[0]) for m in mail.outbox}
    assert len(mail.outbox) == 12 and {"Moved", "Cancelled", "Confirmed", "Declined"} <= events
    for message in mail.outbox:
        text = _everything(message)
        for secret in (REASON, ALLERGY, CLINICAL_NOTE, "NOTE-FOR-PATIENT-EMU", INTERNAL):
            assert secret not in text, (message.subject, secret)


def test_every_notice_has_its_templates(booked):
    """A notice without its templates would fail only when its event happens."""
    from scheduling.notifications import appointment_message

    for event, recipient in NOTICES:
        message = appointment_message(booked, event=event, recipient=recipient)
        assert message.subject.strip() and message.body.strip() and _html(message).strip()


def test_seeding_sends_no_mail(patient, doctor, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), notifications_suppressed():
        _book(patient, doctor, admin_user)
    assert mail.outbox == []


def test_the_doctor_moving_a_visit_mails_the_patient_only(booked, doctor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reschedule(appointment_id=booked.pk, slot_id=_slot(doctor, day=2).pk, by=doctor.user)
    assert [_to(m) for m in mail.outbox] == ["Pat Patient <pat@example.com>"]


@pytest.mark.parametrize("change", ["approved", "moved"])
def test_the_doctor_hears_of_a_booking_changed_before_the_worker_ran(
    change, patient, approving_doctor, admin_user, django_capture_on_commit_callbacks
):
    """The patient's stale notice (an older invitation) is dropped; the
    doctor's news of the booking is not, and tells the visit as it is now."""
    with django_capture_on_commit_callbacks(execute=False) as booking_mails:
        appointment = _book(patient, approving_doctor, admin_user)
    if change == "approved":
        services.appointment_confirm(appointment_id=appointment.pk, by=admin_user)
    else:
        services.appointment_reschedule(appointment_id=appointment.pk, slot_id=_slot(approving_doctor, 2).pk, by=admin_user)
    for callback in booking_mails:  # the worker runs the booking's tasks only now
        callback()
    (message,) = mail.outbox
    assert _to(message) == "Rita Rao <rao@example.com>" and message.subject.startswith("New booking on ")
    expected = "Friday 1 March 2030" if change == "approved" else "Saturday 2 March 2030"
    assert expected in message.body
    assert ("waits for your approval" in message.body) is (change == "moved")


def test_the_doctor_hears_nothing_of_a_booking_cancelled_before_the_worker_ran(
    patient, doctor, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as booking_mails:
        appointment = _book(patient, doctor, admin_user)
    services.appointment_cancel(appointment_id=appointment.pk, by=patient.user, reason="")
    for callback in booking_mails:
        callback()
    assert mail.outbox == []  # its own cancellation mails were not run here either


def test_a_notice_for_an_older_version_is_not_sent(booked, admin_user):
    services.appointment_cancel(appointment_id=booked.pk, by=admin_user, reason="x")
    result = appointment_notice_task.enqueue(appointment_id=booked.pk, event="booked", recipient="patient",
                                             sequence=0)
    assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value is False
    assert mail.outbox == []


def test_a_failed_send_on_the_immediate_backend_is_recorded_not_raised(
    patient, doctor, admin_user, django_capture_on_commit_callbacks
):
    """The booking stands: the immediate backend records the failure (and
    logs it); it cannot defer a retry."""
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=smtplib.SMTPServerDisconnected("down")):
        with django_capture_on_commit_callbacks(execute=True):
            appointment = _book(patient, doctor, admin_user)
    assert Appointment.objects.filter(pk=appointment.pk).exists()
    assert mail.outbox == []


# --- the database backend: the queue the workers share ------------------------------


@pytest.fixture
def database_tasks(settings, transactional_db):
    """The database backend, with real commits: the worker, as in production,
    opens and closes its own connections and transactions."""
    settings.TASKS = DATABASE_TASKS


def _run_worker():
    call_command("db_worker", batch=True, no_startup_delay=True, reload=False, interval=0, verbosity=0)


def test_the_database_backend_queues_the_mails_for_the_worker(
    database_tasks, patient, doctor, admin_user
):
    _book(patient, doctor, admin_user)  # commits: the tasks are in the queue
    assert mail.outbox == []
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 2
    _run_worker()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 2
    assert len(mail.outbox) == 2


def test_a_failed_send_is_retried_with_backoff_then_recorded_failed(
    database_tasks, patient, doctor, admin_user, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    with notifications_suppressed():
        appointment = _book(patient, doctor, admin_user)
    appointment_notice_task.enqueue(appointment_id=appointment.pk, event="booked", recipient="patient", sequence=0)
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=smtplib.SMTPServerDisconnected("down")):
        for attempt in (1, 2, 3):
            before = timezone.now()
            _run_worker()
            latest = DBTaskResult.objects.order_by("-enqueued_at").first()
            if attempt < 3:
                # The failed attempt is recorded, the next one waits 2^attempt minutes.
                assert latest.status == TaskResultStatus.READY
                assert latest.args_kwargs["kwargs"]["attempt"] == attempt + 1
                wait = latest.run_after - before
                assert timedelta(minutes=2 ** attempt) - timedelta(seconds=5) <= wait <= timedelta(
                    minutes=2 ** attempt, seconds=5)
                DBTaskResult.objects.filter(pk=latest.pk).update(run_after=timezone.now())  # time passes
    results = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert [r.status for r in results] == [TaskResultStatus.FAILED] * 3  # nothing queued after the last
    assert [r.exception_class_path.rsplit(".", 1)[-1] for r in results] == [
        "MailRetryScheduled", "MailRetryScheduled", "SMTPServerDisconnected"]
    assert mail.outbox == []


def test_a_retry_that_succeeds_sends_once(database_tasks, patient, doctor, admin_user):
    with notifications_suppressed():
        appointment = _book(patient, doctor, admin_user)
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("connection refused")):
        with pytest.raises(MailRetryScheduled):
            appointment_notice_task.call(appointment_id=appointment.pk, event="booked", recipient="patient",
                                         sequence=0)
    DBTaskResult.objects.update(run_after=timezone.now())
    _run_worker()
    assert len(mail.outbox) == 1
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_staff_see_failed_tasks_in_the_admin(database_tasks, staff_client):
    failed = DBTaskResult.objects.create(task_path="scheduling.tasks.appointment_notice_task", backend_name="default",
                                         args_kwargs={"args": [], "kwargs": {}}, status=TaskResultStatus.FAILED)
    listing = staff_client.get("/admin/django_tasks_database/dbtaskresult/?status__exact=FAILED")
    assert listing.status_code == 200 and str(failed.pk) in listing.content.decode()


def test_a_patient_cannot_see_the_task_admin(client, patient):
    client.force_login(patient.user)
    response = client.get("/admin/django_tasks_database/dbtaskresult/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_admins_cancel_keeps_the_internal_note_out_of_the_patients_email(
    booked, staff_client, django_capture_on_commit_callbacks
):
    url = "/admin/scheduling/appointment/"
    ask = staff_client.post(url, {"action": "cancel_appointments", "_selected_action": [booked.pk]})
    assert "Shown to the patient" in ask.content.decode() and "never shown or mailed" in ask.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(url, {"action": "cancel_appointments", "_selected_action": [booked.pk], "confirm": "yes",
                                "reason": "The doctor is unwell", "internal_note": INTERNAL})
    booked.refresh_from_db()
    assert (booked.cancelled_reason, booked.cancelled_internal_note) == ("The doctor is unwell", INTERNAL)
    to_patient = next(m for m in mail.outbox if "pat@example.com" in _to(m))
    assert "The doctor is unwell" in to_patient.body and "cancelled by the clinic" in to_patient.body
    assert all(INTERNAL not in _everything(m) for m in mail.outbox)


def test_the_doctors_portal_cancel_keeps_the_internal_note_internal(
    booked, doctor, client, django_capture_on_commit_callbacks
):
    client.force_login(doctor.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/doctor/appointments/{booked.pk}/cancel/", {"reason": "Called to theatre",
                                                                   "internal_note": INTERNAL})
    booked.refresh_from_db()
    assert booked.status == "cancelled" and booked.cancelled_internal_note == INTERNAL
    (message,) = mail.outbox
    assert "Called to theatre" in message.body and INTERNAL not in _everything(message)
