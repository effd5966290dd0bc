"""A doctor runs their schedule in a real browser: sets up a week, makes a
month of slots, takes a day off (cancelling the visit booked in it) and
cancels another visit, all in the clinic's time zone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import TEST_PASSWORD, PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from healthsvc.timezones import local_date_bounds
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot, AvailabilityRule, Leave

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the conftest skips these tests then
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@pytest.fixture
def dermatologist():
    clinic = ClinicFactory(name="Sunrise Skin Clinic", city="Pune", timezone="Asia/Kolkata", phone="+91 20 5555 0101")
    return DoctorFactory(clinic=clinic, specialty="Dermatology", user__name="Kavya Rao",
                         user__email="dr.rao@example.com", max_patients_per_day=12)


def _first_slot_on(doctor, day):
    start, end = local_date_bounds(day, doctor.clinic.tzinfo)
    return AppointmentSlot.objects.filter(doctor=doctor, start__gte=start, start__lt=end).order_by("start").first()


def _log_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_doctor_sets_up_a_week_makes_a_month_takes_a_day_off_and_cancels_a_visit(new_page, shot, dermatologist):
    page = new_page()
    _log_in(page, "dr.rao@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My week").click()
    expect(page.get_by_role("heading", name="My week", exact=True)).to_be_visible()
    expect(page.get_by_text("No weekly hours yet.")).to_be_visible()

    # Every day of the week, 09:00 to 12:00 with a break at 10:30, 30-minute slots.
    for day in DAYS:
        page.get_by_label("Day", exact=True).select_option(label=day)
        page.get_by_label("From", exact=True).fill("09:00")
        page.get_by_label("Until", exact=True).fill("12:00")
        page.get_by_label("Slot length").select_option(label="30 minutes")
        page.get_by_label("Break from").fill("10:30")
        page.get_by_label("Break until").fill("11:00")
        page.get_by_role("button", name="Add these hours").click()
        expect(page.get_by_role("status")).to_contain_text(f"Added {day} 09:00–12:00")
    expect(page.get_by_text("5 slots: 09:00, 09:30, 10:00, 11:00, 11:30")).to_have_count(7)
    assert AvailabilityRule.objects.filter(doctor=dermatologist).count() == 7
    shot(page, "desktop-20-my-week")

    # A mistake is shown on the form and saves nothing.
    page.get_by_label("Day", exact=True).select_option(label="Monday")
    page.get_by_label("From", exact=True).fill("11:00")
    page.get_by_label("Until", exact=True).fill("13:00")
    page.get_by_label("Break from").fill("")
    page.get_by_label("Break until").fill("")
    page.get_by_role("button", name="Add these hours").click()
    expect(page.get_by_role("alert")).to_contain_text("overlap the Monday rule 09:00–12:00")

    # Make a month of slots (the form proposes today and the next 27 days).
    tz = dermatologist.clinic.tzinfo
    today = timezone.localdate(timezone=tz)
    page.get_by_role("button", name="Make slots").click()
    expect(page.get_by_role("status")).to_contain_text("new slot(s)")
    made = AppointmentSlot.objects.filter(doctor=dermatologist).count()
    assert 5 * 27 <= made <= 5 * 28
    expect(page.get_by_role("heading", name=re.compile("^Upcoming slots"))).to_be_visible()
    shot(page, "desktop-21-slots")

    # Two patients book visits three and four days ahead.
    away_day, other_day = today + timedelta(days=3), today + timedelta(days=4)
    visit_away = services.appointment_book(patient=PatientFactory(user__name="Asha Away"),
                                           slot_id=_first_slot_on(dermatologist, away_day).pk, reason="Rash")
    visit_other = services.appointment_book(patient=PatientFactory(user__name="Omar Other"),
                                            slot_id=_first_slot_on(dermatologist, other_day).pk, reason="Follow-up")

    # Take the whole of the first day off: the visit inside it is listed and cancelled with a reason.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Time off").click()
    page.get_by_label("First day").fill(f"{away_day:%Y-%m-%d}")
    page.get_by_label("Note").fill("Conference")
    page.get_by_role("button", name="Save the time off").click()
    expect(page.get_by_role("status")).to_contain_text("Time off saved")
    expect(page.get_by_role("link", name=re.compile("Asha Away"))).to_be_visible()
    shot(page, "desktop-22-time-off")
    page.get_by_label("Reason for the patient").fill("Dr. Rao is at a conference that day; please book another day.")
    page.get_by_role("button", name="Cancel these 1 visit").click()
    expect(page.get_by_role("status")).to_contain_text("Cancelled 1 visit(s)")
    expect(page.get_by_text("No visits are booked in this time.")).to_be_visible()

    visit_away.refresh_from_db()
    assert visit_away.status == "cancelled" and "conference" in visit_away.cancelled_reason
    leave = Leave.objects.get(doctor=dermatologist)
    assert timezone.localtime(leave.start, tz).date() == away_day and leave.end - leave.start == timedelta(days=1)
    # Nobody can book that day now.
    patient_page = new_page()
    patient_page.goto(f"/doctors/{dermatologist.pk}/?week={away_day:%Y-%m-%d}")
    day_box = patient_page.locator(f"#day-{away_day:%Y%m%d}").locator("xpath=..")
    expect(day_box).to_contain_text("No free times")

    # Cancel the other visit from the doctor's day.
    page.goto(f"/doctor/?date={other_day:%Y-%m-%d}")
    row = page.get_by_role("row", name=re.compile("Omar Other"))
    row.get_by_role("link", name=re.compile("^Open")).click()
    page.get_by_label("Reason for the patient").fill("The clinic is closed for repairs; please book another time.")
    page.get_by_role("button", name="Cancel the visit").click()
    expect(page.get_by_role("status")).to_contain_text("Cancelled the visit of Omar Other")
    shot(page, "desktop-23-doctor-day-after-cancel")
    visit_other.refresh_from_db()
    assert visit_other.status == "cancelled" and visit_other.cancelled_by == dermatologist.user
    assert Appointment.objects.filter(doctor=dermatologist, status="confirmed").count() == 0
