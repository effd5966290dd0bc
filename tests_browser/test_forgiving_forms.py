"""Forgiving forms in a real browser (issue 12): a stale tab gets the branded
CSRF page, the booking reason survives the idle logout and a new login, a
throttled registration keeps its fields, and a time the patient holds is
shown as theirs (also after Back and a second submit)."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import TEST_PASSWORD, PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from healthsvc.api.throttling import RegisterRateThrottle
from scheduling import services
from scheduling.models import Appointment

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the conftest skips these tests then
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Chest pain when climbing stairs"


@pytest.fixture
def slots():
    clinic = ClinicFactory(name="Sunrise Heart Clinic", city="Pune", timezone="Asia/Kolkata")
    doctor = DoctorFactory(clinic=clinic, specialty="Cardiology", user__name="Anil Mehta")
    day = timezone.localdate(timezone=clinic.tzinfo) + timedelta(days=2)
    return [services.slot_create(doctor=doctor, start=datetime.combine(day, time(hour), tzinfo=clinic.tzinfo))
            for hour in (10, 11)]


@pytest.fixture
def patient():
    return PatientFactory(user__name="Priya Patel", user__email="priya@example.com")


def _log_in(page, email, next_url=""):
    page.goto(f"/accounts/login/{'?next=' + next_url if next_url else ''}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()



def _idle_logout(page):
    """Fifteen idle minutes later the session has ended: the browser drops its
    cookie (the CSRF cookie stays, as it does)."""
    kept = [c for c in page.context.cookies() if c["name"] != "sessionid"]
    page.context.clear_cookies()
    page.context.add_cookies(kept)

def test_a_stale_tab_gets_the_branded_page_and_nothing_is_booked(new_page, shot, slots, patient):
    page = new_page()
    _log_in(page, patient.user.email, next_url=f"/book/{slots[0].pk}/")
    expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    page.get_by_label("Reason for the visit").fill(REASON)

    # In another tab of the same browser: log out and in again (a new CSRF secret).
    other = page.context.new_page()
    other.goto("/")
    other.get_by_role("button", name=re.compile("^Log out")).click()
    _log_in(other, patient.user.email)
    expect(other.get_by_role("status").first).to_contain_text("logged in as Priya Patel")

    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("heading", name="This page had expired")).to_be_visible()
    expect(page.get_by_text("Nothing was saved or booked.")).to_be_visible()
    expect(page.get_by_text("CSRF verification failed")).to_have_count(0)
    shot(page, "desktop-csrf-failure")
    page.get_by_role("link", name="Back to the page you were on").click()
    expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    assert not Appointment.objects.exists()


def test_the_reason_survives_the_idle_logout_and_a_new_login(new_page, shot, slots, patient):
    page = new_page()
    _log_in(page, patient.user.email, next_url=f"/book/{slots[0].pk}/")
    page.get_by_label("Reason for the visit").fill(REASON)

    _idle_logout(page)
    page.get_by_role("button", name="Book this appointment").click()

    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_text("your booking is still here. Nothing was booked yet.")).to_be_visible()
    assert REASON not in page.url and not Appointment.objects.exists()
    shot(page, "desktop-signed-out-booking")
    page.get_by_label("Email").fill(patient.user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    expect(page.get_by_label("Reason for the visit")).to_have_value(REASON)
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("status").first).to_contain_text("Booked: Dr. Anil Mehta")
    assert Appointment.objects.get().reason_for_visit == REASON


def test_another_user_on_that_browser_may_not_see_the_reason(new_page, slots, patient):
    page = new_page()
    _log_in(page, patient.user.email, next_url=f"/book/{slots[0].pk}/")
    page.get_by_label("Reason for the visit").fill(REASON)
    page.context.clear_cookies()
    page.get_by_role("button", name="Book this appointment").click()  # no CSRF cookie either: the branded page
    expect(page.get_by_role("heading", name="This page had expired")).to_be_visible()

    page = new_page()
    _log_in(page, patient.user.email, next_url=f"/book/{slots[1].pk}/")
    page.get_by_label("Reason for the visit").fill(REASON)
    _idle_logout(page)
    page.get_by_role("button", name="Book this appointment").click()
    stranger = PatientFactory(user__email="stranger@example.com")
    page.get_by_label("Email").fill(stranger.user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    expect(page.get_by_label("Reason for the visit")).to_have_value("")


def test_a_throttled_registration_keeps_its_fields_and_says_when(new_page, shot, monkeypatch):
    monkeypatch.setattr(RegisterRateThrottle, "THROTTLE_RATES", {"register": "5/min"})
    page = new_page()
    page.goto("/accounts/register/")
    page.get_by_label("Full name").fill("Nina Newcomer")
    page.get_by_label("Email").fill("nina@example.com")
    page.get_by_label("Mobile number").fill("+91 98765 00000")
    for attempt in range(6):  # typos count
        page.get_by_label("Password", exact=True).fill("a-long-and-unusual-passphrase-42")
        page.get_by_label("Repeat the password").fill(f"typo-{attempt}")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading", name="Create your patient account")).to_be_visible()
    expect(page.get_by_role("alert").first).to_contain_text(re.compile(r"Please try again in \d+ seconds"))
    expect(page.get_by_label("Full name")).to_have_value("Nina Newcomer")
    expect(page.get_by_label("Email")).to_have_value("nina@example.com")
    expect(page.get_by_label("Mobile number")).to_have_value("+91 98765 00000")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    shot(page, "desktop-register-throttled")


def test_a_time_the_patient_holds_is_their_appointment_also_after_back(new_page, shot, slots, patient):
    page = new_page()
    _log_in(page, patient.user.email, next_url=f"/book/{slots[0].pk}/")
    page.get_by_label("Reason for the visit").fill(REASON)
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("status").first).to_contain_text("Booked: Dr. Anil Mehta")
    appointment = Appointment.objects.get()

    page.go_back()  # the confirmation page again, perhaps from the browser's cache
    if page.get_by_role("button", name="Book this appointment").count():
        page.get_by_role("button", name="Book this appointment").click()
        expect(page.get_by_text("You already booked this.")).to_be_visible()
    expect(page.get_by_role("heading", name="This is your appointment")).to_be_visible()
    assert Appointment.objects.count() == 1

    page.goto(f"/book/{slots[0].pk}/")
    expect(page.get_by_role("heading", name="This is your appointment")).to_be_visible()
    expect(page.get_by_role("button", name="Book this appointment")).to_have_count(0)
    shot(page, "desktop-this-is-your-appointment")
    page.get_by_role("link", name="See your appointment").click()
    expect(page).to_have_url(re.compile(rf"/appointments/{appointment.pk}/$"))

    # The other time the same day asks first.
    page.goto(f"/book/{slots[1].pk}/")
    expect(page.get_by_label(re.compile(r"You already see Dr\. Anil Mehta on that day at 10:00"))).to_be_visible()
