"""Auth and patient endpoints of the contract, with their refusals."""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Patient, User
from accounts.tokens import family_start
from accounts.tests.factories import TEST_PASSWORD, PatientFactory, UserFactory
from healthsvc.testing import assert_error, audit_statements
from scheduling import services
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

USER_FIELDS = {"id", "name", "email", "role", "mobile_no", "is_verified", "is_active", "created_at",
               "patient_id", "doctor_id"}
PATIENT_FIELDS = {"id", "user_id", "name", "email", "mobile_no", "date_of_birth", "blood_group", "allergies",
                  "emergency_contact", "wants_reminders", "guardian_id"}  # wants_reminders: our extension
STRONG = "plum-orchard-sunset-42"


_error = assert_error


# --- register -----------------------------------------------------------------


def test_register_creates_a_patient_and_returns_tokens(api_client):
    response = api_client.post(reverse("api:auth-register"), {"name": "Asha Rao", "email": "Asha@Example.com",
                                                             "password": STRONG, "mobile_no": "+91 98765 43210"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"user", "access", "refresh"} and set(body["user"]) == USER_FIELDS
    user = User.objects.get(email="asha@example.com")
    assert (user.role, body["user"]["patient_id"], body["user"]["doctor_id"]) == ("patient", user.patient.pk, None)
    assert AccessToken(body["access"])["user_id"] == str(user.pk)


def test_register_doctor_is_unverified(api_client):
    response = api_client.post(reverse("api:auth-register"),
                               {"name": "Dr New", "email": "new@example.com", "password": STRONG, "role": "doctor"})
    assert response.status_code == 201
    user = User.objects.get(email="new@example.com")
    assert (user.role, user.is_verified, response.json()["user"]["is_verified"]) == ("doctor", False, False)
    assert not Patient.objects.filter(user=user).exists()


def test_register_as_admin_is_forbidden(api_client):
    response = api_client.post(reverse("api:auth-register"),
                               {"name": "X", "email": "x@example.com", "password": STRONG, "role": "admin"})
    _error(response, 403, "PERMISSION_DENIED")
    assert not User.objects.filter(email="x@example.com").exists()


def test_register_with_a_taken_email_is_409_whatever_the_case(api_client, patient):
    response = api_client.post(reverse("api:auth-register"),
                               {"name": "Copy", "email": "PAT@example.com", "password": STRONG})
    _error(response, 409, "EMAIL_TAKEN")
    assert User.objects.filter(email__iexact="pat@example.com").count() == 1


@pytest.mark.parametrize("password", ["short", "password123", "12345678901"])
def test_register_refuses_weak_passwords(api_client, password):
    response = api_client.post(reverse("api:auth-register"), {"name": "W", "email": "w@example.com", "password": password})
    body = _error(response, 400, "VALIDATION_ERROR")
    assert "password" in body["errors"]
    assert not User.objects.filter(email="w@example.com").exists()


def test_register_validates_fields(api_client):
    body = _error(api_client.post(reverse("api:auth-register"), {"email": "not-an-email"}), 400, "VALIDATION_ERROR")
    assert {"name", "email", "password"} <= set(body["errors"])
    assert not User.objects.exists()


def test_bad_json_is_a_validation_error(api_client):
    response = api_client.post(reverse("api:auth-register"), data="{not json", content_type="application/json")
    _error(response, 400, "VALIDATION_ERROR")


# --- login / refresh / logout ---------------------------------------------------


def test_login_returns_a_token_pair_and_the_user(api_client, patient):
    response = api_client.post(reverse("api:auth-login"), {"email": "PAT@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "token_type", "user"} and body["token_type"] == "Bearer"
    assert body["user"]["patient_id"] == patient.pk
    patient.user.refresh_from_db()
    assert patient.user.last_login is not None


@pytest.mark.parametrize("email, password", [("pat@example.com", "wrong-password"), ("nobody@example.com", TEST_PASSWORD)])
def test_login_failure_is_the_same_for_wrong_password_and_unknown_email(api_client, patient, email, password):
    body = _error(api_client.post(reverse("api:auth-login"), {"email": email, "password": password}),
                  401, "INVALID_CREDENTIALS")
    assert body["detail"] == "Wrong email or password."


def test_login_of_a_deactivated_account_is_refused(api_client, patient):
    User.objects.filter(pk=patient.user_id).update(is_active=False)
    _error(api_client.post(reverse("api:auth-login"), {"email": "pat@example.com", "password": TEST_PASSWORD}),
           401, "INVALID_CREDENTIALS")


def test_refresh_rotates_and_the_old_refresh_token_is_dead(api_client, patient):
    old = str(family_start(patient.user))
    first = api_client.post(reverse("api:auth-refresh"), {"refresh": old})
    assert first.status_code == 200 and set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != old
    second = api_client.post(reverse("api:auth-refresh"), {"refresh": first.json()["refresh"]})
    assert second.status_code == 200
    # The rotated-out token again: refused, and the sign-in it belongs to ends (tests/test_token_families.py).
    _error(api_client.post(reverse("api:auth-refresh"), {"refresh": old}), 401, "TOKEN_INVALID")


def test_logout_kills_the_refresh_token(auth_client, patient, api_client):
    refresh = str(family_start(patient.user))
    response = auth_client(patient.user).post(reverse("api:auth-logout"), {"refresh": refresh})
    assert response.status_code == 204
    _error(api_client.post(reverse("api:auth-refresh"), {"refresh": refresh}), 401, "TOKEN_INVALID")


def test_logout_cannot_kill_another_users_token(auth_client, patient, other_patient, api_client):
    theirs = str(family_start(other_patient.user))
    _error(auth_client(patient.user).post(reverse("api:auth-logout"), {"refresh": theirs}), 403, "PERMISSION_DENIED")
    assert api_client.post(reverse("api:auth-refresh"), {"refresh": theirs}).status_code == 200


def test_logout_needs_authentication(api_client, patient):
    response = api_client.post(reverse("api:auth-logout"), {"refresh": str(family_start(patient.user))})
    _error(response, 401, "NOT_AUTHENTICATED")


def test_refresh_of_a_deactivated_user_is_refused(api_client, patient):
    refresh = str(family_start(patient.user))
    User.objects.filter(pk=patient.user_id).update(is_active=False)
    _error(api_client.post(reverse("api:auth-refresh"), {"refresh": refresh}), 401, "TOKEN_INVALID")


# --- tokens -------------------------------------------------------------------


def _forge(payload: dict, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)


def _claims(user, **overrides):
    token = AccessToken.for_user(user)
    return {**token.payload, **overrides}


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda u: _forge(_claims(u, exp=1)), id="expired"),
        pytest.param(lambda u: str(AccessToken.for_user(u))[:-4] + "AAAA", id="tampered-signature"),
        pytest.param(lambda u: _forge(_claims(u), key="another-key-entirely-0123456789-abcdefghijklmnop"), id="wrong-key"),
        pytest.param(lambda u: jwt.encode(_claims(u), None, algorithm="none"), id="alg-none"),
        pytest.param(lambda u: _forge(_claims(u), algorithm="HS512"), id="wrong-algorithm"),
        pytest.param(lambda u: "garbage.token.value", id="garbage"),
        pytest.param(lambda u: str(family_start(u)), id="refresh-token-as-access"),
    ],
)
def test_bad_access_tokens_are_401_token_invalid(api_client, patient, make_token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(patient.user)}")
    _error(api_client.get(reverse("api:auth-profile")), 401, "TOKEN_INVALID")


