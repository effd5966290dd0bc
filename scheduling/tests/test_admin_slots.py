"""Slots in the admin are opened, listed and shown in their clinic's time, and
changed only through the slot services."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.models import AppointmentSlot
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

ADD = "admin:scheduling_appointmentslot_add"
LIST = "admin:scheduling_appointmentslot_changelist"



def _in_days(clinic, days: int) -> date:
    return timezone.localdate(timezone=clinic.tzinfo) + timedelta(days=days)


def next_clock_change(tz, *, forward: bool) -> date:
    """The next day the clocks in `tz` go forward (or back)."""
    day = timezone.localdate(timezone=tz) + timedelta(days=1)
    for _ in range(400):
        before = datetime.combine(day, time.min, tzinfo=tz).utcoffset()
        after = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).utcoffset()
        if before != after and (after > before) == forward:
            return day
        day += timedelta(days=1)
    raise AssertionError(f"no clock change in {tz} within 400 days")


def _add(client, doctor, day, wall, **extra):
    data = {"doctor": doctor.pk, "day": f"{day:%Y-%m-%d}", "time": wall, "duration_minutes": 30, "capacity": 1}
    return client.post(reverse(ADD), {**data, **extra})


def test_a_slot_entered_at_ten_in_kolkata_is_stored_at_four_thirty_utc_and_shown_at_ten_ist(staff_client, doctor):
    day = _in_days(doctor.clinic, 5)
    response = _add(staff_client, doctor, day, "10:00")
    assert response.status_code == 302, response.content.decode()[:3000]
    slot = AppointmentSlot.objects.get()
    assert slot.start == datetime.combine(day, time(4, 30), tzinfo=UTC)
    assert slot.clinic == doctor.clinic and slot.end == slot.start + timedelta(minutes=30)

    shown = f"{day:%Y-%m-%d} 10:00 IST (Asia/Kolkata)"
    change = reverse("admin:scheduling_appointmentslot_change", args=[slot.pk])
    assert shown in staff_client.get(change).content.decode()
    assert shown in staff_client.get(reverse(LIST)).content.decode()


def test_add_form_is_in_clinic_time_with_the_doctor_autocomplete(staff_client):
    html = staff_client.get(reverse(ADD)).content.decode()
    assert 'type="date"' in html and 'type="time"' in html
    assert "admin-autocomplete" in html and 'data-field-name="doctor"' in html
    assert "show twice" in html and 'name="clinic"' not in html


def test_a_wall_time_the_clocks_skip_is_a_form_error(staff_client):
    doctor = DoctorFactory(clinic=ClinicFactory(timezone="Europe/London"))
    day = next_clock_change(doctor.clinic.tzinfo, forward=True)
    response = _add(staff_client, doctor, day, "01:30")
    assert response.status_code == 200
    html = response.content.decode()
    assert "01:30 does not exist on" in html and "the clocks go forward" in html
    assert not AppointmentSlot.objects.exists()


def test_a_repeated_wall_time_is_its_first_occurrence(staff_client):
    doctor = DoctorFactory(clinic=ClinicFactory(timezone="Europe/London"))
    day = next_clock_change(doctor.clinic.tzinfo, forward=False)
    response = _add(staff_client, doctor, day, "01:30", duration_minutes=15)
    assert response.status_code == 302
    slot = AppointmentSlot.objects.get()
    assert slot.start == datetime.combine(day, time(0, 30), tzinfo=UTC)  # 01:30 BST, not 01:30 GMT
    followed = staff_client.get(response.url).content.decode()
    assert "happens twice that day" in followed and "01:30 BST (Europe/London)" in followed


@pytest.mark.parametrize("case", ["overlap", "past", "unverified"])
def test_service_refusals_of_a_new_slot_are_form_errors(staff_client, doctor, unverified_doctor, case):
    day = _in_days(doctor.clinic, 4)
    if case == "overlap":
        services.slot_create(doctor=doctor, start=datetime.combine(day, time(10), tzinfo=doctor.clinic.tzinfo))
        response, expected = _add(staff_client, doctor, day, "10:15"), "overlapping that time"
    elif case == "past":
        response = _add(staff_client, doctor, _in_days(doctor.clinic, -2), "10:00")
        expected = "must start in the future"
    else:
        response, expected = _add(staff_client, unverified_doctor, day, "10:00"), "must be verified"
    assert response.status_code == 200
    html = response.content.decode()
    assert expected in html and 'value="10:' in html  # the form comes back as typed
    assert AppointmentSlot.objects.count() == (1 if case == "overlap" else 0)


def test_change_form_shows_clinic_times_and_changes_capacity_through_the_service(staff_client, doctor):
    slot = SlotFactory(doctor=doctor, capacity=1)
    page = staff_client.get(reverse("admin:scheduling_appointmentslot_change", args=[slot.pk])).content.decode()
    local = timezone.localtime(slot.start, doctor.clinic.tzinfo)
    assert f"{local:%Y-%m-%d %H:%M} IST (Asia/Kolkata)" in page
    assert "Created (clinic time)" in page and "Open for booking" in page
    staff_client.post(reverse("admin:scheduling_appointmentslot_change", args=[slot.pk]),
                      {"capacity": 5, "is_active": "on"})
    slot.refresh_from_db()
    assert (slot.capacity, slot.is_active) == (5, True)


def test_closing_and_reopening_a_slot_goes_through_slot_update(staff_client, doctor):
    slot = SlotFactory(doctor=doctor)
    url = reverse("admin:scheduling_appointmentslot_change", args=[slot.pk])
    assert staff_client.post(url, {"capacity": 1}).status_code == 302  # unticked: closed
    slot.refresh_from_db()
    assert slot.is_active is False
    staff_client.post(url, {"capacity": 1, "is_active": "on"})
    slot.refresh_from_db()
    assert slot.is_active is True


def test_closing_a_booked_slot_is_refused_on_the_form_not_a_500(staff_client, doctor, patient):
    slot = SlotFactory(doctor=doctor, capacity=2)
    services.appointment_book(patient=patient, slot_id=slot.pk)
    response = staff_client.post(reverse("admin:scheduling_appointmentslot_change", args=[slot.pk]), {"capacity": 3})
    assert response.status_code == 200
    assert "holds active appointments" in response.content.decode()
    slot.refresh_from_db()
    assert (slot.is_active, slot.capacity) == (True, 2)  # nothing half-saved


def test_slot_deactivate_action_reports_refusals(staff_client, doctor, patient):
    booked = SlotFactory(doctor=doctor)
    services.appointment_book(patient=patient, slot_id=booked.pk)
    response = staff_client.post(reverse(LIST), {"action": "deactivate_slots", "_selected_action": [booked.pk]},
                                 follow=True)
    assert f"#{booked.pk}: The slot holds active appointments" in response.content.decode()


def test_day_filter_uses_each_clinics_own_calendar(staff_client):
    kolkata = DoctorFactory(clinic=ClinicFactory(timezone="Asia/Kolkata"))
    honolulu = DoctorFactory(clinic=ClinicFactory(timezone="Pacific/Honolulu"))
    slots = {}
    for doctor in (kolkata, honolulu):
        tz = doctor.clinic.tzinfo
        tomorrow = datetime.combine(_in_days(doctor.clinic, 1), time(12), tzinfo=tz)
        slots[doctor.clinic.timezone] = services.slot_create(doctor=doctor, start=tomorrow)
        services.slot_create(doctor=doctor, start=tomorrow + timedelta(days=3))
    response = staff_client.get(reverse(LIST), {"day": "tomorrow"})
    assert {s.pk for s in response.context["cl"].result_list} == {s.pk for s in slots.values()}
    assert "Day (clinic time)" in response.content.decode()
    assert len(staff_client.get(reverse(LIST), {"day": "next7"}).context["cl"].result_list) == 4
    assert len(staff_client.get(reverse(LIST), {"day": "past7"}).context["cl"].result_list) == 0


@pytest.mark.parametrize("model", ["appointmentslot", "appointment"])
def test_lists_are_not_grouped_by_utc_dates(staff_client, model):
    changelist = staff_client.get(reverse(f"admin:scheduling_{model}_changelist")).context["cl"]
    assert changelist.date_hierarchy is None
    assert any(spec.title == "Day (clinic time)" for spec in changelist.filter_specs)
