"""Answers that save a round trip (issue 13, item 5): every appointment answer
carries its doctor {id, name, specialty} and clinic {id, name, address, city,
timezone}, and slots and appointments their start in the clinic's zone
(`slot_datetime_local`), at no extra query per row."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from healthsvc.testing import audit_statements
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot, WaitlistEntry
from scheduling.services.waitlist import waitlist_join
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

DOCTOR_KEYS = {"id", "name", "specialty"}
CLINIC_KEYS = {"id", "name", "address", "city", "timezone"}
# London: BST (+01:00) in July, GMT (+00:00) in December. Years ahead: staff book them.
SUMMER = datetime(2031, 7, 1, 9, 0, tzinfo=UTC)
WINTER = datetime(2031, 12, 1, 10, 0, tzinfo=UTC)


def _embedded(appointment_id: int) -> dict:
    """What the answer must embed, read afresh from the database."""
    appointment = Appointment.objects.select_related("doctor__user", "clinic").get(pk=appointment_id)
    doctor, clinic = appointment.doctor, appointment.clinic
    return {
        "doctor_id": doctor.pk, "clinic_id": clinic.pk,
        "doctor": {"id": doctor.pk, "name": doctor.user.name, "specialty": doctor.specialty},
        "clinic": {"id": clinic.pk, "name": clinic.name, "address": clinic.address, "city": clinic.city,
                   "timezone": clinic.timezone},
        "slot_datetime_local": appointment.start.astimezone(clinic.tzinfo).isoformat(),
    }


def _assert_embeds(body: dict) -> None:
    assert {key: body[key] for key in ("doctor_id", "clinic_id", "doctor", "clinic", "slot_datetime_local")} == (
        _embedded(body["id"]))


@pytest.fixture
def london_doctor(db):
    clinic = ClinicFactory(name="Thames Family Practice", address="12 Bankside", city="London",
                           timezone="Europe/London")
    return DoctorFactory(clinic=clinic, specialty="General practice", user__name="Nia Okafor")


@pytest.fixture
def booked(patient, slot, admin_user):
    return services.appointment_book(patient=patient, slot_id=slot.pk, booked_by=admin_user)


# --- each operation answering an appointment ----------------------------------------


def test_booking_answers_the_doctor_and_clinic(auth_client, patient, slot):
    response = auth_client(patient.user).post("/api/v1/appointments/book", {"slot_id": slot.pk}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    _assert_embeds(body)
    assert body["doctor"]["specialty"] == "Cardiology" and body["clinic"]["city"] == "Pune"
    assert body["slot_datetime_local"].endswith("+05:30")


@pytest.mark.parametrize("who", ["patient", "doctor", "admin_user"])
def test_reading_listing_and_the_patients_list_embed_them(auth_client, booked, patient, who, request):
    user = request.getfixturevalue(who)
    client = auth_client(getattr(user, "user", user))
    _assert_embeds(client.get(f"/api/v1/appointments/{booked.pk}").json())
    (row,) = client.get("/api/v1/appointments").json()["results"]
    _assert_embeds(row)
    if who != "doctor":  # the patient's own list: the patient and staff
        (row,) = client.get(f"/api/v1/patients/{patient.pk}/appointments").json()["results"]
        _assert_embeds(row)


def test_cancel_embeds_them(auth_client, booked, patient):
    response = auth_client(patient.user).post(f"/api/v1/appointments/{booked.pk}/cancel", {"reason": "Away"},
                                              format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    _assert_embeds(response.json())


def test_confirm_and_decline_embed_them(auth_client, patient, doctor, admin_user):
    doctor.requires_approval = True
    doctor.save()
    first, second = (services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk,
                                               booked_by=admin_user) for _ in range(2))
    client = auth_client(doctor.user)
    confirmed = client.post(f"/api/v1/appointments/{first.pk}/confirm")
    declined = client.post(f"/api/v1/appointments/{second.pk}/decline", {"reason": "In theatre"}, format="json")
    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "confirmed")
    assert (declined.status_code, declined.json()["status"]) == (200, "cancelled")
    _assert_embeds(confirmed.json())
    _assert_embeds(declined.json())


def test_a_move_to_another_clinic_shows_the_new_doctor_and_clinic(auth_client, booked, patient, london_doctor,
                                                                  admin_user):
    there = SlotFactory(doctor=london_doctor, start=SUMMER)
    response = auth_client(admin_user).post(f"/api/v1/appointments/{booked.pk}/reschedule", {"slot_id": there.pk},
                                            format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    _assert_embeds(body)
    assert body["doctor"] == {"id": london_doctor.pk, "name": "Nia Okafor", "specialty": "General practice"}
    assert body["clinic"]["name"] == "Thames Family Practice" and body["clinic"]["timezone"] == "Europe/London"
    assert body["slot_datetime_local"] == "2031-07-01T10:00:00+01:00"


def test_recording_the_outcome_embeds_them(auth_client, booked, doctor):
    start = timezone.now() - timedelta(hours=1)
    Appointment.objects.filter(pk=booked.pk).update(start=start, end=start + timedelta(minutes=30))
    response = auth_client(doctor.user).patch(f"/api/v1/appointments/{booked.pk}", {"status": "completed"},
                                              format="json")
    assert response.status_code == 200 and response.json()["status"] == "completed"
    _assert_embeds(response.json())


def test_accepting_a_waitlist_offer_embeds_them(auth_client, patient, other_patient, slot,
                                                django_capture_on_commit_callbacks):
    taken = services.appointment_book(patient=other_patient, slot_id=slot.pk)
    entry = waitlist_join(patient=patient, doctor=slot.doctor, day=slot.start.astimezone(slot.clinic.tzinfo).date())
    with django_capture_on_commit_callbacks(execute=True):  # the freed place is offered to the patient
        services.appointment_cancel(appointment_id=taken.pk, by=other_patient.user)
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.OFFERED
    response = auth_client(patient.user).post(f"/api/v1/waitlist/{entry.pk}/accept")
    assert response.status_code == 201, response.content
    _assert_embeds(response.json())


def test_a_new_leave_and_the_days_schedule_embed_them(auth_client, booked, doctor):
    client = auth_client(doctor.user)
    leave = client.post(f"/api/v1/doctors/{doctor.pk}/leaves", {
        "start": (booked.start - timedelta(hours=1)).isoformat(),
        "end": (booked.start + timedelta(hours=1)).isoformat(),
    }, format="json")
    assert leave.status_code == 201, leave.content
    (inside,) = leave.json()["appointments"]
    _assert_embeds(inside)
    day = booked.start.astimezone(doctor.clinic.tzinfo).date()
    (visit,) = client.get(f"/api/v1/doctors/{doctor.pk}/schedule", {"date": day.isoformat()}).json()["appointments"]
    _assert_embeds(visit)


# --- what a patient sees ------------------------------------------------------------------


def test_a_patient_sees_only_the_public_card_of_the_doctor_and_clinic(auth_client, booked, patient):
    body = auth_client(patient.user).get(f"/api/v1/appointments/{booked.pk}").json()
    assert set(body["doctor"]) == DOCTOR_KEYS and set(body["clinic"]) == CLINIC_KEYS
    doctor, clinic = booked.doctor, booked.clinic
    text = str(body)
    for private in (doctor.user.email, doctor.license_number, clinic.phone, clinic.email):
        assert not private or private not in text
    assert (body["notes"], body["cancelled_internal_note"]) == (None, None)  # as before


def test_another_patient_still_gets_a_404_and_nothing_of_it(auth_client, booked, other_patient):
    response = auth_client(other_patient.user).get(f"/api/v1/appointments/{booked.pk}")
    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"
    assert booked.doctor.user.name not in response.content.decode()
    assert auth_client(other_patient.user).get("/api/v1/appointments").json()["results"] == []


# --- the clinic's offset, DST-aware ---------------------------------------------------------


def test_an_appointment_in_london_shows_bst_in_summer_and_gmt_in_winter(auth_client, patient, london_doctor,
                                                                       admin_user):
    summer = services.appointment_book(patient=patient, booked_by=admin_user,
                                       slot_id=SlotFactory(doctor=london_doctor, start=SUMMER).pk)
    winter = services.appointment_book(patient=patient, booked_by=admin_user,
                                       slot_id=SlotFactory(doctor=london_doctor, start=WINTER).pk)
    client = auth_client(patient.user)
    got = {row["id"]: (row["slot_datetime"], row["slot_datetime_local"])
           for row in client.get("/api/v1/appointments").json()["results"]}
    assert got == {summer.pk: ("2031-07-01T09:00:00Z", "2031-07-01T10:00:00+01:00"),
                   winter.pk: ("2031-12-01T10:00:00Z", "2031-12-01T10:00:00+00:00")}


def test_a_london_slot_shows_bst_in_summer_and_gmt_in_winter_everywhere(api_client, auth_client, london_doctor):
    summer, winter = SlotFactory(doctor=london_doctor, start=SUMMER), SlotFactory(doctor=london_doctor, start=WINTER)
    expected = {summer.pk: "2031-07-01T10:00:00+01:00", winter.pk: "2031-12-01T10:00:00+00:00"}
    listed = api_client.get("/api/v1/slots", {"doctor_id": london_doctor.pk}).json()["results"]
    assert {row["id"]: row["slot_datetime_local"] for row in listed} == expected
    for slot in (summer, winter):
        assert api_client.get(f"/api/v1/slots/{slot.pk}").json()["slot_datetime_local"] == expected[slot.pk]
    client = auth_client(london_doctor.user)
    patched = client.patch(f"/api/v1/slots/{winter.pk}", {"capacity": 2}, format="json")
    assert patched.status_code == 200 and patched.json()["slot_datetime_local"] == expected[winter.pk]
    created = client.post("/api/v1/slots", {"doctor_id": london_doctor.pk,
                                            "slot_datetime": "2031-08-01T08:30:00+01:00"}, format="json")
    assert created.status_code == 201, created.content
    assert (created.json()["slot_datetime"], created.json()["slot_datetime_local"]) == (
        "2031-08-01T07:30:00Z", "2031-08-01T08:30:00+01:00")
    assert AppointmentSlot.objects.get(pk=created.json()["id"]).start == datetime(2031, 8, 1, 7, 30, tzinfo=UTC)


def test_the_cached_slot_answers_follow_a_clinic_that_changes_zone(api_client, london_doctor, settings,
                                                                  django_capture_on_commit_callbacks):
    settings.CATALOGUE_CACHE_SECONDS = 30  # the catalogue cache on, as in production
    slot = SlotFactory(doctor=london_doctor, start=SUMMER)
    paths = ["/api/v1/slots?doctor_id=%d" % london_doctor.pk, f"/api/v1/slots/{slot.pk}"]

    def local_times():
        answers = [api_client.get(path) for path in paths]
        return [a["ETag"] for a in answers], [
            (a.json()["results"][0] if "results" in a.json() else a.json())["slot_datetime_local"] for a in answers]

    etags, local = local_times()
    assert local == ["2031-07-01T10:00:00+01:00"] * 2
    assert local_times() == (etags, local)  # served from the cache, the same tag
    with django_capture_on_commit_callbacks(execute=True):
        clinic = london_doctor.clinic
        clinic.timezone = "Asia/Kolkata"
        clinic.save()
    new_etags, new_local = local_times()
    assert new_local == ["2031-07-01T14:30:00+05:30"] * 2
    assert all(new != old for new, old in zip(new_etags, etags))


# --- no query per row ---------------------------------------------------------------------


def _visits_with_many_doctors(patient, admin_user, rows: int) -> None:
    """`rows` appointments of the patient, each with another doctor at another clinic."""
    first = timezone.now() + timedelta(days=1)
    for i in range(rows):
        doctor = DoctorFactory(clinic=ClinicFactory(timezone=["Asia/Kolkata", "Europe/London"][i % 2]))
        slot = SlotFactory(doctor=doctor, start=first + timedelta(hours=i))
        services.appointment_book(patient=patient, slot_id=slot.pk, booked_by=admin_user)


# (who, the list, its statements): the token's user (and profile), the count, one page, the audit row.
@pytest.mark.parametrize(("who", "path", "queries"), [
    ("patient", "/api/v1/appointments", 4), ("admin_user", "/api/v1/appointments", 3),
    ("patient", "/api/v1/patients/{patient}/appointments", 5),
    ("admin_user", "/api/v1/patients/{patient}/appointments", 4),
])
@pytest.mark.parametrize("rows", [1, 20])
def test_the_lists_cost_the_same_for_1_and_20_rows(auth_client, patient, admin_user, who, path, queries, rows,
                                                   request, django_assert_max_num_queries):
    _visits_with_many_doctors(patient, admin_user, rows)
    user = request.getfixturevalue(who)
    client = auth_client(getattr(user, "user", user))
    with django_assert_max_num_queries(queries + audit_statements()):
        response = client.get(path.format(patient=patient.pk), {"page_size": 100})
    results = response.json()["results"]
    assert len(results) == rows
    for row in results:
        _assert_embeds(row)


@pytest.mark.parametrize("rows", [1, 20])
def test_a_leave_over_many_visits_costs_the_same(auth_client, doctor, admin_user, rows,
                                                 django_assert_max_num_queries):
    doctor.max_patients_per_day = 100
    doctor.save()
    first = timezone.now() + timedelta(days=2)
    for i in range(rows):  # one patient each: a patient's visits may not overlap
        slot = SlotFactory(doctor=doctor, start=first + timedelta(minutes=30 * i))
        services.appointment_book(patient=PatientFactory(), slot_id=slot.pk, booked_by=admin_user)
    client = auth_client(doctor.user)
    body = {"start": first.isoformat(), "end": (first + timedelta(days=1)).isoformat()}
    # Measured 7 on SQLite and on PostgreSQL, for 1 row or 20: the answer's
    # appointments are one query, their doctors, users and clinics joined.
    with django_assert_max_num_queries(7):
        response = client.post(f"/api/v1/doctors/{doctor.pk}/leaves", body, format="json")
    assert response.status_code == 201, response.content
    assert len(response.json()["appointments"]) == rows
    for row in response.json()["appointments"]:
        _assert_embeds(row)

