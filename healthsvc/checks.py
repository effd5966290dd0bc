"""The project's own system checks: production settings that look harmless but
are not. `manage.py check` (and so runserver and migrate) reports the untagged
ones; `check --deploy` the ones tagged deploy as well.
"""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

CONSOLE_EMAIL = "django.core.mail.backends.console.EmailBackend"
LIMITS_MIDDLEWARE = "healthsvc.middleware.RequestLimitsMiddleware"


@register(Tags.security)
def console_email_check(app_configs, **kwargs):
    """The console backend (EMAIL_URL's default) writes each message into the
    server's log, password-reset links with it: anyone who reads the log could
    take over an account. With DEBUG off it must be meant (ALLOW_CONSOLE_EMAIL)."""
    if settings.DEBUG or getattr(settings, "ALLOW_CONSOLE_EMAIL", False) or settings.EMAIL_BACKEND != CONSOLE_EMAIL:
        return []
    return [Error(
        "Email goes to the console (the server log) with DEBUG off: password-reset links would land in the log.",
        hint="Set EMAIL_URL to the mail server (e.g. smtp+tls://user:password@smtp.example.com:587), "
             "or ALLOW_CONSOLE_EMAIL=true where that is meant.",
        id="healthsvc.E001",
    )]


@register(Tags.security, deploy=True)
def request_limits_check(app_configs, **kwargs):
    """Without the body limit or its middleware, a 3 MB or deeply nested body
    reaches the parsers again (and a long URL gets gunicorn's page, not ours)."""
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None and LIMITS_MIDDLEWARE in settings.MIDDLEWARE:
        return []
    return [Error(
        "Request limits are off: DATA_UPLOAD_MAX_MEMORY_SIZE is None or RequestLimitsMiddleware is not installed.",
        hint=f"Keep DATA_UPLOAD_MAX_MEMORY_SIZE (MAX_REQUEST_BODY_BYTES) set and {LIMITS_MIDDLEWARE} in MIDDLEWARE.",
        id="healthsvc.E002",
    )]


LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
}
LOCAL_CACHE_ALLOWED = (
    "ALLOW_LOCAL_CACHE is on: the default cache is per-process ({backend}), so token revocation and rate "
    "limits reach only the worker that saw them; each worker grants its own rate budget. Meant for one "
    "process on one machine, never for a deployment with several workers."
)


def local_cache_in_production() -> bool:
    """DEBUG off and a default cache that only this process sees."""
    return not settings.DEBUG and settings.CACHES["default"]["BACKEND"] in LOCAL_CACHES


@register(Tags.security, Tags.caches)
def shared_cache_check(app_configs, **kwargs):
    """Revocation and limits live in the default cache: the token versions that
    end a logged-out or deactivated user's access tokens, the marks of ended
    sign-ins, the rate-limit counters. A per-process cache keeps them in one
    worker only, so the other workers go on honouring revoked tokens (until
    they expire) and each grants its own rate budget. With DEBUG off that
    refuses to start (manage.py check, migrate, runserver) unless
    ALLOW_LOCAL_CACHE says it is meant, which is then a warning every time."""
    if not local_cache_in_production():
        return []
    backend = settings.CACHES["default"]["BACKEND"]
    if getattr(settings, "ALLOW_LOCAL_CACHE", False):
        return [Warning(LOCAL_CACHE_ALLOWED.format(backend=backend), id="healthsvc.W003")]
    return [Error(
        "The default cache is per-process: token revocation and rate limits would not reach every worker.",
        hint="Set CACHE_URL to Redis (e.g. redis://redis:6379/1) in production, or ALLOW_LOCAL_CACHE=true "
             "for a single process where that is meant.",
        id="healthsvc.E003",
    )]
