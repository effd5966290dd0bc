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

from .common import (
    APPOINTMENT_EXAMPLE,
    APPOINTMENT_EXAMPLE_FOR_DOCTOR,
    BOOKING_CONFLICTS,
    CHANGE_CONFLICTS,
    ICS_EXAMPLE,
    appointment_data,
    errors,
)

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
        summary="Book a place on a slot",
        description="A patient books for themselves, or for a dependent by naming their `patient_id`; an admin "
                    "books on behalf of the patient `patient_id` names. The doctor and clinic come from the slot. "
                    "The appointment starts `confirmed`, or `pending` when the doctor approves each booking (the "
                    "place is held meanwhile). A patient books within the clinic's booking window (minimum notice, "
                    "horizon) and up to its limit of active visits; staff are exempt. Send an `Idempotency-Key` to "
                    "retry safely.",
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

    @extend_schema(
        operation_id="appointments_list", tags=["appointments"],
        summary="List appointments",
        description="An admin sees every appointment; a patient their own and their dependents'; a doctor the "
                    "visits booked with them. Latest slot time first, every status unless `status` is given.",
        responses={200: AppointmentOutputSerializer(many=True), **errors(
            400, 401, texts={400: "VALIDATION_ERROR: a bad filter (status, dates or ids)."})},
        examples=[OpenApiExample("One page", value=APPOINTMENT_EXAMPLE, response_only=True, status_codes=["200"])],
    )
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

    @extend_schema(
        operation_id="patients_appointments_list", tags=["patients"],
        summary="List a patient's appointments",
        description="For the patient themselves (a dependent's: their guardian) and admins. Latest slot time "
                    "first; the same filters as GET /appointments.",
        responses={200: AppointmentOutputSerializer(many=True), **errors(
            400, 401, 403, 404, texts={403: "PERMISSION_DENIED: doctors use GET /appointments.",
                                       404: "NOT_FOUND: no such patient, or not the caller or their dependent."})},
        examples=[OpenApiExample("One page", value=APPOINTMENT_EXAMPLE, response_only=True, status_codes=["200"])],
    )
    def get(self, request, patient_id: int):
        return super().get(request)


class AppointmentDetailApi(MethodCheckedMixin, APIView):
    """GET: the patient, the doctor, an admin. PATCH: the doctor or an admin records the outcome."""

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method in SAFE_METHODS else [IsDoctorOrAdmin()]

    @extend_schema(
        operation_id="appointments_retrieve", tags=["appointments"],
        summary="Get an appointment",
        description="For its patient (or their guardian), its doctor and admins. `notes` and "
                    "`cancelled_internal_note` are null for a patient.",
        responses={200: AppointmentOutputSerializer, **errors(
            401, 404, texts={404: "NOT_FOUND: no such appointment, or not one the caller may see."})},
        examples=[
            OpenApiExample("As the patient sees it", value=APPOINTMENT_EXAMPLE, response_only=True,
                           status_codes=["200"]),
            OpenApiExample("As the doctor sees it", value=APPOINTMENT_EXAMPLE_FOR_DOCTOR, response_only=True,
                           status_codes=["200"]),
        ],
    )
    def get(self, request, appointment_id: int):
        appointment = selectors.appointment_get_for_user(user=request.user, appointment_id=appointment_id)
        audit_read(appointment)
        return Response(appointment_data(request, appointment))

    @extend_schema(
        operation_id="appointments_partial_update", tags=["appointments"],
        summary="Record or correct how a visit went",
        description=(
            "The doctor of the appointment or an admin records how the visit went (`completed` or `no_show`, "
            "once it has started), the clinical note (`notes`: doctor and staff only) and the note for the "
            "patient. A recorded outcome may be corrected (completed to no_show or back) within 7 days of when "
            "it was first recorded; the correction is recorded in the audit trail (`outcome_correction`, with "
            "the old and new status, never the notes). After that, or for a cancelled or pending appointment, "
            "409 INVALID_STATE."
        ),
        request=AppointmentOutcomeInputSerializer,
        responses={
            200: AppointmentOutputSerializer,
            **errors(
                400, 401, 403, 404, texts={403: "PERMISSION_DENIED: patients cannot record outcomes."},
                conflict="INVALID_STATE: the status does not allow it, the visit has not started, or the "
                         "outcome was recorded more than 7 days ago.",
            ),
        },
        examples=[
            OpenApiExample("Completed, with notes", request_only=True, value={
                "status": "completed", "notes": "BP 132/86. Continue amlodipine 5 mg; ECG normal.",
                "note_for_patient": "All well. Keep taking your tablets and come back in three months.",
            }),
            OpenApiExample("No-show", value={"status": "no_show"}, request_only=True),
            OpenApiExample("Correct a no-show recorded by mistake", request_only=True, value={"status": "completed"}),
            OpenApiExample("Recorded", response_only=True, status_codes=["200"], value={
                **APPOINTMENT_EXAMPLE_FOR_DOCTOR, "status": "completed",
                "notes": "BP 132/86. Continue amlodipine 5 mg; ECG normal.",
                "note_for_patient": "All well. Keep taking your tablets and come back in three months.",
                "updated_at": "2030-03-01T05:10:44.501234Z",
            }),
        ],
    )
    def patch(self, request, appointment_id: int):
        appointment = selectors.appointment_get_for_user(user=request.user, appointment_id=appointment_id)
        data = AppointmentOutcomeInputSerializer.validated(request.data)
        appointment = services.appointment_set_outcome(appointment_id=appointment.pk, by=request.user,
                                                       allow_correction=True, **data)
        return Response(appointment_data(request, appointment))


