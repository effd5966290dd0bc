"""The search in a real browser: a patient types what they would say, sees who
can see them soonest, compares a specialty's doctors side by side and books."""

import re

import pytest

from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from tests_browser.conftest import fits_and_is_labelled, local_time

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the conftest skips these tests then
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue():
    pune = ClinicFactory(name="Sunrise Heart & Skin Clinic", city="Pune", address="12 FC Road", timezone="Asia/Kolkata")
    london = ClinicFactory(name="Thames Family Practice", city="London", address="88 Borough High Street",
                           timezone="Europe/London")
    mehta = DoctorFactory(clinic=pune, specialty="Cardiology", user__name="Anil Mehta")
    rao = DoctorFactory(clinic=pune, specialty="Dermatology", user__name="Kavya Rao")
    nair = DoctorFactory(clinic=london, specialty="Dermatology", user__name="Priya Nair")
    services.slot_create(doctor=mehta, start=local_time(pune, 10))
    services.slot_create(doctor=rao, start=local_time(pune, 11, days=5))
    for days in (2, 3):
        services.slot_create(doctor=nair, start=local_time(london, 9, 30, days=days))
    return {"mehta": mehta, "rao": rao, "nair": nair}


def test_patient_types_what_they_would_say_and_reaches_the_soonest_times(new_page, shot, catalogue):
    page = new_page()
    page.goto("/")
    page.get_by_label("Doctor, specialty, clinic or city").fill("dr mehta")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 doctor found")).to_be_visible()
    expect(page.get_by_role("link", name="Dr. Anil Mehta", exact=True)).to_be_visible()

    page.get_by_label("Doctor, specialty, clinic or city").fill("skin doctor")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="2 doctors found")).to_be_visible()
    expect(page.get_by_text("Soonest free time first.")).to_be_visible()
    # Priya Nair (in 2 days) before Kavya Rao (in 5).
    titles = page.locator(".doctor-card .card__title").all_inner_texts()
    assert titles == ["Dr. Priya Nair", "Dr. Kavya Rao"]
    shot(page, "search-skin-doctor")

    page.get_by_role("link", name="See the next free times of every Dermatology doctor side by side").click()
    expect(page.get_by_role("heading", name="Soonest Dermatology appointments")).to_be_visible()
    expect(page.locator(".soonest__doctor")).to_have_count(2)
    expect(page.locator(".soonest__doctor").first.locator(".slot")).to_have_count(2)
    shot(page, "search-soonest")
    page.locator(".soonest__doctor").first.locator(".slot").first.click()
    expect(page).to_have_url(re.compile(r"/(accounts/login|book)/"))


def test_a_search_that_finds_nobody_says_what_and_offers_the_nearest(new_page, shot, catalogue):
    page = new_page()
    page.goto("/doctors/?q=skin+doctor+Mumbai")
    expect(page.get_by_role("heading", name="0 doctors found")).to_be_visible()
    expect(page.get_by_text("No doctor matches “skin doctor Mumbai”.")).to_be_visible()
    expect(page.get_by_role("heading", name="Nearest matches")).to_be_visible()
    expect(page.locator(".no-results__nearest").get_by_role("link", name="Dr. Priya Nair", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Dermatology")).to_be_visible()
    shot(page, "search-nobody")


def test_search_pages_fit_a_phone(new_page, catalogue):
    page = new_page(phone=True)
    for path in ("/doctors/?q=skin+doctor+London&part_of_day=morning", "/doctors/?q=zzzz",
                 "/doctors/soonest/?specialty=Dermatology", "/doctors/soonest/"):
        page.goto(path)
        fits_and_is_labelled(page)
