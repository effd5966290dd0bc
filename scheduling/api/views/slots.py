"""GET/POST /slots, GET/PATCH/DELETE /slots/{id}."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from healthsvc.api.caching import ALL_SLOTS, Dated, catalogue_answer, doctor_slots_stamp, latest
from healthsvc.api.views import MethodCheckedMixin
from scheduling import selectors, services
from scheduling.api.filters import SlotFilterSet
from scheduling.api.permissions import IsSlotOwnerOrAdmin
from scheduling.api.serializers import (
    SlotCreateInputSerializer,
    SlotOutputSerializer,
    SlotUpdateInputSerializer,
    slot_row_data,
)
from scheduling.models import AppointmentSlot

from .common import SLOT_EXAMPLE, errors


class SlotListCreateApi(MethodCheckedMixin, GenericAPIView):
    """GET: the bookable slots, for anyone. POST: open a slot (its doctor, or an admin)."""

    filterset_class = SlotFilterSet

    def get_permissions(self):
        return [AllowAny()] if self.request.method in SAFE_METHODS else [IsSlotOwnerOrAdmin()]

    def get_queryset(self):
        # SlotFilterSet asks the selector for the list itself; this only names the model.
        return AppointmentSlot.objects.none()

    def get_serializer_class(self):
        # What OPTIONS (DRF's metadata) describes: the body POST takes.
        return SlotCreateInputSerializer if self.request.method == "POST" else SlotOutputSerializer

    @extend_schema(
        operation_id="slots_list", tags=["slots"], auth=[],
        summary="List bookable slots",
        description="Future, open slots of active doctors at active clinics, outside the doctors' leaves, "
                    "earliest first; only those with a free place unless `available=false`. No login needed. "
                    "The answer carries an `ETag`: send it back in `If-None-Match` for a 304.",
        responses={200: SlotOutputSerializer(many=True), **errors(
            400, texts={400: "VALIDATION_ERROR: a bad filter (ids, dates, available)."})},
        examples=[OpenApiExample("One page", value=SLOT_EXAMPLE, response_only=True, status_codes=["200"])],
    )
    def get(self, request):
        def answer():
            slots = selectors.slot_rows(self.filter_queryset(self.get_queryset()))
            page = self.paginate_queryset(slots)
            return self.get_paginated_response([slot_row_data(row) for row in page]).data

        # One doctor's list changes with that doctor's slots; any other with anyone's.
        doctor_id = request.query_params.get("doctor_id", "")
        stamp = doctor_slots_stamp(int(doctor_id)) if doctor_id.isdecimal() and doctor_id.isascii() else ALL_SLOTS
        return catalogue_answer(request, answer, stamps=[stamp])

    @extend_schema(
        operation_id="slots_create", tags=["slots"],
        summary="Open a slot",
        description="A verified doctor for their own `doctor_id`, or an admin. The clinic defaults to the "
                    "doctor's; `slot_datetime` is ISO 8601 with a UTC offset, in the future.",
        request=SlotCreateInputSerializer,
        responses={
            201: SlotOutputSerializer,
            **errors(
                400, 401, 403,
                texts={
                    400: "VALIDATION_ERROR: bad shape, a naive datetime, or a slot in the past.",
                    403: "PERMISSION_DENIED: not a doctor or admin, another doctor's doctor_id, or not verified.",
                },
                conflict="SLOT_OVERLAP: overlaps another active slot of the doctor; "
                         "SLOT_UNAVAILABLE: the doctor or clinic is inactive.",
            ),
        },
        examples=[
            OpenApiExample("Half an hour at 10:00 in Pune (04:30 UTC)", request_only=True, value={
                "doctor_id": 3, "slot_datetime": "2030-03-01T04:30:00Z", "duration_minutes": 30, "capacity": 1,
            }),
            OpenApiExample("Opened", value=SLOT_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    )
    def post(self, request):
        data = SlotCreateInputSerializer.validated(request.data)
        self.check_object_permissions(request, data["doctor"])
        slot = services.slot_create(**data)
        return Response(SlotOutputSerializer(slot).data, status=status.HTTP_201_CREATED)


class SlotDetailApi(MethodCheckedMixin, APIView):
    """GET: one active slot, for anyone. PATCH: change its capacity, close or
    reopen it; DELETE: deactivate it (its doctor, or an admin)."""

    def get_permissions(self):
        return [AllowAny()] if self.request.method in SAFE_METHODS else [IsSlotOwnerOrAdmin()]

    @extend_schema(
        operation_id="slots_retrieve", tags=["slots"], auth=[],
        summary="Get a slot",
        description="One open slot of an active doctor at an active clinic; no login needed. The answer carries "
                    "an `ETag` and a `Last-Modified`, for 304s on `If-None-Match` or `If-Modified-Since`.",
        responses={200: SlotOutputSerializer, **errors(
            404, texts={404: "NOT_FOUND: no such slot, or it is closed, or its doctor or clinic is inactive."})},
        examples=[OpenApiExample("A free slot", value=SLOT_EXAMPLE, response_only=True, status_codes=["200"])],
    )
    def get(self, request, slot_id: int):
        def answer():
            slot = selectors.slot_get(slot_id=slot_id)
            # slot_datetime_local is in the clinic's zone.
            return Dated(SlotOutputSerializer(slot).data, modified=latest(slot.updated_at, slot.clinic.updated_at))

        # Its doctor is known only once it is read: any slot's change drops it.
        return catalogue_answer(request, answer, stamps=[ALL_SLOTS])

    @extend_schema(
        operation_id="slots_partial_update", tags=["slots"],
        summary="Change a slot's capacity, or close or reopen it",
        description="Its doctor or an admin: `capacity` (never below the places booked), `is_active` (false "
                    "closes it, true reopens a closed one that has not begun), or both.",
        request=SlotUpdateInputSerializer,
        responses={
            200: SlotOutputSerializer,
            **errors(
                400, 401, 403, 404,
                texts={403: "PERMISSION_DENIED: not a doctor or admin, or another doctor's slot.",
                       404: "NOT_FOUND: no such slot (open or closed)."},
                conflict="CAPACITY_BELOW_BOOKED: the capacity is below the places booked; SLOT_HAS_BOOKINGS: "
                         "closing a slot that holds active appointments; SLOT_UNAVAILABLE: reopening a slot that "
                         "has begun; SLOT_OVERLAP: reopening a slot another open slot of the doctor overlaps.",
            ),
        },
        examples=[
            OpenApiExample("Room for two more", value={"capacity": 3}, request_only=True),
            OpenApiExample("Close it", value={"is_active": False}, request_only=True),
            OpenApiExample("Changed", response_only=True, status_codes=["200"],
                           value={**SLOT_EXAMPLE, "capacity": 3, "booked_count": 1, "available_spots": 2}),
        ],
    )
    def patch(self, request, slot_id: int):
        # Closed slots too, so one can be reopened.
        slot = selectors.slot_get(slot_id=slot_id, include_inactive=True)
        self.check_object_permissions(request, slot)
        data = SlotUpdateInputSerializer.validated(request.data)
        slot = services.slot_update(slot_id=slot.pk, **data)
        return Response(SlotOutputSerializer(slot).data)

    @extend_schema(
        operation_id="slots_destroy", tags=["slots"],
        summary="Delete a slot",
        description="Its doctor or an admin deactivates it (the row stays, closed); refused while it holds "
                    "active appointments.",
        responses={
            204: OpenApiResponse(description="Deactivated."),
            **errors(401, 403, 404, texts={403: "PERMISSION_DENIED: not a doctor or admin, or another doctor's slot.",
                                           404: "NOT_FOUND: no such open slot."},
                     conflict="SLOT_HAS_BOOKINGS: cancel its active appointments first."),
        },
    )
    def delete(self, request, slot_id: int):
        slot = selectors.slot_get(slot_id=slot_id)
        self.check_object_permissions(request, slot)
        services.slot_deactivate(slot_id=slot.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
