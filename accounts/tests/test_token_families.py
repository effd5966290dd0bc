"""Refresh-token families (RFC 9700 4.14.2) and the ways every token of a user
ends at once: logout, logout everywhere, password change and reset,
deactivation, a role change, a deactivated doctor profile."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import RefreshTokenRecord, TokenFamily, User
from accounts.services import user_tokens
from accounts.tests.factories import TEST_PASSWORD, PatientFactory
from accounts.tokens import FAMILY_CLAIM
from healthsvc.testing import assert_error, force_login_verified
from scheduling.tests.test_concurrency import assert_errors_only, run_concurrently

pytestmark = pytest.mark.django_db

REFRESH = reverse("api:auth-refresh")
PROFILE = reverse("api:auth-profile")
NEW_PASSWORD = "a-fresh-orchard-passphrase-7"


def _bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def _refresh(refresh: str):
    return APIClient().post(REFRESH, {"refresh": refresh}, format="json")


def _login(email: str, password: str = TEST_PASSWORD) -> dict:
    response = APIClient().post(reverse("api:auth-login"), {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _dead(pair: dict) -> None:
    """Neither token of `pair` works any more."""
    assert_error(_bearer(pair["access"]).get(PROFILE), 401, "TOKEN_INVALID")
    assert_error(_refresh(pair["refresh"]), 401, "TOKEN_INVALID")


def _alive(pair: dict) -> None:
    assert _bearer(pair["access"]).get(PROFILE).status_code == 200


# --- families ------------------------------------------------------------------


def test_a_login_starts_a_family_recorded_without_the_token(patient):
    pair = _login(patient.user.email)
    family = TokenFamily.objects.get(user=patient.user)
    record = RefreshTokenRecord.objects.get(family=family)
    refresh = RefreshToken(pair["refresh"])
    assert refresh[FAMILY_CLAIM] == family.pk and AccessToken(pair["access"])[FAMILY_CLAIM] == family.pk
    assert record.jti == refresh["jti"]
    stored = " ".join(str(value) for value in RefreshTokenRecord.objects.values_list().get(pk=record.pk))
    assert pair["refresh"] not in stored and pair["refresh"].split(".")[2] not in stored


def test_each_refresh_rotates_within_the_family(patient):
    first = _login(patient.user.email)
    second = _refresh(first["refresh"]).json()
    third = _refresh(second["refresh"]).json()
    assert len({first["refresh"], second["refresh"], third["refresh"]}) == 3
    family_ids = {RefreshToken(token)[FAMILY_CLAIM] for token in (first["refresh"], second["refresh"], third["refresh"])}
    assert len(family_ids) == 1 and RefreshTokenRecord.objects.filter(family_id=family_ids.pop()).count() == 3
    _alive(third)


def test_reusing_a_rotated_out_token_ends_the_whole_family(patient):
    stolen = _login(patient.user.email)
    newest = _refresh(stolen["refresh"]).json()  # the client rotates; the thief kept the old one
    assert_error(_refresh(stolen["refresh"]), 401, "TOKEN_INVALID")
    family = TokenFamily.objects.get(user=patient.user)
    assert family.end_reason == TokenFamily.EndReason.REUSE and family.ended_at is not None
    _dead(newest)  # the branch the legitimate client held ends too: both must log in again


def test_reuse_ends_only_that_family(patient):
    phone, laptop = _login(patient.user.email), _login(patient.user.email)
    _refresh(phone["refresh"])
    _refresh(phone["refresh"])  # reuse on the phone's sign-in
    _alive(laptop)
    assert _refresh(laptop["refresh"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_refreshes_of_one_token_give_exactly_one_success():
    """Real threads on their own connections: the token's row lock lets one
    rotate it; the nine others see it rotated out (reuse) and end the family,
    so no second live branch can fork off."""
    patient = PatientFactory()
    pair = user_tokens(patient.user)
    outcomes = run_concurrently([lambda: _refresh(pair["refresh"]) for _ in range(10)])
    assert_errors_only(outcomes)
    statuses = sorted(outcome.result.status_code for outcome in outcomes)
    assert statuses == [200] + [401] * 9
    family = TokenFamily.objects.get(user=patient.user)
    assert RefreshTokenRecord.objects.filter(family=family).count() == 2  # the original and one successor
    assert family.end_reason == TokenFamily.EndReason.REUSE


def test_a_family_ends_at_its_absolute_lifetime_however_often_refreshed(patient, settings):
    pair = _login(patient.user.email)
    family = TokenFamily.objects.get(user=patient.user)
    assert timedelta(days=29) < family.expires_at - family.created_at <= timedelta(days=30)
    # Near the end, a refresh still works, but the new token expires with the family...
    TokenFamily.objects.filter(pk=family.pk).update(expires_at=timezone.now() + timedelta(hours=1))
    nearly = _refresh(pair["refresh"]).json()
    exp = RefreshToken(nearly["refresh"])["exp"]
    assert exp <= int((timezone.now() + timedelta(hours=1)).timestamp()) + 1
    # ...and once it has passed, the family is over.
    TokenFamily.objects.filter(pk=family.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(_refresh(nearly["refresh"]), 401, "TOKEN_INVALID")


def test_an_unknown_but_validly_signed_refresh_token_is_refused(patient):
    forged_elsewhere = RefreshToken.for_user(patient.user)  # right key, never issued by a login
    assert_error(_refresh(str(forged_elsewhere)), 401, "TOKEN_INVALID")


# --- the ways a user's tokens end ----------------------------------------------------


def test_logout_ends_that_sign_in_at_once_access_token_included(patient):
    ending, other = _login(patient.user.email), _login(patient.user.email)
    assert _bearer(ending["access"]).post(reverse("api:auth-logout"), {"refresh": ending["refresh"]},
                                          format="json").status_code == 204
    _dead(ending)
    _alive(other)


def test_logout_everywhere_ends_every_token_of_the_user(patient, other_patient):
    phone, laptop = _login(patient.user.email), _login(patient.user.email)
    bystander = _login(other_patient.user.email)
    assert _bearer(phone["access"]).post(reverse("api:auth-logout-all")).status_code == 204
    _dead(phone)
    _dead(laptop)
    _alive(bystander)
    _alive(_login(patient.user.email))  # and a new login works


def test_logout_everywhere_ends_the_portal_sessions_too(patient, patient_client):
    assert patient_client.get(reverse("accounts:profile")).status_code == 200
    pair = _login(patient.user.email)
    _bearer(pair["access"]).post(reverse("api:auth-logout-all"))
    assert patient_client.get(reverse("accounts:profile")).status_code == 302


def test_logout_everywhere_needs_a_token(api_client):
    assert_error(api_client.post(reverse("api:auth-logout-all")), 401, "NOT_AUTHENTICATED")


def test_password_change_through_the_api_revokes_every_other_token(patient):
    old, other = _login(patient.user.email), _login(patient.user.email)
    response = _bearer(old["access"]).post(
        reverse("api:auth-password"), {"old_password": TEST_PASSWORD, "new_password": NEW_PASSWORD}, format="json")
    assert response.status_code == 200 and set(response.json()) == {"access", "refresh"}
    _dead(old)
    _dead(other)
    _alive(response.json())
    assert _refresh(response.json()["refresh"]).status_code == 200
    _login(patient.user.email, NEW_PASSWORD)


def test_password_change_refuses_a_wrong_current_password_and_changes_nothing(patient):
    pair = _login(patient.user.email)
    body = assert_error(_bearer(pair["access"]).post(
        reverse("api:auth-password"), {"old_password": "not-it", "new_password": NEW_PASSWORD}, format="json"),
        400, "VALIDATION_ERROR")
    assert "old_password" in body["errors"]
    _alive(pair)
    assert User.objects.get(pk=patient.user.pk).check_password(TEST_PASSWORD)


def test_guessing_the_current_password_meets_the_login_lockout(patient, settings):
    settings.AXES_FAILURE_LIMIT = 5
    pair = _login(patient.user.email)
    client = _bearer(pair["access"])
    answers = [client.post(reverse("api:auth-password"), {"old_password": f"guess-{i}", "new_password": NEW_PASSWORD},
                           format="json").status_code for i in range(6)]
    assert answers == [400] * 4 + [429] * 2
    right = client.post(reverse("api:auth-password"), {"old_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
                        format="json")
    assert_error(right, 429, "RATE_LIMITED")
    assert User.objects.get(pk=patient.user.pk).check_password(TEST_PASSWORD)


def test_password_change_refuses_a_weak_password(patient):
    pair = _login(patient.user.email)
    body = assert_error(_bearer(pair["access"]).post(
        reverse("api:auth-password"), {"old_password": TEST_PASSWORD, "new_password": "123"}, format="json"),
        400, "VALIDATION_ERROR")
    assert "new_password" in body["errors"]
    _alive(pair)


def test_password_change_needs_a_token(api_client):
    assert_error(api_client.post(reverse("api:auth-password"), {"old_password": "a", "new_password": "b"},
                                 format="json"), 401, "NOT_AUTHENTICATED")


def test_a_portal_password_change_revokes_the_users_tokens(patient, patient_client):
    pair = _login(patient.user.email)
    response = patient_client.post(reverse("accounts:password-change"), {
        "old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    _dead(pair)


def test_a_password_reset_revokes_the_users_tokens(patient, client):
    pair = _login(patient.user.email)
    client.post(reverse("accounts:password-reset"), {"email": patient.user.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line).strip()
    path = link[link.index("/accounts/"):]
    form_page = client.get(path, follow=True)
    response = client.post(form_page.redirect_chain[-1][0],
                           {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(pk=patient.user.pk).check_password(NEW_PASSWORD)
    _dead(pair)


@pytest.mark.parametrize("change", [
    pytest.param(lambda user: User.objects.filter(pk=user.pk).update(is_active=False), id="deactivated-in-bulk"),
    pytest.param(lambda user: (setattr(user, "is_active", False), user.save()), id="deactivated"),
    pytest.param(lambda user: (setattr(user, "role", User.Role.DOCTOR), user.save()), id="role-changed"),
])
def test_deactivation_and_a_role_change_end_every_token(patient, change):
    pair = _login(patient.user.email)
    change(User.objects.get(pk=patient.user.pk))
    assert TokenFamily.objects.get(user=patient.user).end_reason == TokenFamily.EndReason.CREDENTIALS
    assert_error(_bearer(pair["access"]).get(PROFILE), 401, "TOKEN_INVALID")
    assert_error(_refresh(pair["refresh"]), 401, "TOKEN_INVALID")


# --- a deactivated doctor profile --------------------------------------------------


@pytest.mark.parametrize("deactivate", [
    pytest.param(lambda doctor: (setattr(doctor, "is_active", False), doctor.save()), id="saved"),
    pytest.param(lambda doctor: type(doctor).objects.filter(pk=doctor.pk).update(is_active=False), id="bulk"),
])
def test_a_deactivated_doctor_profile_loses_access_everywhere_at_once(doctor, client, deactivate):
    pair = _login(doctor.user.email)
    client.force_login(doctor.user)
    assert client.get(reverse("scheduling:doctor-day")).status_code == 200
    deactivate(type(doctor).objects.get(pk=doctor.pk))
    _dead(pair)  # the API
    response = client.get(reverse("scheduling:doctor-day"))  # the portal session
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert_error(APIClient().post(reverse("api:auth-login"), {"email": doctor.user.email, "password": TEST_PASSWORD},
                                  format="json"), 401, "INVALID_CREDENTIALS")
    portal = client.post(reverse("accounts:login"), {"username": doctor.user.email, "password": TEST_PASSWORD})
    assert portal.status_code == 200 and "Wrong email or password." in portal.content.decode()
    assert client.get(reverse("scheduling:doctor-day")).status_code == 302


def test_a_reactivated_doctor_can_sign_in_again(doctor):
    doctor.is_active = False
    doctor.save()
    doctor.is_active = True
    doctor.save()
    _alive(_login(doctor.user.email))


# --- the admin shows no usable token --------------------------------------------------


def test_the_admin_shows_no_usable_refresh_token(patient, admin_user, client):
    pair = _login(patient.user.email)
    force_login_verified(client, admin_user)
    family = TokenFamily.objects.get(user=patient.user)
    pages = [
        client.get(reverse("admin:accounts_tokenfamily_changelist")),
        client.get(reverse("admin:accounts_tokenfamily_change", args=[family.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert pair["refresh"] not in html and pair["refresh"].split(".")[2] not in html
        assert pair["access"] not in html
    assert patient.user.email in pages[0].content.decode()
    # simplejwt's outstanding-token screens, which showed tokens in clear, are gone.
    assert client.get("/admin/token_blacklist/outstandingtoken/").status_code == 404


def test_staff_can_end_a_sign_in_from_the_admin(patient, admin_user, client):
    pair = _login(patient.user.email)
    force_login_verified(client, admin_user)
    family = TokenFamily.objects.get(user=patient.user)
    client.post(reverse("admin:accounts_tokenfamily_changelist"),
                {"action": "end_families", "_selected_action": [family.pk]})
    _dead(pair)
