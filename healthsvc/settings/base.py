"""Settings for every environment, read from the process environment.

Development defaults are safe on a laptop only: without ``DEBUG=true`` the
project refuses to start unless a real ``SECRET_KEY`` is given.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env (never committed; see .env.example) fills in what the shell
# does not set.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)



def env_bool(name: str, default: bool) -> bool:
    """A boolean from the environment; anything but a clear yes/no is an error,
    so DEBUG=ture cannot silently mean False (or True)."""
    raw = env.str(name, default="").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")


DEBUG = env_bool("DEBUG", default=False)

DEV_SECRET_KEY = "django-insecure-healthsvc-development-only"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and (SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of 32+ characters when DEBUG "
        "is off. For local development set DEBUG=true (see .env.example)."
    )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "healthsvc.apps.HealthsvcConfig",  # the project's own system checks (healthsvc/checks.py)
    "accounts",
    "clinics",
    "scheduling",
]

MIDDLEWARE = [
    "healthsvc.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body or routes the URL; after SecurityMiddleware
    # so its refusals carry the security headers too.
    "healthsvc.middleware.RequestLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "healthsvc.urls"
WSGI_APPLICATION = "healthsvc.wsgi.application"
ASGI_APPLICATION = "healthsvc.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# PostgreSQL in production (postgres://user:pass@host:5432/name), an SQLite
# file when DATABASE_URL is unset so that a fresh laptop needs nothing else.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})
    # Values sent apart from the SQL text (PostgreSQL then parses and plans a
    # repeated statement once: psycopg prepares it from its fifth run).
    # Measured in bench/README.md; off by default, as Django ships it.
    if env_bool("DB_SERVER_SIDE_BINDING", default=False):
        _db["OPTIONS"]["server_side_binding"] = True
    # A sync worker serves one request at a time, so one kept connection per
    # worker is all it can use: psycopg's pool (Django's OPTIONS["pool"]) was
    # measured and gained nothing (bench/README.md), so it is not a dependency.
    # Behind PgBouncer in transaction mode a session's state does not outlive
    # its transaction: no server-side cursors, no prepared statements.
    if env_bool("DB_PGBOUNCER", default=False):
        _db["DISABLE_SERVER_SIDE_CURSORS"] = True
        _db["OPTIONS"]["prepare_threshold"] = None
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # BEGIN IMMEDIATE takes the write lock when a transaction starts, so
        # concurrent bookings queue on it (up to `timeout` seconds) instead
        # of failing with "database is locked" when a read turns into a write.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
        ),
    }
# A read replica for the public catalogue (healthsvc/db_router.py), if any.
if _replica_url := env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {**DATABASES["default"], **env.db_url_config(_replica_url),
                            "TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["healthsvc.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default=env.str("REDIS_URL", default="locmemcache://"))}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "healthsvc.cache.RedisCache"  # one client per pool, not per call
# How long the public catalogue's answers (clinics, doctors, a doctor's free
# slots) may be served from the cache; a change drops them at once
# (healthsvc.api.caching). 0 turns the catalogue cache off.
CATALOGUE_CACHE_SECONDS = env.int("CATALOGUE_CACHE_SECONDS", default=30)

# --- Auth -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- i18n / time ------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Booking policy -----------------------------------------------------------
# Each clinic may set its own (clinics.Clinic); these apply where it does not.
# Staff and doctors are exempt: they book at short notice, far ahead, on behalf
# of anyone, and cancel at any time before the visit.
BOOKING_POLICY = {
    "min_notice_minutes": env.int("BOOKING_MIN_NOTICE_MINUTES", default=60),
    "booking_horizon_days": env.int("BOOKING_HORIZON_DAYS", default=90),
    "cancellation_window_minutes": env.int("BOOKING_CANCELLATION_WINDOW_MINUTES", default=120),
    "max_active_bookings_per_patient": env.int("BOOKING_MAX_ACTIVE_PER_PATIENT", default=6),
}

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Email ------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="healthsvc <no-reply@localhost>")
# The console backend writes every message, password-reset links included,
# into the server's log: with DEBUG off the check healthsvc.E001 refuses it
# unless this says it is meant (healthsvc/checks.py).
ALLOW_CONSOLE_EMAIL = env_bool("ALLOW_CONSOLE_EMAIL", default=False)

# --- Request limits (hostile bodies and URLs) ----------------------------------
# A larger body is a 413 and a longer URL (path and query) a 414 before any
# view, parser or form reads them (healthsvc.middleware.RequestLimitsMiddleware).
# The whole body counts, files included: the product takes no uploads. The URL
# limit stays below gunicorn's --limit-request-line (README, "Running in
# production") so that clients get the app's JSON answer, not gunicorn's page.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=1024 * 1024)
MAX_URL_LENGTH = env.int("MAX_URL_LENGTH", default=4096)
if DATA_UPLOAD_MAX_MEMORY_SIZE <= 0 or MAX_URL_LENGTH <= 0:
    raise ImproperlyConfigured("MAX_REQUEST_BODY_BYTES and MAX_URL_LENGTH must be positive.")

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer JWT for API clients (never from the query string); the
        # browsable API and the portal keep the session.
        "accounts.authentication.ClaimsJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["healthsvc.api.parsers.JSONParser"],  # refuses deep nesting
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "healthsvc.api.pagination.StandardPagination",
    "PAGE_SIZE": 20,
    # One fixed-window counter per request: per user, or per IP when anonymous.
    "DEFAULT_THROTTLE_CLASSES": ["healthsvc.api.throttling.RequestRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("RATE_LIMIT_ANON", default="120/min"),
        "user": env.str("RATE_LIMIT_USER", default="600/min"),
        "login": env.str("RATE_LIMIT_LOGIN", default="10/min"),
        "register": env.str("RATE_LIMIT_REGISTER", default="5/min"),
    },
    # How many proxies set X-Forwarded-For in front of the app (for per-IP limits).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=None),
    "EXCEPTION_HANDLER": "healthsvc.api.exception_handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "healthsvc.api.schema.ApiAutoSchema",
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "healthsvc API",
    "DESCRIPTION": "Clinics, doctors, slots and appointments.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "healthsvc.api.schema.postprocess",  # links between operations; anyOf for untyped polymorphic bodies
    ],
}

# --- Security (production) --------------------------------------------------
SESSION_COOKIE_AGE = 15 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "healthsvc.middleware.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
