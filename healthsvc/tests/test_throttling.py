"""The default rate limit: one fixed-window counter per request, per user when
logged in and per client IP otherwise."""

import pytest
from django.core.cache import cache

from healthsvc.api import throttling
from healthsvc.api.throttling import RequestRateThrottle, counter_hit
from healthsvc.testing import assert_error

LIST = "/api/v1/clinics"


@pytest.fixture
def low_rates(monkeypatch):
    monkeypatch.setattr(RequestRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "2/min"})


def test_anonymous_callers_are_counted_per_ip(api_client, db, low_rates):
    for _ in range(3):
        assert api_client.get(LIST).status_code == 200
    response = api_client.get(LIST)
    assert_error(response, 429, "RATE_LIMITED")
    assert 0 < int(response["Retry-After"]) <= 60
    assert api_client.get(LIST, REMOTE_ADDR="10.1.2.3").status_code == 200


def test_logged_in_callers_are_counted_per_user_not_per_ip(auth_client, patient, other_patient, low_rates):
    first, second = auth_client(patient.user), auth_client(other_patient.user)
    assert first.get(LIST).status_code == 200
    assert first.get(LIST, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert_error(first.get(LIST, REMOTE_ADDR="10.9.9.9"), 429, "RATE_LIMITED")
    assert second.get(LIST).status_code == 200  # same IP, another user


def test_a_new_window_starts_the_count_again(api_client, db, low_rates, monkeypatch):
    now = [1_000_000 * 60.0]  # the start of a minute
    monkeypatch.setattr(throttling.time, "time", lambda: now[0])
    for _ in range(3):
        api_client.get(LIST)
    assert api_client.get(LIST).status_code == 429
    now[0] += 60
    assert api_client.get(LIST).status_code == 200


def test_the_counter_is_one_number_in_the_cache(db):
    assert [counter_hit("t:k", ttl=60) for _ in range(3)] == [1, 2, 3]
    assert cache.get("t:k") == 3


@pytest.fixture
def redis_cache(settings):
    """Django's Redis cache on the machine's Redis (database 14), when there is one."""
    import redis

    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("needs Redis on 127.0.0.1:6379 (the production cache)")
    # Django's setting_changed handler makes the cache handler read the new setting.
    settings.CACHES = {"default": {"BACKEND": "healthsvc.cache.RedisCache", "LOCATION": url}}
    cache.clear()
    yield
    cache.clear()


def test_on_redis_a_hit_is_one_round_trip_and_the_counter_expires(redis_cache, monkeypatch):
    import redis

    sent = []
    original = redis.client.Pipeline.execute

    def counting(self, *args, **kwargs):
        sent.append([command[0][0] for command in self.command_stack])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counting)
    assert [counter_hit("t:redis", ttl=60) for _ in range(2)] == [1, 2]
    assert sent == [["INCRBY", "EXPIRE"], ["INCRBY", "EXPIRE"]]
    client = throttling._redis_client()
    assert 0 < client.ttl(cache.make_and_validate_key("t:redis")) <= 60
    assert cache.get("t:redis") == 2
