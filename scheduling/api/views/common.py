"""What the slot, appointment and schedule views share: the error responses
they document (the contract's codes, by status), and appointments as the
caller may see them."""

from drf_spectacular.utils import OpenApiResponse

from healthsvc.api.serializers import error_responses
from scheduling.api.serializers import AppointmentOutputSerializer

_ERROR_TEXT = {
    400: "VALIDATION_ERROR: malformed JSON, wrong types or out-of-range values.",
    401: "NOT_AUTHENTICATED or TOKEN_INVALID.",
    403: "PERMISSION_DENIED: the role or ownership does not allow it.",
    404: "NOT_FOUND: no such object, or one the caller may not see.",
    406: "NOT_ACCEPTABLE: the Accept header excludes the answer's format.",
    422: "IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was sent before with a different body.",
}
BOOKING_CONFLICTS = (
    "SLOT_FULL, ALREADY_BOOKED, SLOT_UNAVAILABLE (past, deleted, the doctor on leave, or doctor/clinic "
    "inactive), DAILY_LIMIT_REACHED or OVERLAPPING_APPOINTMENT; for a patient also the clinic's booking "
    "policy: BOOKING_TOO_SOON (inside the minimum notice), BOOKING_TOO_FAR (beyond the booking horizon) "
    "or BOOKING_LIMIT_REACHED (the most active future visits the clinic allows). USER_INACTIVE: the "
    "patient's account, or their guardian's, is closed."
)
CHANGE_CONFLICTS = (
    "CANCELLATION_WINDOW_PASSED: a patient cancelling or moving inside the clinic's cancellation window "
    "(the doctor and staff may)."
)
# Doctor ownership, as the schedule views document it.
SCHEDULE_403 = "PERMISSION_DENIED: a patient, or another doctor's schedule."
SCHEDULE_404 = "NOT_FOUND: no such doctor."


# What the examples of the OpenAPI document show: one appointment, one slot,
# as the API answers them (the demo data's Pune clinic, UTC+05:30).
APPOINTMENT_EXAMPLE = {
    "id": 42, "patient_id": 7, "doctor_id": 3, "clinic_id": 1, "slot_id": 120,
    "slot_datetime": "2030-03-01T04:30:00Z", "slot_datetime_local": "2030-03-01T10:00:00+05:30",
    "status": "confirmed", "reason_for_visit": "Chest pain on exertion",
    "notes": None, "note_for_patient": "", "cancelled_at": None, "cancelled_reason": "",
    "cancelled_internal_note": None,
    "created_at": "2030-02-20T09:15:02.123456Z", "updated_at": "2030-02-20T09:15:02.123456Z",
    "doctor": {"id": 3, "name": "Anil Mehta", "specialty": "Cardiology"},
    "clinic": {"id": 1, "name": "Sunrise Heart & Skin Clinic", "address": "12 FC Road, Shivajinagar",
               "city": "Pune", "timezone": "Asia/Kolkata"},
}
# As the doctor and staff see it: the clinical note shown.
APPOINTMENT_EXAMPLE_FOR_DOCTOR = {**APPOINTMENT_EXAMPLE, "notes": "", "cancelled_internal_note": ""}
SLOT_EXAMPLE = {
    "id": 120, "doctor_id": 3, "clinic_id": 1, "slot_datetime": "2030-03-01T04:30:00Z",
    "slot_datetime_local": "2030-03-01T10:00:00+05:30", "duration_minutes": 30, "capacity": 1,
    "booked_count": 0, "is_booked": False, "available_spots": 1, "is_active": True,
}


def errors(*statuses: int, texts: dict[int, str] | None = None, conflict: str | None = None) -> dict:
    """`responses` entries documenting the error envelope (error_responses), each
    described by the codes it carries here: the usual text for each status
    unless `texts` says more, and the 409 codes in `conflict`."""
    texts = {**_ERROR_TEXT, **(texts or {}), **({409: conflict} if conflict else {})}
    out = error_responses(*statuses, *([409] if conflict else []))
    return {code: OpenApiResponse(response.response, description=texts.get(code, response.description),
                                  examples=response.examples)
            for code, response in out.items()}


