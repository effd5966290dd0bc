"""Access and refresh tokens: what they say about their user, how a request
checks one is still good without loading the user, and refresh-token families.

simplejwt signs, encodes and validates the tokens (HS256 only, `iss` and
`aud` set and checked, expiry); this module adds what a hospital needs on top.

- An access token carries the user's role, their patient id (for a patient),
  the user's token version at issue and its sign-in's family. Each request
  compares the version with the user's current one and checks the family was
  not ended, both in the shared cache in one round trip (on a miss one indexed
  read of the user). Changing a user's password, role or active flag raises
  their version (User.save), so every token issued before stops working on
  the next request, on every app server.
- A refresh token belongs to a TokenFamily recorded in the database, with only
  its jti and a hash kept (RefreshTokenRecord). Refreshing locks the token's
  row, so of concurrent refreshes of one token exactly one rotates it; a token
  already rotated out that comes back ends the whole family (RFC 9700 4.14.2).
"""

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import RefreshTokenRecord, TokenFamily, User
from audit.services import audit_record
from healthsvc.cache import CACHE_DOWN_ERRORS, cache_down, unless_cache_down

ROLE_CLAIM = "role"
VERSION_CLAIM = "ver"
PATIENT_CLAIM = "pid"
FAMILY_CLAIM = "fam"
# As long as an access token lives: a user's requests within it read the cache
# only. A change drops the entry at once; this bounds one a change missed.
TOKEN_STATE_TTL = int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds())


class RefreshRefused(Exception):
    """A refresh token that cannot be exchanged (ended family, reuse, unknown)."""


def _state_key(user_id) -> str:
    return f"auth:token-state:{user_id}"


def _family_ended_key(family_id) -> str:
    return f"auth:family-ended:{family_id}"


def token_claims(user) -> dict:
    """The claims a token of `user` carries besides simplejwt's own."""
    claims = {ROLE_CLAIM: user.role, VERSION_CLAIM: user.token_version}
    patient = getattr(user, "patient", None) if user.role == User.Role.PATIENT else None
    if patient is not None:
        claims[PATIENT_CLAIM] = patient.pk
    return claims


def _sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _remember(user) -> None:
    # add, not set: a fresher state written meanwhile (a revocation) wins.
    with unless_cache_down("remembering a user's token state"):
        cache.add(_state_key(user.pk), f"{user.token_version}:{int(user.is_active)}", TOKEN_STATE_TTL)


def _record(token: RefreshToken, family: TokenFamily) -> None:
    RefreshTokenRecord.objects.create(
        jti=token[api_settings.JTI_CLAIM], family=family, token_sha256=_sha256(str(token)),
        issued_at=timezone.now(), expires_at=datetime_from_epoch(token["exp"]),
    )


def _refresh_in(family: TokenFamily, claims: dict) -> RefreshToken:
    """A new refresh token of `family` with these claims, recorded; it expires
    REFRESH_TOKEN_LIFETIME from now or when the family does, whichever is first."""
    token = RefreshToken()
    token[api_settings.USER_ID_CLAIM] = str(family.user_id)
    for name, value in claims.items():
        token[name] = value
    token[FAMILY_CLAIM] = family.pk
    if datetime_from_epoch(token["exp"]) > family.expires_at:
        token.set_exp(from_time=family.expires_at, lifetime=timedelta(0))
    _record(token, family)
    return token


@transaction.atomic
def family_start(user) -> RefreshToken:
    """A sign-in: a new family and its first refresh token. Its `.access_token`
    is the first access token (the claims, the family included, are copied)."""
    family = TokenFamily.objects.create(user=user, expires_at=timezone.now() + settings.REFRESH_FAMILY_LIFETIME)
    _remember(user)
    return _refresh_in(family, token_claims(user))


def user_access_token(user, lifetime: timedelta | None = None) -> AccessToken:
    """An access token alone, in no family (nothing recorded): for tools that
    act as the user, e.g. the benchmark. It still dies with the user's version."""
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    for name, value in token_claims(user).items():
        token[name] = value
    _remember(user)
    return token


