"""The clinics and doctors API: parse, call a selector or service, answer.

Domain errors raised by the services become the error envelope in
healthsvc/api/exception_handler.py; nothing here catches them.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.models import User
from clinics.api.filters import MAX_RADIUS_KM, NEAR_PATTERN, ClinicListFilterSet, DoctorListFilterSet
from clinics.api.serializers import (
    ClinicInputSerializer,
    ClinicNearOutputSerializer,
    ClinicOutputSerializer,
    DoctorCreateInputSerializer,
    DoctorOutputSerializer,
    DoctorProfileCreateInputSerializer,
    DoctorSelfUpdateInputSerializer,
    DoctorUpdateInputSerializer,
)
from clinics.models import Clinic
from clinics.selectors import clinic_get, clinic_list, doctor_get, doctor_list, doctor_rows_lean
from clinics.services import (
    clinic_create,
    clinic_deactivate,
    clinic_update,
    doctor_check_update_allowed,
    doctor_create,
    doctor_profile_create,
    doctor_update,
)
from healthsvc.api.caching import Dated, catalogue_answer, latest
from healthsvc.api.permissions import IsDoctor, ReadOnlyOrAdmin
from healthsvc.api.serializers import error_responses
from healthsvc.api.views import MethodCheckedMixin
from healthsvc.exceptions import ErrorCode

# Reads need no credentials (healthsvc.api.schema documents them without a
# security requirement); an admin's token, when sent, also shows inactive rows.
ANYONE_READS = "Anyone may read, without a token; with an admin's token inactive ones are listed too."

# --- OpenAPI examples ---------------------------------------------------------------
# Realistic values that validate against the document (healthsvc/tests/test_schema.py).

CLINIC_EXAMPLE = {
    "id": 3, "name": "Sahyadri Family Clinic", "address": "12 FC Road, Shivajinagar", "phone": "+91 20 2553 0101",
    "email": "desk@sahyadri-clinic.example", "city": "Pune", "state": "Maharashtra", "zip_code": "411005",
    "timezone": "Asia/Kolkata", "latitude": 18.5204, "longitude": 73.8567, "is_active": True,
    "min_notice_minutes": 120, "booking_horizon_days": 60, "cancellation_window_minutes": 240,
    "max_active_bookings_per_patient": None,
}
CLINIC_INPUT_EXAMPLE = {key: CLINIC_EXAMPLE[key] for key in (
    "name", "address", "phone", "email", "city", "state", "zip_code", "timezone", "latitude", "longitude",
    "min_notice_minutes", "booking_horizon_days", "cancellation_window_minutes", "max_active_bookings_per_patient",
)}
DOCTOR_EXAMPLE = {
    "id": 4, "user_id": 9, "name": "Dr. Meera Iyer", "email": "meera.iyer@example.com", "specialty": "Cardiology",
    "license_number": "MMC-2011-04417", "qualifications": "MBBS, MD (Medicine), DM (Cardiology)",
    "experience_years": 14, "max_patients_per_day": 24, "clinic_id": 3, "is_active": True, "requires_approval": False,
}


def _response(name: str, value, status: str = "200") -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[status])


def _request(name: str, value) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True)


# --- Clinics -----------------------------------------------------------------


class ClinicListCreateApi(MethodCheckedMixin, GenericAPIView):
    permission_classes = [ReadOnlyOrAdmin]
    filter_backends = [DjangoFilterBackend]
    filterset_class = ClinicListFilterSet

    def get_queryset(self):
        return clinic_list(user=self.request.user)

    def get_serializer_class(self):
        # What OPTIONS (DRF's metadata) describes: the body POST takes.
        return ClinicInputSerializer if self.request.method == "POST" else ClinicOutputSerializer

    @extend_schema(
        operation_id="clinics_list", tags=["clinics"], summary="List clinics, or the nearest to a point",
        description=f"{ANYONE_READS} With `near=lat,lng` only clinics with coordinates, nearest first, each with "
                    "`distance_km`; `radius_km` narrows them.",
        parameters=[
            OpenApiParameter(
                "near", OpenApiTypes.STR, pattern=NEAR_PATTERN, description=(
                    "`lat,lng` in decimal degrees (e.g. `18.5204,73.8567`): only clinics with coordinates, "
                    "nearest first, each with `distance_km`. Latitude -90..90, longitude -180..180, else 400."
                ),
            ),
            OpenApiParameter(
                "radius_km", {"type": "number", "minimum": 0, "maximum": MAX_RADIUS_KM},
                description=f"With `near` only: clinics within this many km, 0..{MAX_RADIUS_KM}, else 400.",
            ),
        ],
        responses={200: ClinicNearOutputSerializer(many=True), **error_responses(400)},
        examples=[_response("Near Pune's centre", {**CLINIC_EXAMPLE, "distance_km": 1.284})],
    )
    def get(self, request):
        def answer():
            clinics = self.filter_queryset(self.get_queryset())
            page = self.paginate_queryset(clinics)
            near = request.query_params.get("near")
            serializer_class = ClinicNearOutputSerializer if near else ClinicOutputSerializer
            return self.get_paginated_response(serializer_class(page, many=True).data).data

        return catalogue_answer(request, answer)

    @extend_schema(
        operation_id="clinics_create", tags=["clinics"], summary="Create a clinic (admin)",
        request=ClinicInputSerializer, responses={201: ClinicOutputSerializer, **error_responses(400, 401, 403)},
        examples=[_request("A clinic in Pune", CLINIC_INPUT_EXAMPLE),
                  _request("Only what is required", {"name": "Lakeview Clinic", "address": "4 Lake Road",
                                                     "city": "Bhopal", "timezone": "Asia/Kolkata"}),
                  _response("Created", CLINIC_EXAMPLE, "201")],
    )
    def post(self, request):
        data = ClinicInputSerializer.validated(request.data)
        clinic = clinic_create(**data)
        return Response(ClinicOutputSerializer(clinic).data, status=status.HTTP_201_CREATED)


class ClinicDetailApi(MethodCheckedMixin, GenericAPIView):
    permission_classes = [ReadOnlyOrAdmin]

    # OPTIONS (DRF's metadata) looks the clinic up and describes the body PUT takes.
    def get_queryset(self):
        return clinic_list(user=self.request.user)

    def get_serializer_class(self):
        return ClinicInputSerializer if self.request.method in {"PUT", "PATCH"} else ClinicOutputSerializer

    @extend_schema(
        operation_id="clinics_retrieve", tags=["clinics"], summary="Get a clinic", description=ANYONE_READS,
        responses={200: ClinicOutputSerializer, **error_responses(404)},
        examples=[_response("A clinic", CLINIC_EXAMPLE)],
    )
    def get(self, request, pk: int):
        def answer():
            clinic = clinic_get(clinic_id=pk, user=request.user)
            return Dated(ClinicOutputSerializer(clinic).data, modified=clinic.updated_at)

        return catalogue_answer(request, answer)

    @extend_schema(
        operation_id="clinics_update", tags=["clinics"], summary="Replace a clinic's fields (admin)",
        request=ClinicInputSerializer, responses={200: ClinicOutputSerializer, **error_responses(400, 401, 403, 404)},
        examples=[_request("Every field", {**CLINIC_INPUT_EXAMPLE, "is_active": True}),
                  _response("Replaced", CLINIC_EXAMPLE)],
    )
    def put(self, request, pk: int):
        return self._update(request, pk, partial=False)

    @extend_schema(
        operation_id="clinics_partial_update", tags=["clinics"], summary="Change some of a clinic's fields (admin)",
        request=ClinicInputSerializer, responses={200: ClinicOutputSerializer, **error_responses(400, 401, 403, 404)},
        examples=[_request("A longer cancellation window", {"cancellation_window_minutes": 720}),
                  _response("Changed", {**CLINIC_EXAMPLE, "cancellation_window_minutes": 720})],
    )
    def patch(self, request, pk: int):
        return self._update(request, pk, partial=True)

    def _update(self, request, pk: int, *, partial: bool):
        clinic = clinic_get(clinic_id=pk, user=request.user)
        data = ClinicInputSerializer.validated(request.data, partial=partial)
        clinic = clinic_update(clinic=clinic, **data)
        return Response(ClinicOutputSerializer(clinic).data)

    @extend_schema(
        operation_id="clinics_destroy", tags=["clinics"], summary="Deactivate a clinic (admin)",
        description="A soft delete: the clinic's `is_active` becomes false and its data is kept.",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request, pk: int):
        clinic_deactivate(clinic=clinic_get(clinic_id=pk, user=request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClinicDoctorListApi(MethodCheckedMixin, GenericAPIView):
    permission_classes = [ReadOnlyOrAdmin]
    queryset = Clinic.objects.none()  # only tells the schema that {id} is a clinic's
    serializer_class = DoctorOutputSerializer

    @extend_schema(
        operation_id="clinics_doctors_list", tags=["clinics"], summary="List a clinic's doctors",
        description=ANYONE_READS, responses={200: DoctorOutputSerializer(many=True), **error_responses(404)},
        examples=[_response("A page of doctors", DOCTOR_EXAMPLE)],
    )
    def get(self, request, pk: int):
        def answer():
            clinic = clinic_get(clinic_id=pk, user=request.user)
            page = self.paginate_queryset(doctor_rows_lean(doctor_list(user=request.user, clinic_id=clinic.pk)))
            return self.get_paginated_response(DoctorOutputSerializer(page, many=True).data).data

        return catalogue_answer(request, answer)


# --- Doctors -----------------------------------------------------------------



class DoctorListCreateApi(MethodCheckedMixin, GenericAPIView):
    permission_classes = [ReadOnlyOrAdmin]
    filter_backends = [DjangoFilterBackend]
    filterset_class = DoctorListFilterSet

    def get_queryset(self):
        return doctor_list(user=self.request.user)

    def get_serializer_class(self):
        # What OPTIONS (DRF's metadata) describes: the body POST takes.
        return DoctorCreateInputSerializer if self.request.method == "POST" else DoctorOutputSerializer

    @extend_schema(
        operation_id="doctors_list", tags=["doctors"], summary="List doctors", description=ANYONE_READS,
        responses={200: DoctorOutputSerializer(many=True), **error_responses(400)},
        examples=[_response("A page of doctors", DOCTOR_EXAMPLE)],
    )
    def get(self, request):
        def answer():
            page = self.paginate_queryset(doctor_rows_lean(self.filter_queryset(self.get_queryset())))
            return self.get_paginated_response(DoctorOutputSerializer(page, many=True).data).data

        return catalogue_answer(request, answer)

    @extend_schema(
        operation_id="doctors_create", tags=["doctors"],
        summary="Add a doctor, or verify a self-registered one (admin)",
        description=(
            "Either body (DoctorCreateRequest is one or the other):\n\n"
            "- `name`, `email`, `password` and the profile (DoctorCreateInput): creates the doctor's login "
            "too, verified. 409 EMAIL_TAKEN when the email has an account.\n"
            "- `user_id` and the profile (DoctorProfileCreateInput): gives an account that self-registered "
            "with role `doctor` its profile and verifies it, so the doctor may open slots. 400 "
            "VALIDATION_ERROR on `user_id` when no such user exists or it is not a doctor account; 409 "
            "DOCTOR_PROFILE_EXISTS when it has a profile already; 409 USER_INACTIVE when it is deactivated.\n\n"
            "`user_id` together with `name`, `email` or `password` is a 400. `clinic_id` must name an "
            "active clinic (else 400); a licence number in use is a 409 LICENSE_NUMBER_TAKEN."
        ),
        request=PolymorphicProxySerializer(
            component_name="DoctorCreateRequest",
            serializers=[DoctorCreateInputSerializer, DoctorProfileCreateInputSerializer],
            resource_type_field_name=None,
        ),
        responses={
            201: DoctorOutputSerializer,
            **error_responses(400, 401, 403, codes=[
                ErrorCode.EMAIL_TAKEN, ErrorCode.LICENSE_NUMBER_TAKEN, ErrorCode.DOCTOR_PROFILE_EXISTS,
                ErrorCode.USER_INACTIVE]),
        },
        examples=[
            OpenApiExample("A new doctor with their login", request_only=True, value={
                "name": "Dr. Meera Iyer", "email": "meera.iyer@example.com", "password": "cedar-river-morning-17",
                "specialty": "Cardiology", "license_number": "MH-2019-04417", "clinic_id": 1,
                "qualifications": "MBBS, MD", "experience_years": 9, "max_patients_per_day": 24}),
            OpenApiExample("Verify a self-registered doctor", request_only=True, value={
                "user_id": 58, "specialty": "Dermatology", "license_number": "KA-2021-11873", "clinic_id": 2}),
            OpenApiExample("The doctor", response_only=True, status_codes=["201"], value={
                "id": 12, "user_id": 58, "name": "Dr. Kavya Rao", "email": "kavya.rao@example.com",
                "specialty": "Dermatology", "license_number": "KA-2021-11873", "qualifications": "",
                "experience_years": 0, "max_patients_per_day": 20, "clinic_id": 2, "is_active": True,
                "requires_approval": False}),
        ],
    )
    def post(self, request):
        if isinstance(request.data, dict) and "user_id" in request.data:
            mixed = sorted({"name", "email", "password"} & set(request.data))
            if mixed:
                raise ValidationError({name: ["Send either user_id or name, email and password."] for name in mixed})
            data = DoctorProfileCreateInputSerializer.validated(request.data)
            doctor = doctor_profile_create(by=request.user, **data)
        else:
            data = DoctorCreateInputSerializer.validated(request.data)
            doctor = doctor_create(**data)
        return Response(DoctorOutputSerializer(doctor).data, status=status.HTTP_201_CREATED)


_DOCTOR_UPDATE_SCHEMA = dict(
    tags=["doctors"],
    description=(
        "Admins may change every field of DoctorUpdateInput. The doctor themselves may send only "
        "`qualifications` and `experience_years` (DoctorSelfUpdateInput); any other field is a 403 "
        "PERMISSION_DENIED, and so is any change by another doctor or a patient."
    ),
    request=PolymorphicProxySerializer(
        component_name="DoctorUpdateRequest",
        serializers=[DoctorUpdateInputSerializer, DoctorSelfUpdateInputSerializer],
        resource_type_field_name=None,
    ),
    responses={200: DoctorOutputSerializer,
               **error_responses(400, 401, 403, 404, codes=[ErrorCode.LICENSE_NUMBER_TAKEN])},
)


class DoctorDetailApi(MethodCheckedMixin, GenericAPIView):
    # Writes: admins, and doctors (doctor_check_update_allowed narrows them to
    # their own qualifications and experience_years).
    permission_classes = [ReadOnlyOrAdmin | IsDoctor]

    # OPTIONS (DRF's metadata) looks the doctor up and describes the body the
    # caller may send with PUT.
    def get_queryset(self):
        return doctor_list(user=self.request.user)

    def get_serializer_class(self):
        if self.request.method not in {"PUT", "PATCH"}:
            return DoctorOutputSerializer
        return _update_serializer_for(self.request.user)

    @extend_schema(
        operation_id="doctors_retrieve", tags=["doctors"], summary="Get a doctor", description=ANYONE_READS,
        responses={200: DoctorOutputSerializer, **error_responses(404)},
        examples=[_response("A doctor", DOCTOR_EXAMPLE)],
    )
    def get(self, request, pk: int):
        def answer():
            doctor = doctor_get(doctor_id=pk, user=request.user)
            # Its name and email are the user's.
            return Dated(DoctorOutputSerializer(doctor).data, modified=latest(doctor.updated_at, doctor.user.updated_at))

        return catalogue_answer(request, answer)

    @extend_schema(
        operation_id="doctors_update", summary="Replace a doctor's editable fields", **_DOCTOR_UPDATE_SCHEMA,
        examples=[
            _request("An admin: every field", {
                "name": "Dr. Meera Iyer", "specialty": "Cardiology", "license_number": "MMC-2011-04417",
                "clinic_id": 3, "qualifications": "MBBS, MD (Medicine), DM (Cardiology)", "experience_years": 15,
                "max_patients_per_day": 20, "is_active": True, "requires_approval": False}),
            _request("The doctor themselves", {"qualifications": "MBBS, MD (Medicine), DM (Cardiology), FESC",
                                               "experience_years": 15}),
            _response("Replaced", {**DOCTOR_EXAMPLE, "experience_years": 15, "max_patients_per_day": 20}),
        ],
    )
    def put(self, request, pk: int):
        return self._update(request, pk, partial=False)

    @extend_schema(
        operation_id="doctors_partial_update", summary="Change some of a doctor's fields", **_DOCTOR_UPDATE_SCHEMA,
        examples=[
            _request("An admin: bookings need approval", {"requires_approval": True}),
            _request("The doctor themselves", {"experience_years": 15}),
            _response("Changed", {**DOCTOR_EXAMPLE, "requires_approval": True}),
        ],
    )
    def patch(self, request, pk: int):
        return self._update(request, pk, partial=True)

    def _update(self, request, pk: int, *, partial: bool):
        doctor = doctor_get(doctor_id=pk, user=request.user)
        # Before validation, so a doctor touching a field they may not change
        # hears 403, not a 400 about its value.
        doctor_check_update_allowed(actor=request.user, doctor=doctor, fields=_keys(request.data))
        data = _update_serializer_for(request.user).validated(request.data, partial=partial)
        doctor = doctor_update(doctor=doctor, actor=request.user, **data)
        return Response(DoctorOutputSerializer(doctor).data)


def _update_serializer_for(user: User):
    return DoctorUpdateInputSerializer if user.role == User.Role.ADMIN else DoctorSelfUpdateInputSerializer


def _keys(data) -> list[str]:
    return list(data.keys()) if hasattr(data, "keys") else []
