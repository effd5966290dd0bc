"""Health probes and the answers for errors outside DRF views: JSON under /api/, pages elsewhere."""

import logging
import sys

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found, server_error

from healthsvc.db import is_database_unavailable

logger = logging.getLogger("healthsvc")


def changelog(request):
    """CHANGELOG.md as text: the API's versions, changes and deprecations
    (linked from the OpenAPI document and from every Deprecation header)."""
    text = (settings.BASE_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
    return HttpResponse(text, content_type="text/markdown; charset=utf-8")


@never_cache
def healthz(request):
    """Liveness: the process answers. Never touches the database."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Readiness: 200 when the database answers a query, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not ready"
        logger.warning("readiness check: database unavailable", exc_info=True)
        # Drop the connection now, so the next probe connects afresh and says
        # 200 as soon as the database is back (a broken one is never reused).
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - closing a dead connection may fail too
            pass
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Not found.", "error_code": "NOT_FOUND"}, status=404)
    return page_not_found(request, exception)


def database_unavailable(request, exc):
    """503 with Retry-After for a database outage or timeout met outside a DRF
    view (a portal page, the admin, a middleware reading the session): the
    envelope under /api/, a standalone page elsewhere (base.html would ask
    the database for the user)."""
    from healthsvc.api.exception_handler import service_unavailable  # noqa: PLC0415 (DRF loads late)

    error = service_unavailable(exc, request)
    if _is_api(request):
        response = JsonResponse({"detail": error.message, "error_code": error.code}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(error.extra["retry_after"])
    return response


def server_failure(request):
    # Django calls this while handling the exception, so it is at hand: an
    # outage met in a middleware (before any view) is a 503, not a 500.
    exc = sys.exc_info()[1]
    if exc is not None and is_database_unavailable(exc):
        return database_unavailable(request, exc)
    if _is_api(request):
        return JsonResponse({"detail": "Internal server error.", "error_code": "SERVER_ERROR"}, status=500)
    return server_error(request)


def _refusal(request, status: int, detail: str, code: str, template: str):
    """A refusal of the request itself (healthsvc.middleware.RequestLimitsMiddleware):
    the envelope under /api/, a standalone page elsewhere (the request has not
    been through the session and auth middleware, so no base.html)."""
    if _is_api(request):
        return JsonResponse({"detail": detail, "error_code": code}, status=status)
    return HttpResponse(loader.render_to_string(template), status=status)


def payload_too_large(request):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _refusal(request, 413, f"Request body over the limit of {limit} bytes.", "PAYLOAD_TOO_LARGE", "413.html")


def uri_too_long(request):
    limit = settings.MAX_URL_LENGTH
    return _refusal(request, 414, f"URL (path and query) over the limit of {limit} characters.", "URI_TOO_LONG",
                    "414.html")


def bad_content_length(request):
    return _refusal(request, 400, "Malformed request: Content-Length is not a number of bytes.", "VALIDATION_ERROR",
                    "400.html")


def _same_origin_path(request, url: str) -> str | None:
    """The path (and query) of `url` when it is a page of this site, else None."""
    from urllib.parse import urlsplit  # noqa: PLC0415

    from django.utils.http import url_has_allowed_host_and_scheme  # noqa: PLC0415

    if not url or not url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return None
    parts = urlsplit(url)
    if parts.path.startswith("/api/") or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent from a stale page (its token belonged to
    a session that has ended, or the cookie was changed elsewhere). Nothing
    was saved; the page says so and offers the way back: the page the form was
    on (same-origin Referer only), and signing in again when signed out. The
    API is JWT (DRF's views are CSRF-exempt); an /api/ request gets the envelope."""
    if _is_api(request):
        return JsonResponse({"detail": "CSRF check failed.", "error_code": "PERMISSION_DENIED"}, status=403)
    from django.shortcuts import render  # noqa: PLC0415
    from django.urls import reverse  # noqa: PLC0415

    home = reverse("scheduling:home")
    login_path = reverse("accounts:login")
    back = _same_origin_path(request, request.META.get("HTTP_REFERER", "")) or home
    if back.startswith(login_path):  # a stale login form: signing in again is the way back
        back = home
    user = getattr(request, "user", None)
    context = {
        "back_url": back, "home_url": home, "is_home": back == home,
        "signed_in": bool(user and user.is_authenticated), "login_path": login_path,
    }
    logger.info("csrf failure on %s: %s", request.path, reason)
    return render(request, "403_csrf.html", context, status=403)
