"""Book, list, read, cancel, reschedule, confirm, decline, record the outcome
of an appointment, and its calendar file."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Patient, User
from accounts.selectors import patient_get_for_user
from audit.services import audit_list, audit_read
from healthsvc.api.permissions import IsDoctorOrAdmin, IsPatientOrAdmin
from healthsvc.api.renderers import CalendarRenderer
from healthsvc.api.views import JsonErrorsMixin, MethodCheckedMixin
from scheduling import selectors, services
from scheduling.api.filters import AppointmentFilterSet
from scheduling.api.serializers import (
    AppointmentBookInputSerializer,
    AppointmentCancelInputSerializer,
    AppointmentDeclineInputSerializer,
    AppointmentOutcomeInputSerializer,
    AppointmentOutputSerializer,
    AppointmentRescheduleInputSerializer,
)
from scheduling.ics import appointment_to_ics, check_calendar_offered
from scheduling.models import Appointment
from scheduling.services.idempotency import IDEMPOTENCY_HEADER

from .common import APPOINTMENT_EXAMPLE, BOOKING_CONFLICTS, CHANGE_CONFLICTS, appointment_data, errors

REPLAYED_HEADER = "Idempotent-Replayed"
# What idempotency_key_run accepts, as a JSON Schema pattern: printable ASCII
# with at least one non-space (the key is stripped, then 1-255 characters).
IDEMPOTENCY_KEY_PATTERN = "^[\\u0020-\\u007e]*[\\u0021-\\u007e][\\u0020-\\u007e]*$"


def _patient_to_book_for(user: User, patient_id: int | None) -> Patient:
    """A patient books for themselves or names one of their dependents; an
    admin names the patient. Anyone else's id is a 404 to a patient, so ids
    cannot be probed."""
    if user.role == User.Role.ADMIN and patient_id is None:
        raise ValidationError({"patient_id": ["Required when an admin books on behalf of a patient."]})
    if patient_id is None or (user.role == User.Role.PATIENT and patient_id == user.patient.pk):
        return user.patient
    return patient_get_for_user(user=user, patient_id=patient_id)


class AppointmentBookApi(MethodCheckedMixin, APIView):
    """A patient books for themselves, an admin for a named patient; optionally idempotent."""

    permission_classes = [IsPatientOrAdmin]

    @extend_schema(
        operation_id="appointments_book", tags=["appointments"],
        summary="Book a place on a slot: a patient for themselves or a dependent (patient_id), an admin for patient_id.",
        request=AppointmentBookInputSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER, {"type": "string", "maxLength": 255, "pattern": IDEMPOTENCY_KEY_PATTERN},
                OpenApiParameter.HEADER, required=False,
                description="Optional, 1-255 printable ASCII characters (a UUID is ideal). A retry with the same "
                            "key and body within 24 hours returns the first answer and books nothing more; the "
                            "same key with another body is a 422. Refused bookings are not stored.",
            ),
            OpenApiParameter(
                REPLAYED_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, response=[201], enum=["true"],
                description="Present when this answer is the stored answer to an earlier request with the key.",
            ),
        ],
        responses={
            201: AppointmentOutputSerializer,
            **errors(
                400, 401, 403, 404, 422,
                texts={
                    400: "VALIDATION_ERROR, e.g. patient_id missing for an admin, or a bad Idempotency-Key.",
                    403: "PERMISSION_DENIED: doctors cannot book.",
                    404: "NOT_FOUND: no such slot, or no such patient (a patient may name only themselves or "
                         "their dependents).",
                },
                conflict=BOOKING_CONFLICTS,
            ),
        },
        examples=[
            OpenApiExample("A patient books", value={"slot_id": 120, "reason_for_visit": "Chest pain on exertion"},
                           request_only=True),
            OpenApiExample("A patient books for their child", value={"slot_id": 120, "patient_id": 8},
                           request_only=True),
            OpenApiExample("An admin books for a patient", value={"slot_id": 120, "patient_id": 7},
                           request_only=True),
            OpenApiExample("Booked", value=APPOINTMENT_EXAMPLE, response_only=True, status_codes=["201"]),
            OpenApiExample("Slot full", value={"detail": "Slot is fully booked.", "error_code": "SLOT_FULL"},
                           response_only=True, status_codes=["409"]),
        ],
    )
    def post(self, request):
        data = AppointmentBookInputSerializer.validated(request.data)
        patient = _patient_to_book_for(request.user, data.get("patient_id"))

        def book():
            appointment = services.appointment_book(
                patient=patient, slot_id=data["slot_id"], reason=data["reason_for_visit"], booked_by=request.user
            )
            return status.HTTP_201_CREATED, appointment_data(request, appointment)

        answer = services.idempotency_key_run(
            user=request.user, key=request.headers.get(IDEMPOTENCY_HEADER), scope="appointment-book",
            payload=request.data, call=book,
        )
        headers = {REPLAYED_HEADER: "true"} if answer.replayed else None
        return Response(answer.body, status=answer.status, headers=headers)


class AppointmentListApi(MethodCheckedMixin, GenericAPIView):
    """Admins see every appointment; a patient or a doctor their own. Latest first."""

    permission_classes = [IsAuthenticated]
    filterset_class = AppointmentFilterSet
    serializer_class = AppointmentOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Appointment.objects.none()
        return selectors.appointment_list_for_user(user=self.request.user).order_by("-start", "-id")

    @extend_schema(operation_id="appointments_list", tags=["appointments"],
                   responses={200: AppointmentOutputSerializer(many=True), **errors(400, 401)})
    def get(self, request):
        appointments = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(appointments)
        audit_list("appointment", count=len(page), patient_id=self.kwargs.get("patient_id"))
        return self.get_paginated_response(appointment_data(request, page, many=True))


class PatientAppointmentListApi(AppointmentListApi):
    """One patient's appointments: the patient themselves (a dependent's
    guardian) or an admin. Latest first."""

    permission_classes = [IsPatientOrAdmin]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Appointment.objects.none()
        # Raises PatientNotFoundError (404) for a patient who is not the caller.
        patient = patient_get_for_user(user=self.request.user, patient_id=self.kwargs["patient_id"])
        return super().get_queryset().filter(patient=patient)

    @extend_schema(operation_id="patients_appointments_list", tags=["patients"],
                   responses={200: AppointmentOutputSerializer(many=True), **errors(400, 401, 403, 404)})
    def get(self, request, patient_id: int):
        return super().get(request)


class AppointmentDetailApi(MethodCheckedMixin, APIView):
    """GET: the patient, the doctor, an admin. PATCH: the doctor or an admin records the outcome."""

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method in SAFE_METHODS else [IsDoctorOrAdmin()]

    @extend_schema(operation_id="appointments_retrieve", tags=["appointments"],
                   responses={200: AppointmentOutputSerializer, **errors(401, 404)})
    def get(self, request, appointment_id: int):
        appointment = selectors.appointment_get_for_user(user=request.user, appointment_id=appointment_id)
        audit_read(appointment)
        return Response(appointment_data(request, appointment))

    @extend_schema(
        operation_id="appointments_partial_update", tags=["appointments"],
        summary="Record the visit's outcome (completed / no_show, once it has started), the clinical note "
                "(doctor and staff only) and the note for the patient.",
        request=AppointmentOutcomeInputSerializer,
        responses={
            200: AppointmentOutputSerializer,
            **errors(
                400, 401, 403, 404, texts={403: "PERMISSION_DENIED: patients cannot record outcomes."},
                conflict="INVALID_STATE: the status does not allow it, or the visit has not started.",
            ),
        },
    )
    def patch(self, request, appointment_id: int):
        appointment = selectors.appointment_get_for_user(user=request.user, appointment_id=appointment_id)
        data = AppointmentOutcomeInputSerializer.validated(request.data)
        appointment = services.appointment_set_outcome(appointment_id=appointment.pk, by=request.user, **data)
        return Response(appointment_data(request, appointment))


class AppointmentCancelApi(MethodCheckedMixin, APIView):
    """The patient, the doctor or an admin cancels; the place returns to the slot."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="appointments_cancel", tags=["appointments"],
        summary="Cancel an appointment (the patient, the doctor, an admin); the place returns to the slot.",
        request=AppointmentCancelInputSerializer,
        responses={
            200: AppointmentOutputSerializer,
            **errors(
                400, 401, 403, 404,
                texts={403: "PERMISSION_DENIED: a patient sent an internal_note."},
                conflict="INVALID_STATE: it is already cancelled, completed or a no-show, or the visit has begun; "
                         + CHANGE_CONFLICTS,
            ),
        },
    )
    def post(self, request, appointment_id: int):
        appointment = selectors.appointment_get_for_user(user=request.user, appointment_id=appointment_id)
        data = AppointmentCancelInputSerializer.validated(request.data)
        appointment = services.appointment_cancel(
            appointment_id=appointment.pk, by=request.user, reason=data["reason"], internal_note=data["internal_note"]
        )
        return Response(appointment_data(request, appointment))


