"""Queue the reminders that are due (run it every few minutes from cron:
`*/5 * * * * python manage.py send_reminders`).

Safe to run as often as you like, and two copies at once: each reminder is
recorded and sent once (scheduling.services.reminders)."""

from django.core.management.base import BaseCommand

from scheduling.services import reminders_queue


class Command(BaseCommand):
    help = "Queue the appointment reminders that are due (REMINDER_HOURS_BEFORE hours ahead); each is sent once."

    def handle(self, *args, **options):
        queued = reminders_queue()
        self.stdout.write(f"Queued {queued} reminder(s).")
