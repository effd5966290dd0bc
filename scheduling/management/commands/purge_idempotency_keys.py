"""Delete Idempotency-Key records past their 24-hour life (run it daily, e.g. from cron).

Expired keys already count as absent when a request arrives; this only keeps
the table small."""

from django.core.management.base import BaseCommand

from scheduling.services import idempotency_keys_purge_expired


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key responses older than 24 hours."

    def handle(self, *args, **options):
        deleted = idempotency_keys_purge_expired()
        self.stdout.write(f"Deleted {deleted} expired idempotency key(s).")
