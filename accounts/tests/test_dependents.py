"""Family members (dependents): a Patient without a login of its own, added,
changed and read by the guardian's account; nobody else but their doctors and
staff may see them. The model, the services, the API and the portal pages."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Patient
from accounts.selectors import dependent_list, patient_get_for_user, patient_list_for_user
from accounts.tests.factories import DependentFactory, PatientFactory, UserFactory
from audit.models import AuditEvent
from healthsvc.exceptions import PermissionDeniedError
from healthsvc.testing import assert_error
from scheduling import services as scheduling_services
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

DEPENDENTS_URL = reverse("api:patient-dependents")
CHILD = {"name": "Maya Shah", "date_of_birth": "2019-04-02", "blood_group": "O+", "allergies": "Peanuts",
         "emergency_contact": "Ravi Shah, +91 98765 43210"}


@pytest.fixture
def child(patient):
    return DependentFactory(guardian=patient, name="Maya Shah", date_of_birth=date(2019, 4, 2))


@pytest.fixture
def other_child(other_patient):
    return DependentFactory(guardian=other_patient, name="Otto Other")


def _detail(patient_id):
    return reverse("api:patient-detail", args=[patient_id])


# --- the model ----------------------------------------------------------------------


def test_a_dependent_has_a_guardian_and_no_login(child, patient):
    child.refresh_from_db()
    assert (child.user_id, child.guardian_id, child.is_dependent) == (None, patient.pk, True)
    assert list(patient.dependents.all()) == [child]


def test_a_patient_with_both_a_login_and_a_guardian_is_refused(patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.create(user=UserFactory(), guardian=patient, name="Both")


def test_a_patient_with_neither_a_login_nor_a_guardian_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.create(name="Nobody's")


def test_a_dependent_without_a_name_is_refused(patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.create(guardian=patient, name="")


def test_a_guardian_with_dependents_cannot_be_removed(child, patient):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError), transaction.atomic():
        patient.delete()


def test_a_dependent_cannot_be_the_guardian_of_another_in_clean(child):
    grandchild = Patient(guardian=child, name="Nested")
    with pytest.raises(ValidationError) as exc:
        grandchild.clean()
    assert "guardian" in exc.value.message_dict


def test_names_and_whom_to_contact(child, patient):
    assert (patient.display_name, child.display_name, str(child)) == ("Pat Patient", "Maya Shah", "Maya Shah")
    assert child.name_with_guardian == "Maya Shah (family member of Pat Patient)"
    assert patient.name_with_guardian == "Pat Patient"
    assert (patient.contact_user, child.contact_user) == (patient.user, patient.user)


# --- services ---------------------------------------------------------------------


def test_the_guardian_adds_a_family_member_and_it_is_audited(patient):
    child = services.dependent_create(guardian=patient, by=patient.user, name="  Maya Shah ",
                                      date_of_birth=date(2019, 4, 2), allergies="Peanuts")
    child.refresh_from_db()
    assert (child.name, child.guardian_id, child.user_id, child.allergies) == ("Maya Shah", patient.pk, None, "Peanuts")
    event = AuditEvent.objects.get(action="create", object_type="patient")
    assert (event.patient_id, event.actor_id) == (child.pk, patient.user_id)
    assert "Peanuts" not in str(event.detail)  # which fields, never their values


def test_another_patient_may_not_add_a_family_member_to_someone_else(patient, other_patient):
    with pytest.raises(PermissionDeniedError):
        services.dependent_create(guardian=patient, by=other_patient.user, name="Intruder", date_of_birth=date(2019, 1, 1))
    assert not Patient.objects.filter(guardian=patient).exists()


def test_a_dependent_cannot_have_dependents_of_its_own(child, patient):
    with pytest.raises(PermissionDeniedError):
        services.dependent_create(guardian=child, by=patient.user, name="Nested", date_of_birth=date(2020, 1, 1))
    assert not Patient.objects.filter(guardian=child).exists()


def test_the_guardian_changes_a_family_member(child, patient):
    services.dependent_update(dependent=child, by=patient.user, name="Maya R. Shah", blood_group="A+")
    child.refresh_from_db()
    assert (child.name, child.blood_group) == ("Maya R. Shah", "A+")
    assert AuditEvent.objects.filter(action="update", patient_id=child.pk, actor_id=patient.user_id).exists()


@pytest.mark.parametrize("who", ["other_patient", "doctor"])
def test_only_the_guardian_or_staff_may_change_a_family_member(request, child, who):
    actor = request.getfixturevalue(who).user
    with pytest.raises(PermissionDeniedError):
        services.dependent_update(dependent=child, by=actor, name="Changed")
    child.refresh_from_db()
    assert child.name == "Maya Shah"


def test_an_admin_may_change_a_family_member(child, admin_user):
    services.dependent_update(dependent=child, by=admin_user, allergies="Latex")
    child.refresh_from_db()
    assert child.allergies == "Latex"


def test_patient_update_of_a_dependent_changes_its_own_name_not_the_guardians(child, patient):
    services.patient_update(actor=patient.user, patient=child, name="Maya S.", mobile_no="+91 98765 43210")
    child.refresh_from_db()
    patient.user.refresh_from_db()
    assert (child.name, patient.user.name, patient.user.mobile_no) == ("Maya S.", "Pat Patient", "")


# --- who may see a dependent --------------------------------------------------------


def test_the_guardian_sees_themselves_and_their_dependents(child, patient, other_child):
    assert list(patient_list_for_user(user=patient.user)) == [patient, child]
    assert list(dependent_list(guardian=patient)) == [child]


def test_another_patient_and_another_guardian_may_not_see_a_dependent(child, other_patient, other_child):
    for user in (other_patient.user, PatientFactory().user):
        assert child not in patient_list_for_user(user=user)


def test_a_doctor_sees_a_dependent_only_with_a_visit(child, patient, doctor, other_doctor):
    assert child not in patient_list_for_user(user=doctor.user)
    scheduling_services.appointment_book(patient=child, slot_id=SlotFactory(doctor=doctor).pk, booked_by=patient.user)
    assert child in patient_list_for_user(user=doctor.user)
    assert child not in patient_list_for_user(user=other_doctor.user)
    # ...and the guardian is not the doctor's patient for it.
    assert patient not in patient_list_for_user(user=doctor.user)


def test_an_admin_sees_every_dependent(child, admin_user):
    assert patient_get_for_user(user=admin_user, patient_id=child.pk) == child


# --- the API ------------------------------------------------------------------------


def test_the_patient_adds_a_dependent_through_the_api(auth_client, patient):
    response = auth_client(patient.user).post(DEPENDENTS_URL, CHILD, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["guardian_id"], body["user_id"], body["name"], body["email"], body["blood_group"]) == (
        patient.pk, None, "Maya Shah", None, "O+")
    child = Patient.objects.get(pk=body["id"])
    assert (child.guardian_id, child.allergies, child.date_of_birth) == (patient.pk, "Peanuts", date(2019, 4, 2))


def test_an_account_holder_has_a_null_guardian_id(auth_client, patient):
    assert auth_client(patient.user).get(reverse("api:patient-me")).json()["guardian_id"] is None


def test_the_patient_lists_only_their_own_dependents(auth_client, patient, child, other_child):
    response = auth_client(patient.user).get(DEPENDENTS_URL)
    assert response.status_code == 200
    assert [(row["id"], row["guardian_id"]) for row in response.json()] == [(child.pk, patient.pk)]
    event = AuditEvent.objects.get(action="list", object_type="patient", actor_id=patient.user_id)
    assert (event.patient_id, event.detail) == (patient.pk, {"count": 1})


@pytest.mark.parametrize(("change", "field"), [
    ({"date_of_birth": None}, "date_of_birth"),
    ({"name": ""}, "name"),
    ({"name": "x" * 151}, "name"),
    ({"allergies": "x" * 2001}, "allergies"),
    ({"blood_group": "C+"}, "blood_group"),
    ({"emergency_contact": "Ravi"}, "emergency_contact"),
])
def test_a_bad_dependent_is_a_400_and_nothing_is_added(auth_client, patient, change, field):
    body = {**CHILD, **change}
    if body.get("date_of_birth") is None:
        body.pop("date_of_birth")
    response = auth_client(patient.user).post(DEPENDENTS_URL, body, format="json")
    assert field in assert_error(response, 400, "VALIDATION_ERROR")["errors"]
    assert not Patient.objects.filter(guardian=patient).exists()


def test_a_dependent_born_in_the_future_is_a_400(auth_client, patient):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = auth_client(patient.user).post(DEPENDENTS_URL, {**CHILD, "date_of_birth": tomorrow}, format="json")
    assert "date_of_birth" in assert_error(response, 400, "VALIDATION_ERROR")["errors"]


@pytest.mark.parametrize("who", ["doctor", "admin_user"])
def test_only_a_patient_may_use_the_dependents_endpoint(request, auth_client, who):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)
    assert_error(auth_client(user).post(DEPENDENTS_URL, CHILD, format="json"), 403, "PERMISSION_DENIED")
    assert_error(auth_client(user).get(DEPENDENTS_URL), 403, "PERMISSION_DENIED")
    assert not Patient.objects.filter(user__isnull=True).exists()


def test_anonymous_callers_may_not_use_the_dependents_endpoint(api_client):
    assert api_client.get(DEPENDENTS_URL).status_code == 401
    assert api_client.post(DEPENDENTS_URL, CHILD, format="json").status_code == 401
    assert not Patient.objects.filter(guardian__isnull=False).exists()


def test_the_guardian_reads_and_changes_a_dependent(auth_client, patient, child):
    client = auth_client(patient.user)
    assert client.get(_detail(child.pk)).json()["name"] == "Maya Shah"
    response = client.patch(_detail(child.pk), {"allergies": "Penicillin", "name": "Maya R. Shah"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["allergies"], response.json()["name"]) == ("Penicillin", "Maya R. Shah")
    child.refresh_from_db()
    assert (child.allergies, child.name) == ("Penicillin", "Maya R. Shah")


@pytest.mark.parametrize("who", ["other_patient", "other_guardian", "doctor"])
def test_may_not_read_or_change_someone_elses_dependent(request, auth_client, child, who):
    user = PatientFactory(user__name="Gus Guardian").user if who == "other_guardian" else request.getfixturevalue(who).user
    if who == "other_guardian":
        DependentFactory(guardian=user.patient)
    client = auth_client(user)
    assert_error(client.get(_detail(child.pk)), 404, "NOT_FOUND")
    assert_error(client.patch(_detail(child.pk), {"allergies": "None"}, format="json"), 404, "NOT_FOUND")
    assert_error(client.get(reverse("api:patient-access-log", args=[child.pk])), 404 if who != "doctor" else 403,
                 "NOT_FOUND" if who != "doctor" else "PERMISSION_DENIED")
    child.refresh_from_db()
    assert child.allergies == ""


def test_anonymous_callers_may_not_read_a_dependent(api_client, child):
    assert api_client.get(_detail(child.pk)).status_code == 401


def test_the_dependents_doctor_may_read_but_not_change_it(auth_client, patient, child, doctor):
    scheduling_services.appointment_book(patient=child, slot_id=SlotFactory(doctor=doctor).pk, booked_by=patient.user)
    client = auth_client(doctor.user)
    assert client.get(_detail(child.pk)).status_code == 200
    assert_error(client.patch(_detail(child.pk), {"allergies": "x"}, format="json"), 403, "PERMISSION_DENIED")
    allergies = child.allergies
    child.refresh_from_db()
    assert child.allergies == allergies


def test_the_guardian_reads_the_dependents_access_log_without_their_own_reads(auth_client, patient, child, doctor):
    scheduling_services.appointment_book(patient=child, slot_id=SlotFactory(doctor=doctor).pk, booked_by=patient.user)
    auth_client(patient.user).get(_detail(child.pk))  # the guardian's own read: left out
    assert auth_client(doctor.user).get(_detail(child.pk)).status_code == 200
    response = auth_client(patient.user).get(reverse("api:patient-access-log", args=[child.pk]))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["actor_id"], row["action"]) for row in rows] == [(doctor.user_id, "read")]


# --- the portal ---------------------------------------------------------------------


def test_the_profile_lists_family_members_with_add_and_edit(patient_client, child, other_child):
    html = patient_client.get(reverse("accounts:profile")).content.decode()
    assert "Family members" in html and "Maya Shah" in html and "Otto Other" not in html
    assert reverse("accounts:dependent-edit", args=[child.pk]) in html
    assert reverse("accounts:dependent-add") in html


def test_the_patient_adds_a_family_member_in_the_portal(patient_client, patient):
    form = {**CHILD, "name": " Maya Shah "}
    response = patient_client.post(reverse("accounts:dependent-add"), form)
    assert response.status_code == 302 and response.url == reverse("accounts:profile")
    child = Patient.objects.get(guardian=patient)
    assert (child.name, child.blood_group, child.user_id) == ("Maya Shah", "O+", None)
    assert "Maya Shah is added" in patient_client.get(response.url).content.decode()


@pytest.mark.parametrize(("change", "message"), [
    ({"allergies": "x" * 2001}, "at most 2000 characters"),
    ({"name": ""}, "This field is required"),
    ({"date_of_birth": ""}, "This field is required"),
    ({"emergency_contact": "Ravi"}, "Include a phone number"),
])
def test_the_portal_form_enforces_the_same_rules_on_the_server(patient_client, patient, change, message):
    response = patient_client.post(reverse("accounts:dependent-add"), {**CHILD, **change})
    assert response.status_code == 200 and message in response.content.decode()
    assert not Patient.objects.filter(guardian=patient).exists()


def test_the_patient_edits_a_family_member_in_the_portal(patient_client, child):
    url = reverse("accounts:dependent-edit", args=[child.pk])
    assert "Maya Shah" in patient_client.get(url).content.decode()
    response = patient_client.post(url, {**CHILD, "allergies": "Penicillin"})
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.allergies == "Penicillin"


@pytest.mark.parametrize("who", ["other_patient", "other_guardian"])
def test_may_not_open_or_change_someone_elses_family_member_in_the_portal(request, client, child, who):
    owner = PatientFactory() if who == "other_guardian" else request.getfixturevalue(who)
    if who == "other_guardian":
        DependentFactory(guardian=owner)
    client.force_login(owner.user)
    url = reverse("accounts:dependent-edit", args=[child.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {**CHILD, "allergies": "Changed"}).status_code == 404
    child.refresh_from_db()
    assert child.allergies == ""


def test_the_guardian_sees_who_has_seen_a_dependents_record(patient_client, patient, child, doctor, auth_client):
    scheduling_services.appointment_book(patient=child, slot_id=SlotFactory(doctor=doctor).pk, booked_by=patient.user)
    assert auth_client(doctor.user).get(_detail(child.pk)).status_code == 200
    html = patient_client.get(reverse("accounts:dependent-access-log", args=[child.pk])).content.decode()
    assert "Who has seen Maya Shah's record" in html and doctor.user.name in html


@pytest.mark.parametrize("who", ["other_patient", "other_guardian"])
def test_may_not_see_who_has_seen_someone_elses_dependent(request, client, child, who):
    owner = PatientFactory() if who == "other_guardian" else request.getfixturevalue(who)
    if who == "other_guardian":
        DependentFactory(guardian=owner)
    client.force_login(owner.user)
    assert client.get(reverse("accounts:dependent-access-log", args=[child.pk])).status_code == 404


def test_a_doctor_and_anonymous_may_not_open_the_family_pages(client, doctor, child):
    url = reverse("accounts:dependent-edit", args=[child.pk])
    response = client.get(url)
    assert response.status_code == 302 and reverse("accounts:login") in response.url
    client.force_login(doctor.user)
    assert client.get(url).status_code in (302, 403)
    assert client.get(reverse("accounts:dependent-add")).status_code in (302, 403)
