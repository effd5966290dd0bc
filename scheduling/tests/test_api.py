"""Cross-cutting checks of the slot, appointment and schedule API: the OpenAPI
document describes every operation with its errors, and out-of-range ids are plain 404s."""

import icalendar
import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from scheduling.models import Appointment

pytestmark = pytest.mark.django_db

# Every view reads tokens (401 for a bad one, even where none is needed), is
# throttled (429) and refuses a URL over the limit (414); lists add 400/404 for
# a malformed page or one past the last; a body read may be over the limit (413).
OPERATIONS = {
    ("/api/v1/slots", "get"): {"200", "400", "401", "404", "414", "429"},
    ("/api/v1/slots", "post"): {"201", "400", "401", "403", "409", "413", "414", "429"},
    ("/api/v1/slots/{slot_id}", "get"): {"200", "401", "404", "414", "429"},
    ("/api/v1/slots/{slot_id}", "patch"): {"200", "400", "401", "403", "404", "409", "413", "414", "429"},
    ("/api/v1/slots/{slot_id}", "delete"): {"204", "401", "403", "404", "409", "414", "429"},
    ("/api/v1/appointments", "get"): {"200", "400", "401", "404", "414", "429"},
    ("/api/v1/appointments/book", "post"): {"201", "400", "401", "403", "404", "409", "413", "414", "422", "429"},
    ("/api/v1/appointments/{appointment_id}", "get"): {"200", "401", "404", "414", "429"},
    ("/api/v1/appointments/{appointment_id}", "patch"): {"200", "400", "401", "403", "404", "409", "413", "414", "429"},
    ("/api/v1/appointments/{appointment_id}/cancel", "post"): {
        "200", "400", "401", "403", "404", "409", "413", "414", "429",
    },
    ("/api/v1/appointments/{appointment_id}/reschedule", "post"): {
        "200", "400", "401", "403", "404", "409", "413", "414", "429",
    },
    ("/api/v1/appointments/{appointment_id}/confirm", "post"): {"200", "401", "403", "404", "409", "414", "429"},
    ("/api/v1/appointments/{appointment_id}/decline", "post"): {
        "200", "400", "401", "403", "404", "409", "413", "414", "429",
    },
    ("/api/v1/appointments/{appointment_id}/ics", "get"): {"200", "401", "404", "406", "409", "414", "429"},
    ("/api/v1/doctors/{doctor_id}/availability", "get"): {"200", "400", "401", "403", "404", "414", "429"},
    ("/api/v1/doctors/{doctor_id}/availability", "post"): {
        "201", "400", "401", "403", "404", "409", "413", "414", "429",
    },
    ("/api/v1/availability/{rule_id}", "patch"): {"200", "400", "401", "403", "404", "409", "413", "414", "429"},
    ("/api/v1/availability/{rule_id}", "delete"): {"204", "401", "403", "404", "414", "429"},
    ("/api/v1/doctors/{doctor_id}/availability/generate", "post"): {
        "200", "400", "401", "403", "404", "409", "413", "414", "429",
    },
    ("/api/v1/doctors/{doctor_id}/leaves", "get"): {"200", "400", "401", "403", "404", "414", "429"},
    ("/api/v1/doctors/{doctor_id}/leaves", "post"): {"201", "400", "401", "403", "404", "413", "414", "429"},
    ("/api/v1/leaves/{leave_id}", "delete"): {"204", "401", "403", "404", "414", "429"},
    ("/api/v1/doctors/{doctor_id}/schedule", "get"): {"200", "400", "401", "403", "404", "414", "429"},
    ("/api/v1/doctors/{doctor_id}/calendar-feed", "post"): {"200", "401", "403", "404", "414", "429"},
    ("/api/v1/waitlist", "get"): {"200", "400", "401", "403", "404", "414", "429"},
    ("/api/v1/waitlist", "post"): {"201", "400", "401", "403", "404", "409", "413", "414", "429"},
    ("/api/v1/waitlist/{entry_id}", "delete"): {"204", "401", "403", "404", "409", "414", "429"},
    ("/api/v1/waitlist/{entry_id}/accept", "post"): {"201", "401", "403", "404", "409", "414", "429"},
    # No login (the URL is the secret), so no 401.
    ("/feeds/doctors/{token}.ics", "get"): {"200", "404", "406", "414", "429"},
}
# Each new operation: its id, and (for those that create) examples of the body.
OPERATION_IDS = {
    ("/api/v1/slots/{slot_id}", "patch"): "slots_partial_update",
    ("/api/v1/appointments/{appointment_id}/confirm", "post"): "appointments_confirm",
    ("/api/v1/appointments/{appointment_id}/decline", "post"): "appointments_decline",
    ("/api/v1/appointments/{appointment_id}/ics", "get"): "appointments_ics",
    ("/api/v1/doctors/{doctor_id}/availability", "get"): "availability_list",
    ("/api/v1/doctors/{doctor_id}/availability", "post"): "availability_create",
    ("/api/v1/availability/{rule_id}", "patch"): "availability_partial_update",
    ("/api/v1/availability/{rule_id}", "delete"): "availability_destroy",
    ("/api/v1/doctors/{doctor_id}/availability/generate", "post"): "availability_generate",
    ("/api/v1/doctors/{doctor_id}/leaves", "get"): "leaves_list",
    ("/api/v1/doctors/{doctor_id}/leaves", "post"): "leaves_create",
    ("/api/v1/leaves/{leave_id}", "delete"): "leaves_destroy",
    ("/api/v1/doctors/{doctor_id}/schedule", "get"): "doctors_schedule_retrieve",
    ("/api/v1/doctors/{doctor_id}/calendar-feed", "post"): "doctors_calendar_feed_create",
    ("/feeds/doctors/{token}.ics", "get"): "doctors_calendar_feed_retrieve",
    ("/api/v1/waitlist", "get"): "waitlist_list",
    ("/api/v1/waitlist/{entry_id}", "delete"): "waitlist_destroy",
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


# What every operation documents besides (healthsvc.api.schema): 405, 406, 500, 503; 415 with a body.
EVERY_OPERATION = {"405", "406", "500", "503"}


def test_every_operation_documents_its_answers_and_errors(schema):
    for (path, method), statuses in OPERATIONS.items():
        operation = schema["paths"][path][method]
        responses = operation["responses"]
        with_body = {"415"} if "requestBody" in operation else set()
        assert set(responses) == statuses | EVERY_OPERATION | with_body, (path, method)
        for status in statuses - {"200", "201", "204"}:
            assert set(responses[status]["content"]) == {"application/json"}, (path, method, status)
            ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/Error", (path, method, status)


def test_every_new_operation_has_its_id_a_summary_and_create_examples(schema):
    for (path, method), operation_id in OPERATION_IDS.items():
        operation = schema["paths"][path][method]
        assert operation["operationId"] == operation_id and operation["summary"], (path, method)
        if method == "post" and "201" in operation["responses"]:
            assert operation["requestBody"]["content"]["application/json"]["examples"], (path, method)
            assert operation["responses"]["201"]["content"]["application/json"]["examples"], (path, method)


def test_conflicts_name_their_codes(schema):
    def conflict(path, method):
        return schema["paths"][path][method]["responses"]["409"]["description"]

    book = conflict("/api/v1/appointments/book", "post")
    assert all(code in book for code in ("BOOKING_TOO_SOON", "BOOKING_TOO_FAR", "BOOKING_LIMIT_REACHED"))
    assert "CANCELLATION_WINDOW_PASSED" in conflict("/api/v1/appointments/{appointment_id}/cancel", "post")
    reschedule = conflict("/api/v1/appointments/{appointment_id}/reschedule", "post")
    assert "BOOKING_TOO_SOON" in reschedule and "CANCELLATION_WINDOW_PASSED" in reschedule
    assert "AVAILABILITY_OVERLAP" in conflict("/api/v1/doctors/{doctor_id}/availability", "post")
    assert "CAPACITY_BELOW_BOOKED" in conflict("/api/v1/slots/{slot_id}", "patch")


def test_the_calendar_file_is_documented_as_text_calendar(schema):
    responses = schema["paths"]["/api/v1/appointments/{appointment_id}/ics"]["get"]["responses"]
    feed = schema["paths"]["/feeds/doctors/{token}.ics"]["get"]
    for content in (responses["200"]["content"], feed["responses"]["200"]["content"]):
        assert set(content) == {"text/calendar"} and content["text/calendar"]["schema"] == {"type": "string"}
        (example,) = content["text/calendar"]["examples"].values()
        text = example["value"]
        assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
        assert max(len(line) for line in text.split("\r\n")) <= 75  # folded, as RFC 5545 wants
        icalendar.Calendar.from_ical(text)  # parses
    assert feed.get("security", []) in ([], [{}])  # no token needed


def _scheduling_operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if set(operation.get("tags", [])) & {"slots", "appointments", "schedules", "waitlist"} or (
                    operation.get("operationId") == "patients_appointments_list"):
                yield path, method, operation


def test_every_scheduling_operation_has_a_short_summary_and_examples(schema):
    seen = 0
    for path, method, operation in _scheduling_operations(schema):
        seen += 1
        where = (path, method)
        summary = operation["summary"]
        # Short and imperative, for a partner developer; the rest goes in the description.
        assert len(summary) <= 60 and summary[0].isupper() and not summary.endswith("."), where
        for content in operation.get("requestBody", {}).get("content", {}).values():
            assert content.get("examples"), where
        for status, response in operation["responses"].items():
            if status.startswith("2") and response.get("content"):
                assert all(content.get("examples") for content in response["content"].values()), (where, status)
    assert seen == len(OPERATIONS) + 1  # and the patient's list of appointments


def test_appointment_and_slot_examples_show_the_embedded_fields(schema):
    def examples(schema_ref_suffix):
        for path, method, operation in _scheduling_operations(schema):
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json", {})
                ref = str(content.get("schema", {}))
                if status.startswith("2") and schema_ref_suffix in ref:
                    for example in content["examples"].values():
                        value = example["value"]
                        yield from value["results"] if "results" in value else value.get("appointments", [value])

    appointments = list(examples("AppointmentOutput")) + list(examples("DoctorScheduleOutput"))
    appointments += list(examples("LeaveCreatedOutput"))
    assert len(appointments) >= 12
    for appointment in appointments:
        assert set(appointment["doctor"]) == {"id", "name", "specialty"}
        assert set(appointment["clinic"]) == {"id", "name", "address", "city", "timezone"}
        assert appointment["slot_datetime"].endswith("Z") and appointment["slot_datetime_local"].endswith("+05:30")
    slots = list(examples("SlotOutput"))
    assert len(slots) >= 4 and all(slot["slot_datetime_local"] == "2030-03-01T10:00:00+05:30" for slot in slots)


def test_creating_a_rule_or_a_leave_links_to_removing_it(schema):
    def links(path):
        return schema["paths"][path]["post"]["responses"]["201"]["links"]

    assert links("/api/v1/doctors/{doctor_id}/availability")["DeleteAvailabilityRule"]["operationId"] == (
        "availability_destroy"
    )
    assert links("/api/v1/doctors/{doctor_id}/leaves")["DeleteLeave"]["operationId"] == "leaves_destroy"


def test_component_names_are_the_module_level_serializers(schema):
    names = set(schema["components"]["schemas"])
    assert {"SlotOutput", "SlotCreateInput", "AppointmentOutput", "AppointmentBookInput", "AppointmentCancelInput",
            "AppointmentRescheduleInput", "PatchedAppointmentOutcomeInput", "PaginatedSlotOutputList",
            "PaginatedAppointmentOutputList", "PatchedSlotUpdateInput", "AppointmentDeclineInput",
            "AvailabilityRuleOutput", "AvailabilityRuleCreateInput", "PatchedAvailabilityRuleUpdateInput",
            "SlotGenerationInput", "SlotGenerationOutput", "LeaveCreateInput", "LeaveOutput", "LeaveCreatedOutput",
            "DoctorScheduleOutput", "PaginatedAvailabilityRuleOutputList", "PaginatedLeaveOutputList"} <= names
    assert set(schema["components"]["schemas"]["SlotOutput"]["properties"]) == {
        "id", "doctor_id", "clinic_id", "slot_datetime", "duration_minutes", "capacity", "booked_count",
        "is_booked", "available_spots", "is_active", "slot_datetime_local",
    }


def test_booking_documents_the_idempotency_key_and_examples(schema):
    operation = schema["paths"]["/api/v1/appointments/book"]["post"]
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert (header["in"], header.get("required", False)) == ("header", False)
    assert operation["requestBody"]["content"]["application/json"]["examples"]
    assert operation["responses"]["201"]["content"]["application/json"]["examples"]
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]


