"""The clinic's booking policy (clinics.models.BookingPolicy), as the booking
core enforces it. Patients meet it; staff do not (they book the walk-in at ten
minutes' notice and cancel on the patient's behalf by phone), nor does the
appointment's own doctor when cancelling or moving it.

The checks run inside the booking transactions, under the patient lock, so
the count of a patient's future visits cannot change between check and write.
The portal asks the same questions (booking_refusal, change_refusal) to tell
a patient before they try.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from accounts.models import User
from healthsvc.exceptions import ApplicationError
from scheduling.exceptions import (
    BookingLimitReachedError,
    BookingTooFarError,
    BookingTooSoonError,
    CancellationWindowPassedError,
)
from scheduling.models import Appointment, AppointmentSlot


def policy_exempt(by: User | None, *, doctor_id: int) -> bool:
    """Staff, and the doctor whose slot or appointment it is, act outside the
    policy; patients, other doctors and callers who name nobody meet it."""
    if by is None:
        return False
    if by.role == User.Role.ADMIN:
        return True
    own = getattr(by, "doctor", None) if by.role == User.Role.DOCTOR else None
    return own is not None and own.pk == doctor_id


def change_deadline(appointment: Appointment) -> datetime:
    """The last moment a patient may cancel or move this appointment themselves."""
    return appointment.start - timedelta(minutes=appointment.clinic.booking_policy.cancellation_window_minutes)


def booking_refusal(slot: AppointmentSlot, *, now: datetime | None = None) -> ApplicationError | None:
    """Why a patient may not book this slot now under its clinic's notice and
    horizon: BookingTooSoonError or BookingTooFarError; None when they may."""
    earliest, latest = slot.clinic.booking_window(now)
    if slot.start < earliest:
        return BookingTooSoonError()
    if slot.start >= latest:
        return BookingTooFarError()
    return None


def change_refusal(appointment: Appointment, *, now: datetime | None = None) -> ApplicationError | None:
    """CancellationWindowPassedError when a patient may no longer cancel or
    move this appointment themselves; None when they may."""
    if (now or timezone.now()) > change_deadline(appointment):
        return CancellationWindowPassedError()
    return None


def policy_check_booking(*, slot: AppointmentSlot, held_at_clinic: int, now: datetime | None = None) -> None:
    """Notice, horizon and the cap on a patient's future visits at the slot's
    clinic (`held_at_clinic`: their active visits there that start after now,
    counted under the patient lock). For callers the policy applies to
    (policy_exempt). Raises BookingTooSoonError, BookingTooFarError,
    BookingLimitReachedError."""
    if (refusal := booking_refusal(slot, now=now)) is not None:
        raise refusal
    if held_at_clinic >= slot.clinic.booking_policy.max_active_bookings_per_patient:
        raise BookingLimitReachedError()


def policy_check_change(*, appointment: Appointment, by: User | None) -> None:
    """A patient may cancel or move a visit only until its clinic's cancellation
    window begins. Raises CancellationWindowPassedError."""
    if policy_exempt(by, doctor_id=appointment.doctor_id):
        return
    if (refusal := change_refusal(appointment)) is not None:
        raise refusal
