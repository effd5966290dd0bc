"""The one writer of `AppointmentSlot.booked_count` (the booking and lifecycle
services call it with the slot row locked)."""

from django.db.models import F
from django.utils import timezone

from scheduling.models import AppointmentSlot


def change_booked_count(slot: AppointmentSlot, delta: int) -> None:
    """Add `delta` to a locked slot's booked places; the check constraint keeps
    the result within 0..capacity whatever the caller believed."""
    # F() so the database adds to the value it holds, not to our copy.
    AppointmentSlot.objects.filter(pk=slot.pk).update(booked_count=F("booked_count") + delta, updated_at=timezone.now())
    slot.booked_count += delta
