"""PATCH /auth/profile for every role, and the admins' accounts: GET, POST /admins, DELETE /admins/{id}."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import TokenFamily, User
from accounts.tests.factories import TEST_PASSWORD, AdminUserFactory, UserFactory
from audit.models import AuditEvent
from healthsvc.testing import assert_error

pytestmark = pytest.mark.django_db

PROFILE = "/api/v1/auth/profile"
ADMINS = "/api/v1/admins"
STRONG = "plum-orchard-sunset-42"


@pytest.fixture
def plain_admin(db):
    """An admin who is not a superuser (nor staff)."""
    return UserFactory(role=User.Role.ADMIN, name="Pia Plain", email="pia@example.com")


def _bearer(client, tokens: dict):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


# --- PATCH /auth/profile ------------------------------------------------------------


@pytest.mark.parametrize("persona", ["patient", "doctor", "admin_user"])
def test_every_role_changes_its_own_name_and_mobile(auth_client, persona, request):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)
    response = auth_client(user).patch(PROFILE, {"name": "  New Name ", "mobile_no": "+91 98765 43210"},
                                       format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["mobile_no"]) == ("New Name", "+91 98765 43210")
    user.refresh_from_db()
    assert (user.name, user.mobile_no) == ("New Name", "+91 98765 43210")
    row = AuditEvent.objects.filter(action="update", object_type="user", object_id=str(user.pk)).get()
    assert row.detail == {"fields": ["mobile_no", "name"]} and row.actor_id == user.pk
    assert "New Name" not in str(row.detail)


def test_profile_patch_keeps_what_it_is_not_sent_and_can_clear_the_mobile(auth_client, patient):
    patient.user.mobile_no = "+91 11111 22222"
    patient.user.save()
    response = auth_client(patient.user).patch(PROFILE, {"mobile_no": ""}, format="json")
    assert response.status_code == 200
    patient.user.refresh_from_db()
    assert (patient.user.name, patient.user.mobile_no) == ("Pat Patient", "")
    # The patient's own audit row names their record.
    assert AuditEvent.objects.get(action="update", object_type="user").patient_id == patient.pk


def test_profile_patch_ignores_the_fields_it_does_not_own(auth_client, unverified_doctor):
    user = unverified_doctor.user
    response = auth_client(user).patch(PROFILE, {"name": "Dr Z", "role": "admin", "is_verified": True,
                                                 "email": "z@example.com"}, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.name, user.role, user.is_verified, user.email) == ("Dr Z", "doctor", False,
                                                                   unverified_doctor.user.email)


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 151}, "name"),
    ({"name": 5}, "name"),
    ({"mobile_no": "call me"}, "mobile_no"),
    ({"mobile_no": "1" * 21}, "mobile_no"),
])
def test_profile_patch_refuses_what_register_refuses_and_changes_nothing(auth_client, patient, body, field):
    response = auth_client(patient.user).patch(PROFILE, body, format="json")
    assert field in assert_error(response, 400, "VALIDATION_ERROR")["errors"]
    patient.user.refresh_from_db()
    assert (patient.user.name, patient.user.mobile_no) == ("Pat Patient", "")
    assert not AuditEvent.objects.filter(action="update").exists()


def test_profile_patch_needs_a_token(api_client, patient):
    assert_error(api_client.patch(PROFILE, {"name": "X"}, format="json"), 401, "NOT_AUTHENTICATED")
    patient.user.refresh_from_db()
    assert patient.user.name == "Pat Patient"


def test_profile_patch_query_count_is_flat(auth_client, patient, django_assert_max_num_queries):
    client = auth_client(patient.user)
    with django_assert_max_num_queries(12):
        assert client.patch(PROFILE, {"name": "Pat P"}, format="json").status_code == 200


# --- GET /admins -----------------------------------------------------------------


def test_any_admin_lists_the_admins_paginated(auth_client, admin_user, plain_admin, patient, doctor,
                                              django_assert_max_num_queries):
    client = auth_client(plain_admin)
    with django_assert_max_num_queries(6):
        response = client.get(ADMINS)
    assert response.status_code == 200
    body = response.json()
    assert {"count", "next", "previous", "results"} <= set(body)
    assert [row["id"] for row in body["results"]] == [admin_user.pk, plain_admin.pk]
    assert {row["role"] for row in body["results"]} == {"admin"}


@pytest.mark.parametrize("persona", ["patient", "doctor"])
def test_patients_and_doctors_may_not_list_admins(auth_client, persona, request):
    user = request.getfixturevalue(persona).user
    assert_error(auth_client(user).get(ADMINS), 403, "PERMISSION_DENIED")


def test_anonymous_may_not_list_admins(api_client):
    assert_error(api_client.get(ADMINS), 401, "NOT_AUTHENTICATED")


# --- POST /admins -------------------------------------------------------------------


def test_a_superuser_creates_an_admin_who_must_set_up_two_factor(auth_client, api_client, admin_user):
    body = {"name": "Ravi Menon", "email": "Ravi@Example.com", "password": STRONG}
    response = auth_client(admin_user).post(ADMINS, body, format="json")
    assert response.status_code == 201, response.content
    created = User.objects.get(email="ravi@example.com")
    assert response.json()["id"] == created.pk and response.json()["role"] == "admin"
    assert (created.role, created.is_verified, created.is_active, created.is_superuser, created.is_staff) == (
        "admin", True, True, False, False)
    assert created.check_password(STRONG)
    row = AuditEvent.objects.get(action="create", object_id=str(created.pk))
    assert row.actor_id == admin_user.pk
    # Admins use two-factor: with none set up yet, the API does not let them in.
    login = api_client.post(reverse("api:auth-login"), {"email": "ravi@example.com", "password": STRONG},
                            format="json")
    assert_error(login, 401, "OTP_REQUIRED")


@pytest.mark.parametrize("persona", ["plain_admin", "patient", "doctor"])
def test_only_superusers_create_admins(auth_client, persona, request):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)
    response = auth_client(user).post(ADMINS, {"name": "X", "email": "x@example.com", "password": STRONG},
                                      format="json")
    assert_error(response, 403, "PERMISSION_DENIED")
    assert not User.objects.filter(email="x@example.com").exists()


def test_a_plain_admin_hears_403_before_a_bad_body(auth_client, plain_admin):
    before = User.objects.filter(role=User.Role.ADMIN).count()
    assert_error(auth_client(plain_admin).post(ADMINS, {}, format="json"), 403, "PERMISSION_DENIED")
    assert User.objects.filter(role=User.Role.ADMIN).count() == before


@pytest.mark.parametrize("body, status, code", [
    ({"name": "X", "email": "not-an-email", "password": STRONG}, 400, "VALIDATION_ERROR"),
    ({"name": "X", "email": "x@example.com", "password": "password"}, 400, "VALIDATION_ERROR"),
    ({"name": "", "email": "x@example.com", "password": STRONG}, 400, "VALIDATION_ERROR"),
    ({"email": "x@example.com", "password": STRONG}, 400, "VALIDATION_ERROR"),
])
def test_admin_create_refuses_bad_input(auth_client, admin_user, body, status, code):
    assert_error(auth_client(admin_user).post(ADMINS, body, format="json"), status, code)
    assert User.objects.filter(role="admin").count() == 1


def test_admin_create_with_a_taken_email_is_409(auth_client, admin_user, patient):
    response = auth_client(admin_user).post(ADMINS, {"name": "X", "email": "PAT@example.com", "password": STRONG},
                                            format="json")
    assert_error(response, 409, "EMAIL_TAKEN")
    patient.user.refresh_from_db()
    assert patient.user.role == "patient"


# --- DELETE /admins/{id} ------------------------------------------------------------


def test_a_superuser_deactivates_an_admin_and_every_token_dies(auth_client, api_client, admin_user, plain_admin):
    pair = services.user_tokens(plain_admin)  # a sign-in of the admin, as login makes it
    victim = _bearer(api_client, pair)
    assert victim.get(PROFILE).status_code == 200
    response = auth_client(admin_user).delete(f"{ADMINS}/{plain_admin.pk}")
    assert response.status_code == 204
    plain_admin.refresh_from_db()
    assert plain_admin.is_active is False and plain_admin.role == "admin"
    assert_error(victim.get(PROFILE), 401, "TOKEN_INVALID")
    refreshed = api_client.post(reverse("api:auth-refresh"), {"refresh": pair["refresh"]}, format="json")
    assert_error(refreshed, 401, "TOKEN_INVALID")
    assert not TokenFamily.objects.filter(user=plain_admin, ended_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="deactivate", object_id=str(plain_admin.pk), actor=admin_user).exists()
    # Deactivating again changes nothing.
    assert auth_client(admin_user).delete(f"{ADMINS}/{plain_admin.pk}").status_code == 204
    assert AuditEvent.objects.filter(action="deactivate").count() == 1


def test_a_deactivated_admin_cannot_log_in(api_client, admin_user, plain_admin):
    services.admin_deactivate(by=admin_user, admin_id=plain_admin.pk)
    response = api_client.post(reverse("api:auth-login"), {"email": plain_admin.email, "password": TEST_PASSWORD},
                               format="json")
    assert_error(response, 401, "INVALID_CREDENTIALS")


def test_a_superuser_may_not_deactivate_themselves(auth_client, admin_user):
    response = auth_client(admin_user).delete(f"{ADMINS}/{admin_user.pk}")
    assert_error(response, 409, "CANNOT_DEACTIVATE_SELF")
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_another_superuser_may_deactivate_a_superuser(auth_client, admin_user):
    second = AdminUserFactory()
    assert auth_client(second).delete(f"{ADMINS}/{admin_user.pk}").status_code == 204
    admin_user.refresh_from_db()
    assert not admin_user.is_active


@pytest.mark.parametrize("persona", ["plain_admin", "patient", "doctor"])
def test_only_superusers_deactivate_admins(auth_client, admin_user, persona, request):
    other = UserFactory(role=User.Role.ADMIN)
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)
    assert_error(auth_client(user).delete(f"{ADMINS}/{other.pk}"), 403, "PERMISSION_DENIED")
    other.refresh_from_db()
    assert other.is_active
    assert not AuditEvent.objects.filter(action="deactivate").exists()


def test_a_plain_admin_may_not_deactivate_themselves_either(auth_client, plain_admin):
    assert_error(auth_client(plain_admin).delete(f"{ADMINS}/{plain_admin.pk}"), 403, "PERMISSION_DENIED")
    plain_admin.refresh_from_db()
    assert plain_admin.is_active


@pytest.mark.parametrize("target", ["patient", "doctor", "missing"])
def test_delete_admins_only_reaches_admins(auth_client, admin_user, target, request):
    user = None if target == "missing" else request.getfixturevalue(target).user
    response = auth_client(admin_user).delete(f"{ADMINS}/{user.pk if user else 999999}")
    assert_error(response, 404, "NOT_FOUND")
    if user:
        user.refresh_from_db()
        assert user.is_active
