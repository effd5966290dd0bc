"""The OpenAPI document: valid by drf-spectacular's own validator and by
openapi-spec-validator (what partners run), it lists every path of the contract
(../shared/docs/API.md) implemented so far, and it says what the server does:
who may call each operation without a token, every error code and status an
operation can answer with (and the headers that come with them), a summary
for the reader of each operation, and examples that fit its schemas."""

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import get_doc
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.validation import validate_schema
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker
from openapi_spec_validator import validate as validate_spec
from rest_framework import exceptions

from healthsvc.api import exception_handler as handler
from healthsvc.exceptions import ERROR_STATUS, ApplicationError, ErrorCode
from healthsvc.timezones import ZONE_LIST, canonical_zone_names

ROOT = Path(__file__).resolve().parents[2]
API_MD = ROOT.parent / "shared" / "docs" / "API.md"
METHODS = {"get", "post", "put", "patch", "delete"}

CONTRACT = {
    "/api/v1/auth/register": {"post"},
    "/api/v1/auth/login": {"post"},
    "/api/v1/auth/refresh": {"post"},
    "/api/v1/auth/logout": {"post"},
    "/api/v1/auth/profile": {"get", "patch"},
    "/api/v1/patients": {"get"},
    "/api/v1/patients/me": {"get"},
    "/api/v1/patients/{patient_id}": {"get", "put", "patch", "delete"},
    "/api/v1/patients/{patient_id}/appointments": {"get"},
    "/api/v1/clinics": {"get", "post"},
    "/api/v1/clinics/{id}": {"get", "put", "patch", "delete"},
    "/api/v1/clinics/{id}/doctors": {"get"},
    "/api/v1/doctors": {"get", "post"},
    "/api/v1/doctors/{id}": {"get", "put", "patch"},
    "/api/v1/slots": {"get", "post"},
    "/api/v1/slots/{slot_id}": {"get", "patch", "delete"},
    "/api/v1/appointments/book": {"post"},
    "/api/v1/appointments/{appointment_id}/cancel": {"post"},
    "/api/v1/appointments/{appointment_id}/reschedule": {"post"},
    "/api/v1/appointments/{appointment_id}": {"get", "patch"},
    "/api/v1/appointments": {"get"},
    "/api/v1/appointments/{appointment_id}/confirm": {"post"},
    "/api/v1/appointments/{appointment_id}/decline": {"post"},
    # Schedules
    "/api/v1/doctors/{doctor_id}/availability": {"get", "post"},
    "/api/v1/availability/{rule_id}": {"delete"},
    "/api/v1/doctors/{doctor_id}/availability/generate": {"post"},
    "/api/v1/doctors/{doctor_id}/leaves": {"get", "post"},
    "/api/v1/leaves/{leave_id}": {"delete"},
    "/api/v1/doctors/{doctor_id}/schedule": {"get"},
    "/api/v1/appointments/{appointment_id}/ics": {"get"},
    # Admins
    "/api/v1/admins": {"get", "post"},
    "/api/v1/admins/{admin_id}": {"delete"},
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def document(schema):
    """The document as a client reads it: rendered as `manage.py spectacular` writes it, and parsed."""
    return yaml.safe_load(OpenApiYamlRenderer().render(schema, renderer_context={}))


def _operations(document):
    return [(path, method, op) for path, ops in document["paths"].items()
            for method, op in ops.items() if method in METHODS]


def _endpoints():
    """(path, method, view instance) of every operation, as the generator sees them."""
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    out = []
    for path, _regex, method, view_callback in generator.endpoints:
        view = generator.create_view(view_callback, method)
        out.append((path, method.lower(), view))
    return out


def test_schema_validates(schema):
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document


def _normalise(path: str) -> str:
    """Path parameters by position, so {id} and {clinic_id} compare equal."""
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))


