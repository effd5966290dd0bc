"""The staff dashboard: today's appointments per clinic in the admin, whose
actions go through the booking core."""

from datetime import timedelta

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from healthsvc.testing import audit_statements
from healthsvc.timezones import local_day_bounds
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

URL = "admin:scheduling_todayappointment_changelist"



def _booked_at(doctor, start, reason="Checkup"):
    """A real booking, then moved to `start` (which may be in the past)."""
    slot = SlotFactory(doctor=doctor)
    appointment = services.appointment_book(patient=PatientFactory(), slot_id=slot.pk, reason=reason)
    end = start + timedelta(minutes=30)
    AppointmentSlot.objects.filter(pk=appointment.slot_id).update(start=start, end=end)
    Appointment.objects.filter(pk=appointment.pk).update(start=start, end=end)
    return appointment


def _earlier_today(tz):
    """A moment that is both in the past and today in `tz`."""
    now = timezone.now()
    day_start, _ = local_day_bounds(now, tz)
    return day_start + (now - day_start) / 2


def _later_today(tz):
    """A moment that is both in the future and today in `tz`."""
    now = timezone.now()
    _, day_end = local_day_bounds(now, tz)
    return now + (day_end - now) / 2


@pytest.fixture
def clinics_today():
    pune = DoctorFactory(clinic=ClinicFactory(name="Pune Heart", timezone="Asia/Kolkata"))
    london = DoctorFactory(clinic=ClinicFactory(name="London GP", timezone="Europe/London"))
    return {
        "pune": _booked_at(pune, _earlier_today(pune.clinic.tzinfo), reason="Pune today"),
        "london": _booked_at(london, _earlier_today(london.clinic.tzinfo), reason="London today"),
        "pune_yesterday": _booked_at(pune, _earlier_today(pune.clinic.tzinfo) - timedelta(days=1), reason="Old one"),
        "london_tomorrow": _booked_at(london, _earlier_today(london.clinic.tzinfo) + timedelta(days=1), reason="Later"),
    }


def test_dashboard_lists_only_today_in_each_clinics_own_day(staff_client, clinics_today):
    response = staff_client.get(reverse(URL))
    shown = {a.pk for a in response.context["cl"].result_list}
    assert shown == {clinics_today["pune"].pk, clinics_today["london"].pk}
    html = response.content.decode()
    assert "Today in each clinic" in html and "Pune Heart" in html and "Europe/London" in html
    summary = {row["clinic__name"]: row["total"] for row in response.context["per_clinic"]}
    assert summary == {"London GP": 1, "Pune Heart": 1}


def test_dashboard_filters_by_clinic(staff_client, clinics_today):
    clinic = clinics_today["pune"].clinic
    response = staff_client.get(reverse(URL), {"clinic__id__exact": clinic.pk})
    assert [a.pk for a in response.context["cl"].result_list] == [clinics_today["pune"].pk]


def test_dashboard_takes_a_flat_number_of_queries(staff_client, clinics_today, django_assert_max_num_queries):
    with django_assert_max_num_queries(20 + audit_statements()) as few:  # and the list's audit row
        staff_client.get(reverse(URL))
    clinic = clinics_today["pune"].clinic
    for _ in range(10):
        _booked_at(DoctorFactory(clinic=clinic), _earlier_today(clinic.tzinfo))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert staff_client.get(reverse(URL)).status_code == 200


def _act(client, action, appointments, **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [a.pk for a in appointments], **extra}
    return client.post(reverse(URL), data, follow=True)


def test_mark_completed_goes_through_the_core(staff_client, clinics_today):
    response = _act(staff_client, "mark_completed", [clinics_today["pune"]])
    clinics_today["pune"].refresh_from_db()
    assert clinics_today["pune"].status == Appointment.Status.COMPLETED
    assert "1 appointment(s) marked completed." in response.content.decode()


def test_mark_no_show_reports_what_the_core_refused(staff_client, clinics_today):
    pune, london = clinics_today["pune"], clinics_today["london"]
    services.appointment_set_outcome(appointment_id=pune.pk, status=Appointment.Status.COMPLETED)
    response = _act(staff_client, "mark_no_show", [pune, london])
    pune.refresh_from_db()
    london.refresh_from_db()
    assert (pune.status, london.status) == ("completed", "no_show")
    assert f"#{pune.pk}: A completed appointment cannot become no-show" in response.content.decode()


def test_cancel_action_asks_for_a_reason_then_cancels_through_the_core(staff_client, clinics_today):
    london = clinics_today["london"].clinic
    later = _booked_at(DoctorFactory(clinic=london), _later_today(london.tzinfo))
    started = clinics_today["london"]
    first = _act(staff_client, "cancel_appointments", [later, started])
    assert "Cancel these appointments" in first.content.decode()
    done = _act(staff_client, "cancel_appointments", [later, started], confirm="yes", reason="Doctor ill")
    later.refresh_from_db()
    started.refresh_from_db()
    assert (later.status, later.cancelled_reason) == ("cancelled", "Doctor ill")
    assert AppointmentSlot.objects.get(pk=later.slot_id).booked_count == 0
    assert started.status == "confirmed" and "The visit has already started" in done.content.decode()


def test_dashboard_has_no_add_button_and_links_to_staff_booking(staff_client):
    html = staff_client.get(reverse(URL)).content.decode()
    assert reverse("admin:scheduling_appointment_book") in html
    assert reverse("admin:scheduling_todayappointment_add") not in html
