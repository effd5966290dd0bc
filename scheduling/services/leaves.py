"""A doctor's time off. A leave makes no slot and closes nothing: generation
skips its hours, and booking refuses a slot inside it (SLOT_UNAVAILABLE), so
deleting the leave gives the free slots back as they were. Appointments
already booked inside a new leave stay until the doctor or staff cancel them
through the booking core (appointment_cancel), with a reason for the patient.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from clinics.models import Doctor
from healthsvc.db import retry_on_conflict
from healthsvc.exceptions import ApplicationError
from healthsvc.timezones import local_date_bounds, skipped_wall_time_message, wall_time_to_utc
from scheduling.exceptions import LeaveNotFoundError, ScheduleValidationError
from scheduling.models import Appointment, Leave
from scheduling.selectors import leave_appointments

from .lifecycle import appointment_cancel
from .locks import doctor_get_for_update
from .waitlist import waitlist_offer_days

MAX_LEAVE_DAYS = 366


def _invalid(field: str, message: str) -> ScheduleValidationError:
    return ScheduleValidationError(message, extra={"errors": {field: [message]}})


def _validate(*, start: datetime, end: datetime, reason: str) -> None:
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise _invalid("start" if timezone.is_naive(start) else "end", "Give the time with a UTC offset.")
    start, end = start.astimezone(UTC), end.astimezone(UTC)  # instants: no wall-time arithmetic
    if end <= start:
        raise _invalid("end", "The end must be after the start.")
    if end <= timezone.now():
        raise _invalid("end", "The leave is over already.")
    if end - start > timedelta(days=MAX_LEAVE_DAYS):
        raise _invalid("end", f"A leave lasts at most {MAX_LEAVE_DAYS} days; add another for longer.")
    if len(reason) > Leave._meta.get_field("reason").max_length:
        raise _invalid("reason", "At most 200 characters.")


def leave_bounds(
    *, tz: tzinfo, first_day: date, last_day: date | None = None, from_time: time | None = None,
    until_time: time | None = None,
) -> tuple[datetime, datetime]:
    """The instants a leave given in the clinic's calendar covers: whole days
    from `first_day` to `last_day` (inclusive), or from `from_time` on the first
    day until `until_time` on the last. Raises ScheduleValidationError for a
    wall time the clocks skip that day (a repeated one is its first occurrence)."""
    last_day = last_day or first_day
    start, _ = local_date_bounds(first_day, tz)
    _, end = local_date_bounds(last_day, tz)
    for field, day, wall in (("from_time", first_day, from_time), ("until_time", last_day, until_time)):
        if wall is None:
            continue
        instant = wall_time_to_utc(day, wall, tz)
        if instant is None:
            raise _invalid(field, skipped_wall_time_message(day, wall, str(tz)))
        if field == "from_time":
            start = instant
        else:
            end = instant
    if end <= start:
        raise _invalid("until_time", "The end must be after the start.")
    return start, end


@retry_on_conflict
@transaction.atomic
def leave_create(*, doctor: Doctor, start: datetime, end: datetime, reason: str = "", by: User | None = None) -> Leave:
    """Record time off. Locks the doctor, as bookings and generation do, so no
    booking lands inside the leave once it commits and no generation makes a
    slot inside it. Raises ScheduleValidationError."""
    _validate(start=start, end=end, reason=reason or "")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    doctor = doctor_get_for_update(doctor_id=doctor.pk)
    return Leave.objects.create(doctor=doctor, start=start, end=end, reason=reason or "", created_by=by)


@retry_on_conflict
@transaction.atomic
@transaction.atomic
def leave_delete(*, leave_id: int) -> None:
    """Remove a leave: its free slots can be booked again, and are offered to
    the patients waiting for those days. Locks the doctor. Raises LeaveNotFoundError."""
    leave = Leave.objects.filter(pk=leave_id).values("doctor_id", "start", "end").first()
    if leave is None:
        raise LeaveNotFoundError()
    doctor = doctor_get_for_update(doctor_id=leave["doctor_id"])
    if Leave.objects.filter(pk=leave_id).delete()[0]:
        tz = doctor.clinic.tzinfo
        waitlist_offer_days(doctor=doctor, date_from=timezone.localtime(leave["start"], tz).date(),
                            date_to=timezone.localtime(leave["end"], tz).date())


@dataclass(frozen=True)
class LeaveCancellation:
    """What leave_cancel_appointments did: the appointments cancelled and those
    the booking core refused (begun meanwhile, cancelled by someone else), with why."""

    cancelled: list[Appointment]
    refused: list[tuple[Appointment, ApplicationError]]


def leave_cancel_appointments(*, leave: Leave, by: User | None, reason: str) -> LeaveCancellation:
    """Cancel the active appointments inside a leave, each through the booking
    core (its own transaction and locks) with `reason` for the patient."""
    cancelled, refused = [], []
    for appointment in leave_appointments(leave=leave):
        try:
            cancelled.append(appointment_cancel(appointment_id=appointment.pk, by=by, reason=reason))
        except ApplicationError as exc:
            refused.append((appointment, exc))
    return LeaveCancellation(cancelled=cancelled, refused=refused)
