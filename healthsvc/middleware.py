import logging
import re
import uuid

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.core.exceptions import RequestDataTooBig

from healthsvc.api.throttling import rate_limit_state
from healthsvc.db import is_database_unavailable

_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (the proxy's X-Request-ID when it is sane),
    echoed in the response header and quoted in error logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = getattr(record, "request_id", "-")
        return True


# The mark a view leaves on a response it is willing to have stored (the
# public catalogue); everything else is no-store.
_CACHEABLE_WHEN_ANONYMOUS = "_healthsvc_cacheable_when_anonymous"


def cacheable_when_anonymous(response):
    """Let `response` keep its own cache headers when the caller is anonymous
    (NoStoreMiddleware marks it no-store for anyone signed in)."""
    setattr(response, _CACHEABLE_WHEN_ANONYMOUS, True)
    return response


def _is_anonymous(request) -> bool:
    # DRF puts the user a token authenticated onto the Django request as well;
    # the Authorization header is checked too, so an answer to a bearer token
    # stays private even where that user is not on the request.
    user = getattr(request, "user", None)
    return not (user is not None and user.is_authenticated) and "Authorization" not in request.headers


class NoStoreMiddleware:
    """Cache-Control: no-store on every dynamic response (API answers, portal
    and admin pages, auth endpoints, errors), so no browser or proxy keeps
    patient data or tokens: the safe default a new view cannot forget. Only
    a response marked `cacheable_when_anonymous` and answered to an anonymous
    caller keeps its own headers. Static files never get here (WhiteNoise
    answers them further out)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(response, _CACHEABLE_WHEN_ANONYMOUS, False) and _is_anonymous(request):
            return response
        if "no-store" not in response.get("Cache-Control", ""):
            # Replace rather than add to it: "public, max-age=600, no-store" reads as a mistake.
            response["Cache-Control"] = "no-store"
        return response


class RateLimitHeadersMiddleware:
    """`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` on every
    answer whose view counted the request against a rate limit, 200s and 429s
    alike (healthsvc.api.throttling records the tightest of its throttles)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if state := rate_limit_state(request):
            for name, value in state.headers().items():
                response[name] = value
        return response


class RequestLimitsMiddleware:
    """Refuses an over-long URL (414) and an over-large body (413) before any
    view, parser or form sees them, as the error envelope under /api/ and a
    plain page elsewhere (healthsvc.views), so a hostile request is a 4xx and
    never a traceback; the client's mistake, logged as Django logs any 4xx
    (a warning), not as an error.

    The body is read here, at most one byte past DATA_UPLOAD_MAX_MEMORY_SIZE:
    a declared Content-Length over the limit is refused without reading, and a
    body that declares none (chunked: under ASGI the server hands it on; under
    WSGI Django reads nothing of it) is refused once reading passes the limit.
    Everything after this reads the cached copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from healthsvc import views  # here: this module is imported by LOGGING, before the apps are ready

        if len(request.get_full_path()) > settings.MAX_URL_LENGTH:
            return views.uri_too_long(request)
        declared = _declared_length(request)
        if declared is None:
            return views.bad_content_length(request)
        if declared > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return views.payload_too_large(request)
        try:
            request.body  # noqa: B018 (read and cached within the limit, or refused)
        except RequestDataTooBig:
            return views.payload_too_large(request)
        return self.get_response(request)


def _declared_length(request) -> int | None:
    """The Content-Length sent (0 when none), or None when it is no length at
    all: Django's request.body would raise ValueError on it (a 500)."""
    raw = request.META.get("CONTENT_LENGTH") or "0"
    return int(raw) if raw.isascii() and raw.isdigit() else None


# What an API answer may load: nothing (it is JSON), nor be framed.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the API's JSON answers given a fixed
    policy that loads nothing (`default-src 'none'`, the OWASP REST advice)
    instead of the page policy built for every response: that build cost
    about 65 microseconds of each API request (bench/README.md). Pages, the
    browsable API among them (HTML), get django-csp's policy and nonces."""

    def process_response(self, request, response):
        if request.path_info.startswith("/api/") and response.get("Content-Type", "").startswith("application/json"):
            if "Content-Security-Policy" not in response:
                response["Content-Security-Policy"] = API_CONTENT_SECURITY_POLICY
            return response
        return super().process_response(request, response)


class DatabaseUnavailableMiddleware:
    """A view (portal, admin) that meets a database outage or timeout answers
    503 with Retry-After (healthsvc.views.database_unavailable), not a 500.
    DRF views answer theirs in healthsvc.api.exception_handler; an outage met
    in a middleware reaches healthsvc.views.server_failure, which does the same."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from healthsvc.views import database_unavailable  # noqa: PLC0415 (the views import DRF)

        if is_database_unavailable(exception):
            return database_unavailable(request, exception)
        return None
