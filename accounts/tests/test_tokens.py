"""Access tokens carry the user's role and token version; a request checks the
version against the shared cache instead of loading the user."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.services import user_access_token, user_tokens
from accounts.tokens import PATIENT_CLAIM, ROLE_CLAIM, VERSION_CLAIM, token_state
from healthsvc.testing import assert_error, audit_statements

PROFILE = "/api/v1/patients/me"


def _client(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _user_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "accounts_user"' in q["sql"]]


def test_a_token_names_the_role_the_version_and_the_patient(patient):
    token = AccessToken(user_access_token(patient.user))
    version = User.objects.get(pk=patient.user.pk).token_version
    assert (token[ROLE_CLAIM], token[VERSION_CLAIM], token[PATIENT_CLAIM]) == ("patient", version, patient.pk)
    refreshed = AccessToken(user_tokens(patient.user)["access"])
    assert refreshed[PATIENT_CLAIM] == patient.pk


def test_a_request_does_not_load_the_user_once_the_state_is_cached(patient, slot):
    client = _client(user_access_token(patient.user))
    client.get("/api/v1/appointments")  # the first request caches the token state
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/appointments/book", {"slot_id": slot.pk}, format="json")
    assert response.status_code == 201
    assert _user_queries(queries.captured_queries) == []
    assert 'FROM "accounts_patient" WHERE "accounts_patient"."user_id"' not in " ".join(
        q["sql"] for q in queries.captured_queries)


def test_a_field_the_token_does_not_carry_loads_the_whole_row_once(patient, django_assert_num_queries):
    from accounts.authentication import user_from_claims

    user = user_from_claims(patient.user.pk, AccessToken(user_access_token(patient.user)))
    with django_assert_num_queries(0):
        assert (user.pk, user.role, user.patient.pk) == (patient.user.pk, "patient", patient.pk)
    with django_assert_num_queries(1):
        assert (user.email, user.name, user.is_staff) == (patient.user.email, patient.user.name, False)
    with django_assert_num_queries(1):
        assert user.patient.allergies == patient.allergies and user.patient.blood_group == patient.blood_group


@pytest.mark.parametrize("change", ["password", "role", "deactivate"])
def test_a_credential_change_revokes_every_earlier_token(patient, change):
    client = _client(user_access_token(patient.user))
    assert client.get("/api/v1/appointments").status_code == 200
    user = User.objects.get(pk=patient.user.pk)
    version = user.token_version
    if change == "password":
        user.set_password("a-brand-new-passphrase-77")
    elif change == "role":
        user.role = User.Role.ADMIN
    else:
        user.is_active = False
    user.save()
    assert User.objects.get(pk=user.pk).token_version == version + 1
    response = client.get("/api/v1/appointments")
    assert_error(response, 401, "TOKEN_INVALID")
    if change != "deactivate":
        fresh = _client(user_access_token(User.objects.get(pk=user.pk)))
        assert fresh.get("/api/v1/appointments").status_code == 200


def test_saving_other_fields_keeps_the_tokens(patient):
    client = _client(user_access_token(patient.user))
    user = User.objects.get(pk=patient.user.pk)
    version = user.token_version
    user.name = "Someone Else"
    user.save()
    user.save(update_fields=["last_login"])
    assert User.objects.get(pk=user.pk).token_version == version
    assert client.get("/api/v1/appointments").status_code == 200


def test_a_password_change_through_update_fields_counts_too(patient):
    user = User.objects.get(pk=patient.user.pk)
    version = user.token_version
    user.set_password("another-passphrase-81")
    user.save(update_fields=["password"])
    assert User.objects.get(pk=user.pk).token_version == version + 1


def test_the_version_is_read_once_then_cached(patient):
    version = User.objects.get(pk=patient.user.pk).token_version
    token_state(patient.user.pk)
    with CaptureQueriesContext(connection) as queries:
        assert token_state(patient.user.pk) == (version, True)
    assert queries.captured_queries == []


def test_a_token_of_a_user_who_no_longer_exists_is_refused(db):
    from django.core.cache import cache

    from accounts.tests.factories import AdminUserFactory

    admin = AdminUserFactory()
    token = user_access_token(admin)
    admin.delete()
    cache.clear()
    assert_error(_client(token).get("/api/v1/appointments"), 401, "TOKEN_INVALID")


def test_a_token_without_our_claims_is_refused(patient):
    plain = AccessToken.for_user(patient.user)  # signed with our key, but no role, no version
    assert_error(_client(plain).get(PROFILE), 401, "TOKEN_INVALID")


def test_a_tampered_version_is_refused(patient):
    token = AccessToken(user_access_token(patient.user))
    token[VERSION_CLAIM] = 5  # re-signed with the right key: only the version is wrong
    assert_error(_client(token).get(PROFILE), 401, "TOKEN_INVALID")


def test_login_tokens_carry_the_claims(api_client, patient):
    from accounts.tests.factories import TEST_PASSWORD
    response = api_client.post(reverse("api:auth-login"), {"email": patient.user.email, "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert AccessToken(response.json()["access"])[ROLE_CLAIM] == "patient"


def test_a_bulk_change_revokes_too_and_other_bulk_updates_do_not(patient, other_patient):
    mine, theirs = _client(user_access_token(patient.user)), _client(user_access_token(other_patient.user))
    User.objects.filter(pk=other_patient.user.pk).update(name="Renamed In Bulk")
    assert theirs.get("/api/v1/appointments").status_code == 200
    User.objects.filter(pk=patient.user.pk).update(role=User.Role.ADMIN)
    assert_error(mine.get("/api/v1/appointments"), 401, "TOKEN_INVALID")
    assert theirs.get("/api/v1/appointments").status_code == 200


def test_a_new_token_is_checked_without_reading_the_user(patient, django_assert_max_num_queries):
    client = _client(user_access_token(patient.user))  # issuing it caches the state it is checked against
    with django_assert_max_num_queries(1 + audit_statements()):  # the appointments list itself, and its audit row
        assert client.get("/api/v1/appointments").status_code == 200
