"""Rate limits as fixed-window counters in the shared cache: one round trip each.

DRF's SimpleRateThrottle keeps a list of timestamps per client and rewrites
it on every request (a GET and a SET of a pickled list that grows with the
rate). A counter per client and window is one `INCR` (with its `EXPIRE`, in
the same pipeline) on Redis. The price is the fixed window's edge: a client
may spend one window's budget at its end and the next at the start of the
next, so up to twice the rate over a moment; that is what most public APIs
accept (GitHub's and Stripe's limits are fixed windows too).

The counts live in the default cache: Redis in production, so every app
server shares them; Django's local-memory cache in tests and `make run`.

Each API request's count also answers the client: `RateLimit-Limit`,
`RateLimit-Remaining` and `RateLimit-Reset` (seconds until the window ends,
draft-ietf-httpapi-ratelimit-headers), set by RateLimitHeadersMiddleware on
200s and 429s alike, from the throttle nearest to its limit. With Redis down
the count is unknown (counter_hit gives 0): no headers then, rather than a
Remaining that claims a full budget.
"""

import hashlib
import math
import time
import unicodedata
from dataclasses import dataclass

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from healthsvc.cache import CACHE_DOWN_ERRORS, cache_down
from healthsvc.http import client_ip



def clock() -> float:
    """The time the windows are counted in (the test suite holds it still, so
    a test's requests never straddle a window's edge)."""
    return time.time()


def _redis_client():
    """The redis-py client behind the Redis cache (healthsvc.cache keeps one per
    pool), or None for another backend."""
    backend = getattr(cache, "_cache", None)
    return backend.get_client(write=True) if hasattr(backend, "get_client") else None


def counter_hit(key: str, ttl: int) -> int:
    """Add one to the counter `key` (made with a lifetime of `ttl` seconds when
    new) and return its value: one round trip to Redis. With Redis down, 0:
    the limits let requests through rather than refuse every one."""
    try:
        client = _redis_client()
        if client is not None:
            name = cache.make_and_validate_key(key)
            pipe = client.pipeline(transaction=False)
            pipe.incr(name)
            pipe.expire(name, ttl, nx=True)
            count, _ = pipe.execute()
            return count
    except CACHE_DOWN_ERRORS as exc:
        cache_down(exc, "counting requests for a rate limit")
        return 0
    cache.add(key, 0, ttl)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, ttl)
        return 1


@dataclass(frozen=True)
class RateLimitState:
    """One throttle's budget as the client should see it."""

    limit: int
    remaining: int
    reset: int  # whole seconds until the window ends (at least 1)

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(self.reset)}


RATE_LIMIT_ATTR = "_rate_limit_state"


def _remember(request, state: RateLimitState) -> None:
    """Keep the tightest budget of the request's throttles on its HttpRequest,
    for RateLimitHeadersMiddleware. Portal forms (a plain HttpRequest) and the
    reset-mail throttle (no request) get no headers."""
    if not isinstance(request, Request):
        return
    django_request = request._request
    held = getattr(django_request, RATE_LIMIT_ATTR, None)
    if held is None or (state.remaining, -state.reset) < (held.remaining, -held.reset):
        setattr(django_request, RATE_LIMIT_ATTR, state)


def rate_limit_state(request) -> RateLimitState | None:
    return getattr(request, RATE_LIMIT_ATTR, None)


class FixedWindowRateThrottle(SimpleRateThrottle):
    """`rate` requests per client and window (DRF's rate strings: "120/min").

    Keeps DRF's interface (scope, THROTTLE_RATES, get_cache_key, wait) so
    views and settings use it as any DRF throttle."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = clock()
        window = int(now // self.duration)
        self._wait = (window + 1) * self.duration - now
        count = counter_hit(f"{key}:{window}", ttl=int(self.duration) + 1)
        if count:  # 0: the cache is down and the count unknown
            _remember(request, RateLimitState(
                limit=self.num_requests, remaining=max(self.num_requests - count, 0),
                reset=max(math.ceil(self._wait), 1)))
        return count <= self.num_requests

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)

    def get_ident(self, request) -> str:
        """The client address (healthsvc.http.client_ip), never a value the
        client chose: DRF's own reading keys on the whole X-Forwarded-For
        header when NUM_PROXIES is unset, so a new header meant a new budget."""
        return client_ip(request)


class RequestRateThrottle(FixedWindowRateThrottle):
    """The default limit of every API request: per user when logged in ("user"
    rate), per client IP otherwise ("anon" rate). One throttle, one counter,
    where DRF's AnonRateThrottle and UserRateThrottle paid two each."""

    def __init__(self):
        pass  # the scope, so the rate, depends on the request

    def allow_request(self, request, view) -> bool:
        user = request.user
        self.scope = "user" if user and user.is_authenticated else "anon"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        user = request.user
        ident = user.pk if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonRequestRateThrottle(FixedWindowRateThrottle):
    """The "anon" rate for views that name their throttles (login, register)."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PerIpRateThrottle(FixedWindowRateThrottle):
    """Counts per client IP whether or not the caller is logged in (for login
    and register, which are attacked anonymously)."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginRateThrottle(PerIpRateThrottle):
    scope = "login"


class RegisterRateThrottle(PerIpRateThrottle):
    scope = "register"


class PasswordResetRateThrottle(PerIpRateThrottle):
    scope = "password_reset"


class PasswordResetMailThrottle(FixedWindowRateThrottle):
    """Reset mails per account, keyed on the email as typed (lowercased), so
    a flood of requests for one address sends it a few mails, not hundreds."""

    scope = "password_reset_mail"

    def allow_email(self, email: str) -> bool:
        # Folded as Django's reset form matches accounts (NFKC, casefold), so no
        # other spelling of the address gets a budget of its own.
        folded = unicodedata.normalize("NFKC", (email or "").strip()).casefold()
        self._email = hashlib.sha256(folded.encode()).hexdigest()
        return self.allow_request(None, None)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self._email}
