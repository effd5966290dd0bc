"""The OpenAPI document: valid by drf-spectacular's own validator, and it lists
every path of the contract (../shared/docs/API.md) implemented so far: all but
the waitlist and the doctors' calendar feeds of "Schedules"."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

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
