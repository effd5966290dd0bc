"""The project's system checks: production refuses unsafe defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

from healthsvc import checks

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = "django.core.mail.backends.console.EmailBackend"
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def _ids(messages) -> set[str]:
    return {message.id for message in messages}


def test_console_email_with_debug_off_is_an_error(settings):
    settings.DEBUG, settings.EMAIL_BACKEND, settings.ALLOW_CONSOLE_EMAIL = False, CONSOLE, False
    assert _ids(checks.console_email_check(None)) == {"healthsvc.E001"}
    assert "healthsvc.E001" in _ids(run_checks())  # registered, and not only for --deploy


def test_console_email_is_allowed_when_said_so(settings):
    settings.DEBUG, settings.EMAIL_BACKEND, settings.ALLOW_CONSOLE_EMAIL = False, CONSOLE, True
    assert checks.console_email_check(None) == []


def test_smtp_email_with_debug_off_passes(settings):
    settings.DEBUG, settings.EMAIL_BACKEND, settings.ALLOW_CONSOLE_EMAIL = False, SMTP, False
    assert checks.console_email_check(None) == []


def test_console_email_on_a_laptop_passes(settings):
    settings.DEBUG, settings.EMAIL_BACKEND, settings.ALLOW_CONSOLE_EMAIL = True, CONSOLE, False
    assert checks.console_email_check(None) == []


def test_request_limits_pass_as_configured():
    assert checks.request_limits_check(None) == []
    assert "healthsvc.E002" not in _ids(run_checks(include_deployment_checks=True))


def test_request_limits_taken_out_are_a_deploy_error(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != checks.LIMITS_MIDDLEWARE]
    assert _ids(checks.request_limits_check(None)) == {"healthsvc.E002"}
    assert "healthsvc.E002" in _ids(run_checks(include_deployment_checks=True))
    assert "healthsvc.E002" not in _ids(run_checks())  # a deploy check only


def test_no_body_limit_is_a_deploy_error(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    assert _ids(checks.request_limits_check(None)) == {"healthsvc.E002"}


# --- as `make check` runs it, from the environment ------------------------------------


def _check_deploy(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "EMAIL_URL", "ALLOW_CONSOLE_EMAIL", "CACHE_URL",
                          "REDIS_URL", "ALLOW_LOCAL_CACHE"}}
    clean.update(DJANGO_SETTINGS_MODULE="healthsvc.settings.base", DEBUG="false",
                 SECRET_KEY="check-only-" + os.urandom(24).hex(), ALLOWED_HOSTS="clinic.example.com",
                 CACHE_URL="redis://127.0.0.1:6379/1")
    clean.update(env)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("env, passes", [
    ({}, False),  # EMAIL_URL's default, consolemail://
    ({"ALLOW_CONSOLE_EMAIL": "true"}, True),
    ({"EMAIL_URL": "smtp+tls://user:pw@smtp.example.com:587"}, True),
], ids=["console", "console-allowed", "smtp"])
def test_check_deploy_from_the_environment(env, passes):
    result = _check_deploy(**env)
    assert (result.returncode == 0) is passes, result.stderr
    assert ("healthsvc.E001" in result.stderr) is not passes


LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize("backend", sorted(checks.LOCAL_CACHES))
def test_a_per_process_cache_with_debug_off_is_an_error(settings, backend):
    settings.DEBUG, settings.ALLOW_LOCAL_CACHE = False, False
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": "/tmp/hs-check-cache"}}
    assert _ids(checks.shared_cache_check(None)) == {"healthsvc.E003"}
    assert "healthsvc.E003" in _ids(run_checks())  # registered, and not only for --deploy


def test_redis_passes(settings):
    settings.DEBUG, settings.ALLOW_LOCAL_CACHE = False, False
    settings.CACHES = {"default": {"BACKEND": "healthsvc.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/1"}}
    assert checks.shared_cache_check(None) == []


def test_a_per_process_cache_on_a_laptop_passes(settings):
    settings.DEBUG, settings.ALLOW_LOCAL_CACHE = True, False
    settings.CACHES = {"default": {"BACKEND": LOCMEM}}
    assert checks.shared_cache_check(None) == []


def test_a_per_process_cache_allowed_is_a_warning_that_says_why(settings):
    settings.DEBUG, settings.ALLOW_LOCAL_CACHE = False, True
    settings.CACHES = {"default": {"BACKEND": LOCMEM}}
    (message,) = checks.shared_cache_check(None)
    assert message.id == "healthsvc.W003" and not message.is_serious()
    assert "rate budget" in message.msg and LOCMEM in message.msg


def test_an_allowed_local_cache_is_logged_when_the_app_starts(settings, caplog):
    from django.apps import apps

    settings.DEBUG, settings.ALLOW_LOCAL_CACHE = False, True
    settings.CACHES = {"default": {"BACKEND": LOCMEM}}
    with caplog.at_level("WARNING", logger="healthsvc"):
        apps.get_app_config("healthsvc").ready()
    assert any("ALLOW_LOCAL_CACHE is on" in r.getMessage() for r in caplog.records if r.name == "healthsvc")


def _manage_check(**env) -> subprocess.CompletedProcess:
    """`manage.py check` (no --deploy: what migrate and runserver run) with production settings."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "CACHE_URL", "REDIS_URL", "ALLOW_LOCAL_CACHE"}}
    clean.update(DJANGO_SETTINGS_MODULE="healthsvc.settings.base", DEBUG="false", EMAIL_URL="dummymail://",
                 SECRET_KEY="check-only-" + os.urandom(24).hex(), JWT_SIGNING_KEY="check-jwt-" + os.urandom(24).hex(),
                 ALLOWED_HOSTS="clinic.example.com", CACHE_URL="locmemcache://")
    clean.update(env)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=clean, capture_output=True,
                          text=True, timeout=120)


def test_production_refuses_to_start_on_a_per_process_cache_unless_told():
    refused = _manage_check()
    assert refused.returncode != 0 and "healthsvc.E003" in refused.stderr
    allowed = _manage_check(ALLOW_LOCAL_CACHE="true")
    assert allowed.returncode == 0, allowed.stderr
    assert "healthsvc.W003" in allowed.stderr + allowed.stdout


def test_check_deploy_refuses_production_without_a_shared_cache():
    result = _check_deploy(EMAIL_URL="smtp+tls://user:pw@smtp.example.com:587", CACHE_URL="locmemcache://")
    assert result.returncode != 0 and "healthsvc.E003" in result.stderr
