"""Expire waitlist offers past their hold (run it every minute, e.g. from cron):
each one's held place is offered to the next patient waiting that day.

Accepting checks the time too, so a late patient never books an expired
offer; this makes sure the place moves on even when nobody comes back."""

from django.core.management.base import BaseCommand

from scheduling.services.waitlist import waitlist_expire_offers


class Command(BaseCommand):
    help = "Expire waitlist offers past their hold and offer their places to the next patients waiting."

    def handle(self, *args, **options):
        expired = waitlist_expire_offers()
        self.stdout.write(f"Expired {expired} waitlist offer(s).")
