"""An appointment as an iCalendar (RFC 5545) invitation, built with `icalendar`.

One file for the portal's "Add to calendar", the API's /ics and the emails:
the same UID for an appointment all its life, its SEQUENCE one more on every
change (Appointment.sequence), METHOD:REQUEST while it is active and
METHOD:CANCEL once cancelled, so a calendar app that imported it updates or
removes the event instead of adding a second one (RFC 5546). Times are in
the clinic's zone, with its VTIMEZONE, and a reminder (VALARM) comes with it.

The reason for the visit and every note are medical information and stay
out of the file: calendars are often synced to third parties.
"""

from datetime import datetime, timedelta
from email.utils import parseaddr

import icalendar
from django.conf import settings
from django.utils import timezone

from scheduling.exceptions import InvalidStateError
from scheduling.models import Appointment

PRODID = "-//healthsvc//Appointments 1.0//EN"
ALARM_BEFORE = timedelta(hours=1)
MAX_LINE_OCTETS = 75

_STATUS = {
    Appointment.Status.PENDING: "TENTATIVE",
    Appointment.Status.CONFIRMED: "CONFIRMED",
    Appointment.Status.CANCELLED: "CANCELLED",
    Appointment.Status.COMPLETED: "CONFIRMED",
    Appointment.Status.NO_SHOW: "CONFIRMED",
}


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma, newline.
    (icalendar does this for the files below; kept for hand-written lines elsewhere.)"""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold_line(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets (RFC 5545 3.1),
    never splitting a UTF-8 character; continuation lines start with a space.
    (icalendar folds the files below; kept for hand-written lines elsewhere.)"""
    chunks, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = MAX_LINE_OCTETS if not chunks else MAX_LINE_OCTETS - 1
        if size + width > limit:
            chunks.append(current)
            current, size = "", 0
        current += char
        size += width
    chunks.append(current)
    return "\r\n ".join(chunks)


def appointment_uid(appointment: Appointment) -> str:
    """The event's UID, the same for the appointment whatever happens to it and
    in every file and feed that shows it (so a calendar updates one event
    rather than adding another): `appointment-{id}@{CALENDAR_UID_DOMAIN}`."""
    return f"appointment-{appointment.pk}@{settings.CALENDAR_UID_DOMAIN}"


def _location(appointment: Appointment) -> str:
    clinic = appointment.clinic
    place = " ".join(part for part in (clinic.city, clinic.state, clinic.zip_code) if part)
    return ", ".join(part for part in (clinic.name, clinic.address, place) if part)


def _description(appointment: Appointment) -> str:
    clinic = appointment.clinic
    local = timezone.localtime(appointment.start, clinic.tzinfo)
    lines = [f"Appointment #{appointment.pk} with Dr. {appointment.doctor.user.name} ({appointment.doctor.specialty})."]
    lines.append(f"Clinic time: {local:%A %d %B %Y, %H:%M} {local.tzname()} ({clinic.timezone}).")
    if clinic.phone:
        lines.append(f"Clinic phone: {clinic.phone}")
    return "\n".join(lines)


def appointment_calendar(appointment: Appointment, *, now: datetime | None = None) -> icalendar.Calendar:
    """The appointment's current version as a VCALENDAR with one VEVENT."""
    doctor, clinic = appointment.doctor, appointment.clinic
    cancelled = appointment.status == Appointment.Status.CANCELLED
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")

    event = icalendar.Event()
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", now or timezone.now())
    event.add("dtstart", timezone.localtime(appointment.start, clinic.tzinfo))
    event.add("dtend", timezone.localtime(appointment.end, clinic.tzinfo))
    event.add("last-modified", appointment.updated_at)
    event.add("summary", f"Appointment with Dr. {doctor.user.name} ({doctor.specialty})")
    event.add("location", _location(appointment))
    event.add("description", _description(appointment))
    event.add("status", _STATUS.get(appointment.status, "CONFIRMED"))
    # RFC 5546 wants an organizer for REQUEST/CANCEL: the clinic's mailbox
    # (the sender of the emails), and the patient as the one attendee.
    event.add("organizer", f"mailto:{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}", parameters={"CN": clinic.name})
    event.add("attendee", f"mailto:{appointment.patient.contact_user.email}",
              parameters={"CN": appointment.patient.display_name, "ROLE": "REQ-PARTICIPANT"})
    if not cancelled:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Appointment with Dr. {doctor.user.name}")
        alarm.add("trigger", -ALARM_BEFORE)
        event.add_component(alarm)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar


def check_calendar_offered(appointment: Appointment) -> None:
    """The portal and the API offer no calendar file of a cancelled visit:
    there is nothing to add, and the cancellation email carried the CANCEL
    that removes it from a calendar. Raises InvalidStateError (409): the
    appointment exists and the caller may read it; its state is what refuses."""
    if appointment.status == Appointment.Status.CANCELLED:
        raise InvalidStateError("A cancelled appointment has no calendar file to add.")


def appointment_to_ics(appointment: Appointment, *, now: datetime | None = None) -> str:
    """The appointment's current invitation as text, CRLF line endings."""
    return appointment_calendar(appointment, now=now).to_ical().decode("utf-8")
