"""Portal pages of accounts: register, log in and out, password reset, profile."""

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from accounts.models import Patient, User
from accounts.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-long-and-unusual-passphrase-42"


def _register(client, **overrides):
    data = {"name": "Nina New", "email": "Nina@Example.com", "mobile_no": "+91 98765 43210",
            "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD, **overrides}
    return client.post(reverse("accounts:register"), data)


# --- register ---------------------------------------------------------------


def test_register_page_renders_with_labelled_fields(client):
    response = client.get(reverse("accounts:register"))
    html = response.content.decode()
    assert response.status_code == 200
    for field in ("name", "email", "mobile_no", "password1", "password2"):
        assert f'for="id_{field}"' in html


def test_register_creates_a_logged_in_patient(client):
    response = _register(client)
    assert response.status_code == 302 and response.url == reverse("accounts:profile")  # prompted for it
    user = User.objects.get(email="nina@example.com")
    assert user.role == User.Role.PATIENT and Patient.objects.filter(user=user).exists()
    assert client.session[SESSION_KEY] == str(user.pk)
    follow = client.get(response.url)
    assert "Welcome, Nina New" in follow.content.decode()
    assert client.get(reverse("accounts:profile")).status_code == 200  # the session holds on the next page


def test_register_returns_to_a_safe_next_page_only(client, slot):
    book = reverse("scheduling:appointment-book", args=[slot.pk])
    assert _register(client, next=book).url == book
    client.logout()
    response = _register(client, email="evil@example.com", next="https://evil.example/")
    assert response.url == reverse("accounts:profile")  # not the foreign page: the new patient's own


def test_register_with_a_taken_email_shows_the_error(client, patient):
    response = _register(client, email="PAT@example.com")
    assert response.status_code == 200
    assert "An account with this email already exists." in response.content.decode()
    assert User.objects.filter(email__iexact="pat@example.com").count() == 1


def test_register_with_a_weak_password_shows_why(client):
    response = _register(client, password1="password", password2="password")
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert not User.objects.filter(email="nina@example.com").exists()


def test_register_with_different_passwords_is_refused(client):
    response = _register(client, password2=GOOD_PASSWORD + "x")
    assert "The two passwords differ." in response.content.decode()
    assert not User.objects.exists()


def test_register_shows_field_errors_linked_to_their_inputs(client):
    response = _register(client, name="", email="not-an-email")
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and 'id="id_email_error"' in html
    assert "Please correct the following" in html


def test_logged_in_user_visiting_register_goes_home(client, patient):
    client.force_login(patient.user)
    assert client.get(reverse("accounts:register")).url == reverse("scheduling:home")


# --- login / logout -----------------------------------------------------------


def test_login_page_renders(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200 and 'for="id_username"' in response.content.decode()


def test_patient_logs_in_with_email_any_case(client, patient):
    response = client.post(reverse("accounts:login"), {"username": "PAT@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 302 and response.url == reverse("scheduling:home")
    assert client.session[SESSION_KEY] == str(patient.user.pk)


def test_login_follows_next(client, patient):
    target = reverse("scheduling:appointment-list")
    response = client.post(
        reverse("accounts:login") + f"?next={target}",
        {"username": "pat@example.com", "password": TEST_PASSWORD, "next": target},
    )
    assert response.url == target


def test_doctor_lands_on_their_day(client, doctor):
    response = client.post(reverse("accounts:login"), {"username": doctor.user.email, "password": TEST_PASSWORD})
    assert response.url == reverse("scheduling:doctor-day")


def test_wrong_password_is_one_plain_message(client, patient):
    response = client.post(reverse("accounts:login"), {"username": "pat@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "Wrong email or password." in response.content.decode()
    assert SESSION_KEY not in client.session


def test_inactive_user_cannot_log_in(client):
    UserFactory(email="gone@example.com", is_active=False)
    client.post(reverse("accounts:login"), {"username": "gone@example.com", "password": TEST_PASSWORD})
    assert SESSION_KEY not in client.session


def test_logout_is_a_post(client, patient):
    client.force_login(patient.user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and SESSION_KEY not in client.session
    assert "You are logged out." in client.get(response.url).content.decode()


def test_session_ends_after_15_idle_minutes(client, patient):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.force_login(patient.user)
    # Each request pushes the expiry 15 minutes ahead (activity keeps you in)...
    before = timezone.now()
    assert client.get(reverse("scheduling:appointment-list")).status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    assert timedelta(minutes=14) < session.expire_date - before <= timedelta(minutes=15, seconds=5)
    # ...and once 15 idle minutes have passed, the next request is logged out.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("scheduling:appointment-list"))
    assert response.status_code == 302 and reverse("accounts:login") in response.url


def test_header_shows_the_right_links_per_role(client, patient, doctor):
    anonymous = client.get(reverse("scheduling:home")).content.decode()
    assert "Log in" in anonymous and "Register" in anonymous and "My appointments" not in anonymous
    client.force_login(patient.user)
    html = client.get(reverse("scheduling:home")).content.decode()
    assert "My appointments" in html and "My profile" in html and "Log out" in html
    assert 'action="/accounts/logout/"' in html and "My day" not in html
    client.force_login(doctor.user)
    assert "My day" in client.get(reverse("scheduling:home")).content.decode()


# --- password reset -----------------------------------------------------------


def test_password_reset_by_email_end_to_end(client, patient):
    assert client.get(reverse("accounts:password-reset")).status_code == 200
    response = client.post(reverse("accounts:password-reset"), {"email": "pat@example.com"})
    assert response.url == reverse("accounts:password-reset-done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["pat@example.com"]
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    set_password_page = client.get(link, follow=True)
    assert "Choose a new password" in set_password_page.content.decode()
    new = "another-long-passphrase-77"
    done = client.post(set_password_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.url == reverse("accounts:password-reset-complete")
    patient.user.refresh_from_db()
    assert patient.user.check_password(new)


def test_password_reset_for_an_unknown_email_looks_the_same(client):
    response = client.post(reverse("accounts:password-reset"), {"email": "nobody@example.com"})
    assert response.url == reverse("accounts:password-reset-done") and mail.outbox == []


def test_password_reset_with_a_bad_link_says_so(client, patient):
    response = client.get(reverse("accounts:password-reset-confirm", args=["MQ", "bad-token"]))
    assert "This link does not work any more" in response.content.decode()


def test_password_change(client, patient):
    client.force_login(patient.user)
    new = "another-long-passphrase-77"
    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.url == reverse("accounts:profile")
    patient.user.refresh_from_db()
    assert patient.user.check_password(new)


# --- profile ------------------------------------------------------------------


def _profile_data(**overrides):
    return {"name": "Pat Patient", "mobile_no": "+91 90000 11111", "date_of_birth": "1990-05-17",
            "blood_group": "B+", "allergies": "Penicillin", "emergency_contact": "Ravi Patel, +91 98765 43210",
            **overrides}


def test_profile_needs_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_profile_is_for_patients_only(client, doctor):
    client.force_login(doctor.user)
    assert client.get(reverse("accounts:profile")).status_code == 403


def test_profile_renders_the_patients_details(client, patient):
    client.force_login(patient.user)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "pat@example.com" in html and 'value="Pat Patient"' in html
    for field in ("name", "mobile_no", "date_of_birth", "blood_group", "allergies", "emergency_contact"):
        assert f'for="id_{field}"' in html


def test_profile_saves_contact_and_medical_details(client, patient):
    client.force_login(patient.user)
    response = client.post(reverse("accounts:profile"), _profile_data(name="Pat P. Patient"))
    assert response.status_code == 302
    patient.refresh_from_db()
    patient.user.refresh_from_db()
    assert patient.user.name == "Pat P. Patient" and patient.user.mobile_no == "+91 90000 11111"
    assert (patient.date_of_birth, patient.blood_group, patient.allergies) == (date(1990, 5, 17), "B+", "Penicillin")
    assert "Your profile is saved." in client.get(response.url).content.decode()


def test_profile_refuses_allergies_past_the_apis_limit(client, patient):
    # Was saved: the form set max_length after the field was made, which adds no validator.
    client.force_login(patient.user)
    response = client.post(reverse("accounts:profile"), _profile_data(allergies="x" * 2001))
    assert response.status_code == 200
    assert "at most 2000 characters" in str(response.context["form"].errors["allergies"])
    patient.refresh_from_db()
    assert patient.allergies == ""


def test_profile_takes_allergies_up_to_the_limit(client, patient):
    client.force_login(patient.user)
    assert client.post(reverse("accounts:profile"), _profile_data(allergies="x" * 2000)).status_code == 302
    patient.refresh_from_db()
    assert len(patient.allergies) == 2000


def test_profile_blood_group_may_be_unknown(client, patient):
    client.force_login(patient.user)
    client.post(reverse("accounts:profile"), _profile_data(blood_group=""))
    patient.refresh_from_db()
    assert patient.blood_group is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", (date.today() + timedelta(days=2)).isoformat(), "cannot be in the future"),
        ("date_of_birth", "17/05/1990x", "Enter a valid date."),
        ("blood_group", "Z+", "Select a valid choice."),
        ("mobile_no", "call me", "Enter a phone number"),
        ("emergency_contact", "Ravi", "Include a phone number"),
        ("name", "", "This field is required."),
    ],
)
def test_profile_rejects_invalid_details(client, patient, field, value, message):
    client.force_login(patient.user)
    response = client.post(reverse("accounts:profile"), _profile_data(**{field: value}))
    assert response.status_code == 200 and message in response.content.decode()
    patient.refresh_from_db()
    assert patient.blood_group is None and patient.date_of_birth is None


# --- attempts are limited per client, like the API's ---------------------------------


@pytest.fixture
def strict_limits(monkeypatch):
    from healthsvc.api.throttling import LoginRateThrottle, RegisterRateThrottle

    monkeypatch.setattr(LoginRateThrottle, "THROTTLE_RATES", {"login": "2/min"})
    monkeypatch.setattr(RegisterRateThrottle, "THROTTLE_RATES", {"register": "1/min"})


def test_login_attempts_are_limited(client, patient, strict_limits):
    for _ in range(2):
        client.post(reverse("accounts:login"), {"username": "pat@example.com", "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": "pat@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 429 and "Too many attempts" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_registrations_are_limited(client, strict_limits):
    _register(client)
    client.logout()
    response = _register(client, email="second@example.com")
    assert response.status_code == 429 and "Too many attempts" in response.content.decode()
    assert not User.objects.filter(email="second@example.com").exists()
