"""Redis down: the cache only speeds things up and counts requests, so every
request still gets its proper answer (never a 500), from the database, and a
signed-out token stays signed out. Nothing here needs a Redis: the cache
points at a port where nothing listens."""

import logging

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.tests.factories import TEST_PASSWORD
from healthsvc.api.throttling import counter_hit
from scheduling.models import AppointmentSlot
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {"default": {
        "BACKEND": "healthsvc.cache.RedisCache", "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }}
    settings.CATALOGUE_CACHE_SECONDS = 30
    import redis

    with pytest.raises(redis.exceptions.ConnectionError):
        cache.get("anything")  # the cache really is unreachable


def _login(api_client, user):
    response = api_client.post(reverse("api:auth-login"), {"email": user.email, "password": TEST_PASSWORD},
                               format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_sign_in_use_and_sign_out_work_and_the_ended_token_is_refused(redis_down, api_client, patient):
    tokens = _login(api_client, patient.user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.get(reverse("api:auth-profile")).json()["email"] == patient.user.email
    assert api_client.post(reverse("api:auth-logout"), {"refresh": tokens["refresh"]}, format="json").status_code == 204
    # The sign-in's row is ended; with no cache mark, the row itself refuses the access token.
    response = api_client.get(reverse("api:auth-profile"))
    assert response.status_code == 401 and response.json()["error_code"] == "TOKEN_INVALID"


def test_logout_everywhere_ends_the_tokens_while_the_cache_is_down(redis_down, api_client, patient):
    tokens = _login(api_client, patient.user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.post(reverse("api:auth-logout-all")).status_code == 204
    assert api_client.get(reverse("api:auth-profile")).status_code == 401


def test_the_catalogue_is_served_from_the_database(redis_down, api_client, doctor):
    response = api_client.get("/api/v1/doctors")
    assert response.status_code == 200 and response.headers["ETag"]
    assert [row["id"] for row in response.json()["results"]] == [doctor.pk]


def test_a_booking_is_saved_and_answered_although_the_catalogue_cannot_be_marked(redis_down, auth_client, patient):
    slot = SlotFactory(capacity=1)
    response = auth_client(patient.user).post(reverse("api:appointment-book"), {"slot_id": slot.pk}, format="json")
    assert response.status_code == 201, response.content
    assert AppointmentSlot.objects.get(pk=slot.pk).booked_count == 1


def test_rate_limits_let_requests_through_and_one_warning_says_why(redis_down, client, patient, caplog):
    assert counter_hit("t:down", ttl=60) == 0
    with caplog.at_level(logging.WARNING, logger="healthsvc.cache"):
        for _ in range(3):
            page = client.post(reverse("accounts:login"), {"username": patient.user.email, "password": "wrong"})
            assert page.status_code == 200 and page.context["form"].errors
    warnings = [r for r in caplog.records if r.name == "healthsvc.cache"]
    assert len(warnings) <= 1


def test_after_one_failure_the_process_skips_the_cache_for_a_moment(redis_down, monkeypatch):
    """A request makes several cache calls; only the first waits for Redis."""
    import redis

    connects = []
    original = redis.connection.AbstractConnection.connect
    monkeypatch.setattr(redis.connection.AbstractConnection, "connect",
                        lambda self: connects.append(1) or original(self))
    assert counter_hit("t:a", ttl=60) == 0 and counter_hit("t:b", ttl=60) == 0
    assert len(connects) == 1
    cache._cache.skip_until = 0.0  # the moment has passed
    assert counter_hit("t:c", ttl=60) == 0
    assert len(connects) == 2
