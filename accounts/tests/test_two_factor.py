"""Two-factor for staff and doctors: TOTP with recovery codes, required for
the admin site, asked at the portal's and the API's login."""

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import two_factor
from accounts.tests.factories import TEST_PASSWORD
from healthsvc.testing import assert_error, force_login_verified

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:login-verify")
SETTINGS_PAGE = reverse("accounts:two-factor")


def _code(device: TOTPDevice, offset_steps: int = 0) -> str:
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset_steps)
    return str(value).zfill(device.digits)


def _enrolled(user) -> TOTPDevice:
    device = two_factor.totp_setup_start(user)
    assert two_factor.totp_setup_confirm(user, device, _code(device)) is not None
    device.refresh_from_db()
    device.last_t = -1  # the confirming code's step may be used once more by the test's login
    device.save(update_fields=["last_t"])
    return device


@pytest.fixture
def no_throttle(settings):
    """django-otp makes a device wait after a wrong code (1 s, then doubling);
    tests that send a wrong code and then the right one at once turn that off."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _api_login(user, **extra):
    return APIClient().post(reverse("api:auth-login"), {"email": user.email, "password": TEST_PASSWORD, **extra},
                            format="json")


# --- the admin needs a second factor --------------------------------------------------


def test_staff_with_only_a_password_cannot_reach_the_admin(admin_user, client):
    client.force_login(admin_user)  # a session that passed no second factor
    for path in (reverse("admin:index"), reverse("admin:accounts_user_changelist")):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(SETTINGS_PAGE)
    # Nor the API through that session.
    assert_error(client.get("/api/v1/patients"), 403, "PERMISSION_DENIED")


def test_staff_login_asks_for_the_code_then_opens_the_admin(admin_user, client, no_throttle):
    device = _enrolled(admin_user)
    first = client.post(LOGIN, {"username": admin_user.email, "password": TEST_PASSWORD,
                                "next": reverse("admin:index")})
    assert first.status_code == 302 and first["Location"] == VERIFY
    assert "_auth_user_id" not in client.session  # the password alone logs nobody in
    assert client.get(reverse("admin:index")).status_code == 302
    wrong = client.post(VERIFY, {"code": "000000" if _code(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    right = client.post(VERIFY, {"code": _code(device)})
    assert right.status_code == 302 and right["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_code_is_accepted_once(admin_user, client):
    device = _enrolled(admin_user)
    code = _code(device)
    client.post(LOGIN, {"username": admin_user.email, "password": TEST_PASSWORD})
    assert client.post(VERIFY, {"code": code}).status_code == 302
    other = type(client)()
    other.post(LOGIN, {"username": admin_user.email, "password": TEST_PASSWORD})
    replay = other.post(VERIFY, {"code": code})
    assert replay.status_code == 200 and "_auth_user_id" not in other.session


def test_five_wrong_codes_end_the_pending_login(admin_user, client):
    _enrolled(admin_user)
    client.post(LOGIN, {"username": admin_user.email, "password": TEST_PASSWORD})
    for _ in range(5):
        client.post(VERIFY, {"code": "12345678"})
    assert client.get(VERIFY).status_code == 302  # back to the password step


def test_a_recovery_code_signs_in_once(admin_user, client):
    device = _enrolled(admin_user)
    code = two_factor.recovery_codes_new(admin_user)[0]
    client.post(LOGIN, {"username": admin_user.email, "password": TEST_PASSWORD})
    assert client.post(VERIFY, {"code": code}).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert not StaticToken.objects.filter(token=two_factor.recovery_digest(code)).exists()  # used up
    assert device.user_id == admin_user.pk
    again = type(client)()
    again.post(LOGIN, {"username": admin_user.email, "password": TEST_PASSWORD})
    assert again.post(VERIFY, {"code": code}).status_code == 200 and "_auth_user_id" not in again.session


def test_recovery_codes_are_stored_as_keyed_hashes_only(admin_user):
    codes = two_factor.recovery_codes_new(admin_user)
    stored = set(StaticToken.objects.filter(device__user=admin_user).values_list("token", flat=True))
    assert len(stored) == 10 and not stored & set(codes)
    assert stored == {two_factor.recovery_digest(code) for code in codes}
    assert two_factor.otp_check(admin_user, codes[3].upper()) is not None  # typed in capitals, still one use


# --- setting it up ------------------------------------------------------------------------------


def test_a_new_staff_member_sets_up_an_authenticator_and_gets_recovery_codes(admin_user, client, no_throttle):
    client.force_login(admin_user)
    page = client.get(SETTINGS_PAGE)
    assert page.status_code == 200 and "Set up two-factor" in page.content.decode()
    client.post(SETTINGS_PAGE, {"action": "start"})
    setup = client.get(SETTINGS_PAGE).content.decode()
    assert 'src="data:image/svg+xml' in setup and "otp-key" in setup
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    assert client.post(SETTINGS_PAGE, {"action": "confirm", "code": "99999999"}).status_code == 200
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    done = client.post(SETTINGS_PAGE, {"action": "confirm", "code": _code(device)})
    codes = re.findall(r"<code>([a-z0-9]+)</code>", done.content.decode())
    assert len(codes) == 10 and TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get(reverse("admin:index")).status_code == 200  # this session is verified now


def test_staff_cannot_turn_two_factor_off_but_a_doctor_can(admin_user, doctor, client):
    force_login_verified(client, admin_user)
    client.post(SETTINGS_PAGE, {"action": "disable"})
    assert two_factor.otp_enabled(admin_user)
    device = _enrolled(doctor.user)
    force_login_verified(client, doctor.user)
    client.post(SETTINGS_PAGE, {"action": "disable"})  # a verified session alone is not enough
    assert two_factor.otp_enabled(doctor.user)
    client.post(SETTINGS_PAGE, {"action": "disable", "code": _code(device)})
    assert not two_factor.otp_enabled(doctor.user)


def test_patients_have_no_two_factor_page(patient_client):
    assert patient_client.get(SETTINGS_PAGE).status_code == 403


def test_an_unverified_session_cannot_replace_the_authenticator(doctor, client):
    _enrolled(doctor.user)
    client.force_login(doctor.user)  # password only, e.g. a stolen session from before two-factor
    client.post(SETTINGS_PAGE, {"action": "start"})
    assert not TOTPDevice.objects.filter(user=doctor.user, confirmed=False).exists()
    before = set(StaticToken.objects.filter(device__user=doctor.user).values_list("token", flat=True))
    client.post(SETTINGS_PAGE, {"action": "recovery"})
    assert set(StaticToken.objects.filter(device__user=doctor.user).values_list("token", flat=True)) == before
    client.post(SETTINGS_PAGE, {"action": "disable"})
    assert two_factor.otp_enabled(doctor.user)


def test_a_wrong_code_makes_the_device_wait_before_the_next_try(doctor):
    device = _enrolled(doctor.user)
    assert_error(_api_login(doctor.user, otp="000000" if _code(device) != "000000" else "111111"), 401, "OTP_INVALID")
    assert_error(_api_login(doctor.user, otp=_code(device)), 401, "OTP_INVALID")  # even the right one, at once


# --- the API ------------------------------------------------------------------------


def test_api_login_of_an_account_with_two_factor_needs_the_code(doctor, no_throttle):
    device = _enrolled(doctor.user)
    assert_error(_api_login(doctor.user), 401, "OTP_REQUIRED")
    assert_error(_api_login(doctor.user, otp="000000" if _code(device) != "000000" else "111111"), 401, "OTP_INVALID")
    code = _code(device)
    assert _api_login(doctor.user, otp=code).status_code == 200
    assert_error(_api_login(doctor.user, otp=code), 401, "OTP_INVALID")  # not twice


def test_api_login_of_an_admin_without_two_factor_is_refused(admin_user):
    assert_error(_api_login(admin_user), 401, "OTP_REQUIRED")


def test_patients_log_in_to_the_api_with_a_password(patient):
    assert _api_login(patient.user).status_code == 200


def test_the_otp_admin_screens_with_secrets_are_not_served(admin_user, client):
    force_login_verified(client, admin_user)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404


def test_staff_can_reset_a_users_lost_authenticator(admin_user, doctor, client):
    _enrolled(doctor.user)
    force_login_verified(client, admin_user)
    client.post(reverse("admin:accounts_user_changelist"),
                {"action": "reset_two_factor", "_selected_action": [doctor.user.pk]})
    assert not two_factor.otp_enabled(doctor.user)


# --- changes to a factor, and what they end ---------------------------------------------


def test_new_recovery_codes_need_a_fresh_code_even_in_a_verified_session(doctor, client):
    device = _enrolled(doctor.user)
    force_login_verified(client, doctor.user)
    before = set(StaticToken.objects.filter(device__user=doctor.user).values_list("token", flat=True))
    client.post(SETTINGS_PAGE, {"action": "recovery"})
    client.post(SETTINGS_PAGE, {"action": "start"})  # nor may the authenticator be replaced
    assert set(StaticToken.objects.filter(device__user=doctor.user).values_list("token", flat=True)) == before
    assert not TOTPDevice.objects.filter(user=doctor.user, confirmed=False).exists()
    page = client.post(SETTINGS_PAGE, {"action": "recovery", "code": _code(device)})
    assert len(re.findall(r"<code>([a-z0-9]+)</code>", page.content.decode())) == 10
    assert set(StaticToken.objects.filter(device__user=doctor.user).values_list("token", flat=True)).isdisjoint(before)


def test_turning_two_factor_on_ends_the_accounts_other_sessions_and_tokens(doctor, client):
    from django.test import Client

    elsewhere = Client()
    elsewhere.force_login(doctor.user)  # e.g. a session an attacker holds
    pair = _api_login(doctor.user).json()
    client.force_login(doctor.user)
    client.post(SETTINGS_PAGE, {"action": "start"})
    device = TOTPDevice.objects.get(user=doctor.user, confirmed=False)
    assert client.post(SETTINGS_PAGE, {"action": "confirm", "code": _code(device)}).status_code == 200
    assert elsewhere.get(reverse("scheduling:doctor-day")).status_code == 302
    assert_error(APIClient(HTTP_AUTHORIZATION=f"Bearer {pair['access']}").get(reverse("api:auth-profile")),
                 401, "TOKEN_INVALID")
    assert client.get(reverse("scheduling:doctor-day")).status_code == 200  # this session carries on


def test_a_two_factor_reset_by_staff_ends_the_users_sessions(admin_user, doctor, client):
    from django.test import Client

    _enrolled(doctor.user)
    hijacked = force_login_verified(Client(), doctor.user)
    assert hijacked.get(reverse("scheduling:doctor-day")).status_code == 200
    force_login_verified(client, admin_user)
    client.post(reverse("admin:accounts_user_changelist"),
                {"action": "reset_two_factor", "_selected_action": [doctor.user.pk]})
    assert hijacked.get(reverse("scheduling:doctor-day")).status_code == 302  # logged out, cannot re-enrol
    assert hijacked.post(SETTINGS_PAGE, {"action": "start"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=doctor.user).exists()


def test_a_pending_login_dies_with_a_password_change(admin_user, client):
    device = _enrolled(admin_user)
    client.post(LOGIN, {"username": admin_user.email, "password": TEST_PASSWORD})
    admin_user.set_password("a-brand-new-passphrase-9")
    admin_user.save()
    assert client.post(VERIFY, {"code": _code(device)}).status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/x"])
def test_the_admin_login_does_not_redirect_off_site(admin_user, client, target):
    force_login_verified(client, admin_user)
    response = client.get(reverse("admin:login"), {"next": target})
    assert response.status_code == 302 and "evil.example" not in response["Location"]
    client.logout()
    anonymous = client.get(reverse("admin:login"), {"next": target})
    assert "evil.example" not in anonymous["Location"]
