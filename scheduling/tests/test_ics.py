"""The .ics file of an appointment is valid RFC 5545."""

from datetime import UTC, datetime

import pytest

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


def test_ics_is_one_vevent_in_a_vcalendar_with_crlf_line_endings(appointment):
    text = appointment_to_ics(appointment, now=FIXED_NOW)
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    lines = _unfold(text)
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)


def test_ics_has_uid_stamp_and_utc_times(appointment):
    lines = _unfold(appointment_to_ics(appointment, now=FIXED_NOW))
    assert f"UID:appointment-{appointment.pk}@healthsvc" in lines
    assert "DTSTAMP:20300102T030405Z" in lines
    assert "DTSTART:20300301T043000Z" in lines
    assert "DTEND:20300301T051500Z" in lines
    assert "STATUS:CONFIRMED" in lines


def test_ics_summary_and_location_are_escaped(appointment):
    lines = _unfold(appointment_to_ics(appointment, now=FIXED_NOW))
    assert "SUMMARY:Appointment with Dr. Anil Mehta (Cardiology)" in lines
    assert r"LOCATION:Heart\; Care\, Pune\, 12 FC Road\, Shivajinagar\, Pune MH 411001" in lines


def test_ics_description_gives_clinic_time_but_not_the_reason(appointment):
    text = appointment_to_ics(appointment, now=FIXED_NOW)
    description = next(line for line in _unfold(text) if line.startswith("DESCRIPTION:"))
    assert r"10:00 IST (Asia/Kolkata)" in description
    assert r"\n" in description  # newlines are escaped, not raw
    assert "chest pain" not in text


def test_cancelled_appointment_is_marked_cancelled(appointment, patient):
    cancelled = services.appointment_cancel(appointment_id=appointment.pk, by=patient.user, reason="x")
    assert "STATUS:CANCELLED" in _unfold(appointment_to_ics(cancelled, now=FIXED_NOW))


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
