"""Health probes and the JSON answers for errors outside DRF views under /api/."""

import logging

from django.db import connection
from django.http import JsonResponse
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
