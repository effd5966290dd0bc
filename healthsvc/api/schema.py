"""The OpenAPI document says exactly what the API accepts and answers.

Clients and the schema-driven fuzzer (scripts/api_fuzz.sh) take the document at
its word: a request it calls valid must not be refused for its shape, one it
calls invalid must be refused, and every status an operation can answer is
listed. Where drf-spectacular's defaults fall short, this module fills in:

- request strings: DRF refuses "" (and, as it trims, whitespace only) unless
  allow_blank, and NUL characters always; the schema says so with a pattern;
- ids: an id in a path or a body is a whole number from 1 to the bigint maximum;
- statuses every view can give without saying so: 401 (a bad token, wherever a
  token is read), 429 (throttled), 404 (an id in the path, a page past the
  last), 400 (a body or query parameters to validate), 413 (a body over the
  limit), 414 (a URL over the limit: any operation, long query strings);
- error answers are `application/json` (the envelope) even where the success
  answer is another format (an appointment's calendar file);
- OpenAPI links from the operations that create or list objects to the ones
  that take their ids, so a client (and the fuzzer's stateful phase) can
  follow them;
- security: an operation anyone may call (its permission classes let an
  anonymous request through) has no security requirement, so a generated
  client calls it without a token; the others name jwtAuth first;
- descriptions: only an operation's explicit `description=`, never its view's
  docstring (written for maintainers, not for partners);
- headers: `Retry-After` on 429 and 503, the `RateLimit-*` headers on the 2xx
  and 429 answers of throttled operations.
"""

from types import SimpleNamespace

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.fields import empty

from healthsvc.api.fields import MAX_ID
from healthsvc.api.serializers import ErrorSerializer, InputSerializer, error_text
from healthsvc.exceptions import ErrorCode

# The characters str.strip() removes (str.isspace()), spelled out rather than
# as \s, whose meaning differs between Python, ECMA-262 and other regex engines.
_SPACE = "".join(f"\\u{i:04x}" for i in range(0x110000) if chr(i).isspace())
NOT_BLANK = f"^[^\\u0000]*[^\\u0000{_SPACE}][^\\u0000]*$"
NOT_EMPTY = "^[^\\u0000]+$"
NO_NUL = "^[^\\u0000]*$"


def string_pattern(field: serializers.CharField) -> str:
    """The pattern of the non-empty strings a DRF CharField accepts (before length
    limits). For an allow_blank field drf-spectacular adds "" as a `oneOf` branch
    of its own, so the pattern must not match "" too."""
    if field.allow_blank or not field.trim_whitespace:
        return NOT_EMPTY
    return NOT_BLANK


def _header(description: str, minimum: int = 0) -> dict:
    return {"description": description, "schema": {"type": "integer", "minimum": minimum}}


RETRY_AFTER = {"Retry-After": _header("Seconds to wait before trying again.")}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": _header("Requests allowed in the current window (the tightest limit that counted this one).",
                               minimum=1),
    "RateLimit-Remaining": _header("Requests left in the current window."),
    "RateLimit-Reset": _header("Seconds until the current window ends and the count starts again."),
}
# Which schemes an operation that needs credentials names, in this order: the
# bearer token partners use first; the session cookie of the browsable API last.
SCHEME_ORDER = ["jwtAuth", "cookieAuth"]


