"""Refusals of the booking core, each with the API contract's code and status."""

from healthsvc.exceptions import ApplicationError, NotFoundError, PermissionDeniedError


class SlotNotFoundError(NotFoundError):
    default_message = "Slot not found."


class AppointmentNotFoundError(NotFoundError):
    default_message = "Appointment not found."


class SlotFullError(ApplicationError):
    code, status = "SLOT_FULL", 409
    default_message = "Slot is fully booked."


class AlreadyBookedError(ApplicationError):
    code, status = "ALREADY_BOOKED", 409
    default_message = "You already hold an appointment on this slot."


class SlotUnavailableError(ApplicationError):
    code, status = "SLOT_UNAVAILABLE", 409
    default_message = "This slot can no longer be booked."


class DailyLimitReachedError(ApplicationError):
    code, status = "DAILY_LIMIT_REACHED", 409
    default_message = "The doctor has no more places that day."


class OverlappingAppointmentError(ApplicationError):
    code, status = "OVERLAPPING_APPOINTMENT", 409
    default_message = "You already have an appointment at that time."


class SlotOverlapError(ApplicationError):
    code, status = "SLOT_OVERLAP", 409
    default_message = "The doctor already has a slot overlapping that time."


class SlotHasBookingsError(ApplicationError):
    code, status = "SLOT_HAS_BOOKINGS", 409
    default_message = "The slot holds active appointments; cancel them first."


class InvalidStateError(ApplicationError):
    code, status = "INVALID_STATE", 409
    default_message = "The appointment's status does not allow this."


class SlotValidationError(ApplicationError):
    code, status = "VALIDATION_ERROR", 400
    default_message = "Invalid slot."


class DoctorNotVerifiedError(PermissionDeniedError):
    default_message = "Your doctor account must be verified by an admin before you can open slots."


class IdempotencyKeyReusedError(ApplicationError):
    code, status = "IDEMPOTENCY_KEY_REUSED", 422
    default_message = "This Idempotency-Key was already used with a different request body."


class IdempotencyKeyInvalidError(ApplicationError):
    code, status = "VALIDATION_ERROR", 400
    default_message = "Invalid Idempotency-Key header."


class BookingTooSoonError(ApplicationError):
    code, status = "BOOKING_TOO_SOON", 409
    default_message = "This time is too soon to book online; please call the clinic."


class BookingTooFarError(ApplicationError):
    code, status = "BOOKING_TOO_FAR", 409
    default_message = "This time is not open for booking yet."


class CancellationWindowPassedError(ApplicationError):
    code, status = "CANCELLATION_WINDOW_PASSED", 409
    default_message = "The visit is too close to cancel or move online; please call the clinic."


class BookingLimitReachedError(ApplicationError):
    code, status = "BOOKING_LIMIT_REACHED", 409
    default_message = "You already hold the most upcoming visits this clinic allows."


class CapacityBelowBookedError(ApplicationError):
    code, status = "CAPACITY_BELOW_BOOKED", 409
    default_message = "The capacity cannot go below the places already booked."


class AvailabilityOverlapError(ApplicationError):
    code, status = "AVAILABILITY_OVERLAP", 409
    default_message = "These hours overlap another of the doctor's weekly rules on that day."


class AvailabilityRuleNotFoundError(NotFoundError):
    default_message = "Availability rule not found."


class LeaveNotFoundError(NotFoundError):
    default_message = "Leave not found."


class ScheduleValidationError(ApplicationError):
    """Input the schedule services refuse; carries `extra={"errors": {field: [message]}}`."""

    code, status = "VALIDATION_ERROR", 400
    default_message = "Invalid input."


class WaitlistEntryNotFoundError(NotFoundError):
    default_message = "Waitlist entry not found."


class AlreadyOnWaitlistError(ApplicationError):
    code, status = "ALREADY_ON_WAITLIST", 409
    default_message = "You are already on this doctor's waitlist for that date."


class PatientAccountClosedError(ApplicationError):
    """Booking for a patient whose account (or whose guardian's) an admin closed."""

    code, status = "USER_INACTIVE", 409
    default_message = "This patient's account is closed: it cannot book."
