"""Forgiving account forms: a throttled or locked-out form keeps what was typed
(never a password) and says when to retry; the password rules come in the
same round as the other errors; every length rule is the model's, on the
server; a new patient is prompted for their medical profile."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.forms import PASSWORD_MAX_LENGTH
from accounts.models import Patient, User
from accounts.tests.factories import TEST_PASSWORD
from accounts.views import retry_words
from healthsvc.api.throttling import LoginRateThrottle, PasswordResetRateThrottle, RegisterRateThrottle

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-long-and-unusual-passphrase-42"
TYPED = {"name": "Nina New", "email": "nina@example.com", "mobile_no": "+91 98765 43210"}


def _register(client, **overrides):
    data = {**TYPED, "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD, **overrides}
    return client.post(reverse("accounts:register"), data)


@pytest.fixture
def strict_limits(monkeypatch):
    monkeypatch.setattr(LoginRateThrottle, "THROTTLE_RATES", {"login": "1/min"})
    monkeypatch.setattr(RegisterRateThrottle, "THROTTLE_RATES", {"register": "5/min"})
    monkeypatch.setattr(PasswordResetRateThrottle, "THROTTLE_RATES", {"password_reset": "1/min"})


# --- throttled forms keep what was typed --------------------------------------------


def test_sixth_registration_in_a_minute_keeps_the_fields_but_not_the_passwords(client, strict_limits):
    for _ in range(5):  # typos count: five refused attempts
        assert _register(client, password2="typo").status_code == 200
    response = _register(client)
    html = response.content.decode()
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert 'value="Nina New"' in html and 'value="nina@example.com"' in html and 'value="+91 98765 43210"' in html
    assert GOOD_PASSWORD not in html
    assert "Please try again in " in html and "seconds" in html
    assert "what you typed is kept below" in html
    assert not User.objects.filter(email="nina@example.com").exists()


def test_throttled_login_keeps_the_email_and_says_when(client, patient, strict_limits):
    client.post(reverse("accounts:login"), {"username": patient.user.email, "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": patient.user.email, "password": TEST_PASSWORD})
    html = response.content.decode()
    assert response.status_code == 429 and "Retry-After" in response
    assert f'value="{patient.user.email}"' in html and TEST_PASSWORD not in html
    assert "Please try again in " in html
    assert SESSION_KEY not in client.session


def test_throttled_password_reset_keeps_the_email(client, patient, strict_limits):
    client.post(reverse("accounts:password-reset"), {"email": "first@example.com"})
    response = client.post(reverse("accounts:password-reset"), {"email": "second@example.com"})
    assert response.status_code == 429
    assert 'value="second@example.com"' in response.content.decode()


def test_locked_out_login_keeps_the_email_not_the_password_and_says_the_minutes(client, patient, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post(reverse("accounts:login"), {"username": patient.user.email, "password": "wrong-one"})
    response = client.post(reverse("accounts:login"), {"username": patient.user.email, "password": "wrong-two"})
    html = response.content.decode()
    assert response.status_code == 429 and response["Retry-After"] == "900"
    assert "Please try again in 15 minutes." in html
    assert f'value="{patient.user.email}"' in html and "wrong-two" not in html


def test_locked_out_page_keeps_no_foreign_next(client, patient, settings):
    settings.AXES_FAILURE_LIMIT = 1
    client.post(reverse("accounts:login"), {"username": patient.user.email, "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": patient.user.email, "password": "x",
                                                       "next": "https://evil.example/"})
    assert response.status_code == 429 and "evil.example" not in response.content.decode()


@pytest.mark.parametrize(("seconds", "words"), [
    (1, "in 1 second"), (45, "in 45 seconds"), (89, "in 89 seconds"), (90, "in 2 minutes"), (900, "in 15 minutes"),
    (None, "in 60 seconds"),
])
def test_retry_words(seconds, words):
    assert retry_words(seconds) == words


# --- validation in one round ---------------------------------------------------------


def test_register_reports_the_password_rules_with_the_other_errors(client):
    response = _register(client, email="not-an-email", name="", password1="12345", password2="12345")
    errors = response.context["form"].errors
    assert response.status_code == 200
    assert set(errors) == {"name", "email", "password1"}
    text = " ".join(errors["password1"])
    assert "too short" in text and "too common" in text and "entirely numeric" in text
    assert not User.objects.exists()


def test_register_reports_a_password_too_like_the_email_in_the_same_round(client):
    response = _register(client, email="margaretthatcher@example.com", mobile_no="not a phone",
                         password1="margaretthatcher", password2="margaretthatcher")
    errors = response.context["form"].errors
    assert "mobile_no" in errors and "too similar" in " ".join(errors["password1"])


def test_password_change_reports_a_wrong_old_password_and_a_weak_new_one_together(client, patient):
    client.force_login(patient.user)
    response = client.post(reverse("accounts:password-change"),
                           {"old_password": "not-it", "new_password1": "12345", "new_password2": "12345"})
    errors = response.context["form"].errors
    assert response.status_code == 200
    assert "old_password" in errors and "too short" in " ".join(errors["new_password2"])
    patient.user.refresh_from_db()
    assert patient.user.check_password(TEST_PASSWORD)


# --- length rules on the server, the model's -----------------------------------------


@pytest.mark.parametrize(("field", "limit"), [
    ("name", 150), ("email", 254), ("mobile_no", 20), ("password1", PASSWORD_MAX_LENGTH),
])
def test_register_refuses_over_long_values(client, field, limit):
    too_long = {"email": "a" * (limit - 11) + "@example.com", "mobile_no": "+" + "1" * limit}.get(field, "x" * (limit + 1))
    data = {field: too_long}
    if field == "password1":
        data["password2"] = too_long
    response = _register(client, **data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not User.objects.exists()


@pytest.mark.parametrize(("field", "model", "limit"), [
    ("name", User, 150), ("mobile_no", User, 20), ("allergies", Patient, 2000), ("emergency_contact", Patient, 200),
])
def test_profile_refuses_each_over_long_value_as_the_api_does(client, patient, auth_client, field, model, limit):
    assert model._meta.get_field(field).max_length == limit
    client.force_login(patient.user)
    data = {"name": "Pat Patient", "mobile_no": "", "date_of_birth": "", "blood_group": "", "allergies": "",
            "emergency_contact": ""}
    value = "+" + "1" * limit if field == "mobile_no" else "Ravi, +91 98765 43210" + "x" * limit
    data[field] = value if field in ("mobile_no", "emergency_contact") else "x" * (limit + 1)
    response = client.post(reverse("accounts:profile"), data)
    assert response.status_code == 200 and field in response.context["form"].errors
    api = auth_client(patient.user).patch(f"/api/v1/patients/{patient.pk}", {field: data[field]}, format="json")
    assert api.status_code == 400 and api.json()["error_code"] == "VALIDATION_ERROR"
    patient.refresh_from_db()
    patient.user.refresh_from_db()
    assert patient.user.name == "Pat Patient" and patient.allergies == "" and patient.emergency_contact == ""


def test_forms_and_api_read_their_limits_from_the_models():
    from accounts.api.serializers import PatientUpdateInputSerializer
    from accounts.forms import ProfileForm, RegisterForm

    serializer = PatientUpdateInputSerializer().fields
    profile = ProfileForm.base_fields | ProfileForm(instance=Patient(user=User())).fields
    for name, model in (("name", User), ("mobile_no", User), ("allergies", Patient), ("emergency_contact", Patient)):
        limit = model._meta.get_field(name).max_length
        assert serializer[name].max_length == profile[name].max_length == limit, name
        assert profile[name].widget.attrs["maxlength"] == str(limit), name
    assert RegisterForm.base_fields["email"].max_length == User._meta.get_field("email").max_length


# --- the prompt to complete the medical profile ---------------------------------------


def test_new_patient_goes_to_the_profile_with_the_reason(client):
    response = _register(client)
    assert response.url == reverse("accounts:profile")
    html = client.get(response.url).content.decode()
    assert "your doctor sees it before the visit" in html


def test_new_patient_on_the_way_to_a_booking_goes_there_first(client, slot):
    book = reverse("scheduling:appointment-book", args=[slot.pk])
    assert _register(client, next=book).url == book


def test_home_prompts_while_the_profile_is_empty_and_not_after(client, patient):
    client.force_login(patient.user)
    assert "Complete your medical profile" in client.get(reverse("scheduling:home")).content.decode()
    Patient.objects.filter(pk=patient.pk).update(allergies="Penicillin")
    assert "Complete your medical profile" not in client.get(reverse("scheduling:home")).content.decode()


def test_the_prompt_can_be_dismissed_for_the_session(client, patient):
    client.force_login(patient.user)
    response = client.post(reverse("accounts:profile-prompt-dismiss"))
    assert response.status_code == 302
    assert "Complete your medical profile" not in client.get(reverse("scheduling:home")).content.decode()
    assert client.get(reverse("accounts:profile-prompt-dismiss")).status_code == 405


def test_no_prompt_for_visitors_or_doctors(client, doctor):
    assert "Complete your medical profile" not in client.get(reverse("scheduling:home")).content.decode()
    client.force_login(doctor.user)
    assert "Complete your medical profile" not in client.get(reverse("scheduling:home")).content.decode()
