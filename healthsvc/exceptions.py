"""The base of every domain error.

Each subclass carries the error code and HTTP status of the API contract
(../shared/docs/API.md), so the API's exception handler, the portal and the
admin translate a refusal the same way.
"""


class ApplicationError(Exception):
    code = "APPLICATION_ERROR"
    status = 400
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, extra: dict | None = None):
        self.message = message or self.default_message
        self.extra = extra or {}
        super().__init__(self.message)


class NotFoundError(ApplicationError):
    code = "NOT_FOUND"
    status = 404
    default_message = "Not found."


class PermissionDeniedError(ApplicationError):
    code = "PERMISSION_DENIED"
    status = 403
    default_message = "You do not have permission to perform this action."


class ServiceUnavailableError(ApplicationError):
    """The database is away, dropped the connection or timed out: nothing was
    changed, and the client may try again after Retry-After seconds."""

    code = "SERVICE_UNAVAILABLE"
    status = 503
    default_message = "The service is briefly unavailable; nothing was changed. Please try again shortly."
