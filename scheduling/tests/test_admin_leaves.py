"""Leaves in the admin: added in the clinic's calendar, shown in its time,
never edited, deleted through the leave services; the visits inside a leave
are listed and can be cancelled through the booking core."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot, Leave
from scheduling.tests.test_admin_slots import next_clock_change

pytestmark = pytest.mark.django_db

ADD = "admin:scheduling_leave_add"
LIST = "admin:scheduling_leave_changelist"



@pytest.fixture
def day(doctor):
    return timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=3)


def _at(doctor, day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=doctor.clinic.tzinfo)


def _add(client, doctor, first_day, last_day=None, **extra):
    data = {"doctor": doctor.pk, "first_day": f"{first_day:%Y-%m-%d}",
            "last_day": f"{last_day:%Y-%m-%d}" if last_day else "", "from_time": "", "until_time": "",
            "reason": "Conference"}
    return client.post(reverse(ADD), {**data, **extra})


@pytest.fixture
def leave_with_visits(doctor, day, patient, other_patient):
    """A leave on `day` over two booked visits (one then cancelled) and one visit outside it."""
    inside = [services.slot_create(doctor=doctor, start=_at(doctor, day, h)) for h in (10, 11)]
    outside = services.slot_create(doctor=doctor, start=_at(doctor, day + timedelta(days=1), 10))
    kept = services.appointment_book(patient=patient, slot_id=inside[0].pk)
    gone = services.appointment_book(patient=other_patient, slot_id=inside[1].pk)
    services.appointment_cancel(appointment_id=gone.pk)
    services.appointment_book(patient=PatientFactory(), slot_id=outside.pk)
    leave = services.leave_create(doctor=doctor, start=_at(doctor, day, 0), end=_at(doctor, day, 23, 59))
    return leave, kept


def test_whole_days_in_the_clinics_calendar(staff_client, doctor, day, admin_user):
    response = _add(staff_client, doctor, day, day + timedelta(days=1))
    assert response.status_code == 302, response.content.decode()[:3000]
    leave = Leave.objects.get()
    assert leave.start == datetime.combine(day - timedelta(days=1), time(18, 30), tzinfo=UTC)  # 00:00 IST
    assert leave.end == datetime.combine(day + timedelta(days=1), time(18, 30), tzinfo=UTC)
    assert (leave.reason, leave.created_by) == ("Conference", admin_user)


def test_part_of_a_day_from_and_until_times(staff_client, doctor, day):
    _add(staff_client, doctor, day, from_time="14:00", until_time="17:30")
    leave = Leave.objects.get()
    assert (leave.start, leave.end) == (_at(doctor, day, 14), _at(doctor, day, 17, 30))


def test_a_skipped_wall_time_is_a_form_error(staff_client):
    doctor = DoctorFactory(clinic=ClinicFactory(timezone="Europe/London"))
    day = next_clock_change(doctor.clinic.tzinfo, forward=True)
    response = _add(staff_client, doctor, day, from_time="01:30")
    assert response.status_code == 200
    assert "01:30 does not exist on" in response.content.decode()
    assert not Leave.objects.exists()


@pytest.mark.parametrize(("days", "extra", "message"), [
    ((3, 2), {}, "The last day cannot be before the first day."),
    ((3, 3), {"from_time": "15:00", "until_time": "14:00"}, "The end must be after the start."),
    ((-3, -2), {}, "The leave is over already."),
])
def test_refusals_are_form_errors(staff_client, doctor, days, extra, message):
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    first, last = (today + timedelta(days=n) for n in days)
    response = _add(staff_client, doctor, first, last, **extra)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Leave.objects.exists()


def test_list_shows_clinic_times_and_active_visits_inside(staff_client, doctor, day, leave_with_visits):
    leave, _ = leave_with_visits
    response = staff_client.get(reverse(LIST))
    html = response.content.decode()
    assert f"{day:%Y-%m-%d} 00:00 IST (Asia/Kolkata)" in html and f"{day:%Y-%m-%d} 23:59 IST (Asia/Kolkata)" in html
    assert [row.active_inside for row in response.context["cl"].result_list] == [1]


def test_day_filter_takes_leaves_covering_the_day(staff_client, doctor, leave_with_visits):
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    long_one = services.leave_create(doctor=doctor, start=_at(doctor, today - timedelta(days=1), 9),
                                     end=_at(doctor, today + timedelta(days=1), 12))
    shown = staff_client.get(reverse(LIST), {"day": "tomorrow"}).context["cl"].result_list
    assert [leave.pk for leave in shown] == [long_one.pk]


def test_the_leave_page_lists_the_visits_inside_and_edits_nothing(staff_client, doctor, leave_with_visits):
    leave, kept = leave_with_visits
    url = reverse("admin:scheduling_leave_change", args=[leave.pk])
    html = staff_client.get(url).content.decode()
    assert reverse("admin:scheduling_appointment_change", args=[kept.pk]) in html
    assert kept.patient.user.name in html and "Olive Other" not in html
    assert 'name="first_day"' not in html and 'name="reason"' not in html
    assert staff_client.post(url, {"reason": "Changed"}).status_code == 403
    leave.refresh_from_db()
    assert leave.reason == ""


def test_delete_goes_through_the_service(staff_client, doctor, leave_with_visits, monkeypatch):
    leave, _ = leave_with_visits
    second = services.leave_create(doctor=doctor, start=leave.end + timedelta(days=3),
                                   end=leave.end + timedelta(days=4))
    deleted = []
    real = services.leave_delete
    monkeypatch.setattr(services, "leave_delete", lambda **kw: (deleted.append(kw["leave_id"]), real(**kw)))
    staff_client.post(reverse("admin:scheduling_leave_delete", args=[leave.pk]), {"post": "yes"})
    assert deleted == [leave.pk]
    staff_client.post(reverse(LIST), {"action": "delete_selected", "_selected_action": [second.pk], "post": "yes"})
    assert deleted == [leave.pk, second.pk] and not Leave.objects.exists()


def test_cancel_visits_inside_asks_for_a_reason_then_cancels_through_the_core(
    staff_client, doctor, leave_with_visits, admin_user
):
    leave, kept = leave_with_visits
    later = services.slot_create(doctor=doctor, start=leave.end + timedelta(days=2))
    started = services.appointment_book(patient=PatientFactory(), slot_id=later.pk)
    begun = timezone.now() - timedelta(minutes=5)
    AppointmentSlot.objects.filter(pk=started.slot_id).update(start=begun, end=begun + timedelta(minutes=30))
    Appointment.objects.filter(pk=started.pk).update(start=begun, end=begun + timedelta(minutes=30))
    Leave.objects.filter(pk=leave.pk).update(start=begun - timedelta(hours=1))
    data = {"action": "cancel_visits_inside", "_selected_action": [leave.pk]}

    ask = staff_client.post(reverse(LIST), data)
    assert ask.status_code == 200 and "2 active appointment(s) lie inside" in ask.content.decode()
    done = staff_client.post(reverse(LIST), {**data, "confirm": "yes", "reason": "Dr. away: please rebook"},
                             follow=True)
    kept.refresh_from_db()
    assert (kept.status, kept.cancelled_reason, kept.cancelled_by) == ("cancelled", "Dr. away: please rebook",
                                                                       admin_user)
    html = done.content.decode()
    assert "1 appointment(s) cancelled." in html
    assert f"#{started.pk}: The visit has already started" in html


def test_the_doctor_admin_links_to_the_doctors_leaves(staff_client, doctor, leave_with_visits):
    DoctorFactory(clinic=doctor.clinic)
    other = services.leave_create(doctor=DoctorFactory(), start=timezone.now() + timedelta(days=1),
                                  end=timezone.now() + timedelta(days=2))
    shown = staff_client.get(reverse(LIST), {"doctor__id__exact": doctor.pk}).context["cl"].result_list
    assert [leave.doctor_id for leave in shown] == [doctor.pk] and other not in shown
