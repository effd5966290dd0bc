"""The doctor's two notes and the cancel's two texts, by who reads them.

`notes` (the clinical note) and a cancel's `internal_note` are for the doctor
and staff: a patient gets null in every API answer that carries an
appointment, and never sees them on a page or in a calendar file.
`note_for_patient` and `cancelled_reason` are written for the patient.
"""

import pytest
from django.urls import reverse

from healthsvc.testing import assert_error
from scheduling import services
from scheduling.ics import appointment_to_ics
from scheduling.models import Appointment
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

CLINICAL = "Suspected angina; refer to cardiology"
FOR_PATIENT = "Please bring your ECG from last year"
INTERNAL = "Patient rude on the phone; flagged"
REASON = "Dr. is away that day; please book another time"


@pytest.fixture
def visit(patient, doctor, slot):
    visit = services.appointment_book(patient=patient, slot_id=slot.pk, reason="Chest pain")
    return services.appointment_set_outcome(appointment_id=visit.pk, notes=CLINICAL,
                                            note_for_patient=FOR_PATIENT, by=doctor.user)


def _api(name, pk):
    return reverse(f"api:appointment-{name}", args=[pk])


def _assert_patient_view(body):
    assert (body["notes"], body["cancelled_internal_note"]) == (None, None)
    assert body["note_for_patient"] == FOR_PATIENT


def _text(response):
    return response.content.decode()


# --- the API: every answer that carries an appointment ------------------------------


def test_patient_gets_null_notes_and_the_note_for_them_on_detail_and_lists(auth_client, patient, visit):
    client = auth_client(patient.user)
    _assert_patient_view(client.get(_api("detail", visit.pk)).json())
    [row] = client.get(reverse("api:appointment-list")).json()["results"]
    _assert_patient_view(row)
    [row] = client.get(reverse("api:patient-appointment-list", args=[patient.pk])).json()["results"]
    _assert_patient_view(row)


def test_patient_gets_null_notes_in_the_cancel_answer_and_afterwards(auth_client, patient, doctor, visit):
    client = auth_client(patient.user)
    response = client.post(_api("cancel", visit.pk), {"reason": "Feeling better"}, format="json")
    assert response.status_code == 200, response.content
    _assert_patient_view(response.json())
    # Had staff left an internal note on it, the patient would not read that either.
    Appointment.objects.filter(pk=visit.pk).update(cancelled_internal_note=INTERNAL)
    _assert_patient_view(client.get(_api("detail", visit.pk)).json())


def test_patient_gets_null_notes_in_the_reschedule_answer(auth_client, patient, doctor, visit):
    other = SlotFactory(doctor=doctor)
    response = auth_client(patient.user).post(_api("reschedule", visit.pk), {"slot_id": other.pk}, format="json")
    assert response.status_code == 200, response.content
    _assert_patient_view(response.json())


def test_patient_gets_null_notes_in_the_book_answer_and_its_replay(auth_client, patient, doctor):
    client = auth_client(patient.user)
    slot = SlotFactory(doctor=doctor)
    headers = {"HTTP_IDEMPOTENCY_KEY": "book-once"}
    first = client.post(reverse("api:appointment-book"), {"slot_id": slot.pk}, format="json", **headers)
    assert first.status_code == 201, first.content
    services.appointment_set_outcome(appointment_id=first.json()["id"], notes=CLINICAL, by=doctor.user)
    replay = client.post(reverse("api:appointment-book"), {"slot_id": slot.pk}, format="json", **headers)
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    for body in (first.json(), replay.json()):
        assert (body["notes"], body["cancelled_internal_note"]) == (None, None)


def test_doctor_and_admin_read_both_notes(auth_client, doctor, admin_user, visit):
    for user in (doctor.user, admin_user):
        client = auth_client(user)
        body = client.get(_api("detail", visit.pk)).json()
        assert (body["notes"], body["note_for_patient"]) == (CLINICAL, FOR_PATIENT)
        [row] = client.get(reverse("api:appointment-list")).json()["results"]
        assert (row["notes"], row["note_for_patient"]) == (CLINICAL, FOR_PATIENT)