def test_a_token_in_the_query_string_is_never_read(api_client, patient):
    token = str(AccessToken.for_user(patient.user))
    _error(api_client.get(reverse("api:auth-profile") + f"?token={token}"), 401, "NOT_AUTHENTICATED")
    _error(api_client.get(reverse("api:auth-profile") + f"?access_token={token}"), 401, "NOT_AUTHENTICATED")


def test_a_token_of_a_deactivated_user_is_refused(auth_client, patient):
    client = auth_client(patient.user)
    User.objects.filter(pk=patient.user_id).update(is_active=False)
    _error(client.get(reverse("api:auth-profile")), 401, "TOKEN_INVALID")


def test_an_access_token_lives_5_minutes(patient):
    token = AccessToken.for_user(patient.user)
    assert timedelta(minutes=4) < timedelta(seconds=token["exp"] - token["iat"]) <= timedelta(minutes=5)


# --- profile / patients -------------------------------------------------------


def test_profile_returns_the_caller(auth_client, doctor):
    body = auth_client(doctor.user).get(reverse("api:auth-profile")).json()
    assert set(body) == USER_FIELDS and (body["doctor_id"], body["patient_id"]) == (doctor.pk, None)


def test_patient_me(auth_client, patient):
    response = auth_client(patient.user).get(reverse("api:patient-me"))
    assert response.status_code == 200 and set(response.json()) == PATIENT_FIELDS
    assert response.json()["id"] == patient.pk


