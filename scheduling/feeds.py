"""A doctor's private calendar feed: their upcoming visits as one iCalendar
(RFC 5545) document that Google Calendar, Outlook or Apple Calendar subscribe
to by URL (GET /feeds/doctors/{token}.ics).

Subscribed calendars are synced to third parties and whoever holds the URL
reads it, so the feed carries no health data: no reason for the visit, no
notes, and the patient by first name and last initial only ("Visit: Priya P.").
Times are in the clinic's zone with its VTIMEZONE, so the doctor's calendar
shows them as the clinic keeps them.
"""

from datetime import date, datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, Timezone, vDuration

from clinics.models import Doctor
from scheduling.ics import appointment_uid
from scheduling.models import Appointment

PRODID = "-//healthsvc//Doctor calendar feed 1.0//EN"
# Calendar clients refresh a subscription every few hours at most; ask for hourly.
REFRESH_INTERVAL = timedelta(hours=1)

_STATUS = {Appointment.Status.PENDING: "TENTATIVE", Appointment.Status.CONFIRMED: "CONFIRMED"}


def patient_short_name(name: str) -> str:
    """"Priya Patel" -> "Priya P.": the first name and the last name's initial."""
    parts = name.split()
    if not parts:
        return "Patient"
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0].upper()}."


def _location(appointment: Appointment) -> str:
    clinic = appointment.clinic
    place = " ".join(part for part in (clinic.city, clinic.state, clinic.zip_code) if part)
    return ", ".join(part for part in (clinic.name, clinic.address, place) if part)


def _event(appointment: Appointment, *, tz, now: datetime) -> Event:
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", now)
    event.add("dtstart", timezone.localtime(appointment.start, tz))
    event.add("dtend", timezone.localtime(appointment.end, tz))
    event.add("last-modified", appointment.updated_at)
    event.add("summary", f"Visit: {patient_short_name(appointment.patient.display_name)}")
    event.add("location", _location(appointment))
    event.add("status", _STATUS.get(appointment.status, "CONFIRMED"))
    event.add("class", "PRIVATE")
    return event


def doctor_feed_ics(*, doctor: Doctor, appointments, now: datetime | None = None) -> bytes:
    """The feed document: the calendar's name and refresh hint, the clinic's
    VTIMEZONE (the transitions of the year before and after now, enough for the
    feed's window), one VEVENT per appointment given."""
    now = now or timezone.now()
    tz = doctor.clinic.tzinfo
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Visits: Dr. {doctor.user.name}")
    calendar.add("x-wr-timezone", doctor.clinic.timezone)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))  # Outlook's older name; an X- property is TEXT
    today = now.date()
    calendar.add_component(Timezone.from_tzinfo(
        tz, tzid=doctor.clinic.timezone,
        first_date=date(today.year - 1, 1, 1), last_date=date(today.year + 1, 12, 31),
    ))
    for appointment in appointments:
        calendar.add_component(_event(appointment, tz=tz, now=now))
    return calendar.to_ical()


def doctor_feed_url(request, token: str) -> str:
    """The absolute URL a calendar subscribes to, on the host the request came to."""
    return request.build_absolute_uri(reverse("scheduling:doctor-feed", kwargs={"token": token}))
