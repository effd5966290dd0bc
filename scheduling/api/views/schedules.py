"""A doctor's schedule (the "Schedules" section of ../shared/docs/API.md): weekly
availability rules and the slots made from them, leaves, and the day's load.
For the doctor whose schedule it is and for admins; a patient or another doctor
is refused (403), an unknown doctor, rule or leave is a 404."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from clinics.models import Doctor
from clinics.selectors import doctor_get
from healthsvc.api.views import MethodCheckedMixin
from scheduling import selectors, services
from scheduling.api.permissions import IsScheduleOwnerOrAdmin
from scheduling.api.serializers import (
    AvailabilityRuleCreateInputSerializer,
    AvailabilityRuleOutputSerializer,
    AvailabilityRuleUpdateInputSerializer,
    DoctorScheduleOutputSerializer,
    DoctorScheduleQuerySerializer,
    LeaveCreatedOutputSerializer,
    LeaveCreateInputSerializer,
    LeaveOutputSerializer,
    SlotGenerationInputSerializer,
    SlotGenerationOutputSerializer,
)
from scheduling.models import AvailabilityRule

from .common import APPOINTMENT_EXAMPLE_FOR_DOCTOR, SCHEDULE_403, SCHEDULE_404, errors

_RULE_EXAMPLE = {"weekday": 0, "start_time": "09:00", "end_time": "13:00", "slot_minutes": 30, "capacity": 1,
                 "break_start": "11:00", "break_end": "11:30"}
_RULE_OUT = {"id": 7, "doctor_id": 3, "clinic_id": 1, **_RULE_EXAMPLE, "timezone": "Asia/Kolkata"}
_LEAVE_OUT = {
    "id": 4, "doctor_id": 3, "start": "2030-02-28T18:30:00Z", "end": "2030-03-01T18:30:00Z",
    "start_local": "2030-03-01T00:00:00+05:30", "end_local": "2030-03-02T00:00:00+05:30",
    "reason": "Conference", "created_at": "2030-02-20T09:15:02.123456Z",
}
_RULE_400 = (
    "VALIDATION_ERROR: bad shape, the end not after the start, a break outside the hours or with one end, "
    "or a clinic the doctor does not work at (clinic_id)."
)
_RULE_409 = "AVAILABILITY_OVERLAP: the hours overlap another of the doctor's rules on that weekday."


class ScheduleApi(MethodCheckedMixin, GenericAPIView):
    """The doctor of the URL, or of the rule or leave, is the caller or the caller is an admin."""

    permission_classes = [IsScheduleOwnerOrAdmin]
    filter_backends = []

    def get_doctor(self, doctor_id: int) -> Doctor:
        """The doctor the URL names, once the caller may manage their schedule.
        Raises DoctorNotFoundError (404); refuses another doctor's with 403."""
        own = getattr(self.request.user, "doctor", None)
        # The doctor themselves (active or not); others find only what doctor_get shows them.
        doctor = own if own is not None and own.pk == doctor_id else doctor_get(
            doctor_id=doctor_id, user=self.request.user
        )
        self.check_object_permissions(self.request, doctor)
        return doctor


# --- weekly rules ---------------------------------------------------------------------


