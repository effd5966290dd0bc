"""The project's own system checks: production settings that look harmless but
are not. `manage.py check` (and so runserver and migrate) reports the untagged
ones; `check --deploy` the ones tagged deploy as well.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register

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
}


@register(Tags.security, Tags.caches, deploy=True)
def shared_cache_check(app_configs, **kwargs):
    """Revocation and limits live in the default cache: the token versions that
    end a logged-out or deactivated user's access tokens, the marks of ended
    sign-ins, the rate-limit counters. A per-process cache keeps them in one
    worker only, so the other workers go on honouring revoked tokens (until
    they expire) and each grants its own rate budget."""
    if settings.CACHES["default"]["BACKEND"] not in LOCAL_CACHES:
        return []
    return [Error(
        "The default cache is per-process: token revocation and rate limits would not reach every worker.",
        hint="Set CACHE_URL to Redis (e.g. redis://redis:6379/1) in production.",
        id="healthsvc.E003",
    )]
