"""Keep every doctor's slots made from their weekly hours for the days ahead.

Meant for a daily cron (`python manage.py generate_slots --days 28`): each run
adds the new day at the end of the window; the days already made are left as
they are (idempotent), so running it twice, or on two servers, is harmless.
"""

from django.core.management.base import BaseCommand, CommandError

from scheduling.services import slots_generate_ahead
from scheduling.services.availability import MAX_GENERATE_DAYS


class Command(BaseCommand):
    help = "Make slots from every doctor's weekly hours for the next N days (idempotent; for a daily cron)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=28,
                            help=f"How many days from today, in each clinic's own calendar (1..{MAX_GENERATE_DAYS}).")

    def handle(self, *args, days: int, **options):
        if not 1 <= days <= MAX_GENERATE_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_GENERATE_DAYS}.")
        results = slots_generate_ahead(days=days)
        for doctor, result in results.items():
            self.stdout.write(f"  Dr. {doctor.user.name} ({doctor.clinic.timezone}): "
                              f"{result.created} created, {result.skipped} skipped")
        created = sum(r.created for r in results.values())
        self.stdout.write(self.style.SUCCESS(f"{created} slot(s) created for {len(results)} doctor(s)."))
