"""Real-browser tests: Playwright for Python driving Debian's Chromium
(/usr/bin/chromium) against pytest-django's live server.

They skip, with the reason, only when Chromium or Playwright is missing, and
not even then under CI (REQUIRE_BROWSER=1): there a missing browser fails.
Screenshots of the main pages go to artifacts/screenshots/ (git-ignored).
"""

import os
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None


def _missing() -> str | None:
    if sync_playwright is None:
        return "Playwright is not installed (pip install -r requirements-dev.txt)"
    if not CHROMIUM.exists():
        return f"Chromium is missing at {CHROMIUM} (apt-get install -y chromium)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but {reason}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=f"browser test skipped: {reason}"))


@pytest.fixture(scope="module")
def _allow_orm_beside_playwright():
    """Playwright's sync API keeps an event loop running in this thread, so
    Django would refuse ORM calls from the test code (factories, asserts)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_allow_orm_beside_playwright):
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def _plain_http_cookies(settings):
    # The live server speaks plain HTTP; production's Secure cookies stay on there.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def new_page(browser, live_server, _plain_http_cookies):
    """`new_page(phone=False)`: a page in a fresh browser context (its own cookies)."""
    contexts = []

    def make(phone: bool = False):
        context = browser.new_context(base_url=live_server.url, **(PHONE if phone else DESKTOP))
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def shot():
    """`shot(page, name)`: a full-page screenshot under artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture(autouse=True)
def _plain_cookie_names(settings):
    """Production's __Host- cookie names (healthsvc/settings/base.py) are kept
    by a browser only from an https origin; the live server speaks plain http
    on localhost, so here the cookies keep Django's default names."""
    settings.SESSION_COOKIE_NAME = "sessionid"
    settings.CSRF_COOKIE_NAME = "csrftoken"


def staff_login(page, user, password: str, next_path: str) -> None:
    """Log a staff user in through the browser as staff do: the admin's login
    sends them to the portal's, which takes the password and then a code from
    their authenticator (a TOTP device made here for the test)."""
    from django_otp.oath import totp

    from accounts import two_factor

    device = two_factor.totp_setup_start(user)
    device.confirmed = True
    device.save()
    page.goto(f"/admin/login/?next={next_path}")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Enter your authentication code").wait_for()
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.get_by_label("Authentication code").fill(str(code).zfill(device.digits))
    page.get_by_role("button", name="Verify").click()


# --- helpers the browser tests share ------------------------------------------------


def local_time(clinic, hour, minute=0, days=1):
    """That wall-clock time `days` from today in the clinic's own zone."""
    day = timezone.localdate(timezone=clinic.tzinfo) + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=clinic.tzinfo)


def no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


UNLABELLED_CONTROLS = """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label')).map(el => el.name)"""


def fits_and_is_labelled(page):
    """No sideways scrolling on the phone, one <h1>, and a label on every form field."""
    no_sideways_scroll(page)
    assert page.locator("h1").count() == 1, page.url
    assert page.evaluate(UNLABELLED_CONTROLS) == [], page.url
