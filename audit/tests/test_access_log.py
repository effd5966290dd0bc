"""A patient sees who has looked at or changed their record (their doctors,
staff), not their own actions; nobody else may see it. The admin lists the
trail read-only, searchable by patient, user and date."""

import pytest
from django.contrib.auth.models import Permission

from accounts.models import User
from accounts.tests.factories import UserFactory
from audit.models import AuditEvent
from healthsvc.testing import force_login_verified
from scheduling import services
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def looked_at(auth_client, patient, doctor):
    """The patient booked and read their visit; their doctor read their profile."""
    appointment = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk)
    auth_client(patient.user).get(f"/api/v1/appointments/{appointment.pk}")
    assert auth_client(doctor.user).get(f"/api/v1/patients/{patient.pk}").status_code == 200
    return appointment


def test_the_patient_sees_their_doctors_read_and_not_their_own(auth_client, patient, doctor, looked_at):
    response = auth_client(patient.user).get(f"/api/v1/patients/{patient.pk}/access-log")
    assert response.status_code == 200
    (entry,) = response.json()["results"]
    assert {k: entry[k] for k in ("actor_id", "actor_name", "actor_role", "action", "object_type")} == {
        "actor_id": doctor.user_id, "actor_name": doctor.user.name, "actor_role": "doctor", "action": "read",
        "object_type": "patient"}
    assert entry["description"] == "viewed your medical profile"
    assert set(entry) >= {"id", "at", "actor_id", "actor_role", "action", "object_type", "object_id", "ip",
                          "request_id"}


def test_an_admin_may_read_a_patients_access_log(auth_client, admin_user, patient, looked_at):
    response = auth_client(admin_user).get(f"/api/v1/patients/{patient.pk}/access-log")
    assert response.status_code == 200 and response.json()["count"] >= 1


def test_another_patient_may_not_read_it(auth_client, other_patient, patient, looked_at):
    response = auth_client(other_patient.user).get(f"/api/v1/patients/{patient.pk}/access-log")
    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"


def test_the_patients_doctor_may_not_read_it(auth_client, doctor, patient, looked_at):
    response = auth_client(doctor.user).get(f"/api/v1/patients/{patient.pk}/access-log")
    assert response.status_code == 403


def test_anonymous_callers_may_not_read_it(api_client, patient):
    assert api_client.get(f"/api/v1/patients/{patient.pk}/access-log").status_code == 401


def test_the_access_log_page_in_the_portal(client, patient, doctor, looked_at):
    client.force_login(patient.user)
    page = client.get("/profile/access/")
    assert page.status_code == 200
    text = page.content.decode()
    assert doctor.user.name in text and "viewed your medical profile" in text
    assert text.count("<tr>") == 2  # the header and the doctor's one read


def test_the_portal_names_the_appointment_a_staff_member_opened(client, auth_client, admin_user, patient, looked_at):
    auth_client(admin_user).get(f"/api/v1/appointments/{looked_at.pk}")
    client.force_login(patient.user)
    text = client.get("/profile/access/").content.decode()
    assert f"viewed an appointment #{looked_at.pk}" in text and admin_user.name in text


def test_a_doctor_may_not_open_the_access_log_page(client, doctor):
    client.force_login(doctor.user)
    assert client.get("/profile/access/").status_code in (302, 403)


def test_the_access_log_query_count_stays_flat(auth_client, patient, doctor, django_assert_max_num_queries):
    appointment = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk)
    client = auth_client(doctor.user)
    for _ in range(30):
        client.get(f"/api/v1/appointments/{appointment.pk}")
    with django_assert_max_num_queries(6):
        response = auth_client(patient.user).get(f"/api/v1/patients/{patient.pk}/access-log")
    assert response.json()["count"] == 30


def test_the_admin_lists_the_trail_read_only_and_searches_by_patient(staff_client, patient, looked_at):
    listing = staff_client.get("/admin/audit/auditevent/", {"q": patient.user.email})
    assert listing.status_code == 200
    shown = list(listing.context["cl"].result_list)
    assert shown and all(event.patient_id == patient.pk for event in shown)
    assert staff_client.get("/admin/audit/auditevent/", {"q": "not-a-number"}).status_code == 200
    event = AuditEvent.objects.filter(patient_id=patient.pk).first()
    page = staff_client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200 and b'name="action"' not in page.content
    assert staff_client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize("codenames", [[], ["view_patient", "view_appointment"]])
def test_staff_without_the_audit_view_permission_may_not_read_the_trail(client, patient, looked_at, codenames):
    """Only staff given "view audit event" (or superusers) open the trail; a
    clinic's front desk with other permissions does not."""
    desk = UserFactory(role=User.Role.ADMIN, is_staff=True)
    desk.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    force_login_verified(client, desk)
    assert client.get("/admin/audit/auditevent/").status_code == 403
    event = AuditEvent.objects.filter(patient_id=patient.pk).first()
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 403


def test_staff_with_the_audit_view_permission_read_it_and_still_cannot_change_it(client, patient, looked_at):
    auditor = UserFactory(role=User.Role.ADMIN, is_staff=True)
    auditor.user_permissions.set(Permission.objects.filter(codename="view_auditevent"))
    force_login_verified(client, auditor)
    assert client.get("/admin/audit/auditevent/", {"q": patient.user.email}).status_code == 200
    event = AuditEvent.objects.filter(patient_id=patient.pk).first()
    before = (event.action, event.hash)
    client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"action": "cancel"})
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert (event.action, event.hash) == before
