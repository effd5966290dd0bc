"""The error envelope, throttling, health probes and the API documentation."""

import logging

import pytest
from django.db import connection
from django.urls import path, reverse
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import LoginApi, RegisterApi
from accounts.tests.factories import TEST_PASSWORD
from healthsvc import urls as project_urls

pytestmark = pytest.mark.django_db


class _Boom(APIView):
    permission_classes = []
    authentication_classes = []

    def get(self, request):
        raise RuntimeError("SELECT secret FROM settings -- /srv/app/secret.py")


urlpatterns = [path("api/v1/boom", _Boom.as_view()), *project_urls.urlpatterns]
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@pytest.mark.urls(__name__)
def test_an_unexpected_error_is_a_bare_500_envelope_logged_with_the_request_id(api_client, caplog):
    with caplog.at_level(logging.ERROR, logger="healthsvc.api"):
        response = api_client.get("/api/v1/boom", HTTP_X_REQUEST_ID="req-12345678")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error.", "error_code": "SERVER_ERROR"}
    assert "secret" not in response.content.decode() and "Traceback" not in response.content.decode()
    assert response["X-Request-ID"] == "req-12345678"
    assert any("req-12345678" in r.getMessage() for r in caplog.records)


def test_unknown_api_path_is_a_json_404(api_client):
    response = api_client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"


def test_wrong_method_is_405_with_the_envelope(api_client):
    response = api_client.get(reverse("api:auth-login"))
    assert response.status_code == 405 and response.json()["error_code"] == "METHOD_NOT_ALLOWED"


def test_login_is_throttled_per_ip_with_retry_after(api_client, patient, monkeypatch):
    monkeypatch.setitem(LoginApi.throttle_classes[0].THROTTLE_RATES, "login", "3/min")
    for _ in range(3):
        assert api_client.post(reverse("api:auth-login"), {"email": "pat@example.com", "password": "x"}).status_code == 401
    response = api_client.post(reverse("api:auth-login"), {"email": "pat@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert response.json()["error_code"] == "RATE_LIMITED" and int(response["Retry-After"]) > 0
    other_ip = api_client.post(reverse("api:auth-login"), {"email": "pat@example.com", "password": TEST_PASSWORD},
                               REMOTE_ADDR="10.9.8.7")
    assert other_ip.status_code == 200


def test_register_is_throttled_per_ip(api_client, monkeypatch):
    monkeypatch.setitem(RegisterApi.throttle_classes[0].THROTTLE_RATES, "register", "1/min")
    api_client.post(reverse("api:auth-register"), {"name": "A", "email": "a@example.com", "password": "plum-orchard-42"})
    response = api_client.post(reverse("api:auth-register"),
                               {"name": "B", "email": "b@example.com", "password": "plum-orchard-42"})
    assert response.status_code == 429 and response.json()["error_code"] == "RATE_LIMITED"


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_readyz_is_200_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["database"] == "ok"


def test_readyz_is_503_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["database"] == "down"


def test_docs_and_schema_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    for page in ("/docs", "/redoc"):
        html = client.get(page).content.decode()
        assert "cdn.jsdelivr" not in html and "unpkg.com" not in html and "/static/drf_spectacular_sidecar/" in html