def test_patient_me_is_for_patients(auth_client, doctor):
    _error(auth_client(doctor.user).get(reverse("api:patient-me")), 403, "PERMISSION_DENIED")


def test_admin_lists_patients(auth_client, admin_user, patient, other_patient):
    body = auth_client(admin_user).get(reverse("api:patient-list")).json()
    assert body["count"] == 2 and {r["id"] for r in body["results"]} == {patient.pk, other_patient.pk}


@pytest.mark.parametrize("who", ["patient", "doctor"])
def test_only_admins_list_patients(auth_client, patient, doctor, who):
    user = {"patient": patient.user, "doctor": doctor.user}[who]
    _error(auth_client(user).get(reverse("api:patient-list")), 403, "PERMISSION_DENIED")


def test_patient_list_query_count_is_flat(auth_client, admin_user, django_assert_max_num_queries):
    client = auth_client(admin_user)
    PatientFactory()
    with django_assert_max_num_queries(10 + audit_statements()) as one:  # the list is audited
        client.get(reverse("api:patient-list"))
    PatientFactory.create_batch(40)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(client.get(reverse("api:patient-list") + "?page_size=100").json()["results"]) == 41


def test_patient_updates_own_profile(auth_client, patient):
    response = auth_client(patient.user).patch(
        reverse("api:patient-detail", args=[patient.pk]),
        {"blood_group": "AB-", "date_of_birth": "1990-05-01", "mobile_no": "+44 7700", "allergies": "Nuts"},
    )
    assert response.status_code == 200
    patient.refresh_from_db()
    patient.user.refresh_from_db()
    assert (patient.blood_group, str(patient.date_of_birth), patient.user.mobile_no, patient.allergies) == (
        "AB-", "1990-05-01", "+44 7700", "Nuts")


@pytest.mark.parametrize("data, field", [({"blood_group": "Z+"}, "blood_group"),
                                         ({"date_of_birth": "2999-01-01"}, "date_of_birth")])
def test_patient_update_validates(auth_client, patient, data, field):
    body = _error(auth_client(patient.user).patch(reverse("api:patient-detail", args=[patient.pk]), data),
                  400, "VALIDATION_ERROR")
    assert field in body["errors"]
    patient.refresh_from_db()
    assert (patient.blood_group, patient.date_of_birth) == (None, None)


def test_other_patient_cannot_see_or_edit_a_patient(auth_client, patient, other_patient):
    client = auth_client(other_patient.user)
    url = reverse("api:patient-detail", args=[patient.pk])
    _error(client.get(url), 404, "NOT_FOUND")
    _error(client.patch(url, {"allergies": "hacked"}), 404, "NOT_FOUND")
    patient.refresh_from_db()
    assert patient.allergies == ""


def test_doctor_sees_only_patients_who_booked_them_and_cannot_edit(auth_client, patient, other_patient, doctor):
    slot = SlotFactory(doctor=doctor)
    services.appointment_book(patient=patient, slot_id=slot.pk)
    client = auth_client(doctor.user)
    assert client.get(reverse("api:patient-detail", args=[patient.pk])).status_code == 200
    _error(client.get(reverse("api:patient-detail", args=[other_patient.pk])), 404, "NOT_FOUND")
    _error(client.patch(reverse("api:patient-detail", args=[patient.pk]), {"allergies": "x"}), 403, "PERMISSION_DENIED")
    allergies = patient.allergies
    patient.refresh_from_db()
    assert patient.allergies == allergies