def refresh_rotate(raw: str) -> RefreshToken:
    """Exchange a refresh token for the next of its family. Raises simplejwt's TokenError
    for a token simplejwt refuses (signature, expiry, type, issuer, audience)
    and RefreshRefused when the family has ended, the user's tokens were
    revoked since, or the token was already rotated out (which ends the family
    first: only one party may hold a family's current token)."""
    token = RefreshToken(raw)
    with transaction.atomic():
        record = (
            RefreshTokenRecord.objects.select_for_update().select_related("family")
            .filter(jti=token[api_settings.JTI_CLAIM]).first()
        )
        if record is None or not hmac.compare_digest(record.token_sha256, _sha256(raw)):
            refusal = "Unknown refresh token."
        elif not record.family.is_live:
            refusal = "This sign-in has ended; log in again."
        elif record.rotated_at is not None:
            family_end(record.family, TokenFamily.EndReason.REUSE)
            # Someone holds a token that was already exchanged: stolen, or a replay.
            audit_record("token_reuse", object_type="user", object_id=record.family.user_id, actor=None,
                         detail={"family": str(record.family.pk)})
            refusal = "This refresh token was already used; the sign-in has ended for safety."
        elif not _claims_current(token):
            family_end(record.family, TokenFamily.EndReason.CREDENTIALS)
            refusal = "The account's credentials changed; log in again."
        else:
            record.rotated_at = timezone.now()
            record.save(update_fields=["rotated_at"])
            claims = {name: token[name] for name in (ROLE_CLAIM, VERSION_CLAIM, PATIENT_CLAIM) if name in token}
            return _refresh_in(record.family, claims)
    raise RefreshRefused(refusal)


def _claims_current(token) -> bool:
    """The user's row itself, not the cache: a refresh mints a new pair, so it
    must not trust a cached state a revocation could have raced."""
    row = User.objects.filter(pk=token[api_settings.USER_ID_CLAIM]).values_list("token_version", "is_active").first()
    return row is not None and row[1] and token.get(VERSION_CLAIM) == row[0]


def refresh_family(raw: str) -> TokenFamily:
    """The family of a valid refresh token (for logout). Raises TokenError or RefreshRefused."""
    token = RefreshToken(raw)
    record = RefreshTokenRecord.objects.select_related("family").filter(jti=token[api_settings.JTI_CLAIM]).first()
    if record is None or not hmac.compare_digest(record.token_sha256, _sha256(raw)):
        raise RefreshRefused("Unknown refresh token.")
    return record.family


def family_end(family: TokenFamily, reason: str) -> None:
    """End one family: its refresh tokens at once, its access tokens on their
    next request (a cache mark that outlives any access token of it)."""
    TokenFamily.objects.filter(pk=family.pk).end(reason)
    family_id = family.pk

    def mark():
        # With the cache down the row alone ends the family: token_state reads
        # the rows while the cache is away.
        with unless_cache_down("marking a sign-in ended"):
            cache.set(_family_ended_key(family_id), 1, TOKEN_STATE_TTL + 60)

    mark()
    transaction.on_commit(mark)


def user_tokens_revoke(user_id, reason: str = TokenFamily.EndReason.LOGOUT_ALL) -> None:
    """Every token of the user stops working: their version rises (access
    tokens) and their families end (refresh tokens)."""
    User.objects.filter(pk=user_id).update(token_version=F("token_version") + 1)
    TokenFamily.objects.filter(user_id=user_id).end(reason)
    token_state_forget(user_id)
    transaction.on_commit(lambda: token_state_refresh(user_id))


def token_state(user_id, family_id=None) -> tuple[int, bool] | None:
    """The user's (token version, is active), or None when no such user exists
    or the family `family_id` has ended. One cache round trip when cached."""
    key = _state_key(user_id)
    try:
        if family_id is None:
            state = cache.get(key)
        else:
            found = cache.get_many([key, _family_ended_key(family_id)])
            if _family_ended_key(family_id) in found:
                return None
            state = found.get(key)
    except CACHE_DOWN_ERRORS as exc:
        cache_down(exc, "checking a token")
        return _state_from_rows(user_id, family_id)
    if state is None:
        state = _state_from_row(user_id)
        # add, not set: if a revocation committed after the read above, its
        # fresh state (token_state_refresh) is already there and must stay.
        with unless_cache_down("remembering a user's token state"):
            cache.add(key, state, TOKEN_STATE_TTL)
    if state == "":
        return None
    version, active = state.split(":")
    return int(version), active == "1"


def _state_from_rows(user_id, family_id) -> tuple[int, bool] | None:
    """token_state from the database alone (the cache is down): the user's row
    and, for a token of a sign-in, that the sign-in has not ended."""
    if family_id is not None and not TokenFamily.objects.filter(pk=family_id, ended_at__isnull=True).exists():
        return None
    state = _state_from_row(user_id)
    if state == "":
        return None
    version, active = state.split(":")
    return int(version), active == "1"


def _state_from_row(user_id) -> str:
    row = User.objects.filter(pk=user_id).values_list("token_version", "is_active").first()
    return "" if row is None else f"{row[0]}:{int(row[1])}"


def token_state_forget(user_id) -> None:
    """Drop the cached state: the next request reads the user's row again."""
    with unless_cache_down("dropping a user's token state"):
        cache.delete(_state_key(user_id))


def token_state_refresh(user_id) -> None:
    """Write the user's committed state (after a revocation commits): a request
    that read the row before the commit and fills the cache late cannot put
    the old version back (it only adds where nothing is)."""
    with unless_cache_down("refreshing a user's token state"):
        cache.set(_state_key(user_id), _state_from_row(user_id), TOKEN_STATE_TTL)

