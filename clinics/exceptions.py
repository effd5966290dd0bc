"""Refusals of the clinics app, each with the API contract's code and status."""

from healthsvc.exceptions import ApplicationError, NotFoundError, PermissionDeniedError


class ClinicNotFoundError(NotFoundError):
    default_message = "Clinic not found."


class DoctorNotFoundError(NotFoundError):
    default_message = "Doctor not found."


class ClinicsValidationError(ApplicationError):
    """Input the services refuse (a field out of range, an unknown or inactive
    clinic). Carries ``extra={"errors": {field: [message]}}`` like DRF's."""

    code, status = "VALIDATION_ERROR", 400
    default_message = "Invalid input."


class LicenseNumberTakenError(ApplicationError):
    code, status = "LICENSE_NUMBER_TAKEN", 409
    default_message = "A doctor with this license number already exists."

    def __init__(self, message: str | None = None, *, extra: dict | None = None):
        super().__init__(message, extra=extra or {"errors": {"license_number": [self.default_message]}})


class DoctorUpdateNotAllowedError(PermissionDeniedError):
    default_message = "Doctors may change only their own qualifications and experience_years."


class DoctorProfileExistsError(ApplicationError):
    code, status = "DOCTOR_PROFILE_EXISTS", 409
    default_message = "This user already has a doctor profile."


class UserInactiveError(ApplicationError):
    code, status = "USER_INACTIVE", 409
    default_message = "This account is deactivated: reactivate it before giving it a doctor profile."