def test_slot_list_documents_its_filters(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/slots"]["get"]["parameters"]}
    assert {"doctor_id", "clinic_id", "specialty", "date_from", "date_to", "available", "page", "page_size"} <= set(
        parameters
    )
    assert "00:00 UTC" in parameters["date_from"]["description"] and parameters["doctor_id"]["schema"] == {
        "type": "integer", "minimum": 1, "maximum": 2**63 - 1,
    }


@pytest.mark.parametrize(
    "path",
    [
        reverse("api:slot-detail", args=[10**20]),
        reverse("api:appointment-detail", args=[10**20]),
        reverse("api:appointment-cancel", args=[10**20]),
        reverse("api:appointment-ics", args=[10**20]),
        reverse("api:doctor-availability-list", args=[10**20]),
        reverse("api:doctor-leave-list", args=[10**20]),
        reverse("api:doctor-schedule", args=[10**20]),
    ],
)
def test_an_id_beyond_the_database_range_is_a_404(auth_client, admin_user, path):
    client = auth_client(admin_user)
    response = client.post(path) if path.endswith("cancel") else client.get(path)
    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"


def test_booking_a_slot_id_beyond_the_database_range_is_a_400(auth_client, patient):
    response = auth_client(patient.user).post(reverse("api:appointment-book"), {"slot_id": 10**20})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["slot_id"]
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(("name", "field"), [("api:slot-list", "doctor_id"), ("api:slot-list", "clinic_id"),
                                             ("api:appointment-list", "patient_id")])
def test_list_filter_id_beyond_the_database_range_is_a_400(auth_client, admin_user, name, field):
    response = auth_client(admin_user).get(reverse(name), {field: 10**20})
    assert response.status_code == 400 and list(response.json()["errors"]) == [field]
