"""The appointment endpoints: book, cancel, reschedule, retrieve, record the
outcome, list; who may do each, and that a refusal changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from healthsvc.testing import assert_error, audit_statements
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

APPOINTMENT_FIELDS = {"id", "patient_id", "doctor_id", "clinic_id", "slot_id", "slot_datetime", "status",
                      "reason_for_visit", "notes", "note_for_patient", "cancelled_at", "cancelled_reason",
                      "cancelled_internal_note", "created_at", "updated_at", "slot_datetime_local", "doctor",
                      "clinic"}
BOOK_URL = reverse("api:appointment-book")
LIST_URL = reverse("api:appointment-list")


def url(name, appointment_id):
    return reverse(f"api:appointment-{name}", args=[appointment_id])


_error = assert_error


def _z(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _state(*slots):
    """What a refusal must leave untouched: booked counts and every appointment row."""
    counts = [AppointmentSlot.objects.get(pk=s.pk).booked_count for s in slots]
    rows = list(Appointment.objects.order_by("pk").values_list("pk", "slot_id", "status", "notes"))
    return counts, rows


@pytest.fixture
def appointment(patient, slot):
    return services.appointment_book(patient=patient, slot_id=slot.pk, reason="Chest pain")


def _started(appointment):
    """Move an appointment (and its slot) an hour into the past, so its outcome may be recorded."""
    start = timezone.now() - timedelta(hours=1)
    AppointmentSlot.objects.filter(pk=appointment.slot_id).update(start=start, end=start + timedelta(minutes=30))
    Appointment.objects.filter(pk=appointment.pk).update(start=start, end=start + timedelta(minutes=30))
    appointment.refresh_from_db()
    return appointment


# --- book -----------------------------------------------------------------------


def test_patient_books_a_slot_for_themselves(auth_client, patient, slot):
    response = auth_client(patient.user).post(BOOK_URL, {"slot_id": slot.pk, "reason_for_visit": "Chest pain"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == APPOINTMENT_FIELDS
    appointment = Appointment.objects.get()
    assert body == {
        "id": appointment.pk, "patient_id": patient.pk, "doctor_id": slot.doctor_id, "clinic_id": slot.clinic_id,
        "slot_id": slot.pk, "slot_datetime": _z(slot.start), "status": "confirmed",
        "reason_for_visit": "Chest pain", "notes": None, "note_for_patient": "", "cancelled_at": None,
        "cancelled_reason": "", "cancelled_internal_note": None,
        "created_at": _z(appointment.created_at), "updated_at": _z(appointment.updated_at),
        "slot_datetime_local": slot.start.astimezone(slot.clinic.tzinfo).isoformat(),
        "doctor": {"id": slot.doctor_id, "name": slot.doctor.user.name, "specialty": slot.doctor.specialty},
        "clinic": {"id": slot.clinic_id, "name": slot.clinic.name, "address": slot.clinic.address,
                   "city": slot.clinic.city, "timezone": slot.clinic.timezone},
    }
    assert appointment.booked_by == patient.user
    slot.refresh_from_db()
    assert slot.booked_count == 1


def test_patient_may_name_themselves(auth_client, patient, slot):
    response = auth_client(patient.user).post(BOOK_URL, {"slot_id": slot.pk, "patient_id": patient.pk})
    assert response.status_code == 201 and response.json()["patient_id"] == patient.pk
    assert Appointment.objects.get().patient == patient


def test_admin_books_on_behalf_of_a_patient(auth_client, admin_user, patient, slot):
    response = auth_client(admin_user).post(BOOK_URL, {"slot_id": slot.pk, "patient_id": patient.pk})
    assert response.status_code == 201, response.content
    appointment = Appointment.objects.get()
    assert (appointment.patient, appointment.booked_by, appointment.status) == (patient, admin_user, "confirmed")


def test_admin_must_name_the_patient(auth_client, admin_user, slot):
    body = _error(auth_client(admin_user).post(BOOK_URL, {"slot_id": slot.pk}), 400, "VALIDATION_ERROR")
    assert list(body["errors"]) == ["patient_id"]
    assert _state(slot) == ([0], [])


def test_admin_booking_for_an_unknown_patient_is_not_found(auth_client, admin_user, slot):
    _error(auth_client(admin_user).post(BOOK_URL, {"slot_id": slot.pk, "patient_id": 987654}), 404, "NOT_FOUND")
    assert _state(slot) == ([0], [])


def test_patient_cannot_book_for_another_patient(auth_client, patient, other_patient, slot):
    response = auth_client(patient.user).post(BOOK_URL, {"slot_id": slot.pk, "patient_id": other_patient.pk})
    _error(response, 404, "NOT_FOUND")
    assert _state(slot) == ([0], [])


def test_doctor_cannot_book(auth_client, doctor, slot):
    _error(auth_client(doctor.user).post(BOOK_URL, {"slot_id": slot.pk}), 403, "PERMISSION_DENIED")
    assert _state(slot) == ([0], [])


def test_patient_role_without_a_patient_profile_cannot_book(auth_client, plain_user, slot):
    _error(auth_client(plain_user).post(BOOK_URL, {"slot_id": slot.pk}), 403, "PERMISSION_DENIED")
    assert _state(slot) == ([0], [])


def test_anonymous_cannot_book(api_client, slot):
    _error(api_client.post(BOOK_URL, {"slot_id": slot.pk}), 401, "NOT_AUTHENTICATED")
    assert _state(slot) == ([0], [])


def test_booking_ignores_status_in_the_body(auth_client, patient, slot):
    response = auth_client(patient.user).post(BOOK_URL, {"slot_id": slot.pk, "status": "completed"})
    assert response.status_code == 201 and response.json()["status"] == "confirmed"
    assert Appointment.objects.get().status == "confirmed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "slot_id"), ({"slot_id": "abc"}, "slot_id"), ({"slot_id": 0}, "slot_id"),
        ({"slot_id": 1, "reason_for_visit": "x" * 2001}, "reason_for_visit"),
        ({"slot_id": 1, "patient_id": "me"}, "patient_id"),
    ],
)
def test_booking_rejects_bad_shape(auth_client, patient, slot, body, field):
    response = auth_client(patient.user).post(BOOK_URL, body)
    assert list(_error(response, 400, "VALIDATION_ERROR")["errors"]) == [field]
    assert _state(slot) == ([0], [])


def test_booking_rejects_malformed_json(auth_client, patient, slot):
    response = auth_client(patient.user).post(BOOK_URL, '{"slot_id": ', content_type="application/json")
    _error(response, 400, "VALIDATION_ERROR")
    assert _state(slot) == ([0], [])


def test_booking_an_unknown_slot_is_not_found(auth_client, patient):
    _error(auth_client(patient.user).post(BOOK_URL, {"slot_id": 987654}), 404, "NOT_FOUND")
    assert not Appointment.objects.exists()


def _full(patient, slot, doctor):
    services.appointment_book(patient=PatientFactory(), slot_id=slot.pk)
    return slot


def _already_booked(patient, slot, doctor):
    slot.capacity = 3
    slot.save()
    services.appointment_book(patient=patient, slot_id=slot.pk)
    return slot


def _inactive(patient, slot, doctor):
    AppointmentSlot.objects.filter(pk=slot.pk).update(is_active=False)
    return slot


def _past(patient, slot, doctor):
    start = timezone.now() - timedelta(hours=3)
    AppointmentSlot.objects.filter(pk=slot.pk).update(start=start, end=start + timedelta(minutes=30))
    return slot


def _daily_limit(patient, slot, doctor):
    type(doctor).objects.filter(pk=doctor.pk).update(max_patients_per_day=1)
    # 10:00 and 11:00 on one local day of the clinic (the limit counts local days).
    day = timezone.localdate(timezone.now(), slot.clinic.tzinfo) + timedelta(days=3)
    start = datetime(day.year, day.month, day.day, 10, tzinfo=slot.clinic.tzinfo)
    AppointmentSlot.objects.filter(pk=slot.pk).update(start=start, end=start + timedelta(minutes=30))
    sibling = SlotFactory(doctor=doctor, start=start + timedelta(hours=1))
    services.appointment_book(patient=PatientFactory(), slot_id=sibling.pk)
    return slot


def _overlapping(patient, slot, doctor):
    from clinics.tests.factories import DoctorFactory

    elsewhere = SlotFactory(doctor=DoctorFactory(), start=slot.start + timedelta(minutes=10))
    services.appointment_book(patient=patient, slot_id=elsewhere.pk)
    return slot


@pytest.mark.parametrize(
    ("arrange", "code"),
    [(_full, "SLOT_FULL"), (_already_booked, "ALREADY_BOOKED"), (_inactive, "SLOT_UNAVAILABLE"),
     (_past, "SLOT_UNAVAILABLE"), (_daily_limit, "DAILY_LIMIT_REACHED"), (_overlapping, "OVERLAPPING_APPOINTMENT")],
)
def test_booking_refusals_are_409_and_change_nothing(auth_client, patient, slot, doctor, arrange, code):
    arrange(patient, slot, doctor)
    before = _state(*AppointmentSlot.objects.all())
    _error(auth_client(patient.user).post(BOOK_URL, {"slot_id": slot.pk}), 409, code)
    assert _state(*AppointmentSlot.objects.all()) == before


# --- retrieve -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["patient", "doctor", "admin_user"])
def test_patient_doctor_and_admin_see_the_appointment(auth_client, appointment, who, request):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)
    response = auth_client(user).get(url("detail", appointment.pk))
    assert response.status_code == 200
    assert set(response.json()) == APPOINTMENT_FIELDS and response.json()["id"] == appointment.pk


@pytest.mark.parametrize("who", ["other_patient", "other_doctor"])
def test_others_cannot_see_the_appointment(auth_client, appointment, who, request):
    _error(auth_client(request.getfixturevalue(who).user).get(url("detail", appointment.pk)), 404, "NOT_FOUND")


def test_anonymous_cannot_see_appointments(api_client, appointment):
    _error(api_client.get(url("detail", appointment.pk)), 401, "NOT_AUTHENTICATED")
    _error(api_client.get(LIST_URL), 401, "NOT_AUTHENTICATED")


def test_unknown_appointment_is_not_found(auth_client, admin_user):
    _error(auth_client(admin_user).get(url("detail", 987654)), 404, "NOT_FOUND")


# --- cancel ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["patient", "doctor", "admin_user"])
def test_patient_doctor_and_admin_cancel(auth_client, appointment, slot, who, request):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)
    response = auth_client(user).post(url("cancel", appointment.pk), {"reason": "Feeling better"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == APPOINTMENT_FIELDS
    appointment.refresh_from_db()
    slot.refresh_from_db()
    assert (appointment.status, appointment.cancelled_reason, appointment.cancelled_by) == (
        "cancelled", "Feeling better", user,
    )
    assert (body["status"], body["cancelled_reason"], body["cancelled_at"]) == (
        "cancelled", "Feeling better", _z(appointment.cancelled_at),
    )
    assert slot.booked_count == 0


def test_cancel_without_a_reason(auth_client, patient, appointment):
    response = auth_client(patient.user).post(url("cancel", appointment.pk))
    assert response.status_code == 200 and response.json()["cancelled_reason"] == ""
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_reason) == ("cancelled", "")


@pytest.mark.parametrize("who", ["other_patient", "other_doctor"])
def test_others_cannot_cancel(auth_client, appointment, slot, who, request):
    before = _state(slot)
    _error(auth_client(request.getfixturevalue(who).user).post(url("cancel", appointment.pk)), 404, "NOT_FOUND")
    assert _state(slot) == before


def test_anonymous_cannot_cancel(api_client, appointment, slot):
    before = _state(slot)
    _error(api_client.post(url("cancel", appointment.pk)), 401, "NOT_AUTHENTICATED")
    assert _state(slot) == before


def test_cancelling_twice_is_an_invalid_state(auth_client, patient, appointment, slot):
    client = auth_client(patient.user)
    assert client.post(url("cancel", appointment.pk)).status_code == 200
    before = _state(slot)
    _error(client.post(url("cancel", appointment.pk)), 409, "INVALID_STATE")
    assert _state(slot) == before


def test_cancel_rejects_an_overlong_reason(auth_client, patient, appointment, slot):
    before = _state(slot)
    _error(auth_client(patient.user).post(url("cancel", appointment.pk), {"reason": "x" * 2001}), 400,
           "VALIDATION_ERROR")
    assert _state(slot) == before


# --- reschedule -----------------------------------------------------------------


@pytest.fixture
def new_slot(doctor, slot):
    return SlotFactory(doctor=doctor, start=slot.start + timedelta(days=1))


@pytest.mark.parametrize("who", ["patient", "admin_user"])
def test_patient_and_admin_reschedule(auth_client, appointment, slot, new_slot, who, request):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)
    response = auth_client(user).post(url("reschedule", appointment.pk), {"slot_id": new_slot.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == APPOINTMENT_FIELDS
    assert (body["id"], body["slot_id"], body["slot_datetime"], body["status"]) == (
        appointment.pk, new_slot.pk, _z(new_slot.start), "confirmed",
    )
    appointment.refresh_from_db()
    assert appointment.slot_id == new_slot.pk
    assert _state(slot, new_slot)[0] == [0, 1]


def test_doctor_cannot_reschedule(auth_client, doctor, appointment, slot, new_slot):
    before = _state(slot, new_slot)
    _error(auth_client(doctor.user).post(url("reschedule", appointment.pk), {"slot_id": new_slot.pk}), 403,
           "PERMISSION_DENIED")
    assert _state(slot, new_slot) == before


def test_other_patient_cannot_reschedule(auth_client, other_patient, appointment, slot, new_slot):
    before = _state(slot, new_slot)
    response = auth_client(other_patient.user).post(url("reschedule", appointment.pk), {"slot_id": new_slot.pk})
    _error(response, 404, "NOT_FOUND")
    assert _state(slot, new_slot) == before


def test_anonymous_cannot_reschedule(api_client, appointment, slot, new_slot):
    before = _state(slot, new_slot)
    _error(api_client.post(url("reschedule", appointment.pk), {"slot_id": new_slot.pk}), 401, "NOT_AUTHENTICATED")
    assert _state(slot, new_slot) == before


def test_reschedule_into_a_full_slot_changes_nothing(auth_client, patient, appointment, slot, new_slot):
    services.appointment_book(patient=PatientFactory(), slot_id=new_slot.pk)
    before = _state(slot, new_slot)
    _error(auth_client(patient.user).post(url("reschedule", appointment.pk), {"slot_id": new_slot.pk}), 409,
           "SLOT_FULL")
    assert _state(slot, new_slot) == before


def test_reschedule_to_the_same_slot_is_already_booked(auth_client, patient, appointment, slot):
    before = _state(slot)
    _error(auth_client(patient.user).post(url("reschedule", appointment.pk), {"slot_id": slot.pk}), 409,
           "ALREADY_BOOKED")
    assert _state(slot) == before


def test_reschedule_a_cancelled_appointment_is_an_invalid_state(auth_client, patient, appointment, slot, new_slot):
    services.appointment_cancel(appointment_id=appointment.pk)
    before = _state(slot, new_slot)
    _error(auth_client(patient.user).post(url("reschedule", appointment.pk), {"slot_id": new_slot.pk}), 409,
           "INVALID_STATE")
    assert _state(slot, new_slot) == before


def test_reschedule_to_an_unknown_slot_or_without_one(auth_client, patient, appointment, slot):
    client = auth_client(patient.user)
    _error(client.post(url("reschedule", appointment.pk), {"slot_id": 987654}), 404, "NOT_FOUND")
    assert list(_error(client.post(url("reschedule", appointment.pk), {}), 400, "VALIDATION_ERROR")["errors"]) == [
        "slot_id"
    ]
    assert _state(slot)[0] == [1]


# --- record the outcome (PATCH) -------------------------------------------------


def test_doctor_marks_a_started_visit_completed_with_notes(auth_client, doctor, appointment):
    _started(appointment)
    response = auth_client(doctor.user).patch(url("detail", appointment.pk), {"status": "completed", "notes": "BP ok"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == APPOINTMENT_FIELDS and (body["status"], body["notes"]) == ("completed", "BP ok")
    appointment.refresh_from_db()
    assert (appointment.status, appointment.notes) == ("completed", "BP ok")


def test_admin_marks_a_no_show(auth_client, admin_user, appointment):
    _started(appointment)
    response = auth_client(admin_user).patch(url("detail", appointment.pk), {"status": "no_show"})
    assert response.status_code == 200 and response.json()["status"] == "no_show"
    appointment.refresh_from_db()
    assert appointment.status == "no_show"


def test_doctor_adds_notes_before_the_visit(auth_client, doctor, appointment):
    response = auth_client(doctor.user).patch(url("detail", appointment.pk), {"notes": "Bring ECG"})
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert (appointment.status, appointment.notes) == ("confirmed", "Bring ECG")


def test_outcome_before_the_visit_is_an_invalid_state(auth_client, doctor, appointment, slot):
    before = _state(slot)
    _error(auth_client(doctor.user).patch(url("detail", appointment.pk), {"status": "completed"}), 409,
           "INVALID_STATE")
    assert _state(slot) == before


def test_outcome_of_a_cancelled_appointment_is_an_invalid_state(auth_client, doctor, appointment, slot):
    services.appointment_cancel(appointment_id=appointment.pk)
    _started(appointment)
    before = _state(slot)
    _error(auth_client(doctor.user).patch(url("detail", appointment.pk), {"status": "no_show"}), 409, "INVALID_STATE")
    assert _state(slot) == before


@pytest.mark.parametrize("body", [{"status": "cancelled"}, {"status": "confirmed"}, {}, {"notes": "x" * 5001}])
def test_outcome_rejects_bad_shape(auth_client, doctor, appointment, slot, body):
    _started(appointment)
    before = _state(slot)
    _error(auth_client(doctor.user).patch(url("detail", appointment.pk), body), 400, "VALIDATION_ERROR")
    assert _state(slot) == before


def test_patient_cannot_record_an_outcome(auth_client, patient, appointment, slot):
    _started(appointment)
    before = _state(slot)
    _error(auth_client(patient.user).patch(url("detail", appointment.pk), {"status": "completed"}), 403,
           "PERMISSION_DENIED")
    assert _state(slot) == before


def test_other_doctor_cannot_record_an_outcome(auth_client, other_doctor, appointment, slot):
    _started(appointment)
    before = _state(slot)
    _error(auth_client(other_doctor.user).patch(url("detail", appointment.pk), {"status": "completed"}), 404,
           "NOT_FOUND")
    assert _state(slot) == before


def test_anonymous_cannot_record_an_outcome(api_client, appointment, slot):
    before = _state(slot)
    _error(api_client.patch(url("detail", appointment.pk), {"notes": "x"}), 401, "NOT_AUTHENTICATED")
    assert _state(slot) == before


# --- list -----------------------------------------------------------------------


@pytest.fixture
def booked(patient, other_patient, doctor, other_doctor):
    """Four appointments: patient with doctor (2, one cancelled), patient with
    other_doctor, other_patient with doctor. Returned earliest first."""
    starts = [timezone.now().replace(microsecond=0) + timedelta(days=d) for d in (2, 3, 4, 5)]
    pairs = [(patient, doctor), (patient, other_doctor), (other_patient, doctor), (patient, doctor)]
    made = [
        services.appointment_book(patient=p, slot_id=SlotFactory(doctor=d, start=s).pk)
        for (p, d), s in zip(pairs, starts)
    ]
    services.appointment_cancel(appointment_id=made[3].pk)
    return made


def _list_ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_admin_lists_every_appointment_latest_first(auth_client, admin_user, booked):
    response = auth_client(admin_user).get(LIST_URL)
    assert _list_ids(response) == [a.pk for a in reversed(booked)]
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"} and body["count"] == 4
    assert all(set(row) == APPOINTMENT_FIELDS for row in body["results"])


def test_patient_lists_only_their_own(auth_client, patient, other_patient, booked):
    assert _list_ids(auth_client(patient.user).get(LIST_URL)) == [booked[3].pk, booked[1].pk, booked[0].pk]
    assert _list_ids(auth_client(other_patient.user).get(LIST_URL)) == [booked[2].pk]
    # Naming someone else narrows their own list; it never widens it.
    assert _list_ids(auth_client(patient.user).get(LIST_URL, {"patient_id": other_patient.pk})) == []


def test_doctor_lists_only_their_own(auth_client, doctor, other_doctor, booked):
    assert _list_ids(auth_client(doctor.user).get(LIST_URL)) == [booked[3].pk, booked[2].pk, booked[0].pk]
    assert _list_ids(auth_client(other_doctor.user).get(LIST_URL)) == [booked[1].pk]


def test_user_without_a_profile_lists_nothing(auth_client, plain_user, booked):
    assert _list_ids(auth_client(plain_user).get(LIST_URL)) == []


def test_list_filters(auth_client, admin_user, patient, other_doctor, booked):
    client = auth_client(admin_user)
    assert _list_ids(client.get(LIST_URL, {"status": "cancelled"})) == [booked[3].pk]
    assert _list_ids(client.get(LIST_URL, {"doctor_id": other_doctor.pk})) == [booked[1].pk]
    assert _list_ids(client.get(LIST_URL, {"patient_id": patient.pk, "status": "confirmed"})) == [
        booked[1].pk, booked[0].pk,
    ]
    assert _list_ids(client.get(LIST_URL, {"date_from": _z(booked[1].start), "date_to": _z(booked[3].start)})) == [
        booked[2].pk, booked[1].pk,
    ]
    day = booked[2].start.astimezone(UTC).date().isoformat()
    assert booked[2].pk in _list_ids(client.get(LIST_URL, {"date_from": day, "date_to": day}))


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "booked"}, "status"), ({"date_to": "2030-01-01T09:00"}, "date_to"), ({"doctor_id": "x"}, "doctor_id")],
)
def test_list_rejects_bad_filters(auth_client, admin_user, params, field):
    body = _error(auth_client(admin_user).get(LIST_URL, params), 400, "VALIDATION_ERROR")
    assert list(body["errors"]) == [field]


# The token's user, then (patient, doctor) their profile for the scope, the count, one page; the audit row.
@pytest.mark.parametrize(("who", "queries"), [("admin_user", 3), ("patient", 4), ("doctor", 4)])
@pytest.mark.parametrize("rows", [1, 30])
def test_list_query_count_is_flat(auth_client, doctor, patient, admin_user, who, queries, rows, request,
                                  django_assert_max_num_queries):
    first = timezone.now() + timedelta(days=1)
    for i in range(rows):
        slot = SlotFactory(doctor=doctor, start=first + timedelta(days=i))  # under the daily limit
        # Booked by staff: a patient may hold only a few future visits (the booking policy).
        services.appointment_book(patient=patient, slot_id=slot.pk, booked_by=admin_user)
    user = request.getfixturevalue(who)
    client = auth_client(getattr(user, "user", user))
    with django_assert_max_num_queries(queries + audit_statements()):
        response = client.get(LIST_URL, {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_list_slot_datetime_is_utc_with_z(auth_client, patient, clinic, doctor, admin_user):
    start = datetime(2031, 6, 1, 9, 0, tzinfo=clinic.tzinfo)  # 03:30 UTC
    # Years ahead, beyond what a patient may book: staff book it.
    services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=start).pk, booked_by=admin_user)
    row = auth_client(patient.user).get(LIST_URL).json()["results"][0]
    assert row["slot_datetime"] == "2031-06-01T03:30:00Z"


# --- found by the schema-driven fuzzer (scripts/api_fuzz.sh) -------------------------------


@pytest.mark.parametrize("params", [{"status": ""}, {"status": "done"}, {"doctor_id": "1.0"}, {"date_to": ""}])
def test_list_filters_present_but_empty_or_malformed_are_validation_errors(auth_client, patient, params):
    # An empty or unknown status was read as "no filter": the whole list came back.
    body = _error(auth_client(patient.user).get(LIST_URL, params), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == set(params)


def test_schema_says_an_outcome_needs_a_status_or_a_note():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/appointments/{appointment_id}"]["patch"]
    assert operation["requestBody"]["required"] is True
    component = schema["components"]["schemas"]["PatchedAppointmentOutcomeInput"]
    assert component["anyOf"] == [{"required": ["status"]}, {"required": ["notes"]}, {"required": ["note_for_patient"]}]


def test_the_doctors_notes_are_for_the_doctor_and_staff_a_patient_gets_null(auth_client, patient, doctor, slot,
                                                                             admin_user):
    visit = services.appointment_book(patient=patient, slot_id=slot.pk)
    services.appointment_set_outcome(appointment_id=visit.pk, notes="Suspected angina; refer", by=doctor.user)
    url = f"/api/v1/appointments/{visit.pk}"
    assert auth_client(patient.user).get(url).json()["notes"] is None
    assert auth_client(patient.user).get(LIST_URL).json()["results"][0]["notes"] is None
    assert auth_client(doctor.user).get(url).json()["notes"] == "Suspected angina; refer"
    assert auth_client(admin_user).get(url).json()["notes"] == "Suspected angina; refer"
    cancelled = auth_client(patient.user).post(f"{url}/cancel", {"reason": "x"}, format="json").json()
    assert cancelled["notes"] is None
