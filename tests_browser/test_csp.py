"""Every page under the Content-Security-Policy in a real browser: Chromium
reports no violation on any portal page (anonymous, patient, doctor), the
admin or the API docs, and the pages' scripts still do their work (Swagger
UI and ReDoc render the operations, the admin's widgets start).

Violations are caught twice: a `securitypolicyviolation` listener installed
before any page script runs, and Chromium's console messages."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import AdminUserFactory, PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from healthsvc.testing import force_login_verified
from scheduling import services

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the conftest skips these tests then
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber}`);
});"""


@pytest.fixture
def world():
    """A clinic with a doctor, two free slots and one booked by the patient."""
    clinic = ClinicFactory(name="Sunrise Heart Clinic", city="Pune", timezone="Asia/Kolkata")
    doctor = DoctorFactory(clinic=clinic, specialty="Cardiology", user__name="Anil Mehta",
                           user__email="dr.mehta@example.com", max_patients_per_day=12)
    patient = PatientFactory(user__name="Priya Patel", user__email="priya@example.com")
    day = timezone.localdate(timezone=clinic.tzinfo) + timedelta(days=2)
    slots = [services.slot_create(doctor=doctor, start=datetime.combine(day, time(hour), tzinfo=clinic.tzinfo))
             for hour in (10, 11, 12)]
    appointment = services.appointment_book(patient=patient, slot_id=slots[0].pk, reason="Palpitations")
    return {"doctor": doctor, "patient": patient, "free_slot": slots[1], "appointment": appointment}


@pytest.fixture
def watched_page(new_page, live_server):
    """`watched_page(user=None)`: a page whose CSP violations are collected,
    signed in as `user` by its session cookie (not through a login form, which
    may grow a second factor)."""

    def make(user=None):
        page = new_page()
        page.context.add_init_script(LISTEN)
        page.console_reports = []
        page.on("console", lambda message: "Content Security Policy" in message.text
                and page.console_reports.append(message.text))
        page.page_errors = []
        page.on("pageerror", lambda error: page.page_errors.append(str(error)))
        if user is not None:
            client = Client()
            if user.is_staff:
                force_login_verified(client, user)  # the admin wants a session that passed two-factor
            else:
                client.force_login(user)
            name = settings.SESSION_COOKIE_NAME
            page.context.add_cookies([{
                "name": name, "value": client.cookies[name].value, "url": live_server.url,
                "secure": name.startswith(("__Host-", "__Secure-")),
            }])
        return page

    return make


def _visit(page, path: str, heading: str | re.Pattern):
    """Open `path`, see its main heading, and assert the browser blocked nothing."""
    response = page.goto(path)
    assert response.status == 200, (path, response.status)
    assert "nonce-" in response.headers["content-security-policy"] or path.startswith(("/admin", "/docs")), path
    expect(page.get_by_role("heading", name=heading).first).to_be_visible()
    _no_violations(page, path)


def _no_violations(page, path: str):
    page.wait_for_load_state("load")
    assert page.evaluate("window.__cspViolations") == [], (path, page.evaluate("window.__cspViolations"))
    assert page.console_reports == [], path
    assert page.page_errors == [], path


def test_anonymous_portal_pages_run_under_the_policy(watched_page, world):
    page = watched_page()
    doctor = world["doctor"]
    _visit(page, "/", re.compile("doctor", re.I))
    _visit(page, "/doctors/?q=Cardiology", re.compile("doctor", re.I))
    expect(page.get_by_text("Anil Mehta").first).to_be_visible()
    _visit(page, f"/doctors/{doctor.pk}/", re.compile("Anil Mehta"))
    _visit(page, "/accounts/register/", re.compile("account", re.I))
    _visit(page, "/accounts/password/reset/", re.compile("password", re.I))
    _visit(page, "/accounts/login/", "Log in")
    # site.js ran: after a failed login it moved the focus to the error summary.
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    _no_violations(page, "the failed login")


def test_patient_pages_run_under_the_policy(watched_page, world):
    page = watched_page(world["patient"].user)
    appointment = world["appointment"]
    _visit(page, "/", re.compile("doctor", re.I))
    _visit(page, f"/book/{world['free_slot'].pk}/", "Confirm your appointment")
    _visit(page, "/appointments/", re.compile("appointments", re.I))
    _visit(page, f"/appointments/{appointment.pk}/", re.compile("Anil Mehta|appointment", re.I))
    _visit(page, "/profile/", re.compile("profile", re.I))
    _visit(page, "/accounts/password/change/", re.compile("password", re.I))


def test_doctor_pages_run_under_the_policy(watched_page, world):
    page = watched_page(world["doctor"].user)
    appointment = world["appointment"]
    _visit(page, "/doctor/", re.compile(".+"))
    _visit(page, "/doctor/week/", "My week")
    _visit(page, "/doctor/slots/", re.compile("slots", re.I))
    _visit(page, "/doctor/time-off/", re.compile("time off", re.I))
    _visit(page, f"/doctor/appointments/{appointment.pk}/", re.compile("Priya Patel|appointment", re.I))
    # Two-factor set-up: its QR code is an <img> with a data: URI, allowed by img-src.
    _visit(page, "/accounts/two-factor/", "Two-factor authentication")
    page.get_by_role("button", name="Set up two-factor").click()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert page.evaluate("img => img.naturalWidth > 0", qr.element_handle())
    _no_violations(page, "/accounts/two-factor/ (set-up)")


def test_admin_pages_and_their_widgets_run_under_the_policy(watched_page, world):
    page = watched_page(AdminUserFactory(email="root@example.com", is_superuser=True))
    appointment = world["appointment"]
    _visit(page, "/admin/", "Site administration")
    _visit(page, "/admin/scheduling/appointment/", re.compile("appointment", re.I))
    _visit(page, f"/admin/scheduling/appointment/{appointment.pk}/change/", re.compile("appointment", re.I))
    _visit(page, "/admin/scheduling/appointmentslot/add/", re.compile("slot", re.I))
    # The admin's own scripts work: the date widget's shortcuts and the autocomplete open.
    expect(page.get_by_role("link", name="Today").first).to_be_visible()
    page.locator(".field-doctor .select2-selection").click()
    expect(page.locator(".select2-results__option", has_text="Anil Mehta")).to_be_visible()
    _visit(page, "/admin/scheduling/appointment/book/", "Book an appointment for a patient")
    _no_violations(page, "the admin's widgets")


def test_swagger_ui_and_redoc_render_under_the_policy(watched_page, world):
    page = watched_page()
    response = page.goto("/docs")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    # Swagger UI's script ran: it fetched the schema and drew the operations.
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/auth/login").first).to_be_visible()
    page.locator(".opblock-summary-path", has_text="/api/v1/auth/login").first.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    _no_violations(page, "/docs")

    response = page.goto("/redoc")
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "nonce-" in policy
    # ReDoc's script ran and its styles (injected <style> elements with the nonce) applied.
    # It lays out the whole document before showing anything: seconds on 2 busy cores.
    expect(page.get_by_role("heading", name=re.compile("healthsvc API")).first).to_be_visible(timeout=20_000)
    expect(page.get_by_text("/api/v1/auth/login").first).to_be_attached()
    assert page.locator("style[data-styled]").count() >= 1
    assert page.evaluate("getComputedStyle(document.querySelector('.menu-content')).position") != "static"
    _no_violations(page, "/redoc")
