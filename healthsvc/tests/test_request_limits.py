"""Hostile bodies and URLs are the client's 4xx, never a 500: a body over the
limit is a 413, deep JSON a 400, a long URL a 414; under /api/ as the error
envelope, in the portal as a plain page; and nothing of it is logged as an error."""

import io
import json
import logging

import pytest
from django.test import RequestFactory

from healthsvc.api.parsers import MAX_DEPTH
from healthsvc.middleware import RequestLimitsMiddleware
from scheduling.models import Appointment
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
THREE_MB = 3 * 1024 * 1024


@pytest.fixture
def no_errors_logged(caplog):
    caplog.set_level(logging.WARNING)
    yield
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


def _json(client, path, body: str, **extra):
    return client.generic("POST", path, body, content_type="application/json", **extra)


def _big_login() -> str:
    return json.dumps({"email": "pat@example.com", "password": "x" * THREE_MB})


def _nested(depth: int):
    value = "deep"
    for _ in range(depth):
        value = [value]
    return value


def _assert_envelope(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["error_code"] == code and body["detail"] and set(body) == {"detail", "error_code"}


def test_a_3mb_body_to_anonymous_login_is_a_413_envelope(api_client, patient, no_errors_logged):
    response = _json(api_client, f"{API}/auth/login", _big_login())
    _assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert "1048576 bytes" in response.json()["detail"]
    assert response["X-Request-ID"]  # refused inside the request-id middleware, so still traceable


def test_a_3mb_body_to_an_authenticated_endpoint_is_a_413_and_books_nothing(auth_client, patient, slot,
                                                                          no_errors_logged):
    body = json.dumps({"slot_id": slot.pk, "reason_for_visit": "x" * THREE_MB})
    response = _json(auth_client(patient.user), f"{API}/appointments/book", body)
    _assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    slot.refresh_from_db()
    assert slot.booked_count == 0 and not Appointment.objects.exists()


def test_the_limit_comes_from_the_setting(api_client, patient, settings, no_errors_logged):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps({"email": "pat@example.com", "password": "y" * 200})
    _assert_envelope(_json(api_client, f"{API}/auth/login", body), 413, "PAYLOAD_TOO_LARGE")
    small = json.dumps({"email": "pat@example.com", "password": "y"})
    assert _json(api_client, f"{API}/auth/login", small).status_code == 401  # read, and answered on its merits


def test_a_body_at_the_limit_is_read(api_client, patient, settings):
    body = json.dumps({"email": "pat@example.com", "password": "wrong"})
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body)
    response = _json(api_client, f"{API}/auth/login", body)
    assert response.status_code == 401 and response.json()["error_code"] == "INVALID_CREDENTIALS"


def test_deeply_nested_json_is_a_400_envelope(api_client, no_errors_logged):
    response = _json(api_client, f"{API}/auth/login", "[" * 100_000)
    _assert_envelope(response, 400, "VALIDATION_ERROR")
    assert "nested" in response.json()["detail"]


def test_json_nested_past_the_limit_is_refused_even_where_the_view_ignores_the_key(auth_client, patient, slot,
                                                                                   no_errors_logged):
    # Deep enough to parse, not to hash: the idempotency key walks the whole body.
    body = json.dumps({"slot_id": slot.pk, "extra": _nested(500)})
    response = _json(auth_client(patient.user), f"{API}/appointments/book", body, HTTP_IDEMPOTENCY_KEY="k-1")
    _assert_envelope(response, 400, "VALIDATION_ERROR")
    assert not Appointment.objects.exists()


def test_json_nested_up_to_the_limit_is_accepted(api_client, patient):
    from accounts.tests.factories import TEST_PASSWORD

    body = json.dumps({"email": patient.user.email, "password": TEST_PASSWORD, "extra": _nested(MAX_DEPTH - 1)})
    assert _json(api_client, f"{API}/auth/login", body).status_code == 200


def test_a_3mb_form_post_to_the_portal_login_is_a_413_page(client, patient, no_errors_logged):
    response = client.post("/accounts/login/", {"username": patient.user.email, "password": "x" * THREE_MB})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert b"more data than the site accepts" in response.content and b"Traceback" not in response.content


def test_a_5000_character_url_is_a_414_envelope(api_client, no_errors_logged):
    response = api_client.get(f"{API}/clinics?city=" + "a" * 5000)
    _assert_envelope(response, 414, "URI_TOO_LONG")
    assert "4096" in response.json()["detail"]


def test_a_long_url_is_refused_before_authentication(api_client, no_errors_logged):
    _assert_envelope(api_client.get(f"{API}/appointments?status=" + "a" * 5000), 414, "URI_TOO_LONG")


def test_a_long_path_with_no_query_is_a_414_too(api_client, no_errors_logged):
    _assert_envelope(api_client.get(f"{API}/" + "a" * 5000), 414, "URI_TOO_LONG")


def test_a_url_at_the_limit_is_served(api_client, settings):
    path = f"{API}/clinics?city="
    settings.MAX_URL_LENGTH = len(path) + 10
    assert api_client.get(path + "a" * 10).status_code == 200
    _assert_envelope(api_client.get(path + "a" * 11), 414, "URI_TOO_LONG")