def test_admin_edits_any_patient(auth_client, admin_user, patient):
    response = auth_client(admin_user).put(
        reverse("api:patient-detail", args=[patient.pk]),
        {"name": "Pat P.", "mobile_no": "", "date_of_birth": None, "blood_group": None, "allergies": "",
         "emergency_contact": "Sam, +1 555 0100"},
    )
    assert response.status_code == 200
    patient.refresh_from_db()
    assert (patient.user.name, patient.emergency_contact) == ("Pat P.", "Sam, +1 555 0100")


def test_unknown_user_without_profile_cannot_reach_patients(auth_client):
    user = UserFactory(role="doctor")  # a self-registered doctor: no Doctor profile yet
    _error(auth_client(user).get(reverse("api:patient-list")), 403, "PERMISSION_DENIED")


# --- a patient's appointments --------------------------------------------------


def test_patient_lists_own_appointments_and_admin_any(auth_client, patient, other_patient, admin_user, doctor):
    mine = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk)
    services.appointment_book(patient=other_patient, slot_id=SlotFactory(doctor=doctor).pk)
    url = reverse("api:patient-appointment-list", args=[patient.pk])
    for user in (patient.user, admin_user):
        body = auth_client(user).get(url).json()
        assert body["count"] == 1 and body["results"][0]["id"] == mine.pk


def test_others_cannot_list_a_patients_appointments(auth_client, patient, other_patient, doctor, api_client):
    services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk)
    url = reverse("api:patient-appointment-list", args=[patient.pk])
    _error(auth_client(other_patient.user).get(url), 404, "NOT_FOUND")
    _error(auth_client(doctor.user).get(url), 403, "PERMISSION_DENIED")
    _error(api_client.get(url), 401, "NOT_AUTHENTICATED")


# --- found by the schema-driven fuzzer (scripts/api_fuzz.sh) -------------------------------


@pytest.mark.parametrize(("field", "value"), [("name", 0), ("emergency_contact", 0), ("allergies", False),
                                               ("date_of_birth", 20000101)])
def test_patient_update_refuses_a_value_of_another_json_type(auth_client, patient, field, value):
    # DRF turned 0 into "0" and saved it; the contract and the OpenAPI document say string.
    before = (patient.user.name, patient.emergency_contact, patient.allergies, patient.date_of_birth)
    response = auth_client(patient.user).patch(reverse("api:patient-detail", args=[patient.pk]), {field: value})
    assert response.status_code == 400 and set(response.json()["errors"]) == {field}
    patient.refresh_from_db()
    patient.user.refresh_from_db()
    assert (patient.user.name, patient.emergency_contact, patient.allergies, patient.date_of_birth) == before


def test_register_refuses_a_number_for_the_name(api_client):
    response = api_client.post(reverse("api:auth-register"),
                               {"name": 42, "email": "n@example.com", "password": "plum-orchard-sunset-42"})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"name"}
    assert not User.objects.filter(email="n@example.com").exists()


def test_a_name_over_150_characters_is_refused_even_if_trimming_would_shorten_it(auth_client, patient):
    response = auth_client(patient.user).patch(reverse("api:patient-detail", args=[patient.pk]),
                                               {"name": "Pat" + " " * 150})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"name"}
    patient.user.refresh_from_db()
    assert patient.user.name == "Pat Patient"


@pytest.mark.parametrize("data, field", [({"mobile_no": "call me"}, "mobile_no"),
                                         ({"emergency_contact": "Ravi"}, "emergency_contact")])
def test_patient_contact_rules_are_the_portals_too(auth_client, patient, data, field):
    body = _error(auth_client(patient.user).patch(reverse("api:patient-detail", args=[patient.pk]), data),
                  400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {field}
    patient.refresh_from_db()
    patient.user.refresh_from_db()
    assert (patient.user.mobile_no, patient.emergency_contact) == ("", "")


def test_register_refuses_a_mobile_number_that_is_not_one(api_client):
    response = api_client.post(reverse("api:auth-register"), {"name": "A", "email": "a@example.com",
                                                             "password": STRONG, "mobile_no": "call me"})
    assert _error(response, 400, "VALIDATION_ERROR")["errors"].keys() == {"mobile_no"}
    assert not User.objects.exists()
