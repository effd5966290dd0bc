"""A patient profile's ETag, and If-Match on its PATCH and PUT: two apps
editing one profile do not overwrite each other."""

import threading

import pytest
from django.db import connection

from accounts.models import Patient
from audit.models import AuditEvent
from healthsvc.testing import assert_error

pytestmark = pytest.mark.django_db


def _url(patient) -> str:
    return f"/api/v1/patients/{patient.pk}"


def test_get_sends_an_etag_and_if_none_match_gives_304(auth_client, patient):
    client = auth_client(patient.user)
    first = client.get(_url(patient))
    assert first.status_code == 200 and first["ETag"].startswith('"')
    assert client.get(_url(patient), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get("/api/v1/patients/me")["ETag"] == first["ETag"]
    assert "no-store" in first["Cache-Control"]


def test_a_patch_with_the_current_etag_is_written_and_answers_the_new_one(auth_client, patient):
    client = auth_client(patient.user)
    etag = client.get(_url(patient))["ETag"]
    response = client.patch(_url(patient), {"allergies": "Penicillin"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200 and response.json()["allergies"] == "Penicillin"
    assert response["ETag"] != etag and response["ETag"] == client.get(_url(patient))["ETag"]
    patient.refresh_from_db()
    assert patient.allergies == "Penicillin"


def test_a_stale_if_match_is_412_and_nothing_is_written(auth_client, patient, admin_user):
    app_one, app_two = auth_client(patient.user), auth_client(admin_user)
    etag = app_one.get(_url(patient))["ETag"]
    assert app_two.get(_url(patient))["ETag"] == etag  # the same version, whoever reads it
    assert app_two.patch(_url(patient), {"allergies": "Latex"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    updates = AuditEvent.objects.filter(action="update").count()
    stale = app_one.patch(_url(patient), {"allergies": "None known"}, format="json", HTTP_IF_MATCH=etag)
    assert_error(stale, 412, "PRECONDITION_FAILED")
    stale_put = app_one.put(_url(patient), {"name": "X", "mobile_no": "", "date_of_birth": None, "blood_group": None,
                                            "allergies": "", "emergency_contact": ""},
                            format="json", HTTP_IF_MATCH=etag)
    assert_error(stale_put, 412, "PRECONDITION_FAILED")
    patient.refresh_from_db()
    patient.user.refresh_from_db()
    assert patient.allergies == "Latex" and patient.user.name == "Pat Patient"
    assert AuditEvent.objects.filter(action="update").count() == updates  # no write was recorded


@pytest.mark.parametrize("header", ['W/"abc"', '"abc"', "garbage"])
def test_a_weak_or_unknown_tag_never_matches(auth_client, patient, header):
    response = auth_client(patient.user).patch(_url(patient), {"allergies": "Dust"}, format="json",
                                               HTTP_IF_MATCH=header)
    assert_error(response, 412, "PRECONDITION_FAILED")


def test_if_match_star_and_a_list_holding_the_current_tag_match(auth_client, patient):
    client = auth_client(patient.user)
    assert client.patch(_url(patient), {"allergies": "A"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    etag = client.get(_url(patient))["ETag"]
    response = client.patch(_url(patient), {"allergies": "B"}, format="json", HTTP_IF_MATCH=f'"old", {etag}')
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.allergies == "B"


def test_without_if_match_the_write_works_as_before(auth_client, patient):
    response = auth_client(patient.user).patch(_url(patient), {"allergies": "Pollen"}, format="json")
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.allergies == "Pollen"


def test_if_match_does_not_open_another_patients_profile(auth_client, patient, other_patient):
    response = auth_client(other_patient.user).patch(_url(patient), {"allergies": "x"}, format="json",
                                                     HTTP_IF_MATCH="*")
    assert response.status_code in (403, 404)
    patient.refresh_from_db()
    assert patient.allergies != "x"


def test_a_doctor_still_may_not_write_with_a_matching_tag(auth_client, patient, doctor, slot):
    from scheduling.services import appointment_book

    appointment_book(patient=patient, slot_id=slot.pk)
    client = auth_client(doctor.user)
    etag = client.get(_url(patient))["ETag"]
    assert_error(client.patch(_url(patient), {"allergies": "x"}, format="json", HTTP_IF_MATCH=etag),
                 403, "PERMISSION_DENIED")


def test_if_match_costs_a_flat_number_of_queries(auth_client, patient, django_assert_max_num_queries):
    client = auth_client(patient.user)
    etag = client.get(_url(patient))["ETag"]
    with django_assert_max_num_queries(14):
        assert client.patch(_url(patient), {"allergies": "A"}, format="json", HTTP_IF_MATCH=etag).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_writes_with_one_tag_on_postgresql_one_wins(auth_client, patient, admin_user):
    """Both read the same version and write at once: the row lock makes the
    second check see the first write, so exactly one answers 200."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    etag = auth_client(patient.user).get(_url(patient))["ETag"]
    barrier, answers = threading.Barrier(2), []

    def write(user, allergies):
        try:
            barrier.wait()
            answers.append(auth_client(user).patch(_url(patient), {"allergies": allergies}, format="json",
                                                   HTTP_IF_MATCH=etag).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=args) for args in ((patient.user, "One"), (admin_user, "Two"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 412]
    assert Patient.objects.get(pk=patient.pk).allergies in {"One", "Two"}


def test_a_guardian_edits_a_family_member_with_if_match_and_another_patient_may_not(auth_client, patient,
                                                                                     other_patient):
    from accounts.tests.factories import DependentFactory

    child = DependentFactory(guardian=patient)
    guardian = auth_client(patient.user)
    etag = guardian.get(_url(child))["ETag"]
    assert guardian.patch(_url(child), {"allergies": "Peanuts"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    assert_error(guardian.patch(_url(child), {"allergies": "None"}, format="json", HTTP_IF_MATCH=etag),
                 412, "PRECONDITION_FAILED")
    stranger = auth_client(other_patient.user).patch(_url(child), {"allergies": "x"}, format="json",
                                                     HTTP_IF_MATCH=etag)
    assert stranger.status_code in (403, 404)
    child.refresh_from_db()
    assert child.allergies == "Peanuts"
