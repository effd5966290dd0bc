"""Appointments in the admin: every time in the clinic's zone, the day filter
in each clinic's calendar, and confirm / decline through the lifecycle."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.models import Appointment

pytestmark = pytest.mark.django_db

LIST = "admin:scheduling_appointment_changelist"



def _book_at(doctor, days: int, hour: int, patient=None):
    clinic = doctor.clinic
    day = timezone.localdate(timezone=clinic.tzinfo) + timedelta(days=days)
    slot = services.slot_create(doctor=doctor, start=datetime.combine(day, time(hour), tzinfo=clinic.tzinfo))
    return services.appointment_book(patient=patient or PatientFactory(), slot_id=slot.pk)


@pytest.fixture
def approving_doctor(clinic):
    doctor = DoctorFactory(clinic=clinic, user__name="Asha Rao")
    doctor.requires_approval = True
    doctor.save()
    return doctor


def _act(client, action, appointments, **extra):
    data = {"action": action, "_selected_action": [a.pk for a in appointments], **extra}
    return client.post(reverse(LIST), data, follow=True)


def test_list_shows_times_in_the_clinics_zone_and_pending_clearly(staff_client, approving_doctor):
    appointment = _book_at(approving_doctor, 2, 10)
    html = staff_client.get(reverse(LIST)).content.decode()
    day = timezone.localtime(appointment.start, appointment.clinic.tzinfo).date()
    assert f"{day:%Y-%m-%d} 10:00 IST (Asia/Kolkata)" in html
    created = timezone.localtime(appointment.created_at, appointment.clinic.tzinfo)
    assert f"{created:%Y-%m-%d %H:%M} IST (Asia/Kolkata)" in html
    assert "Pending: awaiting approval" in html


def test_change_page_shows_every_time_in_the_clinics_zone(staff_client):
    doctor = DoctorFactory(clinic=ClinicFactory(timezone="America/New_York"))
    appointment = _book_at(doctor, 3, 9)
    services.appointment_cancel(appointment_id=appointment.pk, reason="Moved away")
    appointment.refresh_from_db()
    html = staff_client.get(reverse("admin:scheduling_appointment_change", args=[appointment.pk])).content.decode()
    tz = doctor.clinic.tzinfo
    for label, moment in [("Starts", appointment.start), ("Ends", appointment.end),
                          ("Cancelled at", appointment.cancelled_at), ("Created", appointment.created_at),
                          ("Updated", appointment.updated_at)]:
        local = timezone.localtime(moment, tz)
        assert f"{local:%Y-%m-%d %H:%M} {local.tzname()} (America/New_York)" in html, label
    assert f"{timezone.localtime(appointment.start, tz):%H:%M}" == "09:00"


def test_day_filter_takes_each_clinics_own_tomorrow(staff_client):
    kolkata = DoctorFactory(clinic=ClinicFactory(timezone="Asia/Kolkata"))
    honolulu = DoctorFactory(clinic=ClinicFactory(timezone="Pacific/Honolulu"))
    tomorrow = [_book_at(kolkata, 1, 1), _book_at(honolulu, 1, 23)]
    _book_at(kolkata, 2, 1)
    _book_at(honolulu, 2, 0)
    shown = staff_client.get(reverse(LIST), {"day": "tomorrow"}).context["cl"].result_list
    assert {a.pk for a in shown} == {a.pk for a in tomorrow}


def test_confirm_action_goes_through_the_lifecycle_and_reports_refusals(staff_client, approving_doctor, doctor):
    pending, confirmed = _book_at(approving_doctor, 2, 10), _book_at(doctor, 2, 11)
    assert pending.status == Appointment.Status.PENDING
    response = _act(staff_client, "confirm_appointments", [pending, confirmed])
    pending.refresh_from_db()
    assert pending.status == Appointment.Status.CONFIRMED
    html = response.content.decode()
    assert "1 appointment(s) confirmed." in html
    assert f"Not confirmed: #{confirmed.pk}: A confirmed appointment cannot become confirmed." in html


def test_decline_action_asks_for_a_reason_then_declines_through_the_lifecycle(
    staff_client, approving_doctor, doctor, admin_user
):
    pending, confirmed = _book_at(approving_doctor, 2, 10), _book_at(doctor, 2, 11)
    ask = _act(staff_client, "decline_appointments", [pending, confirmed])
    html = ask.content.decode()
    assert "Decline appointments" in html and "IST (Asia/Kolkata)" in html and "Pending: awaiting approval" in html
    pending.refresh_from_db()
    assert pending.status == Appointment.Status.PENDING
    done = _act(staff_client, "decline_appointments", [pending, confirmed], confirm="yes", reason="Not my field")
    pending.refresh_from_db()
    confirmed.refresh_from_db()
    assert (pending.status, pending.cancelled_reason, pending.cancelled_by) == ("cancelled", "Not my field",
                                                                                admin_user)
    assert confirmed.status == Appointment.Status.CONFIRMED
    html = done.content.decode()
    assert "1 appointment(s) declined." in html and f"#{confirmed.pk}: Only a pending appointment" in html


def test_a_reason_is_required_to_decline(staff_client, approving_doctor):
    pending = _book_at(approving_doctor, 2, 10)
    response = _act(staff_client, "decline_appointments", [pending], confirm="yes", reason="")
    assert "This field is required." in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Appointment.Status.PENDING


def test_awaiting_approval_filter(staff_client, approving_doctor, doctor):
    pending = _book_at(approving_doctor, 2, 10)
    _book_at(doctor, 2, 11)
    shown = staff_client.get(reverse(LIST), {"approval": "awaiting"}).context["cl"].result_list
    assert [a.pk for a in shown] == [pending.pk]


def test_notes_are_saved_through_the_core(staff_client, doctor, admin_user, monkeypatch):
    appointment = _book_at(doctor, 2, 10)
    seen = []
    real = services.appointment_set_outcome
    monkeypatch.setattr(services, "appointment_set_outcome", lambda **kw: (seen.append(kw), real(**kw))[1])
    staff_client.post(reverse("admin:scheduling_appointment_change", args=[appointment.pk]),
                      {"notes": "Called", "note_for_patient": "Please bring your reports"})
    appointment.refresh_from_db()
    assert (appointment.notes, appointment.note_for_patient) == ("Called", "Please bring your reports")
    assert seen == [{"appointment_id": appointment.pk, "notes": "Called",
                     "note_for_patient": "Please bring your reports", "by": admin_user}]


def test_cancel_page_lists_times_in_clinic_time(staff_client, doctor):
    appointment = _book_at(doctor, 2, 10)
    html = _act(staff_client, "cancel_appointments", [appointment]).content.decode()
    day = timezone.localtime(appointment.start, doctor.clinic.tzinfo).date()
    assert f"{day:%Y-%m-%d} 10:00 IST (Asia/Kolkata)" in html and " UTC" not in html
