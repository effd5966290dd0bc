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
    monkeypatch.setattr(throttling, "clock", lambda: now[0])
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


# --- RateLimit-* headers (draft-ietf-httpapi-ratelimit-headers) ----------------------


def _budget(response) -> tuple[int, int, int]:
    return (int(response["RateLimit-Limit"]), int(response["RateLimit-Remaining"]),
            int(response["RateLimit-Reset"]))


def test_each_answer_tells_the_budget_left_and_the_429_keeps_retry_after(api_client, db, low_rates, monkeypatch):
    now = [1_000_000 * 60.0 + 15]  # 15 seconds into a minute: 45 left in the window
    monkeypatch.setattr(throttling, "clock", lambda: now[0])
    assert [_budget(api_client.get(LIST)) for _ in range(3)] == [(3, 2, 45), (3, 1, 45), (3, 0, 45)]
    refused = api_client.get(LIST)
    assert_error(refused, 429, "RATE_LIMITED")
    assert _budget(refused) == (3, 0, 45)
    assert int(refused["Retry-After"]) == 45


def test_the_reset_counts_down_and_a_new_window_restores_the_budget(api_client, db, low_rates, monkeypatch):
    now = [1_000_000 * 60.0 + 59.5]
    monkeypatch.setattr(throttling, "clock", lambda: now[0])
    assert _budget(api_client.get(LIST)) == (3, 2, 1)  # half a second, rounded up, never 0
    now[0] += 1
    assert _budget(api_client.get(LIST)) == (3, 2, 60)


def test_a_signed_in_caller_sees_the_user_budget(auth_client, patient, low_rates):
    assert _budget(auth_client(patient.user).get(LIST))[:2] == (2, 1)


def test_with_two_throttles_the_headers_show_the_one_nearest_its_limit(api_client, db, monkeypatch):
    rates = {"anon": "50/min", "login": "2/min"}
    monkeypatch.setattr(throttling.LoginRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(throttling.AnonRequestRateThrottle, "THROTTLE_RATES", rates)
    login = "/api/v1/auth/login"
    first = api_client.post(login, {"email": "nobody@example.com", "password": "x"}, format="json")
    assert first.status_code == 401 and _budget(first)[:2] == (2, 1)  # login's 2/min, not anon's 50/min
    api_client.post(login, {"email": "nobody@example.com", "password": "x"}, format="json")
    refused = api_client.post(login, {"email": "nobody@example.com", "password": "x"}, format="json")
    assert_error(refused, 429, "RATE_LIMITED")
    assert _budget(refused)[:2] == (2, 0) and "Retry-After" in refused


def test_an_unthrottled_answer_carries_no_rate_limit_headers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and "RateLimit-Limit" not in response


def test_the_portal_forms_throttles_add_no_api_headers(client, db):
    response = client.post("/accounts/password/reset/", {"email": "a@example.com"})
    assert response.status_code == 302 and "RateLimit-Limit" not in response


def test_with_the_cache_down_the_count_is_unknown_and_no_headers_are_sent(api_client, db, monkeypatch):
    monkeypatch.setattr(throttling, "counter_hit", lambda key, ttl: 0)
    response = api_client.get(LIST)
    assert response.status_code == 200
    assert not any(name.startswith("RateLimit-") for name in response.headers)
