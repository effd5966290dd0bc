"""Settings for every environment, read from the process environment.

Development defaults are safe on a laptop only: without ``DEBUG=true`` the
project refuses to start unless a real ``SECRET_KEY`` is given.
"""

import hashlib
import hmac
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
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
# A stale form (its session ended) gets a page saying nothing was saved, with the way back.
CSRF_FAILURE_VIEW = "healthsvc.views.csrf_failure"

INSTALLED_APPS = [
    "accounts.admin_apps.StaffAdminConfig",  # django.contrib.admin with a second factor required
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "corsheaders",
    "django_tasks",
    "django_tasks_db",  # app label django_tasks_database: the queue's table and its admin
    "pgtrigger",  # database triggers declared on models (the audit table's append-only guard)
    "healthsvc.apps.HealthsvcConfig",  # the project's own system checks (healthsvc/checks.py)
    "audit",  # below accounts: every app records into it, it imports none of them
    "accounts",
    "clinics",
    "scheduling",
]

MIDDLEWARE = [
    "healthsvc.middleware.RequestIdMiddleware",
    # Before anything that can answer on its own (WhiteNoise, CommonMiddleware),
    # so that even those answers carry the CORS headers (django-cors-headers).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body or routes the URL; after SecurityMiddleware
    # so its refusals carry the security headers too.
    "healthsvc.middleware.RequestLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Inside WhiteNoise: static files keep their far-future caching and get no policy.
    "healthsvc.middleware.NoStoreMiddleware",
    "healthsvc.middleware.RateLimitHeadersMiddleware",  # RateLimit-* from the API's throttles
    "healthsvc.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, with a fixed policy for JSON
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who, from where, through which door: the context of every audit row of the request.
    "audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.OTPMiddleware",  # sets request.user.otp_device (django-otp)
    "accounts.middleware.SessionLifetimeMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A view meeting a database outage or timeout answers 503 with Retry-After.
    "healthsvc.middleware.DatabaseUnavailableMiddleware",
    # Last, as its docs ask: it turns a lockout found during the view into the lockout answer.
    "axes.middleware.AxesMiddleware",
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
    # A server that does not answer fails the request in seconds (503), not at
    # gunicorn's 30 s worker timeout.
    _db["OPTIONS"].setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
    # Every statement, lock wait and open transaction of the app has a bound
    # (milliseconds, 0 = none), so a stuck query or a hung holder of a row lock
    # ends in a 503 instead of holding workers and bookings. Bookings of one
    # slot queue on its row lock for a few ms each: the lock timeout is far
    # above a 100-booking queue (~0.5 s) and under the statement timeout, which
    # is under gunicorn's --timeout 30. Long maintenance (a migration on big
    # tables, bench/seed.py) runs with DB_STATEMENT_TIMEOUT_MS=0.
    DB_TIMEOUTS_MS = {
        "statement_timeout": env.int("DB_STATEMENT_TIMEOUT_MS", default=15_000),
        "lock_timeout": env.int("DB_LOCK_TIMEOUT_MS", default=5_000),
        "idle_in_transaction_session_timeout": env.int("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", default=30_000),
    }
    # Sent as startup options of each connection (no extra round trip). PgBouncer
    # in transaction mode refuses startup options (or drops them, with
    # ignore_startup_parameters): there the same values belong on the role,
    # `ALTER ROLE app SET statement_timeout = '15s'` etc. (README, "Database faults").
    if not env_bool("DB_PGBOUNCER", default=False):
        _db["OPTIONS"]["options"] = " ".join(f"-c {name}={ms}" for name, ms in DB_TIMEOUTS_MS.items())
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
# A transaction of the booking core that loses a deadlock or a serialization
# conflict runs again (healthsvc.db.retry_on_conflict): this many attempts in
# all, after a jittered pause of up to 20, 40, ... ms. Then 503.
DB_CONFLICT_ATTEMPTS = env.int("DB_CONFLICT_ATTEMPTS", default=3)
DB_CONFLICT_BACKOFF_MS = env.int("DB_CONFLICT_BACKOFF_MS", default=20)
# Retry-After (seconds) of the 503 answered when the database is away or timed out.
DB_UNAVAILABLE_RETRY_AFTER = env.int("DB_UNAVAILABLE_RETRY_AFTER", default=5)
# A read replica for the public catalogue (healthsvc/db_router.py), if any.
if _replica_url := env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {**DATABASES["default"], **env.db_url_config(_replica_url),
                            "TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["healthsvc.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default=env.str("REDIS_URL", default="locmemcache://"))}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "healthsvc.cache.RedisCache"  # one client per pool, not per call
    # A hung or unreachable Redis costs a request at most this long per call;
    # then the code works without the cache (healthsvc.cache, README).
    _cache_options = CACHES["default"].setdefault("OPTIONS", {})
    _cache_options.setdefault("socket_connect_timeout", env.float("CACHE_SOCKET_TIMEOUT", default=0.5))
    _cache_options.setdefault("socket_timeout", env.float("CACHE_SOCKET_TIMEOUT", default=0.5))
