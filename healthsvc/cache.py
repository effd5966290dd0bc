"""Django's Redis cache, with one redis-py client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` object on every cache
call (`get_client`), which costs more than the round trip to a local Redis
(a tenth of a millisecond each, several per request). The client is
thread-safe and only wraps the pool, so one per pool does the same work.

Below it, what the code that uses the cache does when Redis is down."""

import logging
import time
from contextlib import contextmanager

from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self.skip_until = 0.0  # see cache_down()

    def get_client(self, key=None, *, write=False):
        if time.monotonic() < self.skip_until:
            # Just found down: fail at once rather than wait out another timeout.
            raise CACHE_DOWN_ERRORS[0]("The cache was found unavailable a moment ago; not trying again yet.")
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient


# --- When Redis is away ------------------------------------------------------
# The cache only speeds things up or counts requests; the database holds every
# fact. So a cache that is down or hung (CACHE_SOCKET_TIMEOUT bounds the wait)
# is worked around where it is used, never a 500: rate limits let requests
# through, the catalogue is computed from the database, and token checks read
# the user's and the sign-in's rows (accounts.tokens).
try:
    from redis.exceptions import ConnectionError as _RedisConnectionError
    from redis.exceptions import TimeoutError as _RedisTimeoutError
except ImportError:  # pragma: no cover - redis is in requirements.txt
    CACHE_DOWN_ERRORS: tuple[type[Exception], ...] = ()
else:
    # BusyLoadingError (Redis reading its dump after a restart) is a ConnectionError.
    CACHE_DOWN_ERRORS = (_RedisConnectionError, _RedisTimeoutError)

logger = logging.getLogger("healthsvc.cache")
WARN_EVERY_SECONDS = 10.0
# After a failure this process does not call Redis for this long: a request
# makes several cache calls, and each would wait out its own timeout.
SKIP_SECONDS = 1.0
_last_warning = 0.0


def cache_down(exc: Exception, doing: str) -> None:
    """Note that the cache failed while `doing`: the next SKIP_SECONDS skip it,
    and a warning is logged at most every WARN_EVERY_SECONDS per process, so an
    outage is seen but does not flood the log."""
    global _last_warning
    now = time.monotonic()
    client = getattr(default_cache, "_cache", None)
    if isinstance(client, RedisCacheClient):
        client.skip_until = now + SKIP_SECONDS
    if now - _last_warning >= WARN_EVERY_SECONDS:
        _last_warning = now
        logger.warning("Cache unavailable while %s (%s: %s); working without it.", doing, type(exc).__name__, exc)


@contextmanager
def unless_cache_down(doing: str):
    """Run a cache write that may be skipped: if the cache is down, log and go on."""
    try:
        yield
    except CACHE_DOWN_ERRORS as exc:
        cache_down(exc, doing)
