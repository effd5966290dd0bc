"""The .ics file of an appointment is valid RFC 5545."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.urls import reverse

from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.ics import appointment_to_ics, escape_text, fold_line
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

FIXED_NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def appointment(patient, admin_user):
    clinic = ClinicFactory(
        name="Heart; Care, Pune", address="12 FC Road, Shivajinagar", city="Pune", state="MH", zip_code="411001",
        timezone="Asia/Kolkata", phone="+91 20 5555 0101",
    )
    doctor = DoctorFactory(clinic=clinic, specialty="Cardiology", user__name="Anil Mehta")
    slot = SlotFactory(doctor=doctor, start=datetime(2030, 3, 1, 4, 30, tzinfo=UTC), duration_minutes=45)
    # Years ahead, beyond what a patient may book online: staff book it.
    return services.appointment_book(patient=patient, slot_id=slot.pk, reason="Private: chest pain", booked_by=admin_user)


def _unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def _event(text: str) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(text)
    (event,) = calendar.walk("VEVENT")
    return event


def test_ics_is_one_vevent_in_a_vcalendar_with_crlf_line_endings(appointment):
    text = appointment_to_ics(appointment, now=FIXED_NOW)
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    lines = _unfold(text)
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_ics_has_uid_stamp_and_times_in_the_clinics_zone(appointment):
    lines = _unfold(appointment_to_ics(appointment, now=FIXED_NOW))
    assert f"UID:appointment-{appointment.pk}@healthsvc" in lines
    assert "DTSTAMP:20300102T030405Z" in lines
    assert "DTSTART;TZID=Asia/Kolkata:20300301T100000" in lines  # 04:30 UTC
    assert "DTEND;TZID=Asia/Kolkata:20300301T104500" in lines
    assert "STATUS:CONFIRMED" in lines and "METHOD:REQUEST" in lines and "SEQUENCE:0" in lines


def test_ics_carries_the_clinics_vtimezone_and_an_alarm(appointment):
    calendar = icalendar.Calendar.from_ical(appointment_to_ics(appointment, now=FIXED_NOW))
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Asia/Kolkata"]
    (alarm,) = calendar.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY" and alarm.decoded("TRIGGER") == -timedelta(hours=1)
    event = _event(calendar.to_ical())
    assert event.decoded("DTSTART") == datetime(2030, 3, 1, 4, 30, tzinfo=UTC)


def test_ics_names_the_clinic_as_organizer_and_the_patient_as_attendee(appointment, patient):
    event = _event(appointment_to_ics(appointment, now=FIXED_NOW))
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert str(event["ATTENDEE"]) == f"mailto:{patient.user.email}"


def test_ics_summary_and_location_are_escaped(appointment):
    lines = _unfold(appointment_to_ics(appointment, now=FIXED_NOW))
    assert "SUMMARY:Appointment with Dr. Anil Mehta (Cardiology)" in lines
    assert r"LOCATION:Heart\; Care\, Pune\, 12 FC Road\, Shivajinagar\, Pune MH 411001" in lines


def test_ics_description_gives_clinic_time_but_not_the_reason(appointment):
    text = appointment_to_ics(appointment, now=FIXED_NOW)
    assert "10:00 IST (Asia/Kolkata)" in str(_event(text)["DESCRIPTION"])
    assert r"\n" in "".join(_unfold(text))  # newlines are escaped, not raw
    assert "chest pain" not in text


def test_cancelled_appointment_is_a_cancel_without_alarm(appointment, patient):
    cancelled = services.appointment_cancel(appointment_id=appointment.pk, by=patient.user, reason="x")
    text = appointment_to_ics(cancelled, now=FIXED_NOW)
    lines = _unfold(text)
    assert "STATUS:CANCELLED" in lines and "METHOD:CANCEL" in lines
    assert "BEGIN:VALARM" not in lines


def test_uid_stays_and_sequence_grows_across_book_reschedule_cancel(appointment, admin_user):
    doctor = appointment.doctor
    booked = icalendar.Calendar.from_ical(appointment_to_ics(appointment))
    later = SlotFactory(doctor=doctor, start=datetime(2030, 3, 2, 5, 0, tzinfo=UTC), duration_minutes=30)
    moved = services.appointment_reschedule(appointment_id=appointment.pk, slot_id=later.pk, by=admin_user)
    rescheduled = icalendar.Calendar.from_ical(appointment_to_ics(moved))
    cancelled_appointment = services.appointment_cancel(appointment_id=appointment.pk, by=admin_user, reason="x")
    cancelled = icalendar.Calendar.from_ical(appointment_to_ics(cancelled_appointment))

    versions = [booked, rescheduled, cancelled]
    events = [_event(version.to_ical()) for version in versions]
    assert len({str(event["UID"]) for event in events}) == 1
    assert [event["SEQUENCE"] for event in events] == [0, 1, 2]
    assert [str(version["METHOD"]) for version in versions] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [event.decoded("DTSTART") for event in events] == [
        datetime(2030, 3, 1, 4, 30, tzinfo=UTC), datetime(2030, 3, 2, 5, 0, tzinfo=UTC),
        datetime(2030, 3, 2, 5, 0, tzinfo=UTC),
    ]
    # The stored version matches what was sent: reading it again gives the same SEQUENCE.
    appointment.refresh_from_db()
    assert _event(appointment_to_ics(appointment))["SEQUENCE"] == 2


def test_approval_moves_the_sequence_and_the_status(patient, admin_user):
    doctor = DoctorFactory(requires_approval=True)
    slot = SlotFactory(doctor=doctor)
    pending = services.appointment_book(patient=patient, slot_id=slot.pk, booked_by=admin_user)
    assert _event(appointment_to_ics(pending))["STATUS"] == "TENTATIVE"
    confirmed = services.appointment_confirm(appointment_id=pending.pk, by=admin_user)
    event = _event(appointment_to_ics(confirmed))
    assert event["STATUS"] == "CONFIRMED" and event["SEQUENCE"] == 1


def test_an_outcome_is_no_calendar_change(appointment, admin_user):
    """Notes and outcomes are not the calendar's business: SEQUENCE stays."""
    services.appointment_set_outcome(appointment_id=appointment.pk, notes="Private", by=admin_user)
    appointment.refresh_from_db()
    assert appointment.sequence == 0