# With DEBUG off a per-process cache (locmem, dummy, file) refuses to start
# (healthsvc.E003): revocation and rate limits would not reach every worker.
# ALLOW_LOCAL_CACHE=true says it is meant (one process), with a warning each start.
ALLOW_LOCAL_CACHE = env_bool("ALLOW_LOCAL_CACHE", default=False)
# How long the public catalogue's answers (clinics, doctors, a doctor's free
# slots) may be served from the cache; a change drops them at once
# (healthsvc.api.caching). 0 turns the catalogue cache off.
CATALOGUE_CACHE_SECONDS = env.int("CATALOGUE_CACHE_SECONDS", default=30)

# --- Auth -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses any login attempt (API, portal, admin) while that account
    # is locked out from that client address, before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's, but a doctor whose profile is deactivated cannot sign in.
    "accounts.backends.AccountBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Client addresses. Behind N reverse proxies that each append to
# X-Forwarded-For, the client is the N-th address from the right; with 0 (the
# default) the header is ignored, since anyone can send it, and the socket's
# peer address is the client (healthsvc.http.client_ip).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
if NUM_PROXIES < 0:
    raise ImproperlyConfigured("NUM_PROXIES must be 0 or more.")

# Lockout (django-axes): 5 failed logins for one account from one address lock
# that pair for 15 minutes, on every login path. Keyed on the pair, so an
# attacker elsewhere cannot lock a patient out of their own account; the
# per-address login rate limit bounds how many accounts one address can try.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_USERNAME_CALLABLE = "accounts.lockout.attempted_username"
AXES_CLIENT_IP_CALLABLE = "healthsvc.http.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"

# Two-factor (django-otp): TOTP devices and one-time recovery codes. Anyone who
# can use /admin/ must have a confirmed device and pass it at login; doctors may
# turn it on. The issuer is the name authenticator apps show.
OTP_TOTP_ISSUER = env.str("OTP_ISSUER", default="healthsvc")
OTP_RECOVERY_CODES = 10

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

# --- Access to patients ---------------------------------------------------------
# A doctor reads a patient's profile and medical summary only through a visit
# that has not ended or ended within this many days (accounts/selectors.py).
DOCTOR_PATIENT_ACCESS_DAYS = env.int("DOCTOR_PATIENT_ACCESS_DAYS", default=180)
if DOCTOR_PATIENT_ACCESS_DAYS < 0:
    raise ImproperlyConfigured("DOCTOR_PATIENT_ACCESS_DAYS must be 0 or more.")

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")  # where collectstatic writes
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
# A mail server that stops answering fails the send (and its task retries)
# instead of holding a worker: seconds per SMTP operation.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# The console backend writes every message, password-reset links included,
# into the server's log: with DEBUG off the check healthsvc.E001 refuses it
# unless this says it is meant (healthsvc/checks.py).
ALLOW_CONSOLE_EMAIL = env_bool("ALLOW_CONSOLE_EMAIL", default=False)

