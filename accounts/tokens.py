"""What an access token says about its user, and how a request checks it is
still good without loading the user.

A token carries the user's role, their patient id (for a patient) and the
user's token version at issue. Each request compares that version with the
user's current one, kept in the shared cache (one GET; on a miss one indexed
read, cached for TOKEN_STATE_TTL seconds). Changing a user's password, role
or active flag raises their version (User.save) and drops the cached state,
so every token issued before stops working on the next request, on every
app server.
"""

from django.core.cache import cache
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

ROLE_CLAIM = "role"
VERSION_CLAIM = "ver"
PATIENT_CLAIM = "pid"
# As long as an access token lives: a user's requests within it read the cache
# only. A change drops the entry at once; this bounds one a change missed.
TOKEN_STATE_TTL = int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds())


def _state_key(user_id) -> str:
    return f"auth:token-state:{user_id}"


def token_claims(user) -> dict:
    """The claims a token of `user` carries besides simplejwt's own."""
    claims = {ROLE_CLAIM: user.role, VERSION_CLAIM: user.token_version}
    patient = getattr(user, "patient", None) if user.role == "patient" else None
    if patient is not None:
        claims[PATIENT_CLAIM] = patient.pk
    return claims


def _issued(token_class, user):
    """A new token of `token_class` for `user` with our claims; the state it is
    checked against is cached at once, so the user's first request with it
    does not read their row either."""
    token = token_class.for_user(user)
    for name, value in token_claims(user).items():
        token[name] = value
    _remember(user)
    return token


def user_refresh_token(user) -> RefreshToken:
    """A new refresh token for `user`; the access tokens made from it inherit its claims."""
    return _issued(RefreshToken, user)


def user_access_token(user) -> AccessToken:
    """An access token alone, with no refresh token recorded."""
    return _issued(AccessToken, user)


def _remember(user) -> None:
    cache.set(_state_key(user.pk), f"{user.token_version}:{int(user.is_active)}", TOKEN_STATE_TTL)


def token_state(user_id) -> tuple[int, bool] | None:
    """The user's (token version, is active), or None when no such user exists."""
    key = _state_key(user_id)
    state = cache.get(key)
    if state is None:
        from accounts.models import User  # noqa: PLC0415 (models import this module)

        row = User.objects.filter(pk=user_id).values_list("token_version", "is_active").first()
        state = "" if row is None else f"{row[0]}:{int(row[1])}"
        cache.set(key, state, TOKEN_STATE_TTL)
    if state == "":
        return None
    version, active = state.split(":")
    return int(version), active == "1"


def token_state_forget(user_id) -> None:
    """Drop the cached state: the next request reads the user's row again."""
    cache.delete(_state_key(user_id))
