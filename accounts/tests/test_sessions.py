"""Portal sessions: idle timeout, an absolute lifetime, __Host- cookies, and
flash messages kept server-side."""

import time

import jwt
import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken

from accounts.middleware import SIGNED_IN_AT
from accounts.services import user_access_token
from accounts.tests.factories import TEST_PASSWORD
from healthsvc.testing import assert_error

pytestmark = pytest.mark.django_db


def test_a_session_ends_twelve_hours_after_login_however_active(patient, client):
    client.post(reverse("accounts:login"), {"username": patient.user.email, "password": TEST_PASSWORD})
    assert client.get(reverse("accounts:profile")).status_code == 200
    session = client.session
    assert abs(session[SIGNED_IN_AT] - time.time()) < 60
    session[SIGNED_IN_AT] = int(time.time()) - 12 * 3600 - 1
    session.save()
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert client.get(reverse("accounts:profile")).status_code == 302  # logged out, not just redirected once


def test_a_session_within_its_lifetime_carries_on(patient, client):
    client.post(reverse("accounts:login"), {"username": patient.user.email, "password": TEST_PASSWORD})
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - 11 * 3600
    session.save()
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_the_idle_timeout_is_fifteen_minutes_and_renewed_on_each_request():
    assert settings.SESSION_COOKIE_AGE == 15 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 3600


def test_production_cookies_use_the_host_prefix(patient, client):
    # The test settings are production's (DEBUG off, secure cookies).
    assert settings.SESSION_COOKIE_NAME == "__Host-sessionid" and settings.CSRF_COOKIE_NAME == "__Host-csrftoken"
    client.get(reverse("accounts:login"))
    response = client.post(reverse("accounts:login"), {"username": patient.user.email, "password": TEST_PASSWORD})
    cookie = response.cookies["__Host-sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/" and not cookie["domain"]


def test_login_gives_a_new_session_id(patient, client):
    client.get(reverse("accounts:login"))
    client.session.save()
    before = client.session.session_key
    client.post(reverse("accounts:login"), {"username": patient.user.email, "password": TEST_PASSWORD})
    assert client.session.session_key != before


def test_flash_messages_never_travel_in_a_cookie(patient, client):
    response = client.post(reverse("accounts:login"), {"username": patient.user.email, "password": TEST_PASSWORD},
                           follow=True)
    assert f"You are logged in as {patient.user.name}" in response.content.decode()
    assert "messages" not in response.cookies and "messages" not in client.cookies


# --- access tokens --------------------------------------------------------------------


def test_tokens_carry_the_issuer_and_audience(patient):
    token = AccessToken(user_access_token(patient.user))
    assert token["iss"] == settings.SIMPLE_JWT["ISSUER"] and token["aud"] == settings.SIMPLE_JWT["AUDIENCE"]


@pytest.mark.parametrize("claims", [
    pytest.param({"aud": "another-service"}, id="wrong-audience"),
    pytest.param({"iss": "someone-else"}, id="wrong-issuer"),
    pytest.param({"aud": None}, id="no-audience"),
    pytest.param({"iss": None}, id="no-issuer"),
])
def test_a_token_for_another_issuer_or_audience_is_refused(api_client, patient, claims):
    payload = {**AccessToken(user_access_token(patient.user)).payload, **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    forged = jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert_error(api_client.get(reverse("api:auth-profile")), 401, "TOKEN_INVALID")


def test_tokens_are_signed_with_their_own_key():
    assert settings.SIMPLE_JWT["SIGNING_KEY"] != settings.SECRET_KEY
    assert len(settings.SIMPLE_JWT["SIGNING_KEY"].encode()) >= 32
    assert settings.SIMPLE_JWT["ALGORITHM"] == "HS256"
