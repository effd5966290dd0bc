"""Sets the audit context of each request, and records the refused ones
that asked for a patient, an appointment or a waitlist entry."""

from healthsvc.http import client_ip

from .context import AuditContext, entry_point_of, reset_current, set_current
from .services import audit_record


class AuditContextMiddleware:
    """After authentication: every audit row written during the request
    knows its entry point, address and request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = AuditContext(entry_point=entry_point_of(request), ip=client_ip(request) or None,
                               request_id=getattr(request, "request_id", ""), request=request)
        token = set_current(context)
        try:
            response = self.get_response(request)
            _record_denial(request, response)
            return response
        finally:
            reset_current(token)


# Route keyword -> the object type it names; a refused request for one of
# these is a denied access of that object.
_OBJECT_KWARGS = {"patient_id": "patient", "appointment_id": "appointment", "entry_id": "waitlistentry"}
_DENIED_STATUSES = {401, 403, 404}


def _record_denial(request, response) -> None:
    """A refused request: every 403, and a 401 or 404 answer to a request that
    named a patient, an appointment or a waitlist entry (API, portal) or an
    admin page of a patient or an appointment (a 404 there is someone else's
    record, or one that does not exist: the same answer, the same row)."""
    match = request.resolver_match
    if response.status_code not in _DENIED_STATUSES or match is None:
        return
    object_type = object_id = ""
    for kwarg, name in _OBJECT_KWARGS.items():
        if kwarg in match.kwargs:
            object_type, object_id = name, str(match.kwargs[kwarg])
            break
    else:
        url_name = match.url_name or ""
        if url_name.startswith(("accounts_patient_", "scheduling_appointment_")) and "object_id" in match.kwargs:
            object_type, object_id = url_name.split("_")[1], str(match.kwargs["object_id"])
    if not object_type and response.status_code != 403:
        return
    # An id past 64 bits names no row (and fits no column): kept in object_id only.
    patient_id = (int(object_id) if object_type == "patient" and object_id.isdigit() and int(object_id) < 2**63
                  else None)
    detail = {"status": response.status_code, "method": request.method}
    if not object_type:
        detail["route"] = match.route[:200]  # the pattern, e.g. "api/v1/patients": no values
    audit_record("denied", object_type=object_type, object_id=object_id[:64], patient_id=patient_id,
                 detail=detail)
