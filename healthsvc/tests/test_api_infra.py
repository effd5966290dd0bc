"""The error envelope, throttling, health probes and the API documentation."""

import logging

import pytest
from django.db import connection
from django.urls import path, reverse
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


# --- found by the schema-driven fuzzer (scripts/api_fuzz.sh) -------------------------------


@pytest.mark.parametrize(
    ("method", "url", "who"),
    [("trace", "/api/v1/slots/1", "patient"), ("put", "/api/v1/patients", "patient"),
     ("delete", "/api/v1/appointments", None), ("put", "/api/v1/slots/1", "patient")],
)
def test_an_unsupported_method_is_405_before_authentication_and_permissions(api_client, auth_client, patient,
                                                                             method, url, who):
    # DRF checked permissions first: TRACE on a slot was a 403, as if the method existed for someone.
    client = auth_client(patient.user) if who else api_client
    response = getattr(client, method)(url)
    assert response.status_code == 405 and response.json()["error_code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in response["Allow"] and method.upper() not in response["Allow"]


@pytest.mark.parametrize(("params", "field"), [({"page": "0"}, "page"), ({"page": "abc"}, "page"),
                                               ({"page": "last"}, "page"), ({"page_size": "0"}, "page_size"),
                                               ({"page_size": "ten"}, "page_size"), ({"page_size": ""}, "page_size"),
                                               ({"page_size": "-5"}, "page_size")])
def test_a_malformed_page_or_page_size_is_a_validation_error(api_client, params, field):
    # page_size=0 or "ten" was silently replaced by 20; page=0 was a 404 "Invalid page".
    response = api_client.get(reverse("api:clinic-list"), params)
    assert response.status_code == 400 and response.json()["error_code"] == "VALIDATION_ERROR"
    assert set(response.json()["errors"]) == {field}


def test_a_page_past_the_last_is_404_and_a_large_page_size_is_capped(api_client):
    assert api_client.get(reverse("api:clinic-list"), {"page": "2"}).json()["error_code"] == "NOT_FOUND"
    assert api_client.get(reverse("api:clinic-list"), {"page": "1", "page_size": "5000"}).status_code == 200


@pytest.fixture(scope="module")
def openapi():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_operation_documents_the_statuses_any_view_can_answer(openapi):
    for route, operations in openapi["paths"].items():
        for method, operation in operations.items():
            responses = set(operation["responses"])
            assert "429" in responses, (method, route)  # every view is throttled
            # (The calendar feed reads no token at all: its URL is the secret.)
            if route not in {"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh",
                            "/feeds/doctors/{token}.ics"}:
                assert "401" in responses, (method, route)  # a bad token is refused wherever one is read
            if "{" in route:
                assert "404" in responses, (method, route)
    for route in ("/api/v1/clinics", "/api/v1/doctors", "/api/v1/slots", "/api/v1/appointments", "/api/v1/patients"):
        assert {"400", "404"} <= set(openapi["paths"][route]["get"]["responses"]), route  # page, page_size


def test_request_strings_say_what_the_server_refuses(openapi, api_client):
    import re

    city = openapi["components"]["schemas"]["ClinicInput"]["properties"]["city"]
    assert city["minLength"] == 1
    for text, accepted in [("Pune", True), (" Pune ", True), ("", False), ("   ", False), ("\u3000\x1c", False),
                           ("Pu\x00ne", False)]:
        assert bool(re.search(city["pattern"], text)) == accepted, repr(text)


def test_integer_ids_in_paths_are_documented_as_positive_bigints(openapi):
    parameter = openapi["paths"]["/api/v1/slots/{slot_id}"]["get"]["parameters"][0]
    assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


def test_booking_links_to_the_operations_on_the_new_appointment(openapi):
    links = openapi["paths"]["/api/v1/appointments/book"]["post"]["responses"]["201"]["links"]
    assert links["CancelAppointment"] == {
        "operationId": "appointments_cancel", "description": "Cancel it.",
        "parameters": {"appointment_id": "$response.body#/id"},
    }
    operation_ids = {op["operationId"] for ops in openapi["paths"].values() for op in ops.values()}
    for path_item in openapi["paths"].values():
        for operation in path_item.values():
            for response in operation["responses"].values():
                for link in response.get("links", {}).values():
                    assert link["operationId"] in operation_ids
