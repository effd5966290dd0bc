"""The base of every domain error.

Each subclass carries the error code and HTTP status of the API contract
(../shared/docs/API.md), so the API's exception handler, the portal and the
admin translate a refusal the same way.
"""


from django.db import models


class ErrorCode(models.TextChoices):
    """Every `error_code` the API answers with, and when (its label): the API
    contract's error table, plus the refusals of the request itself (URI_TOO_LONG,
    UNSUPPORTED_MEDIA_TYPE, NOT_ACCEPTABLE), AVAILABILITY_OVERLAP and the admin
    operations' refusals of 1.9.0 (DOCTOR_PROFILE_EXISTS, USER_INACTIVE,
    CANNOT_DEACTIVATE_SELF, PATIENT_IS_DEPENDENT). The OpenAPI
    document's ErrorCodeEnum is this list; the exception handler answers only these."""

    VALIDATION_ERROR = "VALIDATION_ERROR", "bad JSON, wrong types, out-of-range values, naive datetimes"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED", "no credentials where they are needed"
    TOKEN_INVALID = "TOKEN_INVALID", "expired, tampered, wrong-algorithm, blacklisted or rotated-out token"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS", "login with a wrong email or password (same answer for both)"
    OTP_REQUIRED = "OTP_REQUIRED", "login of an account with two-factor on, without `otp`"
    OTP_INVALID = "OTP_INVALID", "a wrong or reused one-time code"
    PERMISSION_DENIED = "PERMISSION_DENIED", "authenticated, but the role or ownership does not allow it"
    NOT_FOUND = "NOT_FOUND", "no such object, or one the caller may not know exists"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED", "the path does not take this method (see the Allow header)"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE", "the Accept header excludes the answer's format"
    EMAIL_TAKEN = "EMAIL_TAKEN", "an email already in use"
    SLOT_FULL = "SLOT_FULL", "the slot's booked_count has reached its capacity"
    ALREADY_BOOKED = "ALREADY_BOOKED", "the patient already holds an active appointment on that slot"
    SLOT_UNAVAILABLE = "SLOT_UNAVAILABLE", "slot in the past, deleted, or its doctor on leave"
    DAILY_LIMIT_REACHED = "DAILY_LIMIT_REACHED", "the doctor's max_patients_per_day is reached for that day"
    OVERLAPPING_APPOINTMENT = "OVERLAPPING_APPOINTMENT", (
        "the patient already has an active appointment overlapping that time"
    )
    SLOT_OVERLAP = "SLOT_OVERLAP", "a slot overlapping another slot of the same doctor"
    SLOT_HAS_BOOKINGS = "SLOT_HAS_BOOKINGS", "deleting a slot that holds active appointments"
    INVALID_STATE = "INVALID_STATE", "a transition the appointment's status does not allow"
    BOOKING_TOO_SOON = "BOOKING_TOO_SOON", "the slot starts within the clinic's minimum notice"
    BOOKING_TOO_FAR = "BOOKING_TOO_FAR", "the slot starts beyond the clinic's booking horizon"
    CANCELLATION_WINDOW_PASSED = "CANCELLATION_WINDOW_PASSED", (
        "a patient cancelling or moving within the clinic's cancellation window"
    )
    BOOKING_LIMIT_REACHED = "BOOKING_LIMIT_REACHED", (
        "the patient already holds the clinic's maximum of active future appointments"
    )
    CAPACITY_BELOW_BOOKED = "CAPACITY_BELOW_BOOKED", "lowering a slot's capacity below its booked count"
    ALREADY_ON_WAITLIST = "ALREADY_ON_WAITLIST", "joining a doctor's waitlist for a date twice"
    LICENSE_NUMBER_TAKEN = "LICENSE_NUMBER_TAKEN", "a doctor licence number already in use"
    AVAILABILITY_OVERLAP = "AVAILABILITY_OVERLAP", "weekly hours overlapping another rule of the same doctor and day"
    DOCTOR_PROFILE_EXISTS = "DOCTOR_PROFILE_EXISTS", "giving a doctor profile to a user who has one already"
    USER_INACTIVE = "USER_INACTIVE", "the account is deactivated: it cannot be verified or booked for"
    CANNOT_DEACTIVATE_SELF = "CANNOT_DEACTIVATE_SELF", "a superuser deactivating their own account"
    PATIENT_IS_DEPENDENT = "PATIENT_IS_DEPENDENT", "deactivating a family member, who has no login of their own"
    PRECONDITION_FAILED = "PRECONDITION_FAILED", "`If-Match` does not match the current `ETag`; nothing was written"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE", "request body over the limit"
    URI_TOO_LONG = "URI_TOO_LONG", "URL (path and query) over the limit"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE", "a body whose Content-Type is not application/json"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED", "the same Idempotency-Key sent with a different body"
    RATE_LIMITED = "RATE_LIMITED", "throttled, or the login of this account from this address locked; see Retry-After"
    SERVER_ERROR = "SERVER_ERROR", "an unexpected error (never carries a traceback or SQL)"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE", "the database is unavailable or timed out; nothing was changed"


