"""The doctor admin's schedule side: approval, weekly hours saved through the
availability services, "Generate slots…" and the links to leaves."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.exceptions import AvailabilityOverlapError
from scheduling.models import AppointmentSlot, AvailabilityRule

pytestmark = pytest.mark.django_db

LIST = "admin:clinics_doctor_changelist"
PREFIX = "availability_rules"



def _rule_rows(rows) -> dict:
    data = {}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{PREFIX}-{index}-{key}"] = value
    return data


def _post(client, doctor, *, rules=(), initial=0, **changes):
    """The doctor's change form as the browser posts it, with `rules` as the inline's rows."""
    data = {
        "user": doctor.user_id, "clinic": doctor.clinic_id, "specialty": doctor.specialty,
        "license_number": doctor.license_number, "qualifications": doctor.qualifications,
        "experience_years": doctor.experience_years, "max_patients_per_day": doctor.max_patients_per_day,
        "is_active": "on", f"{PREFIX}-TOTAL_FORMS": len(rules), f"{PREFIX}-INITIAL_FORMS": initial,
        f"{PREFIX}-MIN_NUM_FORMS": 0, f"{PREFIX}-MAX_NUM_FORMS": 1000, **_rule_rows(rules), **changes,
    }
    return client.post(reverse("admin:clinics_doctor_change", args=[doctor.pk]), data)


def _new(weekday=0, start="09:00", end="12:00", **extra):
    return {"weekday": weekday, "start_time": start, "end_time": end, "slot_minutes": 30, "capacity": 1,
            "break_start": "", "break_end": "", **extra}


def _existing(rule, **changes):
    row = _new(rule.weekday, f"{rule.start_time:%H:%M}", f"{rule.end_time:%H:%M}", slot_minutes=rule.slot_minutes,
               capacity=rule.capacity, id=rule.pk, doctor=rule.doctor_id)
    return {**row, **changes}


@pytest.fixture
def calls(monkeypatch):
    """Records each call of the rule services, still calling them."""
    seen = []
    for name in ("availability_rule_create", "availability_rule_update", "availability_rule_delete"):
        real = getattr(services, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            seen.append((_name, kwargs))
            return _real(*args, **kwargs)

        monkeypatch.setattr(services, name, spy)
    return seen


def test_doctor_list_and_form_show_requires_approval_and_schedule_links(staff_client, doctor):
    listing = staff_client.get(reverse(LIST)).content.decode()
    assert "Requires approval" in listing and f"doctor__id__exact={doctor.pk}" in listing
    form = staff_client.get(reverse("admin:clinics_doctor_change", args=[doctor.pk])).content.decode()
    assert 'name="requires_approval"' in form and "Weekly hours (clinic time)" in form
    assert f"{reverse('admin:scheduling_leave_add')}?doctor={doctor.pk}" in form
    _post(staff_client, doctor, requires_approval="on")
    doctor.refresh_from_db()
    assert doctor.requires_approval is True


def test_new_weekly_hours_are_created_through_the_service(staff_client, doctor, calls):
    response = _post(staff_client, doctor, rules=[_new(0), _new(2, "14:00", "17:00", break_start="15:00",
                                                                   break_end="15:30")])
    assert response.status_code == 302, response.content.decode()[:3000]
    rules = list(AvailabilityRule.objects.filter(doctor=doctor).order_by("weekday"))
    assert [(r.weekday, r.start_time, r.break_start, r.clinic_id) for r in rules] == [
        (0, time(9), None, doctor.clinic_id), (2, time(14), time(15), doctor.clinic_id),
    ]
    assert [name for name, _ in calls] == ["availability_rule_create"] * 2


def test_changed_and_deleted_hours_go_through_update_and_delete(staff_client, doctor, calls):
    monday = services.availability_rule_create(doctor=doctor, weekday=0, start_time=time(9), end_time=time(12))
    tuesday = services.availability_rule_create(doctor=doctor, weekday=1, start_time=time(9), end_time=time(12))
    calls.clear()
    response = _post(staff_client, doctor, initial=2, rules=[
        _existing(monday, end_time="13:00"), _existing(tuesday, DELETE="on"),
    ])
    assert response.status_code == 302
    monday.refresh_from_db()
    assert monday.end_time == time(13) and not AvailabilityRule.objects.filter(pk=tuesday.pk).exists()
    assert calls == [("availability_rule_delete", {"rule_id": tuesday.pk}),
                     ("availability_rule_update", {"rule_id": monday.pk, "end_time": time(13)})]


def test_overlapping_rows_are_refused_on_the_row_and_nothing_is_saved(staff_client, doctor):
    response = _post(staff_client, doctor, rules=[_new(0, "09:00", "12:00"), _new(0, "11:00", "13:00")],
                     specialty="Neurology")
    assert response.status_code == 200
    assert "These hours overlap the Monday rule 09:00–12:00." in response.content.decode()
    doctor.refresh_from_db()
    assert doctor.specialty == "Cardiology" and not AvailabilityRule.objects.exists()


def test_a_row_overlapping_an_existing_rule_is_refused(staff_client, doctor):
    monday = services.availability_rule_create(doctor=doctor, weekday=0, start_time=time(9), end_time=time(12))
    response = _post(staff_client, doctor, initial=1, rules=[_existing(monday), _new(0, "10:00", "11:00")])
    assert "These hours overlap the Monday rule 09:00–12:00." in response.content.decode()
    assert AvailabilityRule.objects.count() == 1


def test_single_rule_checks_show_on_the_row(staff_client, doctor):
    response = _post(staff_client, doctor, rules=[_new(0, "09:00", "12:00", break_start="13:00", break_end="13:30")])
    assert response.status_code == 200
    assert "The break must lie within the working hours." in response.content.decode()
    assert not AvailabilityRule.objects.exists()


def test_a_refusal_only_the_service_sees_is_a_form_error_and_rolls_back(staff_client, doctor, monkeypatch):
    def lost_race(**kwargs):
        raise AvailabilityOverlapError("These hours overlap the Monday rule 08:00–10:00.")

    monkeypatch.setattr(services, "availability_rule_create", lost_race)
    response = _post(staff_client, doctor, rules=[_new(0)], specialty="Neurology")
    assert response.status_code == 200
    assert "These hours overlap the Monday rule 08:00–10:00." in response.content.decode()
    doctor.refresh_from_db()
    assert doctor.specialty == "Cardiology"


def _generate(client, doctors, **data):
    payload = {"action": "generate_slots", "_selected_action": [d.pk for d in doctors], **data}
    return client.post(reverse(LIST), payload, follow=True)


def test_generate_asks_for_dates_defaulting_to_four_weeks_from_today_in_the_clinic(staff_client, doctor):
    page = _generate(staff_client, [doctor])
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    html = page.content.decode()
    assert "Generate slots from the weekly hours" in html
    assert f'value="{today:%Y-%m-%d}"' in html and f'value="{today + timedelta(days=27):%Y-%m-%d}"' in html
    assert not AppointmentSlot.objects.exists()


def test_generate_makes_slots_per_doctor_and_reports_each(staff_client, doctor, unverified_doctor):
    for who in (doctor, unverified_doctor):
        services.availability_rule_create(doctor=who, weekday=0, start_time=time(9), end_time=time(10))
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    first = today + timedelta(days=(7 - today.weekday()) % 7 or 7)  # next Monday
    page = _generate(staff_client, [doctor, unverified_doctor], confirm="yes",
                     date_from=f"{first:%Y-%m-%d}", date_to=f"{first + timedelta(days=6):%Y-%m-%d}")
    html = page.content.decode()
    assert AppointmentSlot.objects.filter(doctor=doctor).count() == 2
    assert f"Dr. {doctor.user.name}, {first:%Y-%m-%d} to" in html and "2 slot(s) created, 0 skipped." in html
    assert f"Dr. {unverified_doctor.user.name}" in html
    assert "not generated: the doctor&#x27;s account is not verified yet." in html
    assert not AppointmentSlot.objects.filter(doctor=unverified_doctor).exists()
    again = _generate(staff_client, [doctor], confirm="yes", date_from=f"{first:%Y-%m-%d}",
                      date_to=f"{first + timedelta(days=6):%Y-%m-%d}")
    assert "0 slot(s) created, 2 skipped." in again.content.decode()


def test_generate_with_empty_dates_uses_each_doctors_own_today(staff_client):
    kiritimati = DoctorFactory(clinic=ClinicFactory(timezone="Pacific/Kiritimati"))  # UTC+14
    honolulu = DoctorFactory(clinic=ClinicFactory(timezone="Pacific/Honolulu"))  # UTC-10: always another date
    page = _generate(staff_client, [kiritimati, honolulu])
    assert 'name="date_from"' in page.content.decode() and 'value="' not in page.content.decode().split(
        'name="date_from"')[1].split(">")[0]
    done = _generate(staff_client, [kiritimati, honolulu], confirm="yes", date_from="", date_to="")
    html = done.content.decode()
    for doctor in (kiritimati, honolulu):
        today = timezone.localdate(timezone=doctor.clinic.tzinfo)
        assert f"{today:%Y-%m-%d} to {today + timedelta(days=27):%Y-%m-%d} ({doctor.clinic.timezone})" in html
