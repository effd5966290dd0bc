import logging

from django.apps import AppConfig
from django.conf import settings


class HealthsvcConfig(AppConfig):
    """The project package as an app, for its system checks (healthsvc/checks.py)."""

    name = "healthsvc"

    def ready(self):
        from healthsvc import checks  # registers them

        # A process that runs no checks (gunicorn) still says so when it starts.
        if checks.local_cache_in_production() and getattr(settings, "ALLOW_LOCAL_CACHE", False):
            logging.getLogger("healthsvc").warning(
                checks.LOCAL_CACHE_ALLOWED.format(backend=settings.CACHES["default"]["BACKEND"]))
