"""Put back in the queue the background tasks lost with a worker that died
mid-task (run it every 5 minutes, e.g. from cron, beside `db_worker`).

django-tasks-db marks a task RUNNING when a worker takes it and finished
when it ends; a worker killed in between leaves it RUNNING for ever, its
mail never sent. This makes it READY again once it has been running for
TASK_LOST_AFTER_MINUTES, and the next free worker runs it."""

from django.core.management.base import BaseCommand

from scheduling.tasks import tasks_requeue_lost


class Command(BaseCommand):
    help = "Re-queue background tasks left running by a worker that died."

    def handle(self, *args, **options):
        self.stdout.write(f"Re-queued {tasks_requeue_lost()} lost task(s).")