# The HTTP status each code is answered with.
ERROR_STATUS: dict[ErrorCode, int] = {
    **dict.fromkeys([ErrorCode.VALIDATION_ERROR], 400),
    **dict.fromkeys([ErrorCode.NOT_AUTHENTICATED, ErrorCode.TOKEN_INVALID, ErrorCode.INVALID_CREDENTIALS,
                     ErrorCode.OTP_REQUIRED, ErrorCode.OTP_INVALID], 401),
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.NOT_ACCEPTABLE: 406,
    **dict.fromkeys([ErrorCode.EMAIL_TAKEN, ErrorCode.SLOT_FULL, ErrorCode.ALREADY_BOOKED, ErrorCode.SLOT_UNAVAILABLE,
                     ErrorCode.DAILY_LIMIT_REACHED, ErrorCode.OVERLAPPING_APPOINTMENT, ErrorCode.SLOT_OVERLAP,
                     ErrorCode.SLOT_HAS_BOOKINGS, ErrorCode.INVALID_STATE, ErrorCode.BOOKING_TOO_SOON,
                     ErrorCode.BOOKING_TOO_FAR, ErrorCode.CANCELLATION_WINDOW_PASSED, ErrorCode.BOOKING_LIMIT_REACHED,
                     ErrorCode.CAPACITY_BELOW_BOOKED, ErrorCode.ALREADY_ON_WAITLIST, ErrorCode.LICENSE_NUMBER_TAKEN,
                     ErrorCode.AVAILABILITY_OVERLAP, ErrorCode.DOCTOR_PROFILE_EXISTS, ErrorCode.USER_INACTIVE,
                     ErrorCode.CANNOT_DEACTIVATE_SELF, ErrorCode.PATIENT_IS_DEPENDENT], 409),
    ErrorCode.PRECONDITION_FAILED: 412,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.URI_TOO_LONG: 414,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 422,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.SERVER_ERROR: 500,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
}


class ApplicationError(Exception):
    code = ErrorCode.VALIDATION_ERROR  # each subclass names its own
    status = 400
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, extra: dict | None = None):
        self.message = message or self.default_message
        self.extra = extra or {}
        super().__init__(self.message)


class NotFoundError(ApplicationError):
    code = ErrorCode.NOT_FOUND
    status = 404
    default_message = "Not found."


class PermissionDeniedError(ApplicationError):
    code = ErrorCode.PERMISSION_DENIED
    status = 403
    default_message = "You do not have permission to perform this action."


class ServiceUnavailableError(ApplicationError):
    """The database is away, dropped the connection or timed out: nothing was
    changed, and the client may try again after Retry-After seconds."""

    code = ErrorCode.SERVICE_UNAVAILABLE
    status = 503
    default_message = "The service is briefly unavailable; nothing was changed. Please try again shortly."