def test_lines_are_folded_at_75_octets_without_splitting_characters():
    line = "DESCRIPTION:" + "é" * 100
    folded = fold_line(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode("utf-8")) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert folded.replace("\r\n ", "") == line


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("a;b", r"a\;b"), ("a,b", r"a\,b"), ("a\\b", "a\\\\b"), ("a\nb", r"a\nb"), ("a\r\nb", r"a\nb")],
)
def test_text_escaping(raw, escaped):
    assert escape_text(raw) == escaped


# --- the portal and the API give the same current version, never a cancelled one ---------


def test_the_api_and_the_portal_give_the_same_current_version(appointment, patient, client, auth_client, admin_user):
    later = SlotFactory(doctor=appointment.doctor, start=datetime(2030, 3, 3, 5, 0, tzinfo=UTC))
    services.appointment_reschedule(appointment_id=appointment.pk, slot_id=later.pk, by=admin_user)
    api = auth_client(patient.user).get(reverse("api:appointment-ics", args=[appointment.pk]))
    client.force_login(patient.user)
    portal = client.get(reverse("scheduling:appointment-ics", args=[appointment.pk]))
    assert api.status_code == portal.status_code == 200
    api_event, portal_event = _event(api.content), _event(portal.content)
    for name in ("UID", "SEQUENCE", "DTSTART", "DTEND", "STATUS"):
        assert api_event.decoded(name) == portal_event.decoded(name), name
    assert api_event["SEQUENCE"] == 1
    assert icalendar.Calendar.from_ical(api.content)["METHOD"] == "REQUEST"


def test_the_api_refuses_the_file_of_a_cancelled_visit_with_409(appointment, patient, auth_client):
    services.appointment_cancel(appointment_id=appointment.pk, by=patient.user, reason="x")
    response = auth_client(patient.user).get(reverse("api:appointment-ics", args=[appointment.pk]))
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error_code"] == "INVALID_STATE" and "cancelled" in response.json()["detail"]


def test_another_patient_still_gets_404_for_a_cancelled_visit(appointment, patient, other_patient, auth_client):
    """The 409 says nothing about someone else's appointment: theirs is a 404 first."""
    services.appointment_cancel(appointment_id=appointment.pk, by=patient.user, reason="x")
    response = auth_client(other_patient.user).get(reverse("api:appointment-ics", args=[appointment.pk]))
    assert response.status_code == 404


def test_the_portal_does_not_offer_the_file_of_a_cancelled_visit(appointment, patient, client):
    url = reverse("scheduling:appointment-ics", args=[appointment.pk])
    client.force_login(patient.user)
    page = reverse("scheduling:appointment-detail", args=[appointment.pk])
    assert url in client.get(page).content.decode()
    services.appointment_cancel(appointment_id=appointment.pk, by=patient.user, reason="x")
    assert url not in client.get(page).content.decode()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == page
    assert "no calendar file" in client.get(page).content.decode()


def test_the_doctors_page_does_not_offer_it_either(appointment, client, admin_user):
    url = reverse("scheduling:appointment-ics", args=[appointment.pk])
    client.force_login(appointment.doctor.user)
    page = reverse("scheduling:doctor-appointment", args=[appointment.pk])
    assert url in client.get(page).content.decode()
    services.appointment_cancel(appointment_id=appointment.pk, by=admin_user, reason="x")
    assert url not in client.get(page).content.decode()
    assert client.get(url)["Location"] == page
