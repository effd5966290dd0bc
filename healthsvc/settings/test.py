"""Test settings: the base settings with fast hashing and in-memory email."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-for-checks-and-for-hs512-keys-too")
os.environ.setdefault("JWT_SIGNING_KEY", "test-jwt-signing-key-of-its-own-long-enough-for-hs512-forgeries-in-tests")

from .base import *  # noqa: E402,F403
from .base import BASE_DIR, DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests run inside a transaction that never commits, so the catalogue's
# stamps (moved on commit) would not move: its own tests turn it on and run
# the commit hooks (healthsvc/tests/test_catalogue_cache.py).
CATALOGUE_CACHE_SECONDS = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not the in-memory database, so that the concurrency tests'
    # threads open real connections that contend for the same write lock.
    # One file per test process, so parallel runs never share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
WHITENOISE_AUTOREFRESH = True  # serve from the finders; tests never run collectstatic

# Throttling has its own tests, which lower these rates.
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {k: "100000/min" for k in (
    "anon", "user", "login", "register", "password_reset", "password_reset_mail")}
# Lockout has its own tests; elsewhere a test's wrong passwords must not lock the next test out.
AXES_FAILURE_LIMIT = 1000
