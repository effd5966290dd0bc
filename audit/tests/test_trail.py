"""What is recorded: reads and writes of patient data and appointments from
the API, the portal, the admin, commands and tasks; denied accesses;
authentication events. Who, what, when, from where, through which door, and
never a health value."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.chain import chain_problems
from audit.models import AuditEvent
from scheduling import services
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

REASON, ALLERGY, NOTE = "ZEBRA-REASON-FOR-VISIT", "PEANUT-ALLERGY-7731", "CLINICAL-NOTE-QUOKKA"


def _events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def _one(**filters) -> AuditEvent:
    (event,) = _events(**filters)
    return event


@pytest.fixture
def booked(patient, doctor):
    # Tomorrow, inside the doctor's two weeks ahead: the factory's own starts drift
    # up to 60 days out as other test files make slots before this one.
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    return services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=start).pk,
                                     reason=REASON)


# --- writes: the services record who did it, in the change's own transaction ---------


def test_a_booking_through_the_api_records_who_from_where(auth_client, patient, doctor):
    slot = SlotFactory(doctor=doctor)
    response = auth_client(patient.user).post("/api/v1/appointments/book", {"slot_id": slot.pk, "reason": REASON},
                                              format="json", HTTP_X_REQUEST_ID="req-booking-0001",
                                              REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 201, response.content
    event = _one(action="book")
    assert (event.actor_id, event.actor_role, event.object_type, event.object_id, event.patient_id) == (
        patient.user_id, "patient", "appointment", str(response.json()["id"]), patient.pk)
    assert (event.entry_point, event.ip, event.request_id) == ("api", "203.0.113.9", "req-booking-0001")
    assert abs(event.at - timezone.now()) < timedelta(seconds=10)


def test_a_booking_costs_one_audit_statement(patient, doctor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    slot = SlotFactory(doctor=doctor)
    with CaptureQueriesContext(connection) as queries:
        services.appointment_book(patient=patient, slot_id=slot.pk)
    audit_sql = [q["sql"] for q in queries.captured_queries if "audit_" in q["sql"]]
    if connection.vendor == "postgresql":
        assert len(audit_sql) == 1 and audit_sql[0].startswith("WITH head AS (")
    else:  # SQLite's path, inside the booking's transaction: read the head, write it, write the row
        assert len(audit_sql) == 3


def test_a_refused_booking_records_nothing(patient, other_patient, booked):
    from scheduling.exceptions import SlotFullError

    before = AuditEvent.objects.count()
    with pytest.raises(SlotFullError):
        services.appointment_book(patient=other_patient, slot_id=booked.slot_id)
    assert AuditEvent.objects.count() == before


def test_the_services_record_the_by_they_are_given(patient, doctor, admin_user, booked):
    first_slot, later = booked.slot_id, SlotFactory(doctor=doctor)
    services.appointment_reschedule(appointment_id=booked.pk, slot_id=later.pk, by=admin_user)
    booked.refresh_from_db()
    services.appointment_set_outcome(appointment_id=booked.pk, notes=NOTE, by=doctor.user)
    services.appointment_cancel(appointment_id=booked.pk, by=patient.user, reason="")
    rows = {e.action: e for e in _events(object_type="appointment", object_id=str(booked.pk))}
    assert (rows["reschedule"].actor_id, rows["reschedule"].actor_role) == (admin_user.pk, "admin")
    assert rows["reschedule"].detail == {"from_slot": first_slot, "to_slot": later.pk, "status": "confirmed"}
    assert (rows["outcome"].actor_id, rows["outcome"].detail["fields"]) == (doctor.user_id, ["notes"])
    assert rows["cancel"].actor_id == patient.user_id
    assert all(e.entry_point == "command" for e in rows.values())  # no request: the shell, a command


def test_a_profile_update_records_the_field_names_not_the_values(auth_client, patient):
    response = auth_client(patient.user).patch(f"/api/v1/patients/{patient.pk}", {"allergies": ALLERGY},
                                               format="json")
    assert response.status_code == 200
    event = _one(action="update")
    assert event.detail == {"fields": ["allergies"]} and event.patient_id == patient.pk


def test_no_health_value_is_ever_written_to_the_trail(auth_client, patient, doctor, admin_user, booked):
    auth_client(patient.user).patch(f"/api/v1/patients/{patient.pk}", {"allergies": ALLERGY}, format="json")
    services.appointment_set_outcome(appointment_id=booked.pk, notes=NOTE, note_for_patient="EMU-NOTE",
                                     by=doctor.user)
    services.appointment_cancel(appointment_id=booked.pk, by=admin_user, reason="SORRY-REASON",
                                internal_note="WOMBAT-INTERNAL")
    everything = json.dumps(list(AuditEvent.objects.values()), default=str)
    for secret in (REASON, ALLERGY, NOTE, "EMU-NOTE", "SORRY-REASON", "WOMBAT-INTERNAL"):
        assert secret not in everything


# --- reads --------------------------------------------------------------------------


def test_a_doctor_reading_a_patient_through_the_api_is_recorded(auth_client, patient, doctor, booked):
    response = auth_client(doctor.user).get(f"/api/v1/patients/{patient.pk}")
    assert response.status_code == 200
    event = _one(action="read", object_type="patient")
    assert (event.actor_id, event.actor_role, event.patient_id, event.entry_point) == (
        doctor.user_id, "doctor", patient.pk, "api")


def test_reading_an_appointment_and_listing_them_are_recorded(auth_client, patient, booked):
    client = auth_client(patient.user)
    assert client.get(f"/api/v1/appointments/{booked.pk}").status_code == 200
    assert client.get(f"/api/v1/patients/{patient.pk}/appointments").status_code == 200
    assert _one(action="read").object_id == str(booked.pk)
    listed = _one(action="list")
    assert (listed.object_type, listed.patient_id, listed.detail) == ("appointment", patient.pk, {"count": 1})


def test_the_doctors_visit_page_records_the_visit_and_the_patient_read(client, doctor, patient, booked):
    client.force_login(doctor.user)
    assert client.get(f"/doctor/appointments/{booked.pk}/").status_code == 200
    reads = _events(action="read", entry_point="portal")
    assert {(e.object_type, e.patient_id, e.actor_id) for e in reads} == {
        ("appointment", patient.pk, doctor.user_id), ("patient", patient.pk, doctor.user_id)}


def test_the_admin_change_page_of_a_patient_is_a_read_and_its_save_an_update(staff_client, admin_user, patient):
    url = f"/admin/accounts/patient/{patient.pk}/change/"
    assert staff_client.get(url).status_code == 200
    event = _one(action="read", entry_point="admin")
    assert (event.object_type, event.patient_id, event.actor_id) == ("patient", patient.pk, admin_user.pk)
    assert staff_client.get("/admin/accounts/patient/").status_code == 200
    assert _one(action="list", entry_point="admin").object_type == "patient"


# --- denied accesses ----------------------------------------------------------------


def test_another_patient_asking_for_an_appointment_is_recorded_denied(auth_client, other_patient, booked):
    response = auth_client(other_patient.user).get(f"/api/v1/appointments/{booked.pk}")
    assert response.status_code == 404
    event = _one(action="denied")
    assert (event.actor_id, event.object_type, event.object_id, event.detail) == (
        other_patient.user_id, "appointment", str(booked.pk), {"status": 404, "method": "GET"})
    assert not _events(action="read")


def test_a_doctor_writing_a_patient_profile_is_recorded_denied(auth_client, doctor, patient, booked):
    response = auth_client(doctor.user).patch(f"/api/v1/patients/{patient.pk}", {"allergies": "x"}, format="json")
    assert response.status_code == 403
    event = _one(action="denied")
    assert (event.patient_id, event.detail["method"]) == (patient.pk, "PATCH")


def test_a_portal_page_of_another_patients_visit_is_recorded_denied(client, other_patient, booked):
    client.force_login(other_patient.user)
    assert client.get(f"/appointments/{booked.pk}/").status_code == 404
    assert _one(action="denied").entry_point == "portal"


# --- authentication events ----------------------------------------------------------


def test_logins_failures_and_lockouts_are_recorded(settings, api_client, patient):
    settings.AXES_FAILURE_LIMIT = 5  # production's (the test settings raise it)
    patient.user.set_password("Right-Password-1")
    patient.user.save()
    for _ in range(5):
        api_client.post("/api/v1/auth/login", {"email": patient.user.email, "password": "wrong"}, format="json")
    failed = _events(action="login_failed")
    assert len(failed) >= 4 and {e.object_id for e in failed} == {str(patient.user_id)}
    assert _events(action="lockout")
    api_client.post("/api/v1/auth/login", {"email": "nobody@example.com", "password": "x"}, format="json")
    assert _events(action="login_failed")[-1].object_id == ""  # an unknown account: no id, no email kept


def test_a_successful_api_login_and_a_refresh_token_reuse_are_recorded(api_client, patient):
    patient.user.set_password("Right-Password-1")
    patient.user.save()
    login = api_client.post("/api/v1/auth/login", {"email": patient.user.email, "password": "Right-Password-1"},
                            format="json")
    assert login.status_code == 200
    assert _one(action="login").actor_id == patient.user_id
    refresh = login.json()["refresh"]
    assert api_client.post("/api/v1/auth/refresh", {"refresh": refresh}, format="json").status_code == 200
    assert api_client.post("/api/v1/auth/refresh", {"refresh": refresh}, format="json").status_code == 401
    reuse = _one(action="token_reuse")
    assert (reuse.object_id, reuse.actor_id) == (str(patient.user_id), None)


def test_a_password_change_is_recorded(auth_client, patient):
    patient.user.set_password("Old-Password-123")
    patient.user.save()
    response = auth_client(patient.user).post(
        "/api/v1/auth/password", {"old_password": "Old-Password-123", "new_password": "New-Password-456!"},
        format="json")
    assert response.status_code == 200
    assert _one(action="password_change").actor_id == patient.user_id


# --- commands and tasks -------------------------------------------------------------


def test_a_task_sending_a_mail_and_a_command_are_recorded_as_such(patient, doctor, admin_user,
                                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.appointment_book(
            patient=patient, slot_id=SlotFactory(doctor=doctor).pk, booked_by=admin_user)
    notices = _events(action="notify")
    assert {(e.entry_point, e.actor_id, e.detail["recipient"]) for e in notices} == {
        ("task", None, "patient"), ("task", None, "doctor")}
    assert all(e.object_id == str(appointment.pk) for e in notices)


def test_the_whole_trail_of_a_busy_morning_verifies(auth_client, patient, other_patient, doctor, booked):
    for user in (patient.user, doctor.user, other_patient.user):
        auth_client(user).get(f"/api/v1/appointments/{booked.pk}")
    services.appointment_cancel(appointment_id=booked.pk, by=doctor.user)
    call_command("audit_verify", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(chain_problems()) == [] and AuditEvent.objects.count() >= 5


def test_a_patient_asking_for_the_admins_patient_list_is_recorded_denied(auth_client, patient):
    assert auth_client(patient.user).get("/api/v1/patients").status_code == 403
    event = _one(action="denied")
    assert (event.actor_id, event.object_type, event.detail) == (
        patient.user_id, "", {"status": 403, "method": "GET", "route": "api/v1/patients"})


def test_a_missing_page_that_names_no_record_is_not_an_access(client, patient):
    client.force_login(patient.user)
    assert client.get("/no-such-page/").status_code == 404
    assert not _events(action="denied")


def test_the_doctors_day_and_the_patients_list_pages_are_recorded(client, doctor, patient, booked):
    client.force_login(doctor.user)
    assert client.get("/doctor/").status_code == 200
    day = _one(action="list", actor_id=doctor.user_id)
    assert (day.entry_point, day.object_type, day.detail["count"] >= 1) == ("portal", "appointment", True)
    client.force_login(patient.user)
    assert client.get("/appointments/").status_code == 200
    mine = _one(action="list", actor_id=patient.user_id)
    assert (mine.patient_id, mine.detail) == (patient.pk, {"count": 1})


def test_the_patients_cancel_and_move_pages_are_reads_and_their_posts_are_not(client, patient, booked):
    client.force_login(patient.user)
    assert client.get(f"/appointments/{booked.pk}/cancel/").status_code == 200
    assert client.get(f"/appointments/{booked.pk}/reschedule/").status_code == 200
    assert len(_events(action="read", object_id=str(booked.pk), entry_point="portal")) == 2
    assert client.post(f"/appointments/{booked.pk}/cancel/", {"reason": "Feeling better"}).status_code == 302
    assert len(_events(action="read")) == 2 and _one(action="cancel").entry_point == "portal"


def test_the_admins_day_board_and_patient_lookup_are_recorded(staff_client, admin_user, patient, booked):
    board = staff_client.get("/admin/scheduling/appointment/board/")
    assert board.status_code == 200
    assert _one(action="list", object_type="appointment", entry_point="admin").actor_id == admin_user.pk
    lookup = staff_client.get("/admin/scheduling/appointment/book/patients/",
                              {"term": patient.user.name[:3], "app_label": "scheduling", "model_name": "appointment",
                               "field_name": "patient"})
    assert lookup.status_code == 200, lookup.content
    assert _one(action="list", object_type="patient").detail["count"] >= 1


def test_a_refused_request_for_an_id_past_64_bits_is_recorded_not_a_500(auth_client, other_patient):
    huge = "9223372036854775808"
    response = auth_client(other_patient.user).get(f"/api/v1/patients/{huge}")
    assert response.status_code == 404
    event = _one(action="denied")
    assert (event.object_id, event.patient_id) == (huge, None)
