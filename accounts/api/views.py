from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts import services
from accounts.api.serializers import (
    AdminCreateInputSerializer,
    AuditEntryOutputSerializer,
    DependentCreateInputSerializer,
    LoginInputSerializer,
    LoginOutputSerializer,
    PasswordChangeInputSerializer,
    PatientOutputSerializer,
    PatientUpdateInputSerializer,
    ProfileUpdateInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    RegisterOutputSerializer,
    TokenPairOutputSerializer,
    UserOutputSerializer,
)
from accounts.models import Patient, User
from accounts.selectors import admin_list, dependent_list, patient_get_for_update, patient_get_for_user, patient_list_for_user
from accounts.tokens import RefreshRefused
from audit.models import AuditEvent
from audit.selectors import audit_list_for_patient
from audit.services import audit_list, audit_read
from healthsvc.api.conditional import etagged_response, representation_etag, write_if_match
from healthsvc.api.permissions import IsAdmin, IsPatient, IsPatientOrAdmin
from healthsvc.api.serializers import error_responses
from healthsvc.api.throttling import (
    AnonRequestRateThrottle,
    LoginRateThrottle,
    RegisterRateThrottle,
    RequestRateThrottle,
)
from healthsvc.api.views import MethodCheckedMixin
from healthsvc.exceptions import ErrorCode


# --- OpenAPI examples ---------------------------------------------------------------
# Realistic values that validate against the document (healthsvc/tests/test_schema.py).

_ACCESS = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwidXNlcl9pZCI6N30.c2lnbmF0dXJl"
_REFRESH = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsInVzZXJfaWQiOjd9.c2lnbmF0dXJl"
USER_EXAMPLE = {
    "id": 7, "name": "Asha Rao", "email": "asha@example.com", "role": "patient", "mobile_no": "+91 98765 43210",
    "is_verified": True, "is_active": True, "created_at": "2030-03-01T04:30:00Z", "patient_id": 12, "doctor_id": None,
}
PATIENT_EXAMPLE = {
    "id": 12, "user_id": 7, "guardian_id": None, "name": "Asha Rao", "email": "asha@example.com",
    "mobile_no": "+91 98765 43210", "date_of_birth": "1990-05-17", "blood_group": "B+", "allergies": "Penicillin",
    "emergency_contact": "Ravi Rao, +91 98765 01234", "wants_reminders": True,
}
DEPENDENT_EXAMPLE = {
    **PATIENT_EXAMPLE, "id": 31, "user_id": None, "guardian_id": 12, "name": "Maya Rao", "email": None,
    "mobile_no": None, "date_of_birth": "2019-04-02", "blood_group": "O+", "allergies": "Peanuts",
    "emergency_contact": "",
}
AUDIT_EXAMPLE = {
    "id": 5012, "at": "2030-03-02T09:15:00Z", "actor_id": 3, "actor_name": "Dr. Meera Iyer", "actor_role": "doctor",
    "action": "read", "object_type": "patient", "object_id": "12", "description": "Viewed the patient's profile.",
    "entry_point": "api", "ip": "203.0.113.24", "request_id": "4f9c2d7e8a1b4c3d9e0f1a2b3c4d5e6f",
}


def _response(name: str, value, status: str = "200") -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[status])


def _request(name: str, value) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True)


def _user_with_profiles(user: User) -> User:
    return User.objects.select_related("patient", "doctor").get(pk=user.pk)