def test_schema_lists_every_contract_path_and_method(schema):
    documented = {_normalise(path): {m for m in ops if m in {"get", "post", "put", "patch", "delete"}}
                  for path, ops in schema["paths"].items()}
    for path, methods in CONTRACT.items():
        assert _normalise(path) in documented, f"{path} is missing from the schema"
        assert methods <= documented[_normalise(path)], f"{path}: {methods - documented[_normalise(path)]} missing"


def test_schema_declares_jwt_bearer_security(schema):
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" and s.get("bearerFormat") == "JWT" for s in schemes.values())


def test_booking_documents_examples_idempotency_and_conflicts(schema):
    book = schema["paths"]["/api/v1/appointments/book"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in book["parameters"])
    assert {"201", "400", "401", "403", "409", "422"} <= set(book["responses"])
    assert book["requestBody"]["content"]["application/json"].get("examples")


# --- 1. the standard validator --------------------------------------------------------


def test_openapi_spec_validator_passes(document):
    validate_spec(document)  # raises on what openapi-spec-validator (the CLI partners run) reports


def test_defaults_fit_their_own_schemas(document):
    """An optional text field's default "" sits beside its oneOf (which allows ""),
    not inside the branch whose pattern refuses it."""
    body = document["components"]["schemas"]["DependentCreateInput"]["properties"]["allergies"]
    assert body["default"] == "" and all("default" not in branch for branch in body["oneOf"])


# --- 3. time zones ----------------------------------------------------------------------


