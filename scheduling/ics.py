"""An appointment as an iCalendar (RFC 5545) file, for the portal and the API.

Times are written in UTC (`...Z`), so every calendar shows them in its own
zone without needing a VTIMEZONE block. The reason for the visit is medical
information and stays out of the file: calendars are often synced to
third parties.
"""

from datetime import UTC, datetime

from django.utils import timezone

from scheduling.models import Appointment

PRODID = "-//healthsvc//Appointments 1.0//EN"
UID_DOMAIN = "healthsvc"
MAX_LINE_OCTETS = 75

_STATUS = {
    Appointment.Status.PENDING: "TENTATIVE",
    Appointment.Status.CONFIRMED: "CONFIRMED",
    Appointment.Status.CANCELLED: "CANCELLED",
    Appointment.Status.COMPLETED: "CONFIRMED",
    Appointment.Status.NO_SHOW: "CONFIRMED",
}


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma, newline."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold_line(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets (RFC 5545 3.1),
    never splitting a UTF-8 character; continuation lines start with a space."""
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


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


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


def appointment_to_ics(appointment: Appointment, *, now: datetime | None = None) -> str:
    """A VCALENDAR with one VEVENT for the appointment, CRLF line endings."""
    doctor = appointment.doctor
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:appointment-{appointment.pk}@{UID_DOMAIN}",
        f"DTSTAMP:{_utc(now or timezone.now())}",
        f"DTSTART:{_utc(appointment.start)}",
        f"DTEND:{_utc(appointment.end)}",
        f"LAST-MODIFIED:{_utc(appointment.updated_at)}",
        f"SUMMARY:{escape_text(f'Appointment with Dr. {doctor.user.name} ({doctor.specialty})')}",
        f"LOCATION:{escape_text(_location(appointment))}",
        f"DESCRIPTION:{escape_text(_description(appointment))}",
        f"STATUS:{_STATUS.get(appointment.status, 'CONFIRMED')}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold_line(line) + "\r\n" for line in lines)
