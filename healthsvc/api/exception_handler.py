"""The one place that shapes error JSON: ``{"detail", "error_code", "errors"?}``.

Every error an API view can meet ends here: DRF's own, Django's 404,
PermissionDenied and over-large bodies, the services' ApplicationError
subclasses, throttling and anything unexpected (logged with the request id,
answered without details). Refusals made before any view (an over-long URL,
URI_TOO_LONG; an over-large body, PAYLOAD_TOO_LARGE) are shaped alike in
healthsvc.views.
"""

import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from healthsvc.db import is_database_unavailable
from healthsvc.exceptions import ERROR_STATUS, ApplicationError, ErrorCode, ServiceUnavailableError

logger = logging.getLogger("healthsvc.api")


class PayloadTooLarge(exceptions.APIException):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE. healthsvc.middleware refuses
    those before any view; this answers the same should a view still meet one."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body over the limit."
    default_code = "payload_too_large"


# DRF exception class -> the contract's error code (first match wins).
_CODES = [
    (InvalidToken, ErrorCode.TOKEN_INVALID),
    (exceptions.NotAuthenticated, ErrorCode.NOT_AUTHENTICATED),
    (exceptions.AuthenticationFailed, ErrorCode.TOKEN_INVALID),
    (exceptions.PermissionDenied, ErrorCode.PERMISSION_DENIED),
    (exceptions.NotFound, ErrorCode.NOT_FOUND),
    (exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (exceptions.Throttled, ErrorCode.RATE_LIMITED),
    (exceptions.ParseError, ErrorCode.VALIDATION_ERROR),
    (exceptions.ValidationError, ErrorCode.VALIDATION_ERROR),
    (exceptions.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    (exceptions.NotAcceptable, ErrorCode.NOT_ACCEPTABLE),
    (PayloadTooLarge, ErrorCode.PAYLOAD_TOO_LARGE),
]


def _code_for(exc, status_code: int) -> ErrorCode:
    """The code of a DRF exception; one of no class above (a bare APIException)
    takes the code of its status, and SERVER_ERROR when no code has that status."""
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return code
    by_status = [code for code, status_of in ERROR_STATUS.items() if status_of == status_code]
    return by_status[0] if len(by_status) == 1 else ErrorCode.SERVER_ERROR


def error_body(detail: str, code: str, errors=None) -> dict:
    body = {"detail": detail, "error_code": str(code)}
    if errors:
        body["errors"] = errors
    return body


def _field_errors(data) -> dict:
    """DRF's nested validation errors as ``{"field": ["message", ...]}``."""
    if isinstance(data, list):
        return {"non_field_errors": [str(m) for m in data]}
    out = {}
    for field, messages in data.items():
        if isinstance(messages, dict):
            for sub, sub_messages in _field_errors(messages).items():
                out[f"{field}.{sub}"] = sub_messages
        elif isinstance(messages, list):
            out[field] = [str(m) if not isinstance(m, (dict, list)) else str(m) for m in messages]
        else:
            out[field] = [str(messages)]
    return out


def _normalise(exc):
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, TokenError):
        return InvalidToken(str(exc))
    return exc


def service_unavailable(exc, request) -> ServiceUnavailableError:
    """The 503 that stands for a database outage or timeout; logged (one line,
    the error's own message), never answered with its details."""
    logger.warning("Database unavailable (request_id=%s): %s: %s", getattr(request, "request_id", "-"),
                   type(exc.__cause__ or exc).__name__, str(exc).strip().splitlines()[0] if str(exc) else "")
    return ServiceUnavailableError(extra={"retry_after": settings.DB_UNAVAILABLE_RETRY_AFTER})


def exception_handler(exc, context):
    if is_database_unavailable(exc):
        exc = service_unavailable(exc, context.get("request"))
    if isinstance(exc, ApplicationError):
        body = error_body(exc.message, exc.code, exc.extra.get("errors"))
        response = Response(body, status=exc.status)
        if "retry_after" in exc.extra:
            response["Retry-After"] = str(exc.extra["retry_after"])
        return response

    exc = _normalise(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        request = context.get("request")
        logger.exception(
            "Unhandled error in API view (request_id=%s)", getattr(request, "request_id", "-"), exc_info=exc
        )
        return Response(error_body("Internal server error.", ErrorCode.SERVER_ERROR), status=status.HTTP_500_INTERNAL_SERVER_ERROR)

    code = _code_for(exc, response.status_code)
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("Invalid input.", code, _field_errors(exc.detail))
    elif isinstance(exc, exceptions.ParseError):
        response.data = error_body(f"Malformed request: {exc.detail}", code)
    else:
        detail = exc.detail if isinstance(exc.detail, str) else "Request refused."
        if isinstance(exc, InvalidToken):
            detail = "Token is invalid or expired."
        response.data = error_body(str(detail), code)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        # DRF answers 403 when the view has no authenticator to name in
        # WWW-Authenticate (login, refresh); the contract says 401.
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return response