def test_the_schedule_shows_the_doctor_the_notes_and_is_closed_to_patients(auth_client, patient, doctor, visit):
    url = reverse("api:doctor-schedule", args=[doctor.pk])
    day = visit.start.astimezone(doctor.clinic.tzinfo).date().isoformat()
    [row] = auth_client(doctor.user).get(url, {"date": day}).json()["appointments"]
    assert (row["notes"], row["note_for_patient"]) == (CLINICAL, FOR_PATIENT)
    assert_error(auth_client(patient.user).get(url, {"date": day}), 403, "PERMISSION_DENIED")


def test_doctor_writes_the_note_for_the_patient_through_patch(auth_client, doctor, patient, visit):
    response = auth_client(doctor.user).patch(_api("detail", visit.pk), {"note_for_patient": "Fast from midnight"})
    assert response.status_code == 200, response.content
    visit.refresh_from_db()
    assert (visit.notes, visit.note_for_patient) == (CLINICAL, "Fast from midnight")
    assert auth_client(patient.user).get(_api("detail", visit.pk)).json()["note_for_patient"] == "Fast from midnight"


def test_the_note_for_the_patient_has_a_length_limit(auth_client, doctor, visit):
    body = assert_error(auth_client(doctor.user).patch(_api("detail", visit.pk), {"note_for_patient": "x" * 5001}),
                        400, "VALIDATION_ERROR")
    assert list(body["errors"]) == ["note_for_patient"]
    visit.refresh_from_db()
    assert visit.note_for_patient == FOR_PATIENT


@pytest.mark.parametrize("body", [{"notes": "Mine"}, {"note_for_patient": "Mine"}])
def test_patient_cannot_set_either_note(auth_client, patient, visit, body):
    assert_error(auth_client(patient.user).patch(_api("detail", visit.pk), body), 403, "PERMISSION_DENIED")
    visit.refresh_from_db()
    assert (visit.notes, visit.note_for_patient) == (CLINICAL, FOR_PATIENT)


def test_doctor_cancels_with_a_reason_and_an_internal_note(auth_client, doctor, patient, admin_user, visit):
    response = auth_client(doctor.user).post(_api("cancel", visit.pk), {"reason": REASON, "internal_note": INTERNAL},
                                             format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["cancelled_reason"], body["cancelled_internal_note"]) == ("cancelled", REASON,
                                                                                           INTERNAL)
    visit.refresh_from_db()
    assert (visit.cancelled_reason, visit.cancelled_internal_note) == (REASON, INTERNAL)
    assert auth_client(admin_user).get(_api("detail", visit.pk)).json()["cancelled_internal_note"] == INTERNAL
    mine = auth_client(patient.user).get(_api("detail", visit.pk)).json()
    assert (mine["cancelled_reason"], mine["cancelled_internal_note"], mine["notes"]) == (REASON, None, None)


def test_patient_may_not_send_an_internal_note(auth_client, patient, slot, visit):
    response = auth_client(patient.user).post(_api("cancel", visit.pk), {"reason": "x", "internal_note": "y"},
                                              format="json")
    assert_error(response, 403, "PERMISSION_DENIED")
    visit.refresh_from_db()
    slot.refresh_from_db()
    assert (visit.status, visit.cancelled_internal_note, slot.booked_count) == ("confirmed", "", 1)


def test_an_internal_note_has_a_length_limit(auth_client, doctor, visit):
    response = auth_client(doctor.user).post(_api("cancel", visit.pk), {"internal_note": "x" * 2001}, format="json")
    assert list(assert_error(response, 400, "VALIDATION_ERROR")["errors"]) == ["internal_note"]
    visit.refresh_from_db()
    assert visit.status == "confirmed"


def test_the_service_refuses_a_patients_internal_note(patient, visit):
    from healthsvc.exceptions import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        services.appointment_cancel(appointment_id=visit.pk, by=patient.user, internal_note="y")
    visit.refresh_from_db()
    assert visit.status == "confirmed"