def test_every_shipped_zone_name_loads_and_the_list_is_canonical():
    lines = [line for line in ZONE_LIST.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    assert lines == sorted(set(lines)) and len(lines) == len(canonical_zone_names()) > 300
    for name in lines:
        ZoneInfo(name)  # raises for a name the zone database does not have
    assert {"Asia/Kolkata", "Europe/London", "UTC"} <= set(lines)
    assert not {"Asia/Calcutta", "US/Eastern", "localtime", "posixrules", "Factory"} & set(lines)


def test_clinic_timezone_is_a_plain_string_that_says_where_the_list_is(document):
    schemas = document["components"]["schemas"]
    assert "TimezoneEnum" not in schemas
    for name in ("ClinicInput", "PatchedClinicInput"):
        field = schemas[name]["properties"]["timezone"]
        assert field["type"] == "string" and "enum" not in field and "allOf" not in field
        assert "healthsvc/data/timezones.txt" in field["description"] and "Asia/Kolkata" in field["description"]
    assert schemas["ClinicOutput"]["properties"]["timezone"]["type"] == "string"


@pytest.mark.parametrize("zone", ["Asia/Calcutta", "localtime", "Asia/Kolkata "])
def test_a_zone_outside_the_list_is_refused(auth_client, admin_user, zone):
    from clinics.models import Clinic

    body = {"name": "Lakeview Clinic", "address": "4 Lake Road", "city": "Bhopal", "timezone": zone}
    response = auth_client(admin_user).post("/api/v1/clinics", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "VALIDATION_ERROR" and set(response.json()["errors"]) == {"timezone"}
    assert not Clinic.objects.exists()


def test_a_zone_of_the_list_is_taken(auth_client, admin_user):
    body = {"name": "Lakeview Clinic", "address": "4 Lake Road", "city": "Bhopal", "timezone": "America/St_Johns"}
    response = auth_client(admin_user).post("/api/v1/clinics", body, format="json")
    assert response.status_code == 201 and response.json()["timezone"] == "America/St_Johns"


# --- 4. security --------------------------------------------------------------------

PUBLIC = {
    "auth_register", "auth_login", "auth_refresh", "clinics_list", "clinics_retrieve", "clinics_doctors_list",
    "doctors_list", "doctors_retrieve", "slots_list", "slots_retrieve", "doctors_calendar_feed_retrieve",
}


def test_public_operations_have_no_security_requirement_and_the_others_jwt_first(document):
    seen = set()
    for path, method, op in _operations(document):
        if op["operationId"] in PUBLIC:
            seen.add(op["operationId"])
            assert not op.get("security"), f"{method} {path} should need no credentials"
        else:
            assert op.get("security"), f"{method} {path} needs credentials"
            assert op["security"][0] == {"jwtAuth": []} and {} not in op["security"], op["security"]
    assert seen == PUBLIC
    assert "security" not in document  # no document-wide requirement the public ones would inherit


def test_public_operations_answer_without_credentials(api_client, slot):
    for url in ("/api/v1/clinics", f"/api/v1/clinics/{slot.doctor.clinic_id}", "/api/v1/doctors",
                f"/api/v1/doctors/{slot.doctor_id}", f"/api/v1/clinics/{slot.doctor.clinic_id}/doctors",
                "/api/v1/slots", f"/api/v1/slots/{slot.pk}"):
        assert api_client.get(url).status_code == 200, url


# --- 5. error codes -------------------------------------------------------------------


def _contract_codes() -> dict[str, int]:
    rows = re.findall(r"^\| (\d{3}) \| ([A-Z_]+) \|", API_MD.read_text(encoding="utf-8"), re.MULTILINE)
    return {code: int(status) for status, code in rows}


# Sent by the server, not (yet) rows of the contract's table; each has its label in ErrorCode.
OUTSIDE_THE_TABLE = {
    "AVAILABILITY_OVERLAP", "URI_TOO_LONG", "UNSUPPORTED_MEDIA_TYPE", "NOT_ACCEPTABLE",
    # 1.9.0's admin operations (CHANGELOG.md); the contract's table is to gain them.
    "DOCTOR_PROFILE_EXISTS", "USER_INACTIVE", "CANNOT_DEACTIVATE_SELF", "PATIENT_IS_DEPENDENT",
}


def test_error_code_is_the_enum_of_the_codes(document):
    schemas = document["components"]["schemas"]
    assert schemas["Error"]["properties"]["error_code"]["allOf"] == [{"$ref": "#/components/schemas/ErrorCodeEnum"}]
    assert schemas["ErrorCodeEnum"]["enum"] == [code.value for code in ErrorCode]


@pytest.mark.skipif(not API_MD.exists(), reason="the shared contract is not beside the repository")
def test_every_code_is_the_contracts_or_documented():
    contract = _contract_codes()
    assert set(contract) <= set(ErrorCode), set(contract) - set(ErrorCode)
    assert set(ErrorCode) - set(contract) == OUTSIDE_THE_TABLE
    for code, status in contract.items():
        assert ERROR_STATUS[ErrorCode(code)] == status, code
    assert all(len(code.label) > 10 for code in ErrorCode) and set(ERROR_STATUS) == set(ErrorCode)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_code_the_server_can_send_is_in_the_enum():
    import accounts.exceptions  # noqa: F401 - each app's refusals, so that they are subclasses
    import clinics.exceptions  # noqa: F401
    import healthsvc.api.conditional  # noqa: F401
    import scheduling.exceptions  # noqa: F401

    errors = list(_subclasses(ApplicationError))
    assert len(errors) > 30
    for error in errors:
        assert error.code in set(ErrorCode) and ERROR_STATUS[ErrorCode(error.code)] == error.status, error
    assert {code for _cls, code in handler._CODES} <= set(ErrorCode)
    # And every code spelled out in the source (JsonResponse bodies, middlewares, views).
    literal = re.compile(r"""["']error_code["']\s*:\s*["']([A-Z_]+)["']|\bcode(?:, status)? = ["']([A-Z_]+)["']""")
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "node_modules" in path.parts:
            continue
        for match in literal.finditer(path.read_text(encoding="utf-8")):
            assert (match[1] or match[2]) in set(ErrorCode), f"{path}: {match[0]}"


@pytest.mark.parametrize(("exc", "code"), [
    (exceptions.APIException(), ErrorCode.SERVER_ERROR),
    (exceptions.NotAcceptable(), ErrorCode.NOT_ACCEPTABLE),
    (exceptions.UnsupportedMediaType("text/plain"), ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    (exceptions.MethodNotAllowed("TRACE"), ErrorCode.METHOD_NOT_ALLOWED),
])
def test_the_handler_answers_only_codes_of_the_enum(rf, exc, code):
    response = handler.exception_handler(exc, {"request": rf.get("/api/v1/clinics")})
    assert response.data["error_code"] == code and ERROR_STATUS[code] == response.status_code


# --- 6. error responses and headers ----------------------------------------------------


def _codes_in(text: str) -> set[str]:
    return set(re.findall(r"\b[A-Z]+(?:_[A-Z]+)+\b", text)) & set(ErrorCode)


def test_every_operation_documents_the_errors_any_request_can_meet(document):
    for path, method, op in _operations(document):
        responses = op["responses"]
        where = f"{method} {path}"
        assert {"405", "406", "414", "500", "503"} <= set(responses), where
        if "requestBody" in op:
            assert {"400", "413", "415"} <= set(responses), where
        for status, response in responses.items():
            if int(status) < 400:
                continue
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
            codes = _codes_in(response["description"])
            assert codes, f"{where} {status}: {response['description']!r} names no code"
            assert all(ERROR_STATUS[ErrorCode(code)] == int(status) for code in codes), (where, status, codes)


def test_throttled_answers_carry_the_rate_limit_headers_and_retry_after(document):
    rate_limit = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
    for path, method, op in _operations(document):
        responses = op["responses"]
        assert "Retry-After" in responses["503"]["headers"], f"{method} {path}"
        if "429" not in responses:
            continue
        assert {"Retry-After", *rate_limit} <= set(responses["429"]["headers"]), f"{method} {path}"
        for status, response in responses.items():
            if status.startswith("2"):
                assert rate_limit <= set(response.get("headers", {})), f"{method} {path} {status}"
    assert "429" in document["paths"]["/api/v1/auth/login"]["post"]["responses"]


def test_error_descriptions_name_the_operations_own_codes(document):
    login = document["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert _codes_in(login["401"]["description"]) == {"INVALID_CREDENTIALS", "OTP_REQUIRED", "OTP_INVALID"}
    register = document["paths"]["/api/v1/auth/register"]["post"]["responses"]
    assert _codes_in(register["409"]["description"]) == {"EMAIL_TAKEN"}
    assert "401" not in register  # nothing there reads a token
    refresh = document["paths"]["/api/v1/auth/refresh"]["post"]["responses"]
    assert _codes_in(refresh["401"]["description"]) == {"TOKEN_INVALID"}
    doctors = document["paths"]["/api/v1/doctors"]["post"]["responses"]
    assert _codes_in(doctors["409"]["description"]) == {
        "EMAIL_TAKEN", "LICENSE_NUMBER_TAKEN", "DOCTOR_PROFILE_EXISTS", "USER_INACTIVE"}
    clinics = document["paths"]["/api/v1/clinics"]["get"]["responses"]
    assert _codes_in(clinics["401"]["description"]) == {"TOKEN_INVALID"}  # a token is optional there
    profile = document["paths"]["/api/v1/auth/profile"]["get"]["responses"]
    assert _codes_in(profile["401"]["description"]) == {"NOT_AUTHENTICATED", "TOKEN_INVALID"}


# --- 7 and 8. summaries, descriptions and examples ----------------------------------------

def _per_operation():
    """One pytest param per operation of the document."""
    document = yaml.safe_load(OpenApiYamlRenderer().render(SchemaGenerator().get_schema(request=None, public=True),
                                                           renderer_context={}))
    params = []
    for path, method, op in _operations(document):
        params.append(pytest.param(path, method, id=op["operationId"]))
    return params


@pytest.fixture(scope="module")
def docstrings():
    """(path, method) -> the docstrings of its view class and handler."""
    out = {}
    for path, method, view in _endpoints():
        handler_doc = get_doc(getattr(view, method, None)) if getattr(view, method, None) else ""
        out[(_normalise(path), method)] = {doc for doc in (get_doc(view.__class__), handler_doc) if doc}
    return out


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "method"), _per_operation())
def test_every_operation_has_a_summary_for_the_reader(document, docstrings, path, method):
    op = document["paths"][path][method]
    summary = op.get("summary", "")
    assert summary.strip() and len(summary) < 80 and not summary.endswith("."), summary
    assert op.get("description", "") not in docstrings[(_normalise(path), method)], "a docstring"


def test_no_description_is_a_view_docstring(document, docstrings):
    for (path, method), docs in docstrings.items():
        ops = [op for p, m, op in _operations(document) if (_normalise(p), m) == (path, method)]
        for op in ops:
            if not op.get("description"):
                continue
            assert op["description"] not in docs, f"{method} {path} shows its view's docstring"
    assert len(docstrings) >= len(_operations(document))


def _validator(document, schema, direction):
    validator = OAS30WriteValidator if direction == "request" else OAS30ReadValidator
    # The media type's schema with the document's components beside it, so its $refs resolve.
    return validator({**schema, "components": document["components"]}, format_checker=oas30_format_checker)


@pytest.mark.parametrize(("path", "method"), _per_operation())
def test_every_operation_has_examples_that_fit_its_schemas(document, path, method):
    op = document["paths"][path][method]
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        assert body.get("examples"), "no request example"
        for name, example in body["examples"].items():
            errors = [e.message for e in _validator(document, body["schema"], "request").iter_errors(example["value"])]
            assert not errors, (name, errors)
    documented = 0
    for status, response in op["responses"].items():
        for media_type, content in response.get("content", {}).items():
            for name, example in content.get("examples", {}).items():
                if "schema" in content and media_type.endswith("json"):
                    validator = _validator(document, content["schema"], "response")
                    errors = [e.message for e in validator.iter_errors(example["value"])]
                    assert not errors, (status, name, errors)
                documented += status.startswith("2")
    success = [s for s, r in op["responses"].items() if s.startswith("2") and r.get("content")]
    assert documented or not success, "no example of the success response"


# --- what generated clients type as "maybe absent" --------------------------------------

# The only answer fields that can be left out: the envelope's field errors (validation
# errors only) and a clinic's distance (only with ?near=).
SOMETIMES_ABSENT = {("Error", "errors"), ("ClinicNearOutput", "distance_km")}


def _components_answered(document) -> set[str]:
    """The components an answer (any status) is made of, followed through every $ref."""
    schemas, seen = document["components"]["schemas"], set()
    stack = [media["schema"] for _, _, op in _operations(document) for answer in op["responses"].values()
             for media in answer.get("content", {}).values()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[-1] not in seen:
                seen.add(ref.rsplit("/", 1)[-1])
                stack.append(schemas[ref.rsplit("/", 1)[-1]])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return seen


def test_answers_mark_every_field_they_always_carry_as_required(document):
    """A field an answer always carries (null where it has no value) is required in
    its component, so a generated client types it as present, not `| Unset`."""
    schemas = document["components"]["schemas"]
    answered = _components_answered(document)
    absent = set()
    for name in answered:
        component = schemas[name]
        absent |= {(name, field) for field in set(component.get("properties", {})) - set(component.get("required", []))}
    assert absent == SOMETIMES_ABSENT
    for page in ("PaginatedSlotOutputList", "PaginatedAppointmentOutputList", "PaginatedPatientOutputList"):
        assert schemas[page]["required"] == ["count", "next", "previous", "results"]


def test_a_blood_group_is_one_of_eight_or_null_never_blank(document):
    blood_group = document["components"]["schemas"]["PatientOutput"]["properties"]["blood_group"]
    assert blood_group["oneOf"] == [{"$ref": "#/components/schemas/BloodGroupEnum"},
                                    {"$ref": "#/components/schemas/NullEnum"}]
    assert "BlankEnum" not in document["components"]["schemas"]


def test_replacing_a_doctor_requires_a_body_changing_one_does_not(document):
    """PUT without a body is a 400 (its fields are required); PATCH without one changes nothing (200)."""
    doctor = document["paths"]["/api/v1/doctors/{id}"]
    assert doctor["put"]["requestBody"]["required"] is True
    assert not doctor["patch"]["requestBody"].get("required", False)
