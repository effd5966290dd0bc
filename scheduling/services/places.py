"""The one writer of `AppointmentSlot.booked_count` and `held_count` (the
booking, lifecycle and waitlist services call it with the slot row locked)."""

from django.db import connection
from django.utils import timezone

from healthsvc.api.caching import catalogue_changed
from scheduling.models import AppointmentSlot


def _add(slot: AppointmentSlot, column: str, delta: int) -> None:
    # The database adds to the value it holds, not to our copy.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AppointmentSlot._meta.db_table} SET {column} = {column} + %s, updated_at = %s "
            "WHERE id = %s", [delta, connection.ops.adapt_datetimefield_value(timezone.now()), slot.pk])
    setattr(slot, column, getattr(slot, column) + delta)
    catalogue_changed(doctor_ids=[slot.doctor_id])


def change_booked_count(slot: AppointmentSlot, delta: int) -> None:
    """Add `delta` to a locked slot's booked places; the check constraint keeps
    booked + held places within 0..capacity whatever the caller believed."""
    _add(slot, "booked_count", delta)


def change_held_count(slot: AppointmentSlot, delta: int) -> None:
    """Add `delta` to a locked slot's places held for waitlist offers (the same
    constraint bounds them)."""
    _add(slot, "held_count", delta)
