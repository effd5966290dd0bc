"""The portal in a real browser: a patient's whole journey, a doctor's view of
it, a race for the last place, and every main page on a phone."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import TEST_PASSWORD, PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot
from tests_browser.conftest import fits_and_is_labelled, local_time, staff_login

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the conftest skips these tests then
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cardiologist():
    clinic = ClinicFactory(
        name="Sunrise Heart Clinic", address="12 FC Road, Shivajinagar", city="Pune", zip_code="411001",
        timezone="Asia/Kolkata", phone="+91 20 5555 0101",
    )
    doctor = DoctorFactory(
        clinic=clinic, specialty="Cardiology", user__name="Anil Mehta", user__email="dr.mehta@example.com",
        qualifications="MBBS, MD (Cardiology)", experience_years=12, max_patients_per_day=12,
    )
    DoctorFactory(clinic=clinic, specialty="Dermatology", user__name="Kavya Rao")
    for hour, minute in [(10, 0), (10, 30), (11, 0), (14, 0)]:
        services.slot_create(doctor=doctor, start=local_time(clinic, hour, minute), capacity=2 if hour == 14 else 1)
    services.slot_create(doctor=doctor, start=local_time(clinic, 9, 30, days=2))
    return doctor


def _log_in(page, email, password=TEST_PASSWORD, next_url=""):
    page.goto(f"/accounts/login/{'?next=' + next_url if next_url else ''}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_patient_registers_searches_books_sees_and_cancels_and_the_doctor_sees_it(new_page, shot, cardiologist):
    page = new_page()

    # Keyboard users meet the skip link first, with a visible focus ring.
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    shot(page, "desktop-01-home")

    # Register.
    page.get_by_role("link", name="Register").click()
    page.get_by_label("Full name").fill("Nina Newcomer")
    page.get_by_label("Email").fill("nina@example.com")
    page.get_by_label("Mobile number").fill("+91 98765 00000")
    page.get_by_label("Password", exact=True).fill("a-long-and-unusual-passphrase-42")
    page.get_by_label("Repeat the password").fill("a-long-and-unusual-passphrase-42")
    shot(page, "desktop-02-register")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status").first).to_contain_text("Welcome, Nina Newcomer")
    # A new patient is asked for their medical profile first, with the reason; it can wait.
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    expect(page.get_by_text("your doctor sees it before the visit")).to_be_visible()
    page.get_by_role("link", name="healthsvc").click()
    expect(page.get_by_role("heading", name="Complete your medical profile")).to_be_visible()

    # Search for a cardiologist.
    page.get_by_label("Specialty", exact=True).select_option("Cardiology")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 doctor found")).to_be_visible()
    expect(page.get_by_text("12 FC Road, Shivajinagar")).to_be_visible()
    expect(page.get_by_text("Kavya Rao")).to_have_count(0)
    shot(page, "desktop-03-search")

    # Open the doctor's week and choose 10:00 with the keyboard.
    page.get_by_role("link", name="See free times of Dr. Anil Mehta").click()
    expect(page.get_by_role("heading", name="Dr. Anil Mehta")).to_be_visible()
    expect(page.get_by_text("Times are in the clinic's time zone: Asia/Kolkata (IST).")).to_be_visible()
    shot(page, "desktop-04-doctor-week")
    page.get_by_role("link", name=re.compile(r"^Book .* at 10:00$")).focus()
    page.keyboard.press("Enter")

    # Confirm with a reason.
    expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    page.get_by_label("Reason for the visit").fill("Chest pain when climbing stairs")
    shot(page, "desktop-05-confirm")
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("status")).to_contain_text("Booked: Dr. Anil Mehta")
    shot(page, "desktop-06-appointment")

    # My appointments.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My appointments").click()
    upcoming = page.locator("section", has=page.get_by_role("heading", name="Upcoming"))
    expect(upcoming.get_by_text("Dr. Anil Mehta")).to_be_visible()
    expect(upcoming.get_by_text("Confirmed")).to_be_visible()
    expect(upcoming.get_by_text("IST (Asia/Kolkata)")).to_be_visible()
    shot(page, "desktop-07-my-appointments")

    # The doctor logs in (another browser) and sees the booking.
    doctor_page = new_page()
    _log_in(doctor_page, "dr.mehta@example.com")
    expect(doctor_page.get_by_role("status")).to_contain_text("logged in as Anil Mehta")
    coming = doctor_page.locator("section", has=doctor_page.get_by_role("heading", name=re.compile("Coming up")))
    coming.get_by_role("link", name=re.compile(r"\d+ of 12 booked|^\w+day \d+ \w+$")).first.click()
    row = doctor_page.get_by_role("row", name=re.compile("Nina Newcomer"))
    expect(row).to_contain_text("Chest pain when climbing stairs")
    expect(row).to_contain_text("Confirmed")
    expect(doctor_page.locator("#load-label")).to_contain_text("1 of 12 places booked")
    shot(doctor_page, "desktop-08-doctor-day")
    row.get_by_role("link", name=re.compile("^Open")).click()
    expect(doctor_page.get_by_role("heading", name="Visit of Nina Newcomer")).to_be_visible()
    shot(doctor_page, "desktop-09-doctor-visit")

    # The patient cancels, through the confirmation page.
    upcoming.get_by_role("link", name=re.compile("Dr. Anil Mehta")).click()
    page.get_by_role("link", name="Cancel the appointment").click()
    expect(page.get_by_role("heading", name="Cancel this appointment?")).to_be_visible()
    page.get_by_role("button", name="Yes, cancel the appointment").click()
    expect(page.get_by_role("alert")).to_contain_text("This field is required.")  # the reason is required
    page.get_by_label("Why are you cancelling?").fill("Feeling better")
    shot(page, "desktop-10-cancel")
    page.get_by_role("button", name="Yes, cancel the appointment").click()
    expect(page.get_by_role("status")).to_contain_text("Cancelled your appointment with Dr. Anil Mehta")
    past = page.locator("section", has=page.get_by_role("heading", name="Past and cancelled"))
    expect(past.get_by_text("Cancelled", exact=True)).to_be_visible()
    shot(page, "desktop-11-after-cancel")

    appointment = Appointment.objects.get(patient__user__email="nina@example.com")
    assert (appointment.status, appointment.cancelled_reason) == ("cancelled", "Feeling better")
    assert AppointmentSlot.objects.get(pk=appointment.slot_id).booked_count == 0


def test_two_patients_race_for_the_last_place_and_exactly_one_wins(new_page, shot, cardiologist):
    slot = AppointmentSlot.objects.get(doctor=cardiologist, start=local_time(cardiologist.clinic, 10, 30))
    pages = []
    for name in ("Rita Racer", "Sam Sprinter"):
        patient = PatientFactory(user__name=name)
        page = new_page()
        _log_in(page, patient.user.email, next_url=f"/book/{slot.pk}/")
        expect(page.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
        page.get_by_label("Reason for the visit").fill(f"{name} needs a check-up")
        pages.append(page)

    for page in pages:  # both press "Book" before either answer arrives
        page.get_by_role("button", name="Book this appointment").click(no_wait_after=True)
    outcome = re.compile(r"Booked: Dr\.|just taken by someone else")
    for page in pages:
        expect(page.get_by_text(outcome)).to_be_visible()

    winners = [p for p in pages if p.get_by_text("Booked: Dr.").count()]
    losers = [p for p in pages if p.get_by_text("just taken by someone else").count()]
    assert len(winners) == 1 and len(losers) == 1
    loser = losers[0]
    expect(loser.get_by_role("alert")).to_contain_text("Nothing was booked.")
    expect(loser.get_by_role("heading", name="Other free times with Dr. Anil Mehta")).to_be_visible()
    expect(loser.get_by_role("button", name="Book this appointment")).to_have_count(0)
    shot(loser, "desktop-12-just-taken")
    slot.refresh_from_db()
    assert slot.booked_count == 1 and Appointment.objects.filter(slot=slot).count() == 1


def test_main_pages_fit_a_phone(new_page, shot, cardiologist):
    patient = PatientFactory(user__name="Priya Patel", user__email="priya@example.com")
    booked = services.appointment_book(
        patient=patient, slot_id=AppointmentSlot.objects.filter(doctor=cardiologist).first().pk, reason="Follow-up"
    )
    page = new_page(phone=True)
    for path, name in [("/", "home"), ("/doctors/?specialty=Cardiology", "search"),
                       (f"/doctors/{cardiologist.pk}/?week={booked.start.date()}", "doctor-week"),
                       ("/accounts/login/", "login"), ("/accounts/register/", "register")]:
        page.goto(path)
        fits_and_is_labelled(page)
        shot(page, f"phone-{name}")

    _log_in(page, "priya@example.com")
    free = AppointmentSlot.objects.filter(doctor=cardiologist, booked_count=0).last()
    for path, name in [("/appointments/", "my-appointments"), (f"/appointments/{booked.pk}/", "appointment"),
                       (f"/book/{free.pk}/", "confirm"), (f"/appointments/{booked.pk}/reschedule/", "reschedule"),
                       ("/profile/", "profile")]:
        page.goto(path)
        fits_and_is_labelled(page)
        shot(page, f"phone-{name}")

    # The phone keyboard path: pick a new time and move the appointment.
    page.goto(f"/appointments/{booked.pk}/reschedule/?week={free.start.date()}")
    page.locator(f"label[for='slot-{free.pk}']").click()
    page.get_by_role("button", name="Move my appointment").click()
    expect(page.get_by_role("status")).to_contain_text("Moved to")
    booked.refresh_from_db()
    assert booked.slot_id == free.pk

    doctor_page = new_page(phone=True)
    _log_in(doctor_page, cardiologist.user.email)
    assert cardiologist.user.role == User.Role.DOCTOR
    for path, name in [("/doctor/", "doctor-day"), (f"/doctor/appointments/{booked.pk}/", "doctor-visit"),
                       ("/doctor/slots/", "slots"), ("/doctor/week/", "my-week"), ("/doctor/time-off/", "time-off")]:
        doctor_page.goto(path)
        fits_and_is_labelled(doctor_page)
        shot(doctor_page, f"phone-{name}")


def test_staff_dashboard_of_today(new_page, shot, cardiologist, admin_user):
    """Staff see today's appointments per clinic in the admin and act through the core."""
    now = timezone.now()
    day_start = datetime.combine(timezone.localdate(timezone=cardiologist.clinic.tzinfo), time.min,
                                 tzinfo=cardiologist.clinic.tzinfo)
    earlier_today = day_start + (now - day_start) / 2
    slot = AppointmentSlot.objects.filter(doctor=cardiologist).first()
    booked = services.appointment_book(patient=PatientFactory(user__name="Tara Today"), slot_id=slot.pk, reason="BP")
    AppointmentSlot.objects.filter(pk=slot.pk).update(start=earlier_today, end=earlier_today + timedelta(minutes=30))
    Appointment.objects.filter(pk=booked.pk).update(start=earlier_today, end=earlier_today + timedelta(minutes=30))

    page = new_page()
    staff_login(page, admin_user, TEST_PASSWORD, "/admin/scheduling/todayappointment/")
    expect(page.locator("#today-summary")).to_contain_text("Sunrise Heart Clinic")
    row = page.get_by_role("row", name=re.compile("Tara Today"))
    row.get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option("mark_completed")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text("1 appointment(s) marked completed.")).to_be_visible()
    shot(page, "desktop-13-admin-today")
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.COMPLETED
