"""The staff admin in a real browser: booking on a patient's behalf through
the patient search (select2) and the day's free times in clinic time, then
the booking on the clinic's day board."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import TEST_PASSWORD, PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.models import Appointment
from tests_browser.conftest import staff_login

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the conftest skips these tests then
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cardiologist():
    clinic = ClinicFactory(name="Sunrise Heart Clinic", city="Pune", timezone="Asia/Kolkata")
    doctor = DoctorFactory(clinic=clinic, specialty="Cardiology", user__name="Anil Mehta", max_patients_per_day=12)
    day = timezone.localdate(timezone=clinic.tzinfo) + timedelta(days=1)
    for hour, minute in [(10, 0), (10, 30)]:
        services.slot_create(doctor=doctor, start=datetime.combine(day, time(hour, minute), tzinfo=clinic.tzinfo))
    return doctor


def _pick(page, field: str, typed: str, result: str) -> None:
    """Choose in an admin autocomplete (select2): open it, type, click the result."""
    page.locator(f".field-{field} .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(typed)
    page.locator(".select2-results__option", has_text=result).click()
    expect(page.locator(f".field-{field} .select2-selection__rendered")).to_contain_text(result)


def test_staff_book_for_a_patient_found_by_name_and_see_it_on_the_day_board(new_page, shot, cardiologist,
                                                                             admin_user):
    patient = PatientFactory(user__name="Priya Patel", user__email="priya@example.com")
    PatientFactory(user__name="Pranav Kulkarni")
    day = timezone.localdate(timezone=cardiologist.clinic.tzinfo) + timedelta(days=1)

    page = new_page()
    staff_login(page, admin_user, TEST_PASSWORD, "/admin/scheduling/appointment/book/")  # two steps
    expect(page.get_by_role("heading", name="Book an appointment for a patient")).to_be_visible()

    _pick(page, "patient", "Priy", "Priya Patel · priya@example.com")
    _pick(page, "doctor", "Mehta", "Anil Mehta")
    page.get_by_label("Day (clinic time)").fill(f"{day:%Y-%m-%d}")
    page.get_by_role("button", name="Show free times").click()

    expect(page.locator("#free-times")).to_contain_text("Asia/Kolkata")
    page.get_by_label(re.compile(r"10:30 IST \(Asia/Kolkata\)")).check()
    page.get_by_label("Reason for visit").fill("Phoned in: palpitations")
    shot(page, "desktop-14-admin-book")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_text(re.compile(r"Booked appointment #\d+: Priya Patel with Dr\. Anil Mehta"))).to_be_visible()
    expect(page.get_by_text(f"{day:%Y-%m-%d} 10:30 IST (Asia/Kolkata)").first).to_be_visible()

    appointment = Appointment.objects.get()
    assert (appointment.patient, appointment.booked_by, appointment.reason_for_visit) == (
        patient, admin_user, "Phoned in: palpitations",
    )
    local = timezone.localtime(appointment.start, cardiologist.clinic.tzinfo)
    assert (local.date(), local.time()) == (day, time(10, 30))

    page.goto("/admin/")
    page.get_by_role("link", name="Day board").click()
    page.get_by_label("Day (clinic time)").fill(f"{day:%Y-%m-%d}")
    page.get_by_role("button", name="Show the day").click()
    doctor_table = page.locator(f"#doctor-{cardiologist.pk}")
    expect(doctor_table).to_contain_text("1 of 12")
    row = doctor_table.get_by_role("row", name=re.compile("Priya Patel"))
    expect(row).to_contain_text("10:30 IST")
    expect(row).to_contain_text("Confirmed")
    shot(page, "desktop-15-admin-day-board")