def test_a_long_portal_url_is_a_414_page(client, no_errors_logged):
    response = client.get("/?q=" + "a" * 5000)
    assert response.status_code == 414 and response["Content-Type"].startswith("text/html")
    assert b"address is longer than the site accepts" in response.content


# --- a body without Content-Length (chunked), as an ASGI server hands it on ------


def _unsized_request(body: bytes, path: str = f"{API}/auth/login"):
    request = RequestFactory().post(path, content_type="application/json")
    del request.META["CONTENT_LENGTH"]
    request._stream = io.BytesIO(body)  # what the server read; nothing said how long it is
    return request


def _never_called(request):
    raise AssertionError("the view must not see an over-large body")


def test_a_chunked_body_over_the_limit_is_refused_while_reading(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = RequestLimitsMiddleware(_never_called)(_unsized_request(b"x" * 1001))
    _assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_a_chunked_body_within_the_limit_reaches_the_view_whole(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    seen = []
    RequestLimitsMiddleware(lambda request: seen.append(request.body) or "answer")(_unsized_request(b"y" * 1000))
    assert seen == [b"y" * 1000]


@pytest.mark.parametrize("value", ["-5", "lots", "1e3", "١٢"])
def test_a_malformed_content_length_is_a_400_not_a_500(value, no_errors_logged):
    request = RequestFactory().post(f"{API}/auth/login", data=b"{}", content_type="application/json")
    request.META["CONTENT_LENGTH"] = value
    _assert_envelope(RequestLimitsMiddleware(_never_called)(request), 400, "VALIDATION_ERROR")


def test_a_view_that_still_meets_an_over_large_body_answers_413():
    """Defence in depth, should the middleware ever be left out."""
    from django.core.exceptions import RequestDataTooBig

    from healthsvc.api.exception_handler import exception_handler

    response = exception_handler(RequestDataTooBig("too big"), {"request": None})
    assert response.status_code == 413 and response.data["error_code"] == "PAYLOAD_TOO_LARGE"


@pytest.fixture(scope="module")
def openapi():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_documents_414_everywhere_and_413_where_a_body_is_read(openapi):
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "414" in responses, (method, path)
            if "requestBody" in operation and method in {"post", "put", "patch"}:
                assert "413" in responses, (method, path)
    assert "URI_TOO_LONG" in openapi["paths"][f"{API}/clinics"]["get"]["responses"]["414"]["description"]


# --- bodies that could mean two things (healthsvc.api.parsers) ---------------------------


def _book(auth_client, patient, body: bytes, content_type="application/json"):
    return auth_client(patient.user).generic("POST", f"{API}/appointments/book", body, content_type=content_type)


def test_a_duplicate_key_is_a_400_and_books_nothing(auth_client, patient, slot, no_errors_logged):
    # Was a 201: Python's decoder kept the last slot_id; a proxy may have read the first.
    other = SlotFactory(doctor=slot.doctor)
    body = f'{{"slot_id": {slot.pk}, "slot_id": {other.pk}}}'.encode()
    response = _book(auth_client, patient, body)
    _assert_envelope(response, 400, "VALIDATION_ERROR")
    assert "duplicate key 'slot_id'" in response.json()["detail"]
    assert not Appointment.objects.exists()


def test_a_duplicate_key_in_a_nested_object_is_refused_too(auth_client, patient, slot):
    body = f'{{"slot_id": {slot.pk}, "x": {{"a": 1, "a": 2}}}}'.encode()
    _assert_envelope(_book(auth_client, patient, body), 400, "VALIDATION_ERROR")
    assert not Appointment.objects.exists()


def test_the_body_is_read_as_utf8_whatever_the_charset_says(auth_client, patient, slot):
    # Was decoded as UTF-7, so "+ADw-b+AD4-" reached the database as "<b>".
    body = json.dumps({"slot_id": slot.pk, "reason_for_visit": "+ADw-b+AD4-"}).encode()
    response = _book(auth_client, patient, body, content_type="application/json; charset=utf-7")
    assert response.status_code == 201, response.content
    assert Appointment.objects.get().reason_for_visit == "+ADw-b+AD4-"


def test_a_body_in_another_encoding_is_a_400_and_books_nothing(auth_client, patient, slot, no_errors_logged):
    # Was a 201 (decoded as the latin-1 the header named) storing "Ã©" for "é"
    # when the bytes were UTF-8; bytes that are not UTF-8 are now refused.
    body = json.dumps({"slot_id": slot.pk, "reason_for_visit": "Caf\u00e9"}, ensure_ascii=False).encode("latin-1")
    response = _book(auth_client, patient, body, content_type="application/json; charset=latin-1")
    _assert_envelope(response, 400, "VALIDATION_ERROR")
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("content_type", ["*/*", "application/*", "*/json"])
def test_a_wildcard_content_type_is_a_415_and_books_nothing(auth_client, patient, slot, content_type,
                                                             no_errors_logged):
    # Was a 201: DRF matched the wildcard to its JSON parser.
    body = json.dumps({"slot_id": slot.pk}).encode()
    _assert_envelope(_book(auth_client, patient, body, content_type=content_type), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert not Appointment.objects.exists()


def test_json_with_its_own_content_type_still_books(auth_client, patient, slot):
    body = json.dumps({"slot_id": slot.pk}).encode()
    assert _book(auth_client, patient, body, content_type="application/json; charset=utf-8").status_code == 201
