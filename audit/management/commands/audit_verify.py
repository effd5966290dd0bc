"""Check the audit trail's hash chain: `python manage.py audit_verify`.

Exits 0 and says how many rows it checked when the chain holds; otherwise
names the first bad row (and how many problems it found in all) and exits 1,
so cron or a monitoring job can alert on it."""

from django.core.management.base import BaseCommand, CommandError

from audit.chain import chain_problems
from audit.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; name the first edited, deleted or inserted row."

    def handle(self, *args, **options):
        problems = list(chain_problems())
        if problems:
            first = problems[0]
            where = f"row #{first.event_id}" if first.event_id is not None else "the end of the chain"
            raise CommandError(f"Audit chain broken at {where}: {first.what}. "
                               f"{len(problems)} problem(s) in all.")
        self.stdout.write(f"Audit chain verified: {AuditEvent.objects.count()} row(s), no break.")