class AppointmentRescheduleApi(MethodCheckedMixin, APIView):
    """The patient or an admin moves an appointment to another slot, atomically."""

    permission_classes = [IsPatientOrAdmin]

    @extend_schema(
        operation_id="appointments_reschedule", tags=["appointments"],
        summary="Move an appointment to another slot (the patient, an admin), atomically.",
        request=AppointmentRescheduleInputSerializer,
        responses={
            200: AppointmentOutputSerializer,
            **errors(
                400, 401, 403, 404,
                texts={
                    403: "PERMISSION_DENIED: doctors cannot reschedule.",
                    404: "NOT_FOUND: no such appointment (or not yours), or no such slot.",
                },
                conflict=BOOKING_CONFLICTS + " INVALID_STATE: the appointment is not active or has begun; "
                         + CHANGE_CONFLICTS,
            ),
        },
    )
    def post(self, request, appointment_id: int):
        appointment = selectors.appointment_get_for_user(user=request.user, appointment_id=appointment_id)
        data = AppointmentRescheduleInputSerializer.validated(request.data)
        appointment = services.appointment_reschedule(
            appointment_id=appointment.pk, slot_id=data["slot_id"], by=request.user
        )
        return Response(appointment_data(request, appointment))


class AppointmentConfirmApi(MethodCheckedMixin, APIView):
    """The doctor or an admin accepts a pending booking."""

    permission_classes = [IsDoctorOrAdmin]

    @extend_schema(
        operation_id="appointments_confirm", tags=["appointments"],
        summary="Confirm a pending appointment (its doctor, or an admin).",
        request=None,
        responses={
            200: AppointmentOutputSerializer,
            **errors(
                401, 403, 404,
                texts={403: "PERMISSION_DENIED: patients cannot confirm.",
                       404: "NOT_FOUND: no such appointment, or another doctor's."},
                conflict="INVALID_STATE: the appointment is not pending.",
            ),
        },
    )
    def post(self, request, appointment_id: int):
        appointment = selectors.appointment_get_for_user(user=request.user, appointment_id=appointment_id)
        appointment = services.appointment_confirm(appointment_id=appointment.pk, by=request.user)
        return Response(appointment_data(request, appointment))


