"""Health probes and the answers for errors outside DRF views: JSON under /api/, pages elsewhere."""

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found, server_error

logger = logging.getLogger("healthsvc")


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
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Not found.", "error_code": "NOT_FOUND"}, status=404)
    return page_not_found(request, exception)


def server_failure(request):
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
