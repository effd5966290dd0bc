"""axe-core (from npm, package.json) reports no violation on any portal page,
including the error states and the pages of issue 12.

PAGES is the table to extend: each row names a page, who is signed in
(None, "patient" or "doctor"), its path (a function of the world made below)
and, for a state reached by doing something (a form with errors, a throttled
form, the CSRF page), an `act(page, world)` that gets there from the path.
Under REQUIRE_BROWSER=1 a missing axe-core is a failure, not a skip."""

import os
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Callable

import pytest
from django.utils import timezone

from accounts import two_factor
from accounts.tests.factories import TEST_PASSWORD, DependentFactory, PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from healthsvc.api.throttling import RegisterRateThrottle
from scheduling import services
from tests_browser.conftest import CHROMIUM, DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


@dataclass
class World:
    doctor: object
    patient: object
    appointment: object
    free_slot: object
    full_slot: object
    same_day_slot: object
    rule: object
    leave: object
    guardian: object  # a patient with a family member
    child: object
    childs_visit: object


@dataclass(frozen=True)
class AxePage:
    name: str
    who: str | None
    path: Callable[[World], str]
    act: Callable | None = None
    status: int = 200  # what the page itself answers, before `act`


def _submit_empty_register(page, world):
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Please correct the following").wait_for()


def _throttle_register(page, world):
    for _ in range(5):  # the fixed window may turn over once; the budget is 1 a minute
        page.get_by_label("Full name").fill("Nina Newcomer")
        page.get_by_label("Email").fill("nina@example.com")
        page.get_by_role("button", name="Create account").click()
        if page.get_by_text("Too many attempts.").count():
            return
    raise AssertionError("the registration was never throttled")


def _lock_out(page, world):
    for _ in range(3):
        page.get_by_label("Email").fill("locked@example.com")
        page.get_by_label("Password").fill("wrong-password")
        page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Too many failed logins").wait_for()


def _stale_form(page, world):
    page.context.clear_cookies()
    page.get_by_label("Email").fill("someone@example.com")
    page.get_by_label("Password").fill("whatever")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="This page had expired").wait_for()


def _second_factor(page, world):
    page.get_by_label("Email").fill("dr.otp@example.com")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Enter your authentication code").wait_for()


def _submit_empty_family_member(page, world):
    page.get_by_role("button", name="Add family member").click()
    page.get_by_role("heading", name="Please correct the following").wait_for()


def _book(world, slot):
    return f"/book/{slot.pk}/"


PAGES = [
    # Everyone
    AxePage("home", None, lambda w: "/"),
    AxePage("search-results", None, lambda w: "/doctors/?specialty=Cardiology"),
    AxePage("search-no-results", None, lambda w: "/doctors/?q=nobody-by-this-name"),
    AxePage("doctor-page", None, lambda w: f"/doctors/{w.doctor.pk}/?week={w.free_slot.start.date()}"),
    AxePage("login", None, lambda w: "/accounts/login/"),
    AxePage("login-second-factor", None, lambda w: "/accounts/login/", _second_factor),
    AxePage("register", None, lambda w: "/accounts/register/"),
    AxePage("register-with-errors", None, lambda w: "/accounts/register/", _submit_empty_register),
    AxePage("register-throttled", None, lambda w: "/accounts/register/", _throttle_register),
    AxePage("login-locked-out", None, lambda w: "/accounts/login/", _lock_out),
    AxePage("password-reset", None, lambda w: "/accounts/password/reset/"),
    AxePage("password-reset-sent", None, lambda w: "/accounts/password/reset/sent/"),
    AxePage("password-reset-bad-link", None, lambda w: "/accounts/password/reset/MQ/bad-token/"),
    AxePage("not-found", None, lambda w: "/no-such-page/", status=404),
    AxePage("csrf-failure", None, lambda w: "/accounts/login/", _stale_form),
    AxePage("search-soonest-morning", None, lambda w: "/doctors/?specialty=Cardiology&sort=soonest&part_of_day=morning"),
    AxePage("search-patient-words", None, lambda w: "/doctors/?q=heart+doctor+pune"),
    AxePage("search-zero-with-nearest", None, lambda w: "/doctors/?q=Dr+Mehtra+London"),
    AxePage("soonest-by-specialty", None, lambda w: "/doctors/soonest/?specialty=Cardiology"),
    # Patients
    AxePage("home-patient", "patient", lambda w: "/"),
    AxePage("booking", "patient", lambda w: _book(w, w.free_slot)),
    AxePage("booking-same-day-question", "patient", lambda w: _book(w, w.same_day_slot)),
    AxePage("booking-this-is-your-appointment", "patient", lambda w: _book(w, w.appointment.slot)),
    AxePage("booking-refused", "patient", lambda w: _book(w, w.full_slot)),
    AxePage("appointment-list", "patient", lambda w: "/appointments/"),
    AxePage("appointment-detail", "patient", lambda w: f"/appointments/{w.appointment.pk}/"),
    AxePage("appointment-cancel", "patient", lambda w: f"/appointments/{w.appointment.pk}/cancel/"),
    AxePage("appointment-reschedule", "patient", lambda w: f"/appointments/{w.appointment.pk}/reschedule/"),
    AxePage("profile", "patient", lambda w: "/profile/"),
    AxePage("access-log", "patient", lambda w: "/profile/access/"),
    AxePage("waitlist", "patient", lambda w: "/waitlist/"),
    AxePage("password-change", "patient", lambda w: "/accounts/password/change/"),
    AxePage("forbidden", "patient", lambda w: "/doctor/", status=403),
    # An account with a family member.
    AxePage("profile-with-family", "guardian", lambda w: "/profile/"),
    AxePage("family-member-add", "guardian", lambda w: "/profile/family/add/"),
    AxePage("family-member-add-with-errors", "guardian", lambda w: "/profile/family/add/", _submit_empty_family_member),
    AxePage("family-member-edit", "guardian", lambda w: f"/profile/family/{w.child.pk}/"),
    AxePage("family-member-access-log", "guardian", lambda w: f"/profile/family/{w.child.pk}/access/"),
    AxePage("booking-who-for", "guardian", lambda w: _book(w, w.free_slot)),
    AxePage("appointment-list-with-family", "guardian", lambda w: "/appointments/"),
    AxePage("appointment-detail-for-family", "guardian", lambda w: f"/appointments/{w.childs_visit.pk}/"),
    # Doctors
    AxePage("doctor-day", "doctor", lambda w: f"/doctor/?date={w.appointment.start.date()}"),
    AxePage("doctor-visit", "doctor", lambda w: f"/doctor/appointments/{w.appointment.pk}/"),
    AxePage("doctor-week", "doctor", lambda w: "/doctor/week/"),
    AxePage("doctor-rule-edit", "doctor", lambda w: f"/doctor/week/rules/{w.rule.pk}/"),
    AxePage("doctor-slots", "doctor", lambda w: "/doctor/slots/"),
    AxePage("doctor-time-off", "doctor", lambda w: "/doctor/time-off/"),
    AxePage("doctor-time-off-detail", "doctor", lambda w: f"/doctor/time-off/{w.leave.pk}/"),
    AxePage("doctor-two-factor", "doctor", lambda w: "/accounts/two-factor/"),
]


