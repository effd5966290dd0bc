"""The doctor's private calendar feed: POST /api/v1/doctors/{id}/calendar-feed
makes a URL, GET /feeds/doctors/{token}.ics serves the doctor's upcoming visits
without health data; the portal's "Calendar feed" section on My week."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts.tests.factories import PatientFactory
from clinics.services import doctor_calendar_feed_rotate
from clinics.tests.factories import DoctorFactory
from healthsvc.api.throttling import RequestRateThrottle
from healthsvc.testing import assert_error
from scheduling.feeds import appointment_uid, patient_short_name
from scheduling.models import Appointment
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db


def _feed_path(url: str) -> str:
    assert url.startswith("http://testserver/feeds/doctors/") and url.endswith(".ics"), url
    return url.removeprefix("http://testserver")


def _rotate(auth_client, user, doctor):
    return auth_client(user).post(reverse("api:doctor-calendar-feed", args=[doctor.pk]))


def _visit(doctor, *, start=None, status=Appointment.Status.CONFIRMED, name="Priya Patel", **fields):
    slot = SlotFactory(doctor=doctor, **({"start": start} if start else {}))
    patient = PatientFactory(user__name=name, allergies="Penicillin")
    return AppointmentFactory(slot=slot, patient=patient, status=status, **fields)


def _events(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.content
    calendar = Calendar.from_ical(response.content)
    return response, calendar, calendar.walk("VEVENT")


# --- making the URL ----------------------------------------------------------------


def test_doctor_gets_a_feed_url_and_only_its_hash_is_kept(auth_client, doctor):
    response = _rotate(auth_client, doctor.user, doctor)
    assert response.status_code == 200 and set(response.json()) == {"url"}
    path = _feed_path(response.json()["url"])
    token = path.removeprefix("/feeds/doctors/").removesuffix(".ics")
    doctor.refresh_from_db()
    assert len(token) > 40 and token not in doctor.calendar_feed_sha256 and len(doctor.calendar_feed_sha256) == 64
    assert response["Cache-Control"] == "no-store"


def test_admin_may_make_a_doctors_feed_url(auth_client, admin_user, doctor, client):
    response = _rotate(auth_client, admin_user, doctor)
    assert response.status_code == 200
    assert client.get(_feed_path(response.json()["url"])).status_code == 200


def test_another_doctor_or_a_patient_may_not_make_the_url(auth_client, doctor, other_doctor, patient):
    assert_error(_rotate(auth_client, other_doctor.user, doctor), 403, "PERMISSION_DENIED")
    assert_error(_rotate(auth_client, patient.user, doctor), 403, "PERMISSION_DENIED")
    doctor.refresh_from_db()
    assert doctor.calendar_feed_sha256 == ""


def test_anonymous_may_not_make_the_url(api_client, doctor):
    response = api_client.post(reverse("api:doctor-calendar-feed", args=[doctor.pk]))
    assert_error(response, 401, "NOT_AUTHENTICATED")


def test_unknown_doctor_is_404(auth_client, admin_user):
    response = auth_client(admin_user).post(reverse("api:doctor-calendar-feed", args=[999999]))
    assert_error(response, 404, "NOT_FOUND")


def test_get_is_not_a_method_of_the_rotation(auth_client, doctor):
    response = auth_client(doctor.user).get(reverse("api:doctor-calendar-feed", args=[doctor.pk]))
    assert_error(response, 405, "METHOD_NOT_ALLOWED")


def test_a_new_url_kills_the_old_one(auth_client, doctor, client):
    old = _feed_path(_rotate(auth_client, doctor.user, doctor).json()["url"])
    assert client.get(old).status_code == 200
    new = _feed_path(_rotate(auth_client, doctor.user, doctor).json()["url"])
    assert new != old
    assert_error(client.get(old), 404, "NOT_FOUND")
    assert client.get(new).status_code == 200


# --- reading the feed ----------------------------------------------------------------


def test_no_feed_until_one_is_made(client, doctor):
    assert_error(client.get(f"/feeds/doctors/{doctor.pk}.anything.ics"), 404, "NOT_FOUND")


@pytest.mark.parametrize("token", ["nonsense", "1", "1.", ".abc", "x.abc", "١.abc", "9" * 30 + ".abc"])
def test_malformed_or_unknown_tokens_are_404(client, token):
    assert_error(client.get(f"/feeds/doctors/{token}.ics"), 404, "NOT_FOUND")


def test_a_wrong_secret_for_a_real_doctor_is_404(client, doctor):
    token = doctor_calendar_feed_rotate(doctor=doctor)
    assert_error(client.get(f"/feeds/doctors/{token}x.ics"), 404, "NOT_FOUND")
    someone_else = DoctorFactory(clinic=doctor.clinic)  # the same secret under another doctor's id
    assert_error(client.get(f"/feeds/doctors/{someone_else.pk}.{token.partition('.')[2]}.ics"), 404, "NOT_FOUND")


def test_a_deactivated_doctors_feed_is_404(client, doctor):
    token = doctor_calendar_feed_rotate(doctor=doctor)
    doctor.is_active = False
    doctor.save()
    assert_error(client.get(f"/feeds/doctors/{token}.ics"), 404, "NOT_FOUND")


def test_feed_is_valid_icalendar_with_only_the_doctors_upcoming_active_visits(client, doctor, other_doctor):
    now = timezone.now().replace(second=0, microsecond=0)
    confirmed = _visit(doctor, start=now + timedelta(days=2))
    pending = _visit(doctor, start=now + timedelta(days=3), status=Appointment.Status.PENDING, name="Ravi Kumar")
    _visit(doctor, start=now + timedelta(days=4), status=Appointment.Status.CANCELLED, cancelled_at=now)
    _visit(doctor, start=now - timedelta(days=1))  # over
    _visit(doctor, start=now + timedelta(days=200))  # past the feed's window
    _visit(other_doctor, start=now + timedelta(days=2))
    token = doctor_calendar_feed_rotate(doctor=doctor)

    response, calendar, events = _events(client, f"/feeds/doctors/{token}.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"] and calendar["X-WR-CALNAME"]
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Kolkata"]
    assert str(calendar["X-PUBLISHED-TTL"].to_ical().decode()) == "PT1H"
    assert [str(e["UID"]) for e in events] == [appointment_uid(confirmed), appointment_uid(pending)]
    assert appointment_uid(confirmed) == f"appointment-{confirmed.pk}@healthsvc"
    first, second = events
    assert str(first["SUMMARY"]) == "Visit: Priya P." and str(second["SUMMARY"]) == "Visit: Ravi K."
    assert first.decoded("DTSTART") == confirmed.start and first.decoded("DTEND") == confirmed.end
    assert first["DTSTART"].params["TZID"] == "Asia/Kolkata"
    assert doctor.clinic.address in str(first["LOCATION"])
    assert (str(first["STATUS"]), str(second["STATUS"])) == ("CONFIRMED", "TENTATIVE")


def test_feed_gives_the_clinics_zone_with_its_summer_time(client):
    from clinics.tests.factories import ClinicFactory

    doctor = DoctorFactory(clinic=ClinicFactory(timezone="Europe/London"))
    appointment = _visit(doctor)
    token = doctor_calendar_feed_rotate(doctor=doctor)
    _, calendar, events = _events(client, f"/feeds/doctors/{token}.ics")
    (zone,) = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/London" and zone.walk("DAYLIGHT") and zone.walk("STANDARD")
    assert events[0].decoded("DTSTART") == appointment.start


def test_feed_carries_no_health_data(client, doctor):
    appointment = _visit(
        doctor, name="Priya Venkataraman", reason_for_visit="Chest pain since Monday",
        notes="Suspected angina", note_for_patient="Bring your ECG",
    )
    token = doctor_calendar_feed_rotate(doctor=doctor)
    text = client.get(f"/feeds/doctors/{token}.ics").content.decode()
    for secret in ("Chest pain", "angina", "ECG", "Penicillin", "Venkataraman", appointment.patient.user.email):
        assert secret not in text
    assert "Priya V." in text


def test_feed_query_count_stays_flat(client, doctor, django_assert_max_num_queries):
    token = doctor_calendar_feed_rotate(doctor=doctor)
    path = f"/feeds/doctors/{token}.ics"
    _visit(doctor)
    with django_assert_max_num_queries(5) as few:
        client.get(path)
    for _ in range(30):
        _visit(doctor)
    with django_assert_max_num_queries(len(few.captured_queries)):
        _, _, events = _events(client, path)
    assert len(events) == 31


def test_feed_is_rate_limited_as_anonymous_requests(client, doctor, monkeypatch):
    # An hour's window: three requests straddling a minute's edge would each count in their own (a flake).
    monkeypatch.setattr(RequestRateThrottle, "THROTTLE_RATES", {"anon": "2/hour", "user": "1000/min"})
    token = doctor_calendar_feed_rotate(doctor=doctor)
    assert [client.get(f"/feeds/doctors/{token}.ics").status_code for _ in range(2)] == [200, 200]
    assert_error(client.get(f"/feeds/doctors/{token}.ics"), 429, "RATE_LIMITED")


@pytest.mark.parametrize(("name", "short"), [
    ("Priya Patel", "Priya P."), ("Priya", "Priya"), ("  ", "Patient"), ("Ana María de la Cruz", "Ana C."),
    ("ravi kumar", "ravi K."),
])
def test_patient_short_name(name, short):
    assert patient_short_name(name) == short


# --- the portal ------------------------------------------------------------------------


def test_my_week_offers_a_new_feed_url(doctor_client):
    html = doctor_client.get(reverse("scheduling:my-week")).content.decode()
    assert "Calendar feed" in html and "Get a new feed URL" in html
    assert reverse("scheduling:calendar-feed-rotate") in html


def test_portal_rotation_shows_the_url_once_and_kills_the_old_one(doctor_client, doctor, client):
    old = doctor_calendar_feed_rotate(doctor=doctor)
    response = doctor_client.post(reverse("scheduling:calendar-feed-rotate"))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "previous URL no longer works" in html
    url = html.split('id="feed-url" type="text" readonly value="')[1].split('"')[0]
    assert client.get(_feed_path(url)).status_code == 200
    assert client.get(f"/feeds/doctors/{old}.ics").status_code == 404
    assert url not in doctor_client.get(reverse("scheduling:my-week")).content.decode()


def test_portal_rotation_is_post_only(doctor_client, doctor):
    assert doctor_client.get(reverse("scheduling:calendar-feed-rotate")).status_code == 405
    doctor.refresh_from_db()
    assert doctor.calendar_feed_sha256 == ""


def test_patients_cannot_rotate_in_the_portal(patient_client):
    assert patient_client.post(reverse("scheduling:calendar-feed-rotate")).status_code == 403
