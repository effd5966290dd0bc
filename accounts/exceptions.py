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
