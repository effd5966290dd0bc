"""Background tasks (django-tasks, which is Django 6's django.tasks): the
appointment emails and the waitlist's offers.

The services call notify() inside their transaction; it enqueues one task
per recipient only when that transaction commits, so a booking that rolls
back sends nothing, and a slow mail server never holds a booking's locks.
A task gets ids, never objects, and builds the mail from the database when
it runs (scheduling.notifications).

A mail that fails to send (SMTP or network error) is enqueued again with
`run_after` 2, 4, 8, 16 minutes later, up to settings.NOTIFICATION_MAX_ATTEMPTS
attempts; each failed attempt is recorded as failed (admin: Tasks), the
retry queued beside it. The immediate backend cannot defer a task, so there
a failure is recorded (and logged) once, without a retry.
"""

import contextlib
import contextvars
import logging
import smtplib
import time
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from audit.context import audit_context
from scheduling.models import Appointment, WaitlistEntry

from . import notifications

logger = logging.getLogger(__name__)

_suppressed = contextvars.ContextVar("notifications_suppressed", default=False)


class MailRetryScheduled(Exception):
    """This attempt failed and another is queued: the record says so."""


def retry_delay(attempt: int) -> timedelta:
    """How long after the `attempt`-th failure the next try waits: 2^attempt minutes."""
    return timedelta(minutes=2 ** attempt)


def _send_or_retry(task_, send, *, attempt: int, **kwargs):
    """Run `send(**kwargs)`; on an SMTP or network error enqueue `task_` again
    with `run_after` retry_delay(attempt) later (up to NOTIFICATION_MAX_ATTEMPTS,
    on a backend that can defer) and record this attempt failed with
    MailRetryScheduled; the last attempt's own error is what stays recorded."""
    try:
        with audit_context(entry_point="task", request=None):
            return send(**kwargs)
    except (smtplib.SMTPException, OSError) as exc:
        if attempt >= settings.NOTIFICATION_MAX_ATTEMPTS or not task_.get_backend().supports_defer:
            raise
        run_after = timezone.now() + retry_delay(attempt)
        task_.using(run_after=run_after).enqueue(**kwargs, attempt=attempt + 1)
        raise MailRetryScheduled(
            f"Attempt {attempt} failed ({exc.__class__.__name__}: {exc}); next at {run_after:%Y-%m-%d %H:%M} UTC."
        ) from exc


@task()
def appointment_notice_task(*, appointment_id: int, event: str, recipient: str, sequence: int, attempt: int = 1):
    return _send_or_retry(
        appointment_notice_task, notifications.appointment_notice_send, attempt=attempt,
        appointment_id=appointment_id, event=event, recipient=recipient, sequence=sequence,
    )


@task()
def appointment_reminder_task(*, reminder_id: int, attempt: int = 1):
    """Send one reminder; idempotent (notifications.reminder_send), so a
    retry or a second copy of the task sends nothing more. Retried on SMTP
    errors like the notices."""
    return _send_or_retry(appointment_reminder_task, notifications.reminder_send, attempt=attempt,
                          reminder_id=reminder_id)


def tasks_requeue_lost(*, now=None) -> int:
    """Put back in the queue the database backend's tasks that a worker took
    and never finished: still `RUNNING` TASK_LOST_AFTER_MINUTES after they
    started, because that worker was killed (SIGKILL, out of memory, its
    machine gone) or its database connection died. A worker stopped with
    SIGTERM finishes its task first and loses none. Each task here sends
    at most one mail and checks, when it runs again, whether that mail is
    still due (the reminder's row, the appointment's sequence, the offer's
    status), so running it again is safe. One UPDATE: two copies of the
    command at once requeue each task once. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.TASK_LOST_AFTER_MINUTES)
    lost = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
    count = lost.update(status=TaskResultStatus.READY, started_at=None)
    if count:
        logger.warning("Re-queued %s task(s) lost with their worker.", count)
    return count


@contextlib.contextmanager
def notifications_suppressed():
    """No mail from what runs inside (seed_demo's hundreds of bookings)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def notify(appointment: Appointment, event: str, *, by: User | None = None) -> None:
    """Queue the event's mails once the current transaction commits.

    The sequence is taken now: a task that finds the appointment changed
    again by the time it runs sends nothing (the later change has its own
    mail). `robust`: a queue that cannot be written to is logged, and the
    booking, committed already, still succeeds."""
    if _suppressed.get():
        return
    sequence = appointment.sequence
    for recipient in notifications.recipients_for(event, by=by):
        enqueue_on_commit(appointment_notice_task, appointment_id=appointment.pk, event=event, recipient=recipient,
                          sequence=sequence)


def enqueue_on_commit(task_, **kwargs) -> None:
    """Enqueue `task_` once the current transaction commits (`robust`: a queue
    that cannot be written to is logged, and the change, committed already,
    still succeeds).

    The change is committed by then, so its mail must not be lost with the
    connection: one that died between the COMMIT and the queue's INSERT (a
    terminated backend, a reset; the fault drill makes both) is dropped and
    the task queued on a fresh one. Were the first INSERT to have landed after
    all, the mail goes twice: as with reminders, a rare second mail over a
    lost one. With the database itself away (a restart: the fault drill's
    takes 3 s) it tries again, 0.1 s, 0.2 s, 0.4 s ... apart, for up to
    TASK_ENQUEUE_RETRY_SECONDS, holding this request that long rather than
    losing the mail; after that the loss is logged."""
    def enqueue():
        deadline = time.monotonic() + settings.TASK_ENQUEUE_RETRY_SECONDS
        pause = 0.1
        while True:
            try:
                return task_.enqueue(**kwargs)
            except (OperationalError, InterfaceError) as exc:
                if time.monotonic() + pause > deadline:
                    raise
                logger.warning("Queueing %s failed (%s); again on a new connection.", task_.name, exc)
                connection.close()
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    transaction.on_commit(enqueue, robust=True)


@task()
def waitlist_offer_task(*, entry_id: int, slot_id: int):
    """Mail a waitlist offer. An SMTP failure is recorded failed, not retried:
    the hold runs out within minutes and the next patient gets their own mail."""
    with audit_context(entry_point="task", request=None):
        return notifications.waitlist_offer_send(entry_id=entry_id, slot_id=slot_id)


def waitlist_offer_notify(entry: WaitlistEntry) -> None:
    """Queue the offer's mail once the current transaction commits (as notify())."""
    if _suppressed.get():
        return
    enqueue_on_commit(waitlist_offer_task, entry_id=entry.pk, slot_id=entry.offered_slot_id)