# --- the calendar file ------------------------------------------------------------------


def test_no_note_goes_into_the_calendar_file(auth_client, patient, doctor, visit):
    for user in (patient.user, doctor.user):
        ics = _text(auth_client(user).get(_api("ics", visit.pk), HTTP_ACCEPT="text/calendar"))
        assert "BEGIN:VEVENT" in ics
        assert all(text not in ics for text in ("angina", "ECG", "Chest pain"))
    # A cancelled visit's file is the CANCEL the email carries (the API offers none).
    cancelled = services.appointment_cancel(appointment_id=visit.pk, by=doctor.user, reason=REASON,
                                            internal_note=INTERNAL)
    ics = appointment_to_ics(cancelled)
    assert "METHOD:CANCEL" in ics
    assert all(text not in ics for text in ("angina", "ECG", "flagged", "Chest pain"))


# --- the portal -------------------------------------------------------------------------


def test_doctors_form_labels_the_two_notes_truthfully(doctor_client, visit):
    page = doctor_client.get(reverse("scheduling:doctor-appointment", args=[visit.pk]))
    form = page.context["form"]
    assert form["notes"].help_text == "Only you and clinic staff see this."
    assert form["note_for_patient"].help_text.startswith("The patient sees this")
    assert page.context["cancel_form"]["internal_note"].help_text == "Only you and clinic staff see this."
    html = _text(page)
    assert CLINICAL in html and FOR_PATIENT in html


def test_doctor_saves_both_notes_from_the_portal(doctor_client, visit):
    doctor_client.post(reverse("scheduling:doctor-appointment", args=[visit.pk]),
                       {"status": "", "notes": "BP 150/95", "note_for_patient": "Walk daily"})
    visit.refresh_from_db()
    assert (visit.notes, visit.note_for_patient) == ("BP 150/95", "Walk daily")


def test_patient_page_shows_the_note_for_them_and_never_the_clinical_note(patient_client, visit):
    html = _text(patient_client.get(reverse("scheduling:appointment-detail", args=[visit.pk])))
    assert FOR_PATIENT in html and CLINICAL not in html
    assert CLINICAL not in _text(patient_client.get(reverse("scheduling:appointment-list")))


def test_doctor_cancels_in_the_portal_with_an_internal_note_the_patient_never_sees(client, doctor, patient, visit):
    client.force_login(doctor.user)
    client.post(reverse("scheduling:doctor-appointment-cancel", args=[visit.pk]),
                {"reason": REASON, "internal_note": INTERNAL})
    visit.refresh_from_db()
    assert (visit.status, visit.cancelled_reason, visit.cancelled_internal_note) == ("cancelled", REASON, INTERNAL)
    assert INTERNAL in _text(client.get(reverse("scheduling:doctor-appointment", args=[visit.pk])))
    client.force_login(patient.user)
    html = _text(client.get(reverse("scheduling:appointment-detail", args=[visit.pk])))
    assert REASON in html and INTERNAL not in html and CLINICAL not in html


def test_a_decline_takes_no_internal_note(client, doctor, patient):
    doctor.requires_approval = True
    doctor.save()
    pending = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk)
    client.force_login(doctor.user)
    client.post(reverse("scheduling:doctor-appointment-decline", args=[pending.pk]),
                {"reason": REASON, "internal_note": INTERNAL})
    pending.refresh_from_db()
    assert (pending.status, pending.cancelled_reason, pending.cancelled_internal_note) == ("cancelled", REASON, "")


def test_admin_change_page_edits_both_notes_and_shows_the_internal_note(staff_client, doctor, visit):
    services.appointment_cancel(appointment_id=visit.pk, by=doctor.user, reason=REASON, internal_note=INTERNAL)
    page = staff_client.get(reverse("admin:scheduling_appointment_change", args=[visit.pk]))
    form = page.context["adminform"].form
    assert {"notes", "note_for_patient"} <= set(form.fields)
    assert "cancelled_internal_note" not in form.fields  # shown, read-only
    assert INTERNAL in _text(page)
