"""The one writer of `AppointmentSlot.booked_count` (the booking and lifecycle
services call it with the slot row locked)."""

from django.db import connection
from django.utils import timezone

from healthsvc.api.caching import catalogue_changed
from scheduling.models import AppointmentSlot


def change_booked_count(slot: AppointmentSlot, delta: int) -> None:
    """Add `delta` to a locked slot's booked places; the check constraint keeps
    the result within 0..capacity whatever the caller believed."""
    # The database adds to the value it holds, not to our copy.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AppointmentSlot._meta.db_table} SET booked_count = booked_count + %s, updated_at = %s "
            "WHERE id = %s", [delta, connection.ops.adapt_datetimefield_value(timezone.now()), slot.pk])
    slot.booked_count += delta
    catalogue_changed(doctor_ids=[slot.doctor_id])