# --- Calendars --------------------------------------------------------------
# The domain in every iCalendar UID (`appointment-{id}@{domain}`,
# scheduling.ics.appointment_uid, in invitations and feeds): one stable name for the service, so the
# calendars that imported or subscribed to a visit keep recognising it.
CALENDAR_UID_DOMAIN = env.str("CALENDAR_UID_DOMAIN", default="healthsvc")

# Absolute links in emails (the appointment in the portal) start with this.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Background tasks (django-tasks: Django 6's django.tasks for 5.2) ----------
# Emails are sent by tasks enqueued when the booking's transaction commits.
# "immediate" (the default: `make run`, the tests) runs a task at once in the
# process that enqueues it; "database" (production) stores it in a table that
# `manage.py db_worker` processes (any number of workers, on any machines).
TASKS_BACKEND = env.str("TASKS_BACKEND", default="immediate")
_TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {TASKS_BACKEND!r}.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND]}}
# A mail that fails to send is tried again after 2, 4, 8, 16 minutes (on a
# backend that can defer a task), then recorded as failed (admin: Tasks).
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=5)
# A task still "running" this long after a worker took it was lost with its
# worker (killed, its machine gone): `manage.py requeue_lost_tasks` (cron,
# every 5 minutes) puts it back in the queue. Far above any task's run
# (one mail, EMAIL_TIMEOUT per SMTP step).
TASK_LOST_AFTER_MINUTES = env.int("TASK_LOST_AFTER_MINUTES", default=15)
# A committed change whose mail cannot be queued (the database restarting)
# tries again for this many seconds before the loss is logged.
TASK_ENQUEUE_RETRY_SECONDS = env.float("TASK_ENQUEUE_RETRY_SECONDS", default=10.0)
# `manage.py send_reminders` (cron, every 5 minutes) reminds each patient who
# wants it of a visit starting within this many hours (none within the hour).
REMINDER_HOURS_BEFORE = env.int("REMINDER_HOURS_BEFORE", default=24)
# How long a place freed for a waiting patient is held for them (scheduling/services/waitlist.py).
WAITLIST_HOLD_MINUTES = env.int("WAITLIST_HOLD_MINUTES", default=30)

# --- Audit trail -------------------------------------------------------------
# The key of the audit rows' HMAC chain (audit/chain.py). Kept out of the
# database, so a database writer without it cannot forge or mend the chain.
# Set it on its own in production; changing it makes the rows written
# before unverifiable (audit_verify names the first).
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default="") or hmac.new(
    SECRET_KEY.encode(), b"healthsvc.audit-chain", hashlib.sha256).hexdigest()

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
    # JSON only, read strictly (deep nesting, duplicate keys, non-UTF-8 refused),
    # and only when the Content-Type names it (not */*).
    "DEFAULT_PARSER_CLASSES": ["healthsvc.api.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "healthsvc.api.parsers.ContentNegotiation",
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
        # The portal's password reset form: requests per client address, and
        # mails per account (beyond it the answer is the same, but no mail goes).
        "password_reset": env.str("RATE_LIMIT_PASSWORD_RESET", default="5/hour"),
        "password_reset_mail": env.str("RATE_LIMIT_PASSWORD_RESET_MAIL", default="3/hour"),
    },
    # Per-IP limits key on healthsvc.http.client_ip (NUM_PROXIES above); DRF's
    # own reading of X-Forwarded-For is not used.
    "NUM_PROXIES": NUM_PROXIES,
    "EXCEPTION_HANDLER": "healthsvc.api.exception_handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "healthsvc.api.schema.ApiAutoSchema",
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Tokens: a key of their own, so rotating it logs API clients out without
# touching sessions or password-reset links (signed with SECRET_KEY).
DEV_JWT_SIGNING_KEY = "jwt-insecure-healthsvc-development-only-key"
JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default=DEV_JWT_SIGNING_KEY if DEBUG else "")
if not DEBUG and (len(JWT_SIGNING_KEY.encode()) < 32 or JWT_SIGNING_KEY in {DEV_JWT_SIGNING_KEY, SECRET_KEY}):
    raise ImproperlyConfigured(
        "JWT_SIGNING_KEY must be set to a random value of 32+ bytes, other than "
        "SECRET_KEY, when DEBUG is off (see .env.example)."
    )
