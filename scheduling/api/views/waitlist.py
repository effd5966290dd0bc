"""The waitlist (the "Waitlist" rows of ../shared/docs/API.md): a patient joins
a doctor's day, lists their entries, accepts a held place, leaves."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.selectors import doctor_get
from healthsvc.api.permissions import IsPatient, IsPatientOrAdmin
from healthsvc.api.views import MethodCheckedMixin
from scheduling import selectors
from scheduling.api.serializers import (
    AppointmentOutputSerializer,
    WaitlistEntryOutputSerializer,
    WaitlistJoinInputSerializer,
)
from scheduling.models import WaitlistEntry
from scheduling.services.booking import appointment_book_offer
from scheduling.services.waitlist import waitlist_join, waitlist_leave

from .common import APPOINTMENT_EXAMPLE, BOOKING_CONFLICTS, appointment_data, errors

_ENTRY_404 = "NOT_FOUND: no such entry, or another patient's."
_ENTRY_EXAMPLE = {
    "id": 9, "patient_id": 7, "doctor_id": 3, "date": "2030-03-01", "status": "waiting",
    "offered_slot_id": None, "offered_until": None, "created_at": "2030-02-20T09:15:02.123456Z",
}


class WaitlistListCreateApi(MethodCheckedMixin, GenericAPIView):
    """GET: the patient's own entries (every one for an admin), newest first. POST: a patient joins."""

    serializer_class = WaitlistEntryOutputSerializer
    queryset = WaitlistEntry.objects.none()  # the schema's model; get() asks the selector

    def get_permissions(self):
        return [IsPatientOrAdmin()] if self.request.method in SAFE_METHODS else [IsPatient()]

    @extend_schema(
        operation_id="waitlist_list", tags=["waitlist"],
        summary="List waitlist entries",
        description="A patient's own entries and their dependents' (every one for an admin), newest first.",
        responses={200: WaitlistEntryOutputSerializer(many=True), **errors(
            400, 401, 403, texts={403: "PERMISSION_DENIED: doctors have no waitlist."})},
        examples=[OpenApiExample("One page", response_only=True, status_codes=["200"], value={
            **_ENTRY_EXAMPLE, "status": "offered", "offered_slot_id": 120,
            "offered_until": "2030-02-28T10:45:00Z",
        })],
    )
    def get(self, request):
        entries = selectors.waitlist_entry_list_for_user(user=request.user).order_by("-created_at", "-id")
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(WaitlistEntryOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="waitlist_create", tags=["waitlist"],
        summary="Join a doctor's waitlist for a day",
        description="A patient waits for a place with a doctor on one of the clinic's local dates. When a place "
                    "frees that day, the waiting patients are offered it in the order they joined: the first is "
                    "emailed, and the place is held for them until `offered_until` (accept with POST "
                    "/waitlist/{id}/accept).",
        request=WaitlistJoinInputSerializer,
        responses={
            201: WaitlistEntryOutputSerializer,
            **errors(
                400, 401, 403, 404,
                texts={400: "VALIDATION_ERROR: bad shape, a past date, or more than 366 days ahead.",
                       403: "PERMISSION_DENIED: only patients join a waitlist.",
                       404: "NOT_FOUND: no such doctor."},
                conflict="ALREADY_ON_WAITLIST: already waiting (or offered a place) for that doctor and date.",
            ),
        },
        examples=[
            OpenApiExample("Join", value={"doctor_id": 3, "date": "2030-03-01"}, request_only=True),
            OpenApiExample("Joined", value=_ENTRY_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    )
    def post(self, request):
        data = WaitlistJoinInputSerializer.validated(request.data)
        doctor = doctor_get(doctor_id=data["doctor_id"], user=request.user)
        entry = waitlist_join(patient=request.user.patient, doctor=doctor, day=data["date"])
        return Response(WaitlistEntryOutputSerializer(entry).data, status=status.HTTP_201_CREATED)


class WaitlistDetailApi(MethodCheckedMixin, APIView):
    """DELETE: the patient (or an admin) leaves; a held place goes to the next patient waiting."""

    permission_classes = [IsPatientOrAdmin]

    @extend_schema(
        operation_id="waitlist_destroy", tags=["waitlist"],
        summary="Leave the waitlist",
        description="The patient or an admin; a place held for the entry goes to the next patient waiting.",
        responses={
            204: OpenApiResponse(description="Left."),
            **errors(401, 403, 404, texts={404: _ENTRY_404},
                     conflict="INVALID_STATE: the entry is no longer waiting or offered."),
        },
    )
    def delete(self, request, entry_id: int):
        entry = selectors.waitlist_entry_get_for_user(user=request.user, entry_id=entry_id)
        waitlist_leave(entry_id=entry.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WaitlistAcceptApi(MethodCheckedMixin, APIView):
    """POST: the patient books the place held for them."""

    permission_classes = [IsPatient]

    @extend_schema(
        operation_id="waitlist_accept", tags=["waitlist"],
        summary="Accept a waitlist offer",
        description="The patient books the place held for them, while the entry is `offered` and before "
                    "`offered_until`. Every booking rule applies; a refusal keeps the hold until the offer runs "
                    "out.",
        request=None,
        responses={
            201: AppointmentOutputSerializer,
            **errors(401, 403, 404, texts={403: "PERMISSION_DENIED: only the patient accepts.", 404: _ENTRY_404},
                     conflict="INVALID_STATE: nothing offered now, or the offer ran out; or a booking refusal: "
                              + BOOKING_CONFLICTS),
        },
        examples=[OpenApiExample("Booked", response_only=True, status_codes=["201"],
                                 value={**APPOINTMENT_EXAMPLE, "reason_for_visit": ""})],
    )
    def post(self, request, entry_id: int):
        appointment = appointment_book_offer(entry_id=entry_id, patient=request.user.patient, by=request.user)
        return Response(appointment_data(request, appointment), status=status.HTTP_201_CREATED)


