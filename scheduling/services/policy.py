"""The clinic's booking policy (clinics.models.BookingPolicy), as the booking
core enforces it. Patients meet it; staff and doctors do not (they book the
walk-in at ten minutes' notice and cancel on the patient's behalf by phone).

These checks run inside the booking transactions, under the patient lock, so
the count of a patient's future visits cannot change between check and write.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from accounts.models import Patient, User
from clinics.models import Clinic
from healthsvc.timezones import local_date_bounds
from scheduling.exceptions import (
    BookingLimitReachedError,
    BookingTooFarError,
    BookingTooSoonError,
    CancellationWindowPassedError,
)
from scheduling.models import Appointment, AppointmentSlot


def policy_exempt(by: User | None) -> bool:
    """Staff and doctors act outside the policy; patients, and callers who name
    nobody, are held to it."""
    return by is not None and by.role in (User.Role.ADMIN, User.Role.DOCTOR)


def bookable_window(clinic: Clinic, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[earliest, latest) start a patient may book at this clinic: `min_notice`
    from now, up to the end of the local day `booking_horizon_days` ahead."""
    now = now or timezone.now()
    policy = clinic.booking_policy
    last_day = timezone.localtime(now, clinic.tzinfo).date() + timedelta(days=policy.booking_horizon_days)
    _, latest = local_date_bounds(last_day, clinic.tzinfo)
    return now + timedelta(minutes=policy.min_notice_minutes), latest


def change_deadline(appointment: Appointment) -> datetime:
    """The last moment a patient may cancel or move this appointment themselves."""
    return appointment.start - timedelta(minutes=appointment.clinic.booking_policy.cancellation_window_minutes)


def policy_check_booking(
    *, slot: AppointmentSlot, patient: Patient, by: User | None, exclude_id: int | None = None
) -> None:
    """Notice, horizon and the cap on a patient's future visits at the slot's
    clinic. Raises BookingTooSoonError, BookingTooFarError, BookingLimitReachedError."""
    if policy_exempt(by):
        return
    now = timezone.now()
    earliest, latest = bookable_window(slot.clinic, now=now)
    if slot.start < earliest:
        raise BookingTooSoonError()
    if slot.start >= latest:
        raise BookingTooFarError()
    held = (
        Appointment.objects.filter(patient=patient, clinic=slot.clinic, status__in=Appointment.ACTIVE_STATUSES,
                                   start__gt=now)
        .exclude(pk=exclude_id)
        .count()
    )
    if held >= slot.clinic.booking_policy.max_active_bookings_per_patient:
        raise BookingLimitReachedError()


def policy_check_change(*, appointment: Appointment, by: User | None) -> None:
    """A patient may cancel or move a visit only until its clinic's cancellation
    window begins. Raises CancellationWindowPassedError."""
    if not policy_exempt(by) and timezone.now() > change_deadline(appointment):
        raise CancellationWindowPassedError()