def appointment_data(request, appointments, *, many: bool = False):
    """Appointments as the caller may see them: the clinical notes only for a
    doctor or staff (AppointmentOutputSerializer reads the viewer from its context)."""
    return AppointmentOutputSerializer(appointments, many=many, context={"viewer": request.user}).data


def _ical(lines: list[str]) -> str:
    """iCalendar text: CRLF line ends, lines folded at 75 characters (RFC 5545 3.1; ASCII here)."""
    folded = []
    for line in lines:
        folded.append(line[:75])
        folded += [" " + line[i:i + 74] for i in range(75, len(line), 74)]
    return "\r\n".join(folded) + "\r\n"


# An appointment's calendar file, as GET /appointments/{id}/ics sends it.
ICS_EXAMPLE = _ical([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//healthsvc//Appointments 1.0//EN", "CALSCALE:GREGORIAN",
    "METHOD:REQUEST", "BEGIN:VTIMEZONE", "TZID:Asia/Kolkata", "BEGIN:STANDARD", "DTSTART:19700101T000000",
    "TZNAME:IST", "TZOFFSETFROM:+0530", "TZOFFSETTO:+0530", "END:STANDARD", "END:VTIMEZONE", "BEGIN:VEVENT",
    "SUMMARY:Appointment with Dr. Anil Mehta (Cardiology)", "DTSTART;TZID=Asia/Kolkata:20300301T100000",
    "DTEND;TZID=Asia/Kolkata:20300301T103000", "DTSTAMP:20300220T091502Z", "UID:appointment-42@healthsvc",
    "SEQUENCE:0", 'ATTENDEE;CN="Asha Rao";ROLE=REQ-PARTICIPANT:mailto:asha@example.com',
    "DESCRIPTION:Appointment #42 with Dr. Anil Mehta (Cardiology).\\nClinic time: Friday 01 March 2030\\, "
    "10:00 IST (Asia/Kolkata).",
    "LOCATION:Sunrise Heart & Skin Clinic\\, 12 FC Road\\, Shivajinagar\\, Pune MH 411001",
    'ORGANIZER;CN="Sunrise Heart & Skin Clinic":mailto:no-reply@clinic.example.com', "STATUS:CONFIRMED",
    "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Appointment with Dr. Anil Mehta", "TRIGGER:-PT1H",
    "END:VALARM", "END:VEVENT", "END:VCALENDAR",
])
# A doctor's feed, as GET /feeds/doctors/{token}.ics sends it: no health data.
FEED_EXAMPLE = _ical([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//healthsvc//Doctor calendar feed 1.0//EN", "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH", "X-WR-CALNAME:Visits: Dr. Anil Mehta", "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
    "X-PUBLISHED-TTL:PT1H", "X-WR-TIMEZONE:Asia/Kolkata", "BEGIN:VTIMEZONE", "TZID:Asia/Kolkata", "BEGIN:STANDARD",
    "DTSTART:20290101T000000", "TZNAME:IST", "TZOFFSETFROM:+0530", "TZOFFSETTO:+0530", "END:STANDARD",
    "END:VTIMEZONE", "BEGIN:VEVENT", "SUMMARY:Visit: Asha R.", "DTSTART;TZID=Asia/Kolkata:20300301T100000",
    "DTEND;TZID=Asia/Kolkata:20300301T103000", "DTSTAMP:20300220T091502Z", "UID:appointment-42@healthsvc",
    "CLASS:PRIVATE", "LAST-MODIFIED:20300220T091502Z",
    "LOCATION:Sunrise Heart & Skin Clinic\\, 12 FC Road\\, Shivajinagar\\, Pune MH 411001", "STATUS:CONFIRMED",
    "END:VEVENT", "END:VCALENDAR",
])
