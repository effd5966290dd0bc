"""Patient.wants_reminders: each patient chooses in their profile (portal and
API) whether to be emailed a reminder before each visit; nobody else may."""

import pytest
from django.urls import reverse

from healthsvc.testing import assert_error

pytestmark = pytest.mark.django_db

PROFILE = {"name": "Pat Patient", "mobile_no": "", "date_of_birth": "", "blood_group": "", "allergies": "",
           "emergency_contact": ""}


def test_new_patients_want_reminders(patient):
    assert patient.wants_reminders is True


def test_profile_page_shows_the_reminder_checkbox_ticked(patient_client):
    html = patient_client.get(reverse("accounts:profile")).content.decode()
    assert "Email me a reminder the day before each visit" in html
    assert 'type="checkbox" name="wants_reminders"' in html and "checked" in html.split('name="wants_reminders"')[1][:40]


def test_profile_page_turns_reminders_off_and_on(patient_client, patient):
    assert patient_client.post(reverse("accounts:profile"), PROFILE).status_code == 302  # unticked
    patient.refresh_from_db()
    assert patient.wants_reminders is False
    html = patient_client.get(reverse("accounts:profile")).content.decode()
    assert "checked" not in html.split('name="wants_reminders"')[1][:40]

    assert patient_client.post(reverse("accounts:profile"), {**PROFILE, "wants_reminders": "on"}).status_code == 302
    patient.refresh_from_db()
    assert patient.wants_reminders is True


def test_api_shows_and_changes_the_preference(auth_client, patient):
    client = auth_client(patient.user)
    url = reverse("api:patient-detail", args=[patient.pk])
    assert client.get(url).json()["wants_reminders"] is True
    response = client.patch(url, {"wants_reminders": False}, format="json")
    assert response.status_code == 200 and response.json()["wants_reminders"] is False
    patient.refresh_from_db()
    assert patient.wants_reminders is False
    assert client.get(reverse("api:patient-me")).json()["wants_reminders"] is False


def test_api_put_without_the_field_keeps_the_choice(auth_client, patient):
    patient.wants_reminders = False
    patient.save(update_fields=["wants_reminders"])
    body = {"name": "Pat Patient", "mobile_no": "", "date_of_birth": None, "blood_group": None, "allergies": "",
            "emergency_contact": ""}
    response = auth_client(patient.user).put(reverse("api:patient-detail", args=[patient.pk]), body, format="json")
    assert response.status_code == 200 and response.json()["wants_reminders"] is False
    patient.refresh_from_db()
    assert patient.wants_reminders is False


def test_api_refuses_a_preference_that_is_not_a_boolean(auth_client, patient):
    response = auth_client(patient.user).patch(
        reverse("api:patient-detail", args=[patient.pk]), {"wants_reminders": "maybe"}, format="json")
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "wants_reminders" in body["errors"]
    patient.refresh_from_db()
    assert patient.wants_reminders is True


def test_another_patient_cannot_change_the_preference(auth_client, patient, other_patient):
    response = auth_client(other_patient.user).patch(
        reverse("api:patient-detail", args=[patient.pk]), {"wants_reminders": False}, format="json")
    assert_error(response, 404, "NOT_FOUND")
    patient.refresh_from_db()
    assert patient.wants_reminders is True


def test_a_doctor_cannot_change_a_patients_preference(auth_client, patient, doctor):
    response = auth_client(doctor.user).patch(
        reverse("api:patient-detail", args=[patient.pk]), {"wants_reminders": False}, format="json")
    assert_error(response, 404, "NOT_FOUND")  # a doctor sees only patients who booked them
    patient.refresh_from_db()
    assert patient.wants_reminders is True


def test_admin_may_change_the_preference(auth_client, patient, admin_user):
    response = auth_client(admin_user).patch(
        reverse("api:patient-detail", args=[patient.pk]), {"wants_reminders": False}, format="json")
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.wants_reminders is False
