"""Response headers: Cache-Control no-store on everything that may carry
patient data or tokens, the Content-Security-Policy (tests_browser/test_csp.py
checks it in Chromium, page by page), and CORS for the API's allow-listed
partner origins only."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from accounts.tests.factories import TEST_PASSWORD
from accounts.tokens import family_start
from healthsvc.middleware import NoStoreMiddleware, cacheable_when_anonymous
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _no_store(response) -> bool:
    return "no-store" in [part.strip() for part in response.get("Cache-Control", "").split(",")]


# --- Cache-Control: no-store ------------------------------------------------------


def test_login_answer_with_tokens_is_no_store(api_client, patient):
    response = api_client.post(reverse("api:auth-login"), {"email": "pat@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 200 and "access" in response.json()
    assert _no_store(response)


def test_failed_login_is_no_store_too(api_client, patient):
    response = api_client.post(reverse("api:auth-login"), {"email": "pat@example.com", "password": "wrong-password"})
    assert response.status_code == 401 and _no_store(response)


def test_register_answer_with_tokens_is_no_store(api_client):
    response = api_client.post(reverse("api:auth-register"),
                               {"name": "Asha Rao", "email": "asha@example.com", "password": "plum-orchard-sunset-42"})
    assert response.status_code == 201 and "refresh" in response.json()
    assert _no_store(response)


def test_refresh_answer_with_tokens_is_no_store(api_client, patient):
    response = api_client.post(reverse("api:auth-refresh"), {"refresh": str(family_start(patient.user))})
    assert response.status_code == 200 and "access" in response.json()
    assert _no_store(response)


def test_logout_and_profile_are_no_store(auth_client, patient):
    client = auth_client(patient.user)
    assert _no_store(client.get(reverse("api:auth-profile")))
    refresh = str(family_start(patient.user))
    response = client.post(reverse("api:auth-logout"), {"refresh": refresh})
    assert response.status_code in (200, 204) and _no_store(response)


def test_patient_me_is_no_store(auth_client, patient):
    response = auth_client(patient.user).get("/api/v1/patients/me")
    assert response.status_code == 200 and response.json()["id"] == patient.pk
    assert _no_store(response)


def test_appointment_detail_is_no_store(auth_client, patient):
    appointment = AppointmentFactory(patient=patient)
    response = auth_client(patient.user).get(f"/api/v1/appointments/{appointment.pk}")
    assert response.status_code == 200 and response.json()["id"] == appointment.pk
    assert _no_store(response)


def test_api_errors_are_no_store(api_client):
    assert _no_store(api_client.get("/api/v1/patients/me"))  # 401
    assert _no_store(api_client.get("/api/v1/no-such-thing"))  # 404


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/register/", "/accounts/password/reset/"])
def test_anonymous_account_pages_are_no_store(client, path):
    response = client.get(path)
    assert response.status_code == 200 and _no_store(response)


def test_portal_pages_of_a_signed_in_patient_are_no_store(patient_client, patient):
    appointment = AppointmentFactory(patient=patient)
    for path in ["/profile/", "/appointments/", f"/appointments/{appointment.pk}/", "/accounts/password/change/", "/"]:
        response = patient_client.get(path)
        assert response.status_code == 200 and _no_store(response), path


def test_the_admin_is_no_store(staff_client):
    response = staff_client.get("/admin/")
    assert response.status_code == 200 and _no_store(response)


def test_anonymous_catalogue_read_keeps_its_etag_and_304(api_client, doctor, settings):
    settings.CATALOGUE_CACHE_SECONDS = 30
    SlotFactory(doctor=doctor)
    for path in ["/api/v1/doctors", "/api/v1/clinics", f"/api/v1/slots?doctor_id={doctor.pk}"]:
        first = api_client.get(path)
        assert first.status_code == 200 and first["ETag"] and not _no_store(first), path
        again = api_client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again["ETag"] == first["ETag"] and not _no_store(again), path


def test_catalogue_read_by_a_signed_in_caller_is_no_store(auth_client, patient, patient_client, doctor, settings):
    settings.CATALOGUE_CACHE_SECONDS = 30
    by_token = auth_client(patient.user).get("/api/v1/doctors")
    assert by_token.status_code == 200 and by_token["ETag"] and _no_store(by_token)
    by_session = patient_client.get("/api/v1/doctors")
    assert by_session.status_code == 200 and _no_store(by_session)
    not_modified = auth_client(patient.user).get("/api/v1/doctors", HTTP_IF_NONE_MATCH=by_token["ETag"])
    assert not_modified.status_code == 304 and _no_store(not_modified)


def test_static_files_keep_their_own_caching(client, settings):
    settings.WHITENOISE_USE_FINDERS = True  # tests never run collectstatic
    response = client.get("/static/css/site.css")
    assert response.status_code == 200 and not _no_store(response)
    assert "Content-Security-Policy" not in response


def test_a_view_that_did_not_opt_in_loses_its_own_cache_headers():
    def view(request):
        return HttpResponse("secret", headers={"Cache-Control": "public, max-age=600"})

    response = NoStoreMiddleware(view)(RequestFactory().get("/anything"))
    assert response["Cache-Control"] == "no-store"


def test_an_opted_in_response_is_no_store_when_a_bearer_token_was_sent():
    def view(request):
        return cacheable_when_anonymous(HttpResponse("{}", headers={"ETag": '"x"'}))

    request = RequestFactory().get("/api/v1/doctors", HTTP_AUTHORIZATION="Bearer whatever")
    assert NoStoreMiddleware(view)(request)["Cache-Control"] == "no-store"
    assert "Cache-Control" not in NoStoreMiddleware(view)(RequestFactory().get("/api/v1/doctors"))


def test_never_cache_keeps_its_fuller_header(client):
    response = client.get("/healthz")
    assert _no_store(response) and "max-age=0" in response["Cache-Control"]


# --- Content-Security-Policy ---------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def _page_nonce(response) -> str:
    return re.search(rb'<script src="[^"]*site\.js" nonce="([^"]+)"', response.content).group(1).decode()


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/register/", "/doctors/"])
def test_portal_pages_get_a_strict_policy_with_the_pages_nonce(client, path):
    response = client.get(path)
    policy = _policy(response)
    assert response.status_code == 200
    assert policy["script-src"] == ["'self'", f"'nonce-{_page_nonce(response)}'"]
    assert policy["style-src"][0] == "'self'" and policy["default-src"] == ["'self'"]
    assert (policy["object-src"], policy["base-uri"], policy["frame-ancestors"], policy["form-action"]) == (
        ["'none'"], ["'none'"], ["'none'"], ["'self'"])
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "*" not in header


def test_a_signed_in_patients_pages_get_the_policy(patient_client):
    response = patient_client.get("/profile/")
    assert f"'nonce-{_page_nonce(response)}'" in _policy(response)["script-src"]


def test_each_request_gets_its_own_nonce(client):
    assert _page_nonce(client.get("/")) != _page_nonce(client.get("/"))


def test_portal_templates_have_no_inline_scripts_styles_or_handlers():
    """An inline <script> or <style> runs only with the page's nonce; style
    attributes and on* handlers never do."""
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\b(src|nonce)=)|<style(?![^>]*\bnonce=)|\sstyle=|\son[a-z]+=", text, re.I):
            offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == []


def test_the_admin_and_the_api_get_the_policy(staff_client, api_client):
    assert "unsafe-inline" not in staff_client.get("/admin/")["Content-Security-Policy"]
    assert _policy(api_client.get("/api/v1/doctors"))["default-src"] == ["'none'"]  # JSON loads nothing


def test_swagger_ui_page_has_no_inline_script_and_its_script_is_served_apart(client):
    page = client.get("/docs")
    assert page.status_code == 200 and b"<style" not in page.content
    assert not re.search(rb"<script(?![^>]*\bsrc=)", page.content)
    script_url = re.search(rb'<script src="(/docs\?[^"]*script[^"]*)"', page.content).group(1).decode()
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content


def test_redoc_gets_the_nonce_and_only_its_worker_on_top(client):
    response = client.get("/redoc")
    policy = _policy(response)
    nonce = re.search(rb'<script src="[^"]*redoc\.js" nonce="([^"]+)"', response.content).group(1).decode()
    assert policy["style-src"] == policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["worker-src"] == ["'self'", "blob:"]
    assert policy["img-src"] == ["'self'", "data:"]  # no image from Redocly's CDN
    assert b"fonts.googleapis.com" not in response.content and b"<style" not in response.content
    assert "worker-src" not in _policy(client.get("/docs"))


# --- CORS ------------------------------------------------------------------------------

PARTNER = "https://partner.example.com"


def _preflight(client, path="/api/v1/appointments/book", origin=PARTNER, method="POST"):
    return client.options(path, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
                          HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key")


@pytest.fixture
def partner_allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [PARTNER]


def test_preflight_from_an_allowed_origin_is_answered(client, partner_allowed):
    response = _preflight(client)
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == PARTNER
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "if-match", "if-none-match"} <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response


def test_preflight_from_another_origin_gets_no_cors_headers(client, partner_allowed):
    response = _preflight(client, origin="https://evil.example.net")
    assert "Access-Control-Allow-Origin" not in response


def test_with_the_default_empty_list_no_origin_is_allowed(client, settings):
    settings.CORS_ALLOWED_ORIGINS = []  # the default: test_allowed_origins_come_from_the_environment...
    assert "Access-Control-Allow-Origin" not in _preflight(client)
    assert "Access-Control-Allow-Origin" not in client.get("/api/v1/doctors", HTTP_ORIGIN=PARTNER)


def test_cors_covers_the_api_only(client, partner_allowed):
    assert "Access-Control-Allow-Origin" not in _preflight(client, path="/accounts/login/")
    assert "Access-Control-Allow-Origin" not in client.get("/accounts/login/", HTTP_ORIGIN=PARTNER)


def test_an_allowed_origin_may_read_the_apis_headers_but_sends_no_cookies(client, partner_allowed, doctor):
    response = client.get("/api/v1/doctors", HTTP_ORIGIN=PARTNER)
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == PARTNER
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset",
            "x-request-id"} <= exposed
    assert "Access-Control-Allow-Credentials" not in response


def _settings_value(name: str, **env) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"CORS_ALLOWED_ORIGINS", "DJANGO_SETTINGS_MODULE"}}
    clean.update(DJANGO_SETTINGS_MODULE="healthsvc.settings.test", **env)
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_allowed_origins_come_from_the_environment_and_default_to_none():
    assert _settings_value("CORS_ALLOWED_ORIGINS") == "[]"
    assert _settings_value("CORS_ALLOWED_ORIGINS", CORS_ALLOWED_ORIGINS=f"{PARTNER},https://b.example.org") == (
        f"['{PARTNER}', 'https://b.example.org']")


@pytest.mark.django_db
def test_api_answers_get_a_policy_that_loads_nothing(auth_client, patient, client):
    from healthsvc.middleware import API_CONTENT_SECURITY_POLICY

    for response in (auth_client(patient.user).get("/api/v1/patients/me"), client.get("/api/v1/clinics")):
        assert response["Content-Type"].startswith("application/json")
        assert response["Content-Security-Policy"] == API_CONTENT_SECURITY_POLICY
    page = client.get(reverse("accounts:login"))
    assert "default-src 'self'" in page["Content-Security-Policy"]
