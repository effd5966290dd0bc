"""Client addresses that cannot be spoofed, lockout on (account, address) with
a cool-off on every login path, and password-reset limits."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import get_hasher
from django.core import mail
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.tests.factories import TEST_PASSWORD, UserFactory
from healthsvc.http import client_ip
from healthsvc.testing import assert_error

pytestmark = pytest.mark.django_db

LOGIN = reverse("api:auth-login")
ATTACKER, VICTIM_HOME = "203.0.113.66", "198.51.100.7"
RATES = {"anon": "1000/min", "user": "1000/min", "login": "3/min", "register": "3/min",
         "password_reset": "5/hour", "password_reset_mail": "3/hour"}


def _api_login(email, password, ip=ATTACKER, **extra):
    return APIClient(REMOTE_ADDR=ip).post(LOGIN, {"email": email, "password": password}, format="json", **extra)


@pytest.fixture
def strict_rates(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", RATES)


@pytest.fixture
def lockout(settings):
    settings.AXES_FAILURE_LIMIT = 5


# --- the client address ----------------------------------------------------------------


@pytest.mark.parametrize(("hops", "forwarded", "expected"), [
    (0, "", "10.0.0.9"),
    (0, "1.2.3.4", "10.0.0.9"),  # no proxy trusted: the header is the client's own words
    (1, "1.2.3.4", "1.2.3.4"),
    (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the client's own entry is further left
    (2, "6.6.6.6, 1.2.3.4, 10.1.1.1", "1.2.3.4"),
    (2, "1.2.3.4", "10.0.0.9"),  # fewer hops than configured: not through our proxies
])
def test_the_client_address_trusts_exactly_num_proxies_hops(settings, hops, forwarded, expected):
    settings.NUM_PROXIES = hops
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_new_x_forwarded_for_on_each_login_still_gets_a_429(patient, strict_rates):
    answers = [
        _api_login(patient.user.email, "wrong", HTTP_X_FORWARDED_FOR=f"10.9.{i}.1").status_code for i in range(5)
    ]
    assert answers[:3] == [401, 401, 401] and answers[3:] == [429, 429]


def test_behind_one_proxy_the_limit_follows_the_proxys_view_of_the_client(patient, strict_rates, settings):
    settings.NUM_PROXIES = 1
    spoofs = [_api_login(patient.user.email, "wrong", ip="10.0.0.1",
                         HTTP_X_FORWARDED_FOR=f"9.9.9.{i}, {ATTACKER}").status_code for i in range(4)]
    assert spoofs[-1] == 429
    # Another client behind the same proxy is not charged for the attacker's tries.
    other = _api_login(patient.user.email, TEST_PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR=VICTIM_HOME)
    assert other.status_code == 200


def test_the_portal_login_and_register_limits_ignore_a_spoofed_header(client, strict_rates):
    logins = [client.post(reverse("accounts:login"), {"username": "x@example.com", "password": "y"},
                          HTTP_X_FORWARDED_FOR=f"10.8.{i}.1").status_code for i in range(4)]
    registers = [client.post(reverse("accounts:register"), {"name": "A"},
                             HTTP_X_FORWARDED_FOR=f"10.7.{i}.1").status_code for i in range(4)]
    assert logins[-1] == 429 and registers[-1] == 429


# --- lockout ------------------------------------------------------------------------


def test_five_failures_lock_the_account_from_that_address_even_for_the_right_password(patient, lockout):
    for _ in range(4):
        assert_error(_api_login(patient.user.email, "wrong"), 401, "INVALID_CREDENTIALS")
    assert_error(_api_login(patient.user.email, "wrong"), 429, "RATE_LIMITED")  # the fifth locks
    locked = assert_error(_api_login(patient.user.email, TEST_PASSWORD), 429, "RATE_LIMITED")
    assert "Too many failed logins" in locked["detail"]
    assert int(_api_login(patient.user.email, TEST_PASSWORD)["Retry-After"]) == 15 * 60


def test_the_victim_still_logs_in_from_their_own_address(patient, lockout):
    for _ in range(8):
        _api_login(patient.user.email, "wrong", ip=ATTACKER)
    assert _api_login(patient.user.email, TEST_PASSWORD, ip=ATTACKER).status_code == 429
    assert _api_login(patient.user.email, TEST_PASSWORD, ip=VICTIM_HOME).status_code == 200
    portal = Client(REMOTE_ADDR=VICTIM_HOME)
    assert portal.post(reverse("accounts:login"), {"username": patient.user.email, "password": TEST_PASSWORD}
                       ).status_code == 302


def test_the_lock_lifts_after_the_cool_off(patient, lockout):
    for _ in range(5):
        _api_login(patient.user.email, "wrong")
    assert _api_login(patient.user.email, TEST_PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _api_login(patient.user.email, TEST_PASSWORD).status_code == 200


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer_and_the_same_work(patient, lockout, monkeypatch):
    hashings = []
    hasher_class = type(get_hasher())
    original = hasher_class.encode
    monkeypatch.setattr(hasher_class, "encode", lambda self, *a, **k: hashings.append(1) or original(self, *a, **k))
    wrong = _api_login(patient.user.email, "wrong")
    work_wrong, hashings[:] = len(hashings), []
    unknown = _api_login("nobody-here@example.com", "wrong")
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())
    assert work_wrong == len(hashings) == 1  # a password is hashed either way: no timing tell
    for _ in range(4):
        _api_login("nobody-here@example.com", "wrong")
        _api_login(patient.user.email, "wrong")
    assert _api_login("nobody-here@example.com", "x").json() == _api_login(patient.user.email, "x").json()
    assert _api_login("nobody-here@example.com", "x").status_code == 429


def test_the_portal_login_locks_with_a_page(patient, client, lockout):
    for _ in range(4):
        response = client.post(reverse("accounts:login"), {"username": patient.user.email, "password": "wrong"})
        assert response.status_code == 200 and "Wrong email or password." in response.content.decode()
    assert client.post(reverse("accounts:login"), {"username": patient.user.email, "password": "x"}).status_code == 429
    locked = client.post(reverse("accounts:login"), {"username": patient.user.email, "password": TEST_PASSWORD})
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_login_form_no_longer_takes_passwords(admin_user, client, lockout):
    """The admin's own login form had no limit at all; it now sends everyone
    to the portal's login, which locks (above) and asks for the second factor."""
    for _ in range(10):
        response = client.post(reverse("admin:login"), {"username": admin_user.email, "password": "wrong"})
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    right = client.post(reverse("admin:login"), {"username": admin_user.email, "password": TEST_PASSWORD})
    assert right.status_code == 302 and "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_portal_login_used_for_the_admin_locks(admin_user, client, lockout):
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": admin_user.email, "password": "wrong"})
    locked = client.post(reverse("accounts:login"), {"username": admin_user.email, "password": TEST_PASSWORD})
    assert locked.status_code == 429 and "_auth_user_id" not in client.session