class RegisterApi(MethodCheckedMixin, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [RegisterRateThrottle, AnonRequestRateThrottle]

    @extend_schema(
        tags=["auth"], operation_id="auth_register", summary="Create an account and sign in",
        request=RegisterInputSerializer,
        responses={201: RegisterOutputSerializer,
                   **error_responses(400, 429, codes=[ErrorCode.PERMISSION_DENIED, ErrorCode.EMAIL_TAKEN],
                                     texts={400: "A weak password, or a field missing or too long.",
                                            403: "`role: admin` cannot be chosen."})},
        examples=[
            _request("Patient", {"name": "Asha Rao", "email": "asha@example.com", "password": "a-long-passphrase",
                                 "mobile_no": "+91 98765 43210"}),
            _request("Doctor (unverified until an admin verifies them)", {
                "name": "Meera Iyer", "email": "meera.iyer@example.com", "password": "another-long-passphrase",
                "role": "doctor"}),
            _response("Signed in", {"user": USER_EXAMPLE, "access": _ACCESS, "refresh": _REFRESH}, "201"),
        ],
        description=(
            "Anyone may register. `role` is `patient` by default; a `doctor` account starts unverified "
            "(`is_verified: false`) and cannot open slots until an admin verifies it. The answer signs the "
            "new account in: use `access` as the bearer token."
        ),
    )
    def post(self, request):
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        body = {"user": UserOutputSerializer(_user_with_profiles(user)).data, **services.user_tokens(user)}
        return Response(body, status=status.HTTP_201_CREATED)


class LoginApi(MethodCheckedMixin, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [LoginRateThrottle, AnonRequestRateThrottle]

    @extend_schema(
        tags=["auth"], operation_id="auth_login", summary="Sign in with email and password",
        request=LoginInputSerializer,
        responses={200: LoginOutputSerializer,
                   **error_responses(400, 429, codes=[ErrorCode.INVALID_CREDENTIALS, ErrorCode.OTP_REQUIRED,
                                                      ErrorCode.OTP_INVALID],
                                     texts={429: "Too many logins from this address, or this account locked "
                                                 "from this address after five failures."})},
        examples=[
            _request("Password", {"email": "asha@example.com", "password": "a-long-passphrase"}),
            _request("With a one-time code", {"email": "admin@example.com", "password": "an-admin-passphrase",
                                              "otp": "492039"}),
            _response("Signed in", {"access": _ACCESS, "refresh": _REFRESH, "token_type": "Bearer",
                                    "user": USER_EXAMPLE}),
        ],
        description=(
            "Exchange email and password (and `otp`, for accounts with two-factor on: admins always) for an "
            "access token (5 min) and a refresh token (7 days; the sign-in ends 30 days after login however "
            "often it is refreshed). Five failed logins for one account from one address lock that pair "
            "for 15 minutes (429)."
        ),
    )
    def post(self, request):
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_authenticate(request=request, **data.validated_data)
        profile = UserOutputSerializer(_user_with_profiles(user)).data
        body = {**services.user_tokens(user), "token_type": "Bearer", "user": profile}
        return Response(body)


class RefreshApi(MethodCheckedMixin, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        tags=["auth"], operation_id="auth_refresh", summary="Get a new token pair for a refresh token",
        request=RefreshInputSerializer,
        responses={200: TokenPairOutputSerializer,
                   **error_responses(400, codes=[ErrorCode.TOKEN_INVALID],
                                     texts={401: "The refresh token is expired, tampered, or already used."})},
        examples=[_request("Refresh", {"refresh": _REFRESH}),
                  _response("A new pair", {"access": _ACCESS, "refresh": _REFRESH})],
        description=(
            "Rotate a refresh token: the answer carries a new pair and the old refresh token is dead. "
            "Sending a refresh token that was already rotated out ends the whole sign-in (every token of "
            "it), since two parties then hold it."
        ),
    )
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            return Response(services.tokens_refresh(refresh=data.validated_data["refresh"]))
        except (TokenError, RefreshRefused) as exc:
            raise InvalidToken(str(exc)) from exc


class LogoutApi(MethodCheckedMixin, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["auth"], operation_id="auth_logout", summary="Sign out: end one sign-in",
        request=RefreshInputSerializer,
        responses={204: None, **error_responses(400, 401, 403, texts={
            401: "No access token, or the access or refresh token is invalid (or not the caller's)."})},
        examples=[_request("Sign out", {"refresh": _REFRESH})],
        description="End the sign-in of the given refresh token (it must be the caller's): its refresh "
                    "and access tokens stop working.",
    )
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.user_logout(user=request.user, refresh=data.validated_data["refresh"])
        except (TokenError, RefreshRefused) as exc:
            raise InvalidToken(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(MethodCheckedMixin, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["auth"], operation_id="auth_logout_all", summary="Sign out everywhere: end every sign-in",
        request=None, responses={204: None, **error_responses(401)},
        description="Every refresh and access token of the caller stops working at once (all devices).",
    )
    def post(self, request):
        services.user_logout_everywhere(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(MethodCheckedMixin, APIView):
    permission_classes = [IsAuthenticated]
    # Guessing the current password with a stolen access token costs the login budget.
    throttle_classes = [LoginRateThrottle, RequestRateThrottle]

    @extend_schema(
        tags=["auth"], operation_id="auth_password_change", summary="Change the password",
        request=PasswordChangeInputSerializer,
        responses={200: TokenPairOutputSerializer, **error_responses(400, 401, 429, texts={
            400: "The current password is wrong, or the new one is weak.",
            429: "Too many attempts: the login lockout of this account from this address."})},
        examples=[_request("Change", {"old_password": "a-long-passphrase", "new_password": "a-new-long-passphrase"}),
                  _response("A new pair for this client", {"access": _ACCESS, "refresh": _REFRESH})],
        description="Change the password. Every other session and token of the account stops working; "
                    "the answer carries a new pair for this client. Wrong current passwords count towards "
                    "the login lockout of this account from this address.",
    )
    def post(self, request):
        data = PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.user_change_password(user=request.user, request=request, **data.validated_data))


class ProfileApi(MethodCheckedMixin, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["auth"], operation_id="auth_profile", summary="Get the signed-in user",
                   responses={200: UserOutputSerializer, **error_responses(401)},
                   examples=[_response("A patient", USER_EXAMPLE)])
    def get(self, request):
        return Response(UserOutputSerializer(_user_with_profiles(request.user)).data)

    @extend_schema(
        tags=["auth"], operation_id="auth_profile_partial_update",
        summary="Change your own name or mobile number",
        description=(
            "Any signed-in account (patient, doctor, admin) may change its own `name` and `mobile_no`, with "
            "the rules of register; fields left out stay as they are, and `mobile_no: \"\"` removes the "
            "number. The email, role and verification are not changed here. Which fields changed is "
            "recorded in the audit trail."
        ),
        request=ProfileUpdateInputSerializer,
        responses={200: UserOutputSerializer, **error_responses(400, 401)},
        examples=[
            OpenApiExample("New mobile number", value={"mobile_no": "+91 98765 43210"}, request_only=True),
            OpenApiExample(
                "The updated account", response_only=True, status_codes=["200"],
                value={"id": 42, "name": "Asha Rao", "email": "asha@example.com", "role": "patient",
                       "mobile_no": "+91 98765 43210", "is_verified": True, "is_active": True,
                       "created_at": "2026-11-02T09:30:00Z", "patient_id": 17, "doctor_id": None},
            ),
        ],
    )
    def patch(self, request):
        data = ProfileUpdateInputSerializer.validated(request.data)
        services.user_update_profile(user=request.user, **data)
        return Response(UserOutputSerializer(_user_with_profiles(request.user)).data)


_ADMIN_EXAMPLE = {"id": 7, "name": "Ravi Menon", "email": "ravi.menon@example.com", "role": "admin",
                  "mobile_no": "", "is_verified": True, "is_active": True, "created_at": "2026-12-01T08:15:00Z",
                  "patient_id": None, "doctor_id": None}


class AdminListCreateApi(MethodCheckedMixin, generics.ListAPIView):
    permission_classes = [IsAdmin]
    serializer_class = UserOutputSerializer

    def get_queryset(self):
        return admin_list()

    @extend_schema(
        operation_id="admins_list", tags=["admins"], summary="List the admin accounts",
        description="Every admin account, active or deactivated, oldest first. Any admin may list them.",
        responses={200: UserOutputSerializer(many=True), **error_responses(401, 403)},
        examples=[OpenApiExample("One page", response_only=True, status_codes=["200"],
                                 value=_ADMIN_EXAMPLE)],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="admins_create", tags=["admins"], summary="Create an admin account (superusers only)",
        description=(
            "A new account with role `admin`, verified, for the API (not the Django admin site). Admins must "
            "use two-factor authentication: until the new admin has set up an authenticator app in the portal "
            "(/accounts/two-factor/), API login answers 401 OTP_REQUIRED. Only superusers may create admins; "
            "other admins get 403 PERMISSION_DENIED. The password must pass the same rules as register."
        ),
        request=AdminCreateInputSerializer,
        responses={
            201: UserOutputSerializer, **error_responses(400, 401, 403, codes=[ErrorCode.EMAIL_TAKEN]),
        },
        examples=[
            OpenApiExample("New admin", request_only=True,
                           value={"name": "Ravi Menon", "email": "ravi.menon@example.com",
                                  "password": "quiet-harbour-lantern-58"}),
            OpenApiExample("Created", response_only=True, status_codes=["201"], value=_ADMIN_EXAMPLE),
        ],
    )
    def post(self, request):
        # Who may is checked before the body, so an admin who is not a superuser hears 403.
        services.admin_check_manage_allowed(request.user)
        data = AdminCreateInputSerializer.validated(request.data)
        user = services.admin_create(by=request.user, **data)
        return Response(UserOutputSerializer(_user_with_profiles(user)).data, status=status.HTTP_201_CREATED)


class AdminDetailApi(MethodCheckedMixin, APIView):
    permission_classes = [IsAdmin]
    queryset = User.objects.none()  # only tells the schema that {admin_id} is a user's

    @extend_schema(
        operation_id="admins_destroy", tags=["admins"], summary="Deactivate an admin account (superusers only)",
        description=(
            "The admin can no longer log in and every token and session of theirs stops working at once "
            "(their account and its audit trail stay). Deactivating one already inactive changes nothing "
            "(204). Only superusers may; other admins get 403 PERMISSION_DENIED. A superuser cannot "
            "deactivate themselves: 409 CANNOT_DEACTIVATE_SELF. An id that is not an admin's is a 404."
        ),
        responses={
            204: None,
            **error_responses(401, 403, 404, codes=[ErrorCode.CANNOT_DEACTIVATE_SELF],
                              texts={409: "Your own account."}),
        },
    )
    def delete(self, request, admin_id: int):
        services.admin_deactivate(by=request.user, admin_id=admin_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PatientListApi(MethodCheckedMixin, generics.ListAPIView):
    permission_classes = [IsAdmin]
    serializer_class = PatientOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Patient.objects.none()
        return patient_list_for_user(user=self.request.user)

    @extend_schema(operation_id="patients_list", tags=["patients"], summary="List patients (admin)",
                   responses={200: PatientOutputSerializer(many=True), **error_responses(401, 403)},
                   examples=[_response("A page of patients", PATIENT_EXAMPLE)])
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        audit_list("patient", count=len(response.data.get("results", ())))
        return response


class PatientMeApi(MethodCheckedMixin, APIView):
    permission_classes = [IsPatient]

    @extend_schema(operation_id="patients_me", tags=["patients"], summary="Get my patient profile (patient)",
                   description="The caller's own patient profile, with an `ETag` to send back as `If-Match`.",
                   responses={200: PatientOutputSerializer, **error_responses(401, 403)},
                   examples=[_response("My profile", PATIENT_EXAMPLE)])
    def get(self, request):
        patient = patient_get_for_user(user=request.user, patient_id=request.user.patient.pk)
        audit_read(patient)
        return etagged_response(request, PatientOutputSerializer(patient).data)


IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER,
    description="The ETag of the profile as last read (GET): the change is made only if it is still current, "
                "else 412 PRECONDITION_FAILED and nothing is written. Without it the change is made as is.",
)


class PatientDependentListApi(MethodCheckedMixin, APIView):
    """The caller's family members (dependents without a login of their own):
    list them, or add one the account then books for."""

    permission_classes = [IsPatient]

    @extend_schema(operation_id="patients_dependents_list", tags=["patients"],
                   summary="List my family members (patient)",
                   description="The caller's dependents: family members without a login of their own, "
                               "whom the account books for.",
                   responses={200: PatientOutputSerializer(many=True), **error_responses(401, 403)},
                   examples=[_response("One child", DEPENDENT_EXAMPLE)])
    def get(self, request):
        dependents = list(dependent_list(guardian=request.user.patient))
        # One row for the page (their guardian reading them), however many there are.
        audit_list("patient", count=len(dependents), patient_id=request.user.patient.pk)
        return Response(PatientOutputSerializer(dependents, many=True).data)

    @extend_schema(
        operation_id="patients_dependents_create", tags=["patients"], summary="Add a family member (patient)",
        request=DependentCreateInputSerializer,
        responses={201: PatientOutputSerializer, **error_responses(400, 401, 403)},
        examples=[_request("A child", {"name": "Maya Rao", "date_of_birth": "2019-04-02", "blood_group": "O+",
                                       "allergies": "Peanuts"}),
                  _response("Added", DEPENDENT_EXAMPLE, "201")],
        description="Add a family member (a child, a parent) without a login of their own; book for them "
                    "with `patient_id` of the answer. Their data is visible to this account, their doctors and admins.",
    )
    def post(self, request):
        data = DependentCreateInputSerializer.validated(request.data)
        dependent = services.dependent_create(guardian=request.user.patient, by=request.user, **data)
        return Response(PatientOutputSerializer(dependent).data, status=status.HTTP_201_CREATED)


class PatientDetailApi(MethodCheckedMixin, APIView):
    """The patient themselves (a dependent's guardian) and admins read and edit;
    a doctor the patient has an appointment with may read. Anyone else gets 404."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="patients_retrieve", tags=["patients"], summary="Get a patient",
                   description="The patient themselves (or a dependent's guardian) and admins; also a doctor the "
                               "patient has an appointment with. Anyone else gets 404. The answer has an `ETag` "
                               "to send back as `If-Match` with a change.",
                   responses={200: PatientOutputSerializer, **error_responses(401, 404)},
                   examples=[_response("A patient", PATIENT_EXAMPLE)])
    def get(self, request, patient_id: int):
        patient = patient_get_for_user(user=request.user, patient_id=patient_id)
        audit_read(patient)
        return etagged_response(request, PatientOutputSerializer(patient).data)

    def _update(self, request, patient_id: int, *, partial: bool):
        patient = patient_get_for_user(user=request.user, patient_id=patient_id)
        # Who may write is the service's rule; checked before the body so a
        # doctor gets 403, not a 400 about fields they may not touch anyway.
        services.patient_check_update_allowed(actor=request.user, patient=patient)
        data = PatientUpdateInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        # With If-Match, only while the profile is as the client last read it (else 412).
        write_if_match(request, current_etag=lambda: _patient_etag_locked(request.user, patient.pk),
                       write=lambda: services.patient_update(actor=request.user, patient=patient, **data.validated_data))
        return etagged_response(
            request, PatientOutputSerializer(patient_get_for_user(user=request.user, patient_id=patient.pk)).data)

    @extend_schema(operation_id="patients_update", tags=["patients"], summary="Replace a patient's profile",
                   description="The patient themselves (or a dependent's guardian) and admins; a doctor gets 403 "
                               "PERMISSION_DENIED, anyone else 404.",
                   request=PatientUpdateInputSerializer, parameters=[IF_MATCH],
                   responses={200: PatientOutputSerializer, **error_responses(400, 401, 403, 404, 412)},
                   examples=[_request("Every field", {
                       "name": "Asha Rao", "mobile_no": "+91 98765 43210", "date_of_birth": "1990-05-17",
                       "blood_group": "B+", "allergies": "Penicillin", "emergency_contact": "Ravi Rao, +91 98765 01234",
                       "wants_reminders": True}),
                             _response("Replaced", PATIENT_EXAMPLE)])
    def put(self, request, patient_id: int):
        return self._update(request, patient_id, partial=False)

    @extend_schema(operation_id="patients_partial_update", tags=["patients"],
                   summary="Change some of a patient's profile", description="The patient themselves (or a dependent's guardian) and admins; a doctor gets 403 "
                               "PERMISSION_DENIED, anyone else 404.",
                   request=PatientUpdateInputSerializer, parameters=[IF_MATCH],
                   responses={200: PatientOutputSerializer, **error_responses(400, 401, 403, 404, 412)},
                   examples=[_request("New allergies", {"allergies": "Penicillin, latex"}),
                             _response("Changed", {**PATIENT_EXAMPLE, "allergies": "Penicillin, latex"})])
    def patch(self, request, patient_id: int):
        return self._update(request, patient_id, partial=True)


def _patient_etag_locked(user: User, patient_id: int) -> str:
    """The profile's ETag as `user` reads it, its row locked until the write's transaction ends."""
    patient_get_for_update(patient_id=patient_id)
    return representation_etag(PatientOutputSerializer(patient_get_for_user(user=user, patient_id=patient_id)).data)


class PatientAccessLogApi(MethodCheckedMixin, generics.ListAPIView):
    """Who read or changed the patient's record: the patient themselves or an
    admin. The patient's own actions and the system's are left out. Latest first."""

    permission_classes = [IsPatientOrAdmin]
    serializer_class = AuditEntryOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        # Raises PatientNotFoundError (404) for a patient who is not the caller.
        patient = patient_get_for_user(user=self.request.user, patient_id=self.kwargs["patient_id"])
        # A dependent's own reads are the guardian's: left out like the patient's own.
        return audit_list_for_patient(patient_id=patient.pk, self_user_id=patient.contact_user.pk)

    @extend_schema(operation_id="patients_access_log", tags=["patients"],
                   summary="List who read or changed a patient's record",
                   description="For the patient themselves (or their guardian) and admins; latest first. The "
                               "patient's own actions and the system's are left out.",
                   responses={200: AuditEntryOutputSerializer(many=True), **error_responses(401, 403, 404)},
                   examples=[_response("A doctor read the profile", AUDIT_EXAMPLE)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