class ApiAutoSchema(AutoSchema):
    def get_description(self):
        # Only extend_schema(description=...) (which overrides this method):
        # a view's docstring is written for the people who maintain it.
        return None

    def allows_anonymous(self) -> bool:
        """Whether this operation's permission classes let a request without
        credentials through (AllowAny; ReadOnlyOrAdmin's reads)."""
        request = SimpleNamespace(method=self.method, user=AnonymousUser(), auth=None,
                                  query_params={}, data={}, META={})
        try:
            return all(permission.has_permission(request, self.view) for permission in self.view.get_permissions())
        except Exception:  # noqa: BLE001 - a permission that needs more of a request needs credentials too
            return False

    def get_auth(self):
        auths = super().get_auth()  # registers the security schemes it names
        if self.allows_anonymous():
            return []  # no requirement: a token, when sent, is read (an admin sees inactive rows) but not needed
        named = [auth for auth in auths if auth]
        return sorted(named, key=lambda auth: [SCHEME_ORDER.index(n) if n in SCHEME_ORDER else 99 for n in auth])

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # drf-spectacular moves an allow_blank string's constraints into the
        # first branch of a oneOf (the second is ""), its default with them:
        # a default of "" there breaks the branch's own pattern. The default is
        # the field's, so it belongs beside the oneOf.
        for branch in schema.get("oneOf", ()):
            if isinstance(branch, dict) and "default" in branch:
                schema.setdefault("default", branch.pop("default"))

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if not isinstance(schema, dict):
            return schema
        if direction == "response":
            if isinstance(field, serializers.EmailField) and field.allow_blank and schema.get("format") == "email":
                # A blank email ("" for "none given") is no email address.
                email = {key: schema.pop(key) for key in ("type", "format", "maxLength") if key in schema}
                schema["anyOf"] = [email, {"type": "string", "maxLength": 0}]
            return schema
        if (
            isinstance(field, serializers.CharField)
            and not isinstance(field, (serializers.EmailField, serializers.RegexField))
            and schema.get("type") == "string"
            and "format" not in schema
            and "enum" not in schema
        ):
            schema.setdefault("pattern", string_pattern(field))
            if not field.allow_blank:
                schema.setdefault("minLength", 1)
        elif isinstance(field, serializers.PrimaryKeyRelatedField) and schema.get("type") == "integer":
            schema.setdefault("minimum", 1)
            schema.setdefault("maximum", MAX_ID)
        return schema

    def _get_filter_parameters(self):
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") == "string" and not {"pattern", "format", "enum"} & set(schema):
                schema["pattern"] = NO_NUL  # Django's form fields refuse NUL characters
        return parameters

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") == "integer":  # every id in our paths is a bigint primary key
                schema.setdefault("minimum", 1)
                schema.setdefault("maximum", MAX_ID)
        return parameters

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
        component = self.registry._components.get((ref.rsplit("/", 1)[-1], ResolvedComponent.SCHEMA))
        if component is not None and component.schema and (
            component.schema.get("anyOf") or component.schema.get("minProperties")
            # A replacement in one of several shapes (an admin's or a doctor's PUT of a
            # doctor: oneOf until postprocess makes it anyOf) has required fields either way.
            or (self.method == "PUT" and component.schema.get("oneOf"))
        ):
            required = True  # the body must name at least one field, so it cannot be left out
        return schema, required

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response" and not isinstance(serializer, InputSerializer):
            # An answer carries every field its serializer has, null where there is no
            # value; drf-spectacular marks a model field with blank=True or a default as
            # optional, and generated clients then type it "maybe absent". Left optional:
            # fields declared required=False without a default (the envelope's `errors`).
            declared = getattr(serializer, "_declared_fields", {})
            optional = {name for name, field in declared.items()
                        if not (field.read_only or field.required or field.default is not empty)}
            schema["required"] = [name for name in schema.get("properties", {}) if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema

    def _get_response_bodies(self, direction="response"):
        # After extend_schema's own `responses`, which it applies by overriding
        # get_response_serializers: add the statuses it left out.
        responses = super()._get_response_bodies(direction)
        implicit = self._implicit_error_statuses()
        for code in sorted(implicit):
            if str(code) not in responses:
                error = OpenApiResponse(ErrorSerializer, description=implicit[code])
                responses[str(code)] = self._get_response_for_code(error, str(code), direction=direction)
        throttled = bool(self.view.get_throttles())
        for code, response in responses.items():
            headers = {}
            if code in {"429", "503"}:
                headers.update(RETRY_AFTER)
            if throttled and (code.startswith("2") or code == "429"):
                headers.update(RATE_LIMIT_HEADERS)
            if headers:
                response["headers"] = {**headers, **response.get("headers", {})}
        return responses

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        if not media_types and status_code.isdigit() and int(status_code) >= 400:
            media_types = ["application/json"]  # the error envelope, even where success is another format
        return super()._get_response_for_code(serializer, status_code, media_types, direction)

    def _implicit_error_statuses(self) -> dict[int, str]:
        """The statuses every operation of its kind can answer, whether or not
        its view says so, each with the description of its codes."""
        statuses = {
            405: None,  # healthsvc.api.views.MethodCheckedMixin: a method the path does not take
            406: None,  # an Accept header that excludes JSON
            414: None,  # healthsvc.middleware.RequestLimitsMiddleware, before any view
            500: None,
            503: None,  # the database unavailable or timed out (healthsvc.db)
        }
        if self.view.get_authenticators():
            # An expired or tampered token is refused even where none is needed.
            statuses[401] = error_text(401, [ErrorCode.TOKEN_INVALID] if self.allows_anonymous() else None)
        if self.view.get_throttles():
            statuses[429] = None
        if "{" in self.path:
            statuses[404] = None
        if self._is_list_view() and self._get_paginator():
            statuses[400] = statuses[404] = None  # a malformed page or page_size; a page past the last
        if self._get_filter_parameters():
            statuses[400] = None
        if self.method in {"POST", "PUT", "PATCH"} and self.get_request_serializer() is not None:
            statuses.update({400: None, 413: None, 415: None})  # 415: a Content-Type other than JSON
        return {code: text or error_text(code) for code, text in statuses.items()}


# --- links ----------------------------------------------------------------------

_ID = "$response.body#/id"
_FIRST_ID = "$response.body#/results/0/id"


def _link(operation_id: str, description: str, parameters: dict | None = None, body: dict | None = None) -> dict:
    link = {"operationId": operation_id, "description": description}
    if parameters:
        link["parameters"] = parameters
    if body:
        link["requestBody"] = body
    return link


# (path, method, status) -> {link name: link}
LINKS = {
    ("/api/v1/appointments/book", "post", "201"): {
        "GetAppointment": _link("appointments_retrieve", "The booked appointment.", {"appointment_id": _ID}),
        "CancelAppointment": _link("appointments_cancel", "Cancel it.", {"appointment_id": _ID}),
        "RescheduleAppointment": _link("appointments_reschedule", "Move it.", {"appointment_id": _ID}),
        "RecordOutcome": _link("appointments_partial_update", "Record the visit.", {"appointment_id": _ID}),
        "ConfirmAppointment": _link("appointments_confirm", "Confirm it while pending (its doctor, admin).",
                                    {"appointment_id": _ID}),
        "DeclineAppointment": _link("appointments_decline", "Decline it while pending (its doctor, admin).",
                                    {"appointment_id": _ID}),
        "GetAppointmentCalendar": _link("appointments_ics", "Its calendar file.", {"appointment_id": _ID}),
    },
    ("/api/v1/appointments", "get", "200"): {
        "GetFirstAppointment": _link("appointments_retrieve", "The first listed.", {"appointment_id": _FIRST_ID}),
        "CancelFirstAppointment": _link("appointments_cancel", "Cancel it.", {"appointment_id": _FIRST_ID}),
        "RescheduleFirstAppointment": _link("appointments_reschedule", "Move it.", {"appointment_id": _FIRST_ID}),
    },
    ("/api/v1/slots", "post", "201"): {
        "GetSlot": _link("slots_retrieve", "The new slot.", {"slot_id": _ID}),
        "DeleteSlot": _link("slots_destroy", "Deactivate it.", {"slot_id": _ID}),
        "BookSlot": _link("appointments_book", "Book a place on it.", body={"slot_id": _ID}),
        "UpdateSlot": _link("slots_partial_update", "Change its capacity, close or reopen it.", {"slot_id": _ID}),
    },
    ("/api/v1/slots", "get", "200"): {
        "GetFirstSlot": _link("slots_retrieve", "The first listed slot.", {"slot_id": _FIRST_ID}),
        "BookFirstSlot": _link("appointments_book", "Book a place on it.", body={"slot_id": _FIRST_ID}),
    },
    ("/api/v1/clinics", "post", "201"): {
        "GetClinic": _link("clinics_retrieve", "The new clinic.", {"id": _ID}),
        "UpdateClinic": _link("clinics_update", "Replace its fields.", {"id": _ID}),
        "PartialUpdateClinic": _link("clinics_partial_update", "Change some fields.", {"id": _ID}),
        "DeactivateClinic": _link("clinics_destroy", "Deactivate it.", {"id": _ID}),
        "ListClinicDoctors": _link("clinics_doctors_list", "Its doctors.", {"id": _ID}),
        "CreateDoctorThere": _link("doctors_create", "A doctor there.", body={"clinic_id": _ID}),
    },
    ("/api/v1/clinics", "get", "200"): {
        "GetFirstClinic": _link("clinics_retrieve", "The first listed clinic.", {"id": _FIRST_ID}),
        "ListFirstClinicDoctors": _link("clinics_doctors_list", "Its doctors.", {"id": _FIRST_ID}),
        "CreateDoctorAtFirstClinic": _link("doctors_create", "A doctor there (admin).", body={"clinic_id": _FIRST_ID}),
    },
    ("/api/v1/doctors", "post", "201"): {
        "GetDoctor": _link("doctors_retrieve", "The new doctor.", {"id": _ID}),
        "UpdateDoctor": _link("doctors_update", "Replace their fields.", {"id": _ID}),
        "PartialUpdateDoctor": _link("doctors_partial_update", "Change some fields.", {"id": _ID}),
        "OpenSlot": _link("slots_create", "A slot of theirs.", body={"doctor_id": _ID}),
        "ListAvailability": _link("availability_list", "Their weekly rules.", {"doctor_id": _ID}),
        "ListLeaves": _link("leaves_list", "Their leaves.", {"doctor_id": _ID}),
        "GetSchedule": _link("doctors_schedule_retrieve", "Their day.", {"doctor_id": _ID}),
        "AddAvailabilityRule": _link("availability_create", "Weekly hours of theirs.", {"doctor_id": _ID}),
        "GenerateSlots": _link("availability_generate", "Make slots from their weekly hours.", {"doctor_id": _ID}),
        "AddLeave": _link("leaves_create", "Time off of theirs.", {"doctor_id": _ID}),
    },
    ("/api/v1/doctors/{doctor_id}/availability", "post", "201"): {
        "UpdateAvailabilityRule": _link("availability_partial_update", "Change the new rule.", {"rule_id": _ID}),
        "DeleteAvailabilityRule": _link("availability_destroy", "Remove the new rule.", {"rule_id": _ID}),
    },
    ("/api/v1/doctors/{doctor_id}/availability", "get", "200"): {
        "UpdateFirstAvailabilityRule": _link("availability_partial_update", "Change the first listed rule.",
                                             {"rule_id": _FIRST_ID}),
        "DeleteFirstAvailabilityRule": _link("availability_destroy", "Remove it.", {"rule_id": _FIRST_ID}),
    },
    ("/api/v1/doctors/{doctor_id}/leaves", "post", "201"): {
        "DeleteLeave": _link("leaves_destroy", "Remove the new leave.", {"leave_id": _ID}),
        "CancelFirstAppointmentInLeave": _link(
            "appointments_cancel", "Cancel the first appointment inside it.",
            {"appointment_id": "$response.body#/appointments/0/id"},
        ),
    },
    ("/api/v1/doctors/{doctor_id}/leaves", "get", "200"): {
        "DeleteFirstLeave": _link("leaves_destroy", "Remove the first listed leave.", {"leave_id": _FIRST_ID}),
    },
    ("/api/v1/doctors", "get", "200"): {
        "GetFirstDoctor": _link("doctors_retrieve", "The first listed doctor.", {"id": _FIRST_ID}),
        "OpenSlotForFirstDoctor": _link("slots_create", "A slot of theirs.", body={"doctor_id": _FIRST_ID}),
    },
    ("/api/v1/patients/me", "get", "200"): {
        "GetMyPatient": _link("patients_retrieve", "The same profile by id.", {"patient_id": _ID}),
        "UpdateMyPatient": _link("patients_partial_update", "Change it.", {"patient_id": _ID}),
        "ListMyAppointments": _link("patients_appointments_list", "My appointments.", {"patient_id": _ID}),
    },
    ("/api/v1/patients", "get", "200"): {
        "GetFirstPatient": _link("patients_retrieve", "The first listed patient.", {"patient_id": _FIRST_ID}),
        "BookForFirstPatient": _link(
            "appointments_book", "Book on their behalf (admin).", body={"patient_id": _FIRST_ID}
        ),
    },
}


def postprocess(result, generator, request, public):
    """drf-spectacular postprocessing hook: attach LINKS to their responses, and
    turn the `oneOf` of a PolymorphicProxySerializer without a type field into
    `anyOf`: nothing tells its shapes apart, so a body may fit more than one
    (an admin's partial doctor update fits both), and the server takes it."""
    for component in result.get("components", {}).get("schemas", {}).values():
        if "oneOf" in component and "discriminator" not in component:
            component["anyOf"] = component.pop("oneOf")
    for (path, method, status), links in LINKS.items():
        response = result["paths"].get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is not None:
            response["links"] = links
    return result
