"""Versioning and change policy: CHANGELOG.md, the version the OpenAPI
document carries, and the deprecation headers (on a view made for the test:
no real operation is deprecated now, and a test says so)."""

import re
from datetime import date

import pytest
from django.conf import settings
from django.urls import get_resolver, path
from django.utils.http import parse_http_date
from drf_spectacular.generators import SchemaGenerator
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from healthsvc import urls as project_urls
from healthsvc.api.deprecation import deprecated
from healthsvc.api.views import MethodCheckedMixin

CHANGELOG = (settings.BASE_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
VERSION_HEADING = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (Unreleased|\d{4}-\d{2}-\d{2})$", re.M)


@deprecated(since=date(2030, 1, 1), sunset=date(2030, 7, 1), methods=["GET"])
class _OldThingApi(MethodCheckedMixin, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        if "fail" in request.query_params:
            raise ValidationError({"fail": ["as asked"]})
        return Response({"old": True})

    def post(self, request):
        return Response({"new": True})


@deprecated(since=date(2030, 1, 1), fields=["legacy_name"])
class _FieldGoingApi(MethodCheckedMixin, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        return Response({"name": "x", "legacy_name": "x"})


urlpatterns = [
    path("api/v1/test-old-thing", _OldThingApi.as_view()),
    path("api/v1/test-field-going", _FieldGoingApi.as_view()),
    *project_urls.urlpatterns,
]


def test_the_newest_version_is_the_openapi_documents(client):
    versions = VERSION_HEADING.findall(CHANGELOG)
    assert versions and versions[0][0] == settings.SPECTACULAR_SETTINGS["VERSION"]
    info = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["info"]
    assert info["version"] == versions[0][0] and "(/api/changelog)" in info["description"]


def test_versions_are_1x_newest_first_and_dated_once_released():
    versions = VERSION_HEADING.findall(CHANGELOG)
    numbers = [tuple(int(n) for n in v.split(".")) for v, _ in versions]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == len(numbers)
    assert all(major == 1 for major, _, _ in numbers) and numbers[-1] == (1, 0, 0)
    dated = [when for _, when in versions if when != "Unreleased"]
    assert dated == sorted(dated, reverse=True)
    assert [when for _, when in versions].count("Unreleased") <= 1 and versions[-1][1] != "Unreleased"


def test_the_changelog_is_served(client):
    response = client.get("/api/changelog")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    assert response.content.decode() == CHANGELOG


@pytest.mark.urls(__name__)
def test_a_deprecated_operation_sends_deprecation_sunset_and_link(api_client):
    response = api_client.get("/api/v1/test-old-thing")
    assert response.status_code == 200 and response.json() == {"old": True}
    assert response["Deprecation"] == "@1893456000"  # RFC 9745: 2030-01-01T00:00:00Z as a Date
    assert parse_http_date(response["Sunset"]) == 1909094400  # RFC 8594: 2030-07-01, an HTTP date
    assert response["Sunset"] == "Mon, 01 Jul 2030 00:00:00 GMT"
    assert response["Link"] == '</api/changelog#deprecations>; rel="deprecation"; type="text/markdown"'


@pytest.mark.urls(__name__)
def test_its_errors_say_so_too_and_other_methods_do_not(api_client):
    failed = api_client.get("/api/v1/test-old-thing", {"fail": "1"})
    assert failed.status_code == 400 and failed.json()["error_code"] == "VALIDATION_ERROR"
    assert failed["Deprecation"].startswith("@")
    kept = api_client.post("/api/v1/test-old-thing", {}, format="json")
    assert kept.status_code == 200 and "Deprecation" not in kept and "Sunset" not in kept


@pytest.mark.urls(__name__)
def test_a_deprecated_field_without_a_sunset_sends_only_deprecation_and_link(api_client):
    response = api_client.get("/api/v1/test-field-going")
    assert response["Deprecation"].startswith("@") and "Sunset" not in response
    assert 'rel="deprecation"' in response["Link"]


@pytest.mark.urls(__name__)
def test_the_openapi_document_marks_them():
    schema = SchemaGenerator(patterns=urlpatterns[:2]).get_schema(request=None, public=True)
    old = schema["paths"]["/api/v1/test-old-thing"]
    assert old["get"]["deprecated"] is True and "2030-07-01" in old["get"]["description"]
    assert not old["post"].get("deprecated")
    field = schema["paths"]["/api/v1/test-field-going"]["get"]
    assert not field.get("deprecated") and "`legacy_name`" in field["description"]


def _views(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _views(pattern.url_patterns)
        else:
            yield getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)


def test_what_is_deprecated_is_what_the_changelog_lists():
    marked = sorted({view.__name__ for view in _views(get_resolver().url_patterns) if hasattr(view, "deprecation")})
    listed = CHANGELOG.split("## Deprecations", 1)[1].split("\n## ", 1)[0].strip()
    assert (marked == []) == (listed == "None."), (marked, listed)
    for name in marked:
        assert name in listed