SIMPLE_JWT = {
    # Short-lived access tokens; a refresh token rotates on every use and
    # belongs to a family that ends REFRESH_FAMILY_LIFETIME after login
    # however often it is refreshed (accounts.tokens).
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "ALGORITHM": "HS256",  # the only one accepted: a token naming another is refused
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ISSUER": env.str("JWT_ISSUER", default="healthsvc"),
    "AUDIENCE": env.str("JWT_AUDIENCE", default="healthsvc-api"),
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,  # accounts.services.user_authenticate records it
}
REFRESH_FAMILY_LIFETIME = timedelta(days=env.int("REFRESH_FAMILY_DAYS", default=30))
SPECTACULAR_SETTINGS = {
    "TITLE": "healthsvc API",
    "DESCRIPTION": (
        "Clinics, doctors, slots and appointments.\n\n"
        "Versions, changes and deprecations: [the changelog](/api/changelog) (CHANGELOG.md). Within 1.x "
        "nothing is renamed or removed; what is to go is announced first, and its answers carry `Deprecation`, "
        "`Sunset` and `Link: <...>; rel=\"deprecation\"` headers."
    ),
    # The newest version in CHANGELOG.md (healthsvc/tests/test_changelog.py keeps them together).
    "VERSION": "1.9.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The docs make no request off this server: no validator badge (Swagger UI
    # sends the schema's URL to validator.swagger.io by default), and ReDoc's
    # fonts are the reader's own (its theme names Montserrat and Roboto, which
    # drf-spectacular's page loads from Google Fonts; ours does not).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_UI_SETTINGS": {"theme": {"typography": {
        "fontFamily": "system-ui, -apple-system, 'Segoe UI', 'Helvetica Neue', Arial, sans-serif",
        "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', 'Helvetica Neue', Arial, sans-serif"},
        "code": {"fontFamily": "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"},
    }}},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "healthsvc.api.schema.postprocess",  # links between operations; anyOf for untyped polymorphic bodies
    ],
}

# --- Security (production) --------------------------------------------------
# A portal session ends after 15 idle minutes, and 12 hours after login however
# active it is (accounts.middleware.SessionLifetimeMiddleware).
SESSION_COOKIE_AGE = 15 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_HOURS", default=12) * 60 * 60
# Flash messages (they name patients) live in the server-side session, not a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)
    # __Host- cookies: the browser keeps them only when Secure, for this exact
    # host and path /, so a sibling subdomain cannot set or shadow them.
    if SESSION_COOKIE_SECURE:
        SESSION_COOKIE_NAME = "__Host-sessionid"
    if CSRF_COOKIE_SECURE:
        CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)

# --- Security headers -------------------------------------------------------
# Cache-Control: no-store on every dynamic response but the catalogue's
# anonymous answers: healthsvc.middleware.NoStoreMiddleware (no setting).
#
# Content-Security-Policy (django-csp): scripts and styles from this origin
# only, plus a per-request nonce for the <script>/<style> elements a page
# renders with nonce="{{ request.csp_nonce }}" (the nonce appears in the header
# only on pages that use it). No 'unsafe-inline', no 'unsafe-eval'.
# img-src allows data: URIs for the icons in the admin's and Swagger UI's CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
# CORS (django-cors-headers): off unless CORS_ALLOWED_ORIGINS lists the partner
# browser apps' origins (https://app.example.com,...), for the API only. No
# credentials: the API takes bearer tokens, never cookies, from other origins.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = [
    "accept", "authorization", "content-type", "idempotency-key", "if-match", "if-none-match", "x-request-id",
]
CORS_EXPOSE_HEADERS = [
    "ETag", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "X-Request-ID",
    "Deprecation", "Sunset", "Link",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "healthsvc.middleware.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