# --- password reset -----------------------------------------------------------------------


def test_password_reset_mails_an_account_at_most_three_times_an_hour(patient, client, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**RATES, "password_reset": "1000/hour"})
    answers = [client.post(reverse("accounts:password-reset"), {"email": patient.user.email},
                           REMOTE_ADDR=f"10.5.{i}.1") for i in range(30)]
    assert all(a.status_code == 302 and a["Location"] == reverse("accounts:password-reset-done") for a in answers)
    assert len(mail.outbox) == 3


def test_password_reset_requests_are_limited_per_address(patient, client, strict_rates):
    answers = [client.post(reverse("accounts:password-reset"), {"email": f"a{i}@example.com"}).status_code
               for i in range(7)]
    assert answers[:5] == [302] * 5 and answers[5:] == [429, 429]


def test_password_reset_answers_the_same_for_an_unknown_email(patient, client):
    known = client.post(reverse("accounts:password-reset"), {"email": patient.user.email})
    unknown = client.post(reverse("accounts:password-reset"), {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1


@override_settings(NUM_PROXIES=0)
def test_num_proxies_defaults_to_trusting_no_header():
    from django.conf import settings as live

    from healthsvc.settings import base

    assert base.NUM_PROXIES == 0 and live.REST_FRAMEWORK["NUM_PROXIES"] == 0


@pytest.mark.parametrize("spelling", ["PAT@EXAMPLE.COM", " pat@example.com "])
def test_an_email_logs_in_in_any_case_as_typed(patient, spelling):
    assert _api_login(spelling, TEST_PASSWORD).status_code == 200


@pytest.mark.parametrize("lookalike", ["a\u017fha@example.com", "asha@example.com\u200b"])
def test_a_lookalike_spelling_of_an_email_is_another_account(lockout, lookalike):
    """PostgreSQL's case-insensitive match (UPPER) takes "ſ" for "s"; the
    lookup is exact on the lowercased email, as the lockout key is, so a
    lookalike cannot reach the account under a lockout count of its own."""
    UserFactory(email="asha@example.com")
    assert _api_login("asha@example.com", TEST_PASSWORD).status_code == 200
    assert_error(_api_login(lookalike, TEST_PASSWORD), 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize("forwarded", ["1.2.3.4:5555", "not-an-address", "1.2.3.4, <script>"])
def test_a_forwarded_value_that_is_no_address_is_not_trusted(settings, forwarded):
    settings.NUM_PROXIES = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == "10.0.0.9"


def test_reset_mails_are_capped_for_every_spelling_of_an_address(client, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**RATES, "password_reset": "1000/hour"})
    UserFactory(email="asha@example.com")
    for spelling in ["asha@example.com", "ASHA@example.com", "a\u017fha@example.com", "Asha@Example.com"] * 2:
        client.post(reverse("accounts:password-reset"), {"email": spelling})
    # One budget for them all (a budget per spelling would have sent 6 or more).
    assert 2 <= len(mail.outbox) <= 3
