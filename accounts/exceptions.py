from healthsvc.exceptions import ApplicationError, NotFoundError, PermissionDeniedError


class EmailTakenError(ApplicationError):
    code, status = "EMAIL_TAKEN", 409
    default_message = "An account with this email already exists."


class InvalidCredentialsError(ApplicationError):
    code, status = "INVALID_CREDENTIALS", 401
    default_message = "Wrong email or password."


class RoleNotAllowedError(PermissionDeniedError):
    default_message = "Admin accounts cannot be self-registered."


class WeakPasswordError(ApplicationError):
    code, status = "VALIDATION_ERROR", 400
    default_message = "The password is too weak."


class PatientNotFoundError(NotFoundError):
    default_message = "Patient not found."


class LoginLockedError(ApplicationError):
    """Too many failed logins for this account from this client (django-axes)."""

    code, status = "RATE_LIMITED", 429
    default_message = "Too many failed logins for this account from your network. Try again later."


class OtpRequiredError(ApplicationError):
    code, status = "OTP_REQUIRED", 401
    default_message = "This account uses two-factor authentication: send the current code as `otp`."


class OtpInvalidError(ApplicationError):
    code, status = "OTP_INVALID", 401
    default_message = "The one-time code is wrong, expired or already used."


class OtpSetupRequiredError(ApplicationError):
    code, status = "OTP_REQUIRED", 401
    default_message = "Staff accounts need two-factor authentication: set it up in the portal first."


class WrongPasswordError(ApplicationError):
    code, status = "VALIDATION_ERROR", 400
    default_message = "The current password is wrong."


class AdminNotFoundError(NotFoundError):
    default_message = "Admin not found."


class SelfDeactivationError(ApplicationError):
    """A superuser closing their own account would lock themselves out (and
    could leave the service without one)."""

    code, status = "CANNOT_DEACTIVATE_SELF", 409
    default_message = "You cannot deactivate your own account; ask another superuser."


class PatientIsDependentError(ApplicationError):
    code, status = "PATIENT_IS_DEPENDENT", 409
    default_message = ("This patient is a family member without a login of their own: deactivate their "
                       "guardian's account, or cancel their appointments.")