class AppointmentDeclineApi(MethodCheckedMixin, APIView):
    """The doctor or an admin turns a pending booking down; the place returns to the slot."""

    permission_classes = [IsDoctorOrAdmin]

    @extend_schema(
        operation_id="appointments_decline", tags=["appointments"],
        summary="Decline a pending appointment with a reason for the patient (its doctor, or an admin).",
        request=AppointmentDeclineInputSerializer,
        responses={
            200: AppointmentOutputSerializer,
            **errors(
                400, 401, 403, 404,
                texts={400: "VALIDATION_ERROR: the reason is missing, blank or longer than 2000 characters.",
                       403: "PERMISSION_DENIED: patients cannot decline.",
                       404: "NOT_FOUND: no such appointment, or another doctor's."},
                conflict="INVALID_STATE: the appointment is not pending.",
            ),
        },
        examples=[OpenApiExample("Declined", value={"reason": "Dr. Mehta is in theatre that morning; "
                                                              "please book another time."}, request_only=True)],
    )
    def post(self, request, appointment_id: int):
        appointment = selectors.appointment_get_for_user(user=request.user, appointment_id=appointment_id)
        data = AppointmentDeclineInputSerializer.validated(request.data)
        appointment = services.appointment_decline(
            appointment_id=appointment.pk, by=request.user, reason=data["reason"]
        )
        return Response(appointment_data(request, appointment))


class AppointmentCalendarApi(JsonErrorsMixin, MethodCheckedMixin, APIView):
    """The appointment as an iCalendar file, for the patient, the doctor, an admin."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [CalendarRenderer]

    @extend_schema(
        operation_id="appointments_ics", tags=["appointments"],
        summary="The appointment as an iCalendar (RFC 5545) file (the patient, the doctor, an admin).",
        description="The current version of the invitation the emails carry: the same UID, SEQUENCE and "
                    "times (in the clinic's zone, with its VTIMEZONE). The reason for the visit and the notes "
                    "stay out of the file. Errors are the usual JSON envelope.",
        responses={
            200: OpenApiResponse(OpenApiTypes.STR, description="A VCALENDAR with one VEVENT, METHOD:REQUEST."),
            **errors(401, 404, 406, conflict="INVALID_STATE: the appointment is cancelled; it has no calendar file."),
        },
    )
    def get(self, request, appointment_id: int):
        appointment = selectors.appointment_get_for_user(user=request.user, appointment_id=appointment_id)
        check_calendar_offered(appointment)
        audit_read(appointment)
        return Response(appointment_to_ics(appointment), headers={
            "Content-Disposition": f'attachment; filename="appointment-{appointment.pk}.ics"',
            "Cache-Control": "no-store",
        })
