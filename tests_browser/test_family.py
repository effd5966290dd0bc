"""A patient adds a child in a real browser and books a visit for them; the
appointment says who it is for, to the patient and to the doctor."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import Patient
from accounts.tests.factories import TEST_PASSWORD, PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.models import Appointment

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the conftest skips these tests then
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paediatrician():
    clinic = ClinicFactory(name="Little Steps Clinic", city="Pune", timezone="Asia/Kolkata")
    doctor = DoctorFactory(clinic=clinic, specialty="Paediatrics", user__name="Leela Iyer",
                           user__email="dr.iyer@example.com")
    day = timezone.localdate(timezone=clinic.tzinfo) + timedelta(days=1)
    services.slot_create(doctor=doctor, start=datetime.combine(day, time(10, 0), tzinfo=clinic.tzinfo))
    return doctor


def _log_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_patient_adds_a_child_and_books_for_them(new_page, shot, paediatrician):
    guardian = PatientFactory(user__name="Ravi Shah", user__email="ravi@example.com")
    page = new_page()
    _log_in(page, "ravi@example.com")

    # Add the child on the profile page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My profile").click()
    family = page.locator("section", has=page.get_by_role("heading", name="Family members"))
    expect(family).to_contain_text("No family members yet.")
    family.get_by_role("link", name="Add a family member").click()
    page.get_by_label("Full name").fill("Maya Shah")
    page.get_by_label("Date of birth").fill("2019-04-02")
    page.get_by_label("Allergies").fill("Peanuts")
    page.get_by_role("button", name="Add family member").click()
    expect(page.get_by_role("status")).to_contain_text("Maya Shah is added")
    expect(family.get_by_role("link", name="Maya Shah")).to_be_visible()
    shot(page, "desktop-family-01-profile")

    # Book the doctor's 10:00 for Maya.
    page.goto(f"/doctors/{paediatrician.pk}/")
    page.get_by_role("link", name=re.compile(r"^Book .* at 10:00$")).click()
    who = page.get_by_role("group", name="Who is this visit for?")
    expect(who.get_by_label("You")).to_be_checked()
    who.get_by_label("Maya Shah").check()
    page.get_by_label("Reason for the visit").fill("Fever for two days")
    shot(page, "desktop-family-02-book")
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("status")).to_contain_text("for Maya Shah")
    expect(page.locator("dl.summary")).to_contain_text("Maya Shah · booked by you")
    shot(page, "desktop-family-03-appointment")

    appointment = Appointment.objects.get()
    child = Patient.objects.get(guardian=guardian)
    assert (appointment.patient_id, appointment.booked_by_id, child.allergies) == (
        child.pk, guardian.user_id, "Peanuts")

    # My appointments says whom it is for.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My appointments").click()
    upcoming = page.locator("section", has=page.get_by_role("heading", name="Upcoming"))
    expect(upcoming.get_by_text("For Maya Shah")).to_be_visible()

    # The doctor sees the child, and whose family member she is.
    doctor_page = new_page()
    _log_in(doctor_page, "dr.iyer@example.com")
    doctor_page.goto(f"/doctor/appointments/{appointment.pk}/")
    expect(doctor_page.get_by_role("heading", name="Visit of Maya Shah (family member of Ravi Shah)")).to_be_visible()
    expect(doctor_page.get_by_text("Peanuts")).to_be_visible()