def _at(clinic, days, hour):
    day = timezone.localdate(timezone=clinic.tzinfo) + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=clinic.tzinfo)


@pytest.fixture
def world():
    clinic = ClinicFactory(name="Sunrise Heart Clinic", city="Pune", timezone="Asia/Kolkata", phone="+91 20 5555 0101")
    doctor = DoctorFactory(clinic=clinic, specialty="Cardiology", user__name="Anil Mehta",
                           user__email="dr.mehta@example.com")
    otp_doctor = DoctorFactory(clinic=clinic, specialty="Dermatology", user__email="dr.otp@example.com")
    device = two_factor.totp_setup_start(otp_doctor.user)
    device.confirmed = True
    device.save()
    patient = PatientFactory(user__name="Priya Patel", user__email="priya@example.com")
    other = PatientFactory(user__name="Olive Other")
    mine, free, same_day, full = (services.slot_create(doctor=doctor, start=_at(clinic, 2, hour))
                                  for hour in (10, 11, 15, 16))
    services.slot_create(doctor=doctor, start=_at(clinic, 3, 9))
    appointment = services.appointment_book(patient=patient, slot_id=mine.pk, reason="Follow-up")
    services.appointment_book(patient=other, slot_id=full.pk, reason="Check-up")
    rule = services.availability_rule_create(doctor=doctor, weekday=0, start_time=time(9), end_time=time(12))
    leave = services.leave_create(doctor=doctor, start=_at(clinic, 20, 9), end=_at(clinic, 20, 12), reason="Course")
    guardian = PatientFactory(user__name="Ravi Shah", user__email="ravi@example.com")
    child = DependentFactory(guardian=guardian, name="Maya Shah")
    childs_visit = services.appointment_book(patient=child, slot_id=services.slot_create(
        doctor=doctor, start=_at(clinic, 3, 11)).pk, reason="Fever", booked_by=guardian.user)
    return World(doctor, patient, appointment, free, full, same_day, rule, leave, guardian, child, childs_visit)


def _violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [f"{v['id']} ({v['impact']}): {v['help']} -> " + "; ".join(n["target"][0] for n in v["nodes"][:5])
            for v in result["violations"]]


def test_axe_finds_no_violation_on_any_portal_page(browser, live_server, _plain_http_cookies, world, settings,
                                                  monkeypatch, shot):
    if not AXE.exists():
        message = f"axe-core is missing at {AXE} (make install runs npm ci)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    assert CHROMIUM.exists()
    monkeypatch.setattr(RegisterRateThrottle, "THROTTLE_RATES", {"register": "1/min"})
    settings.AXES_FAILURE_LIMIT = 3
    # axe is injected as a script of its own: the page's Content-Security-Policy would refuse it.
    contexts = {}

    def page_for(who):
        if who not in contexts:
            context = browser.new_context(base_url=live_server.url, bypass_csp=True, **DESKTOP)
            context.set_default_timeout(10_000)
            page = context.new_page()
            if who is not None:
                email = {"patient": world.patient, "guardian": world.guardian, "doctor": world.doctor}[who].user.email
                page.goto("/accounts/login/")
                page.get_by_label("Email").fill(email)
                page.get_by_label("Password").fill(TEST_PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_load_state()
            contexts[who] = page
        return contexts[who]

    found, answered = {}, {}
    try:
        for row in PAGES:
            page = page_for(row.who)
            response = page.goto(row.path(world))
            if response.status != row.status:
                answered[row.name] = response.status
            if row.act is not None:
                row.act(page, world)
            if violations := _violations(page):
                found[row.name] = violations
                shot(page, f"axe-{row.name}")
    finally:
        for page in contexts.values():
            page.context.close()
    assert answered == {}, f"pages that did not answer as expected: {answered}"
    assert found == {}, "\n".join(f"{name}: {v}" for name, vs in found.items() for v in vs)
