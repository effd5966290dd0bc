"""What the slot, appointment and schedule views share: the error responses
they document (the contract's codes, by status), and appointments as the
caller may see them."""

from drf_spectacular.utils import OpenApiResponse

from healthsvc.api.serializers import ErrorSerializer
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
    "or BOOKING_LIMIT_REACHED (the most active future visits the clinic allows)."
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
SLOT_EXAMPLE = {
    "id": 120, "doctor_id": 3, "clinic_id": 1, "slot_datetime": "2030-03-01T04:30:00Z",
    "slot_datetime_local": "2030-03-01T10:00:00+05:30", "duration_minutes": 30, "capacity": 1,
    "booked_count": 0, "is_booked": False, "available_spots": 1, "is_active": True,
}


def errors(*statuses: int, texts: dict[int, str] | None = None, conflict: str | None = None) -> dict:
    """`responses` entries documenting the error envelope: the usual text for each
    status unless `texts` says more, and the 409 codes in `conflict`."""
    texts = {**_ERROR_TEXT, **(texts or {})}
    out = {code: OpenApiResponse(ErrorSerializer, description=texts[code]) for code in statuses}
    if conflict:
        out[409] = OpenApiResponse(ErrorSerializer, description=conflict)
    return out


def appointment_data(request, appointments, *, many: bool = False):
    """Appointments as the caller may see them: the clinical notes only for a
    doctor or staff (AppointmentOutputSerializer reads the viewer from its context)."""
    return AppointmentOutputSerializer(appointments, many=many, context={"viewer": request.user}).data
