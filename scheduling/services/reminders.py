"""Queue the reminders that are due: what `manage.py send_reminders` runs
from cron every few minutes.

A visit is due a reminder when it is active (pending or confirmed), its
patient wants reminders, it starts between an hour and
REMINDER_HOURS_BEFORE hours from now, and no reminder was made for its
current start. A visit booked within the window gets its reminder at the
next run; one starting within the hour gets none (its booking mail has just
told the patient, and the calendar invitation's own alarm rings an hour
before).

Exactly once: each reminder is a row, unique on (appointment, start), and a
run inserts them with INSERT ... ON CONFLICT DO NOTHING (SQLite: INSERT OR
IGNORE) under a batch id of its own. The rows that carry its batch id
afterwards are exactly the ones it inserted, so a second run, or a copy
running at the same time, queues nothing twice. The task itself is
idempotent too (notifications.reminder_send). A row whose task was lost
(the process died between the insert and the enqueue, a queue that could not
be written to) is queued again an hour later, by one run only: the UPDATE
that re-stamps it with the run's batch id re-checks `queued_at` under the
row lock. It is queued at most REMINDER_MAX_QUEUES times in all: a reminder
whose every try failed (a mail server refusing that address for hours) is
given up and stays unsent in the admin, rather than retried until the visit. A run's queries do not grow with the data: four, then one
enqueue per reminder queued.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from scheduling.models import Reminder
from scheduling.selectors import appointment_list_due_reminder
from scheduling.tasks import appointment_reminder_task

logger = logging.getLogger(__name__)

REMINDER_MIN_LEAD = timedelta(hours=1)  # no reminder for a visit closer than this
REMINDER_REQUEUE_AFTER = timedelta(hours=1)  # longer than a task's retries (2+4+8+16 minutes)
REMINDER_MAX_QUEUES = 3  # the first queueing and two re-queues, each with the task's own retries


def reminders_queue() -> int:
    """Record and enqueue the due reminders (and re-enqueue lost ones); the
    number enqueued. Locks nothing beyond the rows it writes; the tasks are
    enqueued once the rows are committed."""
    now = timezone.now()
    batch = uuid.uuid4()
    # Lost tasks first. A concurrent run's UPDATE waits on these row locks,
    # then re-checks queued_at, finds it fresh and takes none of them.
    lost = Reminder.objects.filter(sent_at__isnull=True, queued_at__lte=now - REMINDER_REQUEUE_AFTER, start__gt=now)
    requeued = lost.filter(queue_count__lt=REMINDER_MAX_QUEUES).update(
        batch=batch, queued_at=now, queue_count=F("queue_count") + 1
    )
    if requeued:
        logger.warning("Re-queued %s reminder(s) whose task was lost.", requeued)
    due = appointment_list_due_reminder(
        start_after=now + REMINDER_MIN_LEAD, start_until=now + timedelta(hours=settings.REMINDER_HOURS_BEFORE)
    )
    # ON CONFLICT DO NOTHING: a reminder another run inserted first keeps that
    # run's batch id (on PostgreSQL this insert waits for its commit).
    Reminder.objects.bulk_create(
        [Reminder(appointment_id=pk, start=start, sequence=sequence, batch=batch, created_at=now, queued_at=now)
         for pk, start, sequence in due],
        ignore_conflicts=True,
    )
    ids = list(Reminder.objects.filter(batch=batch).order_by("start").values_list("pk", flat=True))
    for reminder_id in ids:
        # robust: a reminder the queue refuses is logged (and re-queued in an hour); the others still go.
        transaction.on_commit(
            lambda reminder_id=reminder_id: appointment_reminder_task.enqueue(reminder_id=reminder_id), robust=True
        )
    return len(ids)
