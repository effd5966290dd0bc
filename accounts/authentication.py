"""Bearer JWT authentication that does not load the user on every request."""

from django.db import DEFAULT_DB_ALIAS
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.models import Patient, User
from accounts.tokens import FAMILY_CLAIM, PATIENT_CLAIM, ROLE_CLAIM, VERSION_CLAIM, token_state


class ClaimsJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication, with the user made from the token's claims.

    The signature, expiry and token type are checked as simplejwt does; then
    the token's version must be the user's current one and the user active
    (accounts.tokens.token_state: the shared cache, a read on a miss), and
    the token's sign-in (family) not ended, in the same cache round trip. The
    request's user is a User with only id, role, is_active and token_version
    loaded; any other field loads the rest of the row on first use (one
    query), so code that reads a name or an email still gets the truth. A
    patient's Patient comes the same way, with only its id. A token without
    these claims was not made here and is refused.
    """

    def get_user(self, validated_token) -> User:
        if VERSION_CLAIM not in validated_token or ROLE_CLAIM not in validated_token:
            raise InvalidToken("Token lacks the claims this service issues")
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        state = token_state(user_id, validated_token.get(FAMILY_CLAIM))
        if state is None:
            raise InvalidToken("Token has been revoked")
        version, active = state
        if not active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if validated_token[VERSION_CLAIM] != version:
            raise InvalidToken("Token has been revoked")
        return user_from_claims(user_id, validated_token)


def user_from_claims(user_id, claims) -> User:
    user = User.from_db(
        DEFAULT_DB_ALIAS, ["id", "role", "is_active", "token_version"],
        [int(user_id), claims[ROLE_CLAIM], True, claims[VERSION_CLAIM]],
    )
    user._load_whole_row = True
    patient_id = claims.get(PATIENT_CLAIM)
    if patient_id is not None:
        patient = Patient.from_db(DEFAULT_DB_ALIAS, ["id", "user_id"], [patient_id, user.pk])
        patient._load_whole_row = True
        User.patient.related.set_cached_value(user, patient)
        Patient.user.field.set_cached_value(patient, user)
    return user


class ClaimsJWTScheme(SimpleJWTScheme):
    """The OpenAPI document describes it as simplejwt's bearer JWT."""

    target_class = ClaimsJWTAuthentication