class AvailabilityRuleListCreateApi(ScheduleApi):
    """GET: the doctor's weekly rules, Monday first. POST: add one."""

    def get_serializer_class(self):
        # What OPTIONS (DRF's metadata) describes: the body POST takes.
        if self.request.method == "POST":
            return AvailabilityRuleCreateInputSerializer
        return AvailabilityRuleOutputSerializer

    @extend_schema(
        operation_id="availability_list", tags=["schedules"],
        summary="List a doctor's weekly hours",
        description="The doctor's weekly availability rules, Monday first, in the clinic's wall-clock time "
                    "(`timezone`); for the doctor and admins.",
        responses={200: AvailabilityRuleOutputSerializer(many=True),
                   **errors(401, 403, 404, texts={403: SCHEDULE_403, 404: SCHEDULE_404})},
        examples=[OpenApiExample("One page", value=_RULE_OUT, response_only=True, status_codes=["200"])],
    )
    def get(self, request, doctor_id: int):
        rules = selectors.availability_rule_list(doctor=self.get_doctor(doctor_id))
        page = self.paginate_queryset(rules)
        return self.get_paginated_response(AvailabilityRuleOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="availability_create", tags=["schedules"],
        summary="Add weekly hours",
        description="A weekly rule for the doctor (or an admin for them): a weekday and hours in the clinic's "
                    "local time, the slot length and the patients per slot, with an optional break. Slots are "
                    "made from it by POST /doctors/{id}/availability/generate.",
        request=AvailabilityRuleCreateInputSerializer,
        responses={
            201: AvailabilityRuleOutputSerializer,
            **errors(400, 401, 403, 404, texts={400: _RULE_400, 403: SCHEDULE_403, 404: SCHEDULE_404},
                     conflict=_RULE_409),
        },
        examples=[
            OpenApiExample("Monday mornings, with a break", value=_RULE_EXAMPLE, request_only=True),
            OpenApiExample("Added", value=_RULE_OUT, response_only=True, status_codes=["201"]),
            OpenApiExample("Overlap", response_only=True, status_codes=["409"], value={
                "detail": "These hours overlap the Monday rule 08:00–10:00.", "error_code": "AVAILABILITY_OVERLAP",
            }),
        ],
    )
    def post(self, request, doctor_id: int):
        doctor = self.get_doctor(doctor_id)
        data = AvailabilityRuleCreateInputSerializer.validated(request.data)
        rule = services.availability_rule_create(doctor=doctor, **data)
        return Response(AvailabilityRuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class AvailabilityRuleDetailApi(ScheduleApi):
    """PATCH: change a rule (our extension of the contract). DELETE: remove it.
    Either way the slots already made from it stay as they are."""

    serializer_class = AvailabilityRuleUpdateInputSerializer

    def get_rule(self, rule_id: int) -> AvailabilityRule:
        rule = selectors.availability_rule_get(rule_id=rule_id)
        self.check_object_permissions(self.request, rule)
        return rule

    @extend_schema(
        operation_id="availability_partial_update", tags=["schedules"],
        summary="Change weekly hours",
        description="Any of a rule's fields, for its doctor or an admin; the result must still be a valid "
                    "rule. Slots already made from it keep their times.",
        request=AvailabilityRuleUpdateInputSerializer,
        responses={
            200: AvailabilityRuleOutputSerializer,
            **errors(400, 401, 403, 404, texts={400: _RULE_400, 403: "PERMISSION_DENIED: a patient, or another "
                                                "doctor's rule.", 404: "NOT_FOUND: no such rule."},
                     conflict=_RULE_409),
        },
        examples=[
            OpenApiExample("Longer slots", value={"slot_minutes": 45}, request_only=True),
            OpenApiExample("Changed", value={**_RULE_OUT, "slot_minutes": 45}, response_only=True,
                           status_codes=["200"]),
        ],
    )
    def patch(self, request, rule_id: int):
        rule = self.get_rule(rule_id)
        data = AvailabilityRuleUpdateInputSerializer.validated(request.data, partial=True)
        rule = services.availability_rule_update(rule_id=rule.pk, **data)
        return Response(AvailabilityRuleOutputSerializer(rule).data)

    @extend_schema(
        operation_id="availability_destroy", tags=["schedules"],
        summary="Remove weekly hours",
        description="Its doctor or an admin removes the rule; the slots already made from it stay.",
        responses={
            204: OpenApiResponse(description="Removed."),
            **errors(401, 403, 404, texts={403: "PERMISSION_DENIED: a patient, or another doctor's rule.",
                                           404: "NOT_FOUND: no such rule."}),
        },
    )
    def delete(self, request, rule_id: int):
        services.availability_rule_delete(rule_id=self.get_rule(rule_id).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SlotGenerationApi(ScheduleApi):
    """POST: make the slots the doctor's rules give for a range of local dates."""

    serializer_class = SlotGenerationInputSerializer

    @extend_schema(
        operation_id="availability_generate", tags=["schedules"],
        summary="Make slots from the weekly hours",
        description="For the clinic's local dates `date_from` to `date_to` (both included, up to 366 days "
                    "ahead), for the doctor or an admin. Idempotent: slot times that have a slot (open or "
                    "closed), overlap one, fall inside a leave or have passed are skipped, and booked places are "
                    "never touched; a second run makes none.",
        request=SlotGenerationInputSerializer,
        responses={
            200: SlotGenerationOutputSerializer,
            **errors(
                400, 401, 403, 404,
                texts={
                    400: "VALIDATION_ERROR: bad dates, date_to before date_from, date_from before today or "
                         "date_to more than 366 days ahead (local dates of the clinic).",
                    403: "PERMISSION_DENIED: a patient, another doctor's schedule, or the doctor is not verified.",
                    404: SCHEDULE_404,
                },
                conflict="SLOT_UNAVAILABLE: the doctor or the clinic is inactive.",
            ),
        },
        examples=[
            OpenApiExample("Four weeks", value={"date_from": "2030-03-04", "date_to": "2030-03-31"},
                           request_only=True),
            OpenApiExample("Made", value={"created": 96, "skipped": 4}, response_only=True, status_codes=["200"]),
        ],
    )
    def post(self, request, doctor_id: int):
        doctor = self.get_doctor(doctor_id)
        data = SlotGenerationInputSerializer.validated(request.data)
        result = services.slots_generate(doctor=doctor, **data)
        return Response(SlotGenerationOutputSerializer(result).data)


# --- leaves ---------------------------------------------------------------------------


class LeaveListCreateApi(ScheduleApi):
    """GET: the doctor's leaves not yet over, soonest first. POST: add one."""

    def get_serializer_class(self):
        return LeaveCreateInputSerializer if self.request.method == "POST" else LeaveOutputSerializer

    @extend_schema(
        operation_id="leaves_list", tags=["schedules"],
        summary="List a doctor's leaves",
        description="The leaves not over yet, soonest first, for the doctor and admins; times in UTC and in "
                    "the clinic's zone.",
        responses={200: LeaveOutputSerializer(many=True),
                   **errors(401, 403, 404, texts={403: SCHEDULE_403, 404: SCHEDULE_404})},
        examples=[OpenApiExample("One page", value=_LEAVE_OUT, response_only=True, status_codes=["200"])],
    )
    def get(self, request, doctor_id: int):
        page = self.paginate_queryset(selectors.leave_list(doctor=self.get_doctor(doctor_id)))
        return self.get_paginated_response(LeaveOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="leaves_create", tags=["schedules"],
        summary="Add a leave",
        description="Time off for the doctor (or an admin for them): a whole day or part of one, up to 366 "
                    "days. No slot is made or booked inside it. The answer lists the active appointments inside "
                    "the leave; they stay until someone cancels them (POST /api/v1/appointments/{id}/cancel "
                    "with a reason for the patient).",
        request=LeaveCreateInputSerializer,
        responses={
            201: LeaveCreatedOutputSerializer,
            **errors(
                400, 401, 403, 404,
                texts={
                    400: "VALIDATION_ERROR: bad shape, a naive datetime, the end not after the start or already "
                         "past, or longer than 366 days.",
                    403: SCHEDULE_403, 404: SCHEDULE_404,
                },
            ),
        },
        examples=[
            OpenApiExample("A conference day (1 March in Pune)", request_only=True, value={
                "start": "2030-02-28T18:30:00Z", "end": "2030-03-01T18:30:00Z", "reason": "Conference",
            }),
            OpenApiExample("Added, one visit inside", response_only=True, status_codes=["201"],
                           value={**_LEAVE_OUT, "appointments": [APPOINTMENT_EXAMPLE_FOR_DOCTOR]}),
        ],
    )
    def post(self, request, doctor_id: int):
        doctor = self.get_doctor(doctor_id)
        data = LeaveCreateInputSerializer.validated(request.data)
        leave = services.leave_create(doctor=doctor, by=request.user, **data)
        answer = LeaveCreatedOutputSerializer(leave, context={"viewer": request.user}).data
        return Response(answer, status=status.HTTP_201_CREATED)


class LeaveDetailApi(ScheduleApi):
    """DELETE: remove a leave; its free slots can be booked again."""

    serializer_class = LeaveOutputSerializer

    @extend_schema(
        operation_id="leaves_destroy", tags=["schedules"],
        summary="Remove a leave",
        description="Its doctor or an admin removes it; the free slots inside it can be booked again.",
        responses={
            204: OpenApiResponse(description="Removed."),
            **errors(401, 403, 404, texts={403: "PERMISSION_DENIED: a patient, or another doctor's leave.",
                                           404: "NOT_FOUND: no such leave."}),
        },
    )
    def delete(self, request, leave_id: int):
        leave = selectors.leave_get(leave_id=leave_id)
        self.check_object_permissions(request, leave)
        services.leave_delete(leave_id=leave.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the day --------------------------------------------------------------------------


class DoctorScheduleApi(ScheduleApi):
    """GET: one local day of the doctor: appointments and load."""

    serializer_class = DoctorScheduleOutputSerializer

    @extend_schema(
        operation_id="doctors_schedule_retrieve", tags=["schedules"],
        summary="Get a doctor's day",
        description="One local day of the doctor's clinic (today there unless `date` is given), for the doctor "
                    "and admins: every appointment of the day (any status), the places they hold against "
                    "`max_patients_per_day`, and the places patients can still book.",
        parameters=[DoctorScheduleQuerySerializer],
        responses={
            200: DoctorScheduleOutputSerializer,
            **errors(400, 401, 403, 404, texts={
                400: "VALIDATION_ERROR: date is not a YYYY-MM-DD date, or is the calendar's first or last day.",
                403: SCHEDULE_403, 404: SCHEDULE_404,
            }),
        },
        examples=[OpenApiExample("A day with one visit", response_only=True, status_codes=["200"], value={
            "date": "2030-03-01", "timezone": "Asia/Kolkata", "booked": 1, "max_patients_per_day": 20,
            "free_places": 7, "appointments": [APPOINTMENT_EXAMPLE_FOR_DOCTOR],
        })],
    )
    def get(self, request, doctor_id: int):
        doctor = self.get_doctor(doctor_id)
        # A plain dict: DRF reads `?date=` in a QueryDict as "not given", the contract as a malformed date.
        query = DoctorScheduleQuerySerializer.validated(request.query_params.dict())
        schedule = selectors.doctor_day_schedule(doctor=doctor, day=query.get("date"))
        return Response(DoctorScheduleOutputSerializer(schedule, context={"viewer": request.user}).data)
