"""The API docs work offline: /docs (Swagger UI) and /redoc make no request to
any host but this server (no Google Fonts, no Redocly logo, no validator
badge), recorded in a real browser from the first request of each page."""

import re
from urllib.parse import urlsplit

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the conftest skips these tests then
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def recorded_page(new_page):
    """A page that records the URL of every request it (or a worker it starts) makes."""
    page = new_page()
    page.requests = []
    page.context.on("request", lambda request: page.requests.append(request.url))
    return page


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _off_site(page, live_server) -> list[str]:
    own = _origin(live_server.url)
    # blob: and data: URLs are made in the page itself (ReDoc's search worker); no network.
    return [url for url in page.requests if not url.startswith(("blob:", "data:")) and _origin(url) != own]


def test_swagger_ui_asks_only_this_server(recorded_page, live_server):
    page = recorded_page
    page.goto("/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/auth/login").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert any(url.endswith("/api/schema/") for url in page.requests), page.requests  # it did fetch
    assert _off_site(page, live_server) == []
    assert page.locator(".swagger-ui .errors-wrapper, img[src*='validator']").count() == 0  # no badge


def test_redoc_asks_only_this_server(recorded_page, live_server):
    page = recorded_page
    page.goto("/redoc")
    expect(page.get_by_role("heading", name=re.compile("healthsvc API")).first).to_be_visible(timeout=20_000)
    expect(page.get_by_text("API docs by Redocly")).to_be_attached()  # the menu's footer, where the logo was
    page.wait_for_load_state("networkidle")
    assert any(url.endswith("/api/schema/") for url in page.requests), page.requests
    assert _off_site(page, live_server) == []
    assert page.locator("img[src*='redoc.ly']").count() == 0
    # The theme names no web font the page would have to fetch.
    family = page.evaluate("getComputedStyle(document.querySelector('.api-content') || document.body).fontFamily")
    assert "Montserrat" not in family and "Roboto" not in family.split(",")[0]