class AppointmentCancelApi(MethodCheckedMixin, APIView):
    """The patient, the doctor or an admin cancels; the place returns to the slot."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="appointments_cancel", tags=["appointments"],
        summary="Cancel an appointment",
        description="The patient, the doctor or an admin; the place returns to the slot (and is offered to the "
                    "first patient on the waitlist for that day). `reason` is shown to the patient; "
                    "`internal_note` only to the doctor and staff. A patient may cancel until the clinic's "
                    "cancellation window begins.",
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
        examples=[
            OpenApiExample("A patient cancels", value={"reason": "I am travelling that week."}, request_only=True),
            OpenApiExample("The clinic cancels", request_only=True, value={
                "reason": "Dr. Mehta is unwell; please book another time.",
                "internal_note": "Sick leave; offered Dr. Rao on the same day.",
            }),
            OpenApiExample("Cancelled", response_only=True, status_codes=["200"], value={
                **APPOINTMENT_EXAMPLE, "status": "cancelled", "cancelled_at": "2030-02-25T11:02:17.000412Z",
                "cancelled_reason": "I am travelling that week.", "updated_at": "2030-02-25T11:02:17.000412Z",
            }),
        ],
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
        summary="Move an appointment to another slot",
        description="The patient or an admin. Atomic: the new place is held and the old one freed, or nothing "
                    "changes. The booking rules apply to the new slot; a patient also moves only until the "
                    "clinic's cancellation window begins. Moved to another doctor who approves each booking, it "
                    "is `pending` again.",
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
        examples=[
            OpenApiExample("Move", value={"slot_id": 121}, request_only=True),
            OpenApiExample("Moved", response_only=True, status_codes=["200"], value={
                **APPOINTMENT_EXAMPLE, "slot_id": 121, "slot_datetime": "2030-03-01T05:00:00Z",
                "slot_datetime_local": "2030-03-01T10:30:00+05:30", "updated_at": "2030-02-22T16:40:09.310002Z",
            }),
        ],
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
        summary="Confirm a pending appointment",
        description="Its doctor or an admin accepts a booking made with a doctor who approves each one; the "
                    "patient is told by email.",
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
        examples=[OpenApiExample("Confirmed", value=APPOINTMENT_EXAMPLE_FOR_DOCTOR, response_only=True,
                                 status_codes=["200"])],
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
        summary="Decline a pending appointment",
        description="Its doctor or an admin turns the booking down with a `reason` the patient reads; it is "
                    "cancelled and the place returns to the slot.",
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
        examples=[
            OpenApiExample("Decline", value={"reason": "Dr. Mehta is in theatre that morning; "
                                                       "please book another time."}, request_only=True),
            OpenApiExample("Declined", response_only=True, status_codes=["200"], value={
                **APPOINTMENT_EXAMPLE_FOR_DOCTOR, "status": "cancelled", "cancelled_at": "2030-02-20T12:30:00.052113Z",
                "cancelled_reason": "Dr. Mehta is in theatre that morning; please book another time.",
                "updated_at": "2030-02-20T12:30:00.052113Z",
            }),
        ],
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
        summary="Download an appointment's calendar file",
        description="An iCalendar (RFC 5545) file for the patient, the doctor or an admin: the current version "
                    "of the invitation the emails carry, with the same UID, SEQUENCE and times (in the clinic's "
                    "zone, with its VTIMEZONE). The reason for the visit and the notes stay out of the file. "
                    "Errors are the usual JSON envelope.",
        responses={
            200: OpenApiResponse(OpenApiTypes.STR, description="A VCALENDAR with one VEVENT, METHOD:REQUEST."),
            **errors(401, 404, 406, texts={404: "NOT_FOUND: no such appointment, or not one the caller may see."},
                     conflict="INVALID_STATE: the appointment is cancelled; it has no calendar file."),
        },
        examples=[OpenApiExample("The invitation", value=ICS_EXAMPLE, response_only=True, status_codes=["200"],
                                 media_type="text/calendar")],
    )
    def get(self, request, appointment_id: int):
        appointment = selectors.appointment_get_for_user(user=request.user, appointment_id=appointment_id)
        check_calendar_offered(appointment)
        audit_read(appointment)
        return Response(appointment_to_ics(appointment), headers={
            "Content-Disposition": f'attachment; filename="appointment-{appointment.pk}.ics"',
            "Cache-Control": "no-store",
        })
