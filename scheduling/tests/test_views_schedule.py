"""The doctor runs their schedule in the portal (weekly rules, generation,
slots, time off, approval, cancelling a visit), and patients meet the booking
policy there before they try. Every write goes through the services."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.exceptions import SlotUnavailableError
from scheduling.models import Appointment, AppointmentSlot, AvailabilityRule, Leave
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db




def _html(response):
    return response.content.decode()


def _day(doctor, days):
    return timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=days)


def _at(doctor, days, hour, minute=0):
    return datetime.combine(_day(doctor, days), time(hour, minute), tzinfo=doctor.clinic.tzinfo)


RULE = {"weekday": "0", "start_time": "09:00", "end_time": "12:00", "slot_minutes": "30", "capacity": "1",
        "break_start": "10:30", "break_end": "11:00"}


# --- My week -------------------------------------------------------------------------------


def test_a_doctor_adds_a_weekly_rule_and_sees_the_week_it_makes(doctor_client, doctor):
    response = doctor_client.post(reverse("scheduling:my-week"), RULE)
    assert response.status_code == 302
    rule = AvailabilityRule.objects.get(doctor=doctor)
    assert (rule.start_time, rule.break_start, rule.clinic_id) == (time(9), time(10, 30), doctor.clinic_id)
    html = _html(doctor_client.get(response.url))
    assert "Added Monday 09:00–12:00" in html and "Asia/Kolkata" in html
    assert "5 slots: 09:00, 09:30, 10:00, 11:00, 11:30" in html


def test_an_overlapping_or_bad_rule_is_shown_on_the_form_and_not_saved(doctor_client, doctor):
    doctor_client.post(reverse("scheduling:my-week"), RULE)
    overlap = doctor_client.post(reverse("scheduling:my-week"), {**RULE, "start_time": "11:00", "end_time": "13:00",
                                                                 "break_start": "", "break_end": ""})
    assert overlap.status_code == 409 and "overlap the Monday rule 09:00–12:00" in _html(overlap)
    backwards = doctor_client.post(reverse("scheduling:my-week"), {**RULE, "weekday": "1", "end_time": "08:00"})
    assert backwards.status_code == 400 and "The end must be after the start" in _html(backwards)
    assert AvailabilityRule.objects.filter(doctor=doctor).count() == 1


def test_a_doctor_edits_and_removes_a_rule(doctor_client, doctor):
    rule = services.availability_rule_create(doctor=doctor, weekday=2, start_time=time(9), end_time=time(12))
    response = doctor_client.post(reverse("scheduling:rule-edit", args=[rule.pk]),
                                  {**RULE, "weekday": "2", "end_time": "13:00", "break_start": "", "break_end": ""})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.end_time == time(13)
    doctor_client.post(reverse("scheduling:rule-delete", args=[rule.pk]))
    assert not AvailabilityRule.objects.exists()


def test_another_doctors_rule_is_not_found(doctor_client, other_doctor):
    rule = services.availability_rule_create(doctor=other_doctor, weekday=2, start_time=time(9), end_time=time(12))
    assert doctor_client.get(reverse("scheduling:rule-edit", args=[rule.pk])).status_code == 404
    assert doctor_client.post(reverse("scheduling:rule-delete", args=[rule.pk])).status_code == 404
    assert AvailabilityRule.objects.filter(pk=rule.pk).exists()


def test_a_doctor_generates_a_month_and_a_second_run_adds_nothing(doctor_client, doctor):
    for weekday in range(5):
        services.availability_rule_create(doctor=doctor, weekday=weekday, start_time=time(9), end_time=time(10))
    data = {"date_from": f"{_day(doctor, 1)}", "date_to": f"{_day(doctor, 28)}"}
    response = doctor_client.post(reverse("scheduling:slots-generate"), data, follow=True)
    made = AppointmentSlot.objects.filter(doctor=doctor).count()
    assert made == 40 and f"Made {made} new slot(s)" in _html(response)
    again = doctor_client.post(reverse("scheduling:slots-generate"), data, follow=True)
    assert "Made 0 new slot(s)" in _html(again) and f"{made} time(s) skipped" in _html(again)
    assert AppointmentSlot.objects.filter(doctor=doctor).count() == made


def test_generation_beyond_a_year_is_refused_with_the_reason(doctor_client, doctor):
    data = {"date_from": f"{_day(doctor, 0)}", "date_to": f"{_day(doctor, 400)}"}
    response = doctor_client.post(reverse("scheduling:slots-generate"), data, follow=True)
    assert "at most 366 days ahead" in _html(response) and not AppointmentSlot.objects.exists()


# --- Slots -----------------------------------------------------------------------------------


def test_every_upcoming_slot_is_listed_page_by_page(doctor_client, doctor):
    for n in range(70):
        SlotFactory(doctor=doctor, start=_at(doctor, 1 + n // 10, 8 + n % 10))
    first = doctor_client.get(reverse("scheduling:slot-list"))
    assert len(first.context["page"].object_list) == 50 and first.context["page"].paginator.count == 70
    second = doctor_client.get(reverse("scheduling:slot-list"), {"page": 2})
    assert len(second.context["page"].object_list) == 20


def test_the_slot_list_takes_a_flat_number_of_queries(doctor_client, doctor, django_assert_max_num_queries):
    for n in range(40):
        SlotFactory(doctor=doctor, start=_at(doctor, 1 + n // 10, 8 + n % 10))
    with django_assert_max_num_queries(10):
        assert doctor_client.get(reverse("scheduling:slot-list")).status_code == 200


def test_a_doctor_closes_reopens_and_resizes_a_slot(doctor_client, doctor, patient):
    slot = SlotFactory(doctor=doctor, capacity=2)
    url = reverse("scheduling:slot-change", args=[slot.pk])
    doctor_client.post(url, {"action": "close"})
    slot.refresh_from_db()
    assert not slot.is_active
    doctor_client.post(url, {"action": "reopen"})
    services.appointment_book(patient=patient, slot_id=slot.pk)
    response = doctor_client.post(url, {"capacity": "0"}, follow=True)
    assert "greater than or equal to 1" in _html(response)
    doctor_client.post(url, {"capacity": "5"})
    slot.refresh_from_db()
    assert (slot.is_active, slot.capacity) == (True, 5)


def test_closing_a_booked_slot_or_lowering_below_the_booked_places_is_refused(doctor_client, doctor, patient):
    slot = SlotFactory(doctor=doctor, capacity=2)
    services.appointment_book(patient=patient, slot_id=slot.pk)
    services.appointment_book(patient=PatientFactory(), slot_id=slot.pk)
    url = reverse("scheduling:slot-change", args=[slot.pk])
    closing = doctor_client.post(url, {"action": "close"}, follow=True)
    assert "holds active appointments" in _html(closing)
    lowering = doctor_client.post(url, {"capacity": "1"}, follow=True)
    assert "2 places are already booked" in _html(lowering)
    slot.refresh_from_db()
    assert (slot.is_active, slot.capacity) == (True, 2)


def test_a_doctor_cannot_change_another_doctors_slot(doctor_client, other_doctor):
    theirs = SlotFactory(doctor=other_doctor)
    assert doctor_client.post(reverse("scheduling:slot-change", args=[theirs.pk]), {"action": "close"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


def test_a_doctor_closes_and_reopens_a_whole_day(doctor_client, doctor, patient):
    slots = [SlotFactory(doctor=doctor, start=_at(doctor, 2, hour)) for hour in (9, 10, 11)]
    services.appointment_book(patient=patient, slot_id=slots[0].pk)
    response = doctor_client.post(reverse("scheduling:slot-day"), {"date": f"{_day(doctor, 2)}", "action": "close"},
                                  follow=True)
    assert "Closed 2 slot(s)" in _html(response) and "1 slot(s) with booked visits stay open" in _html(response)
    assert AppointmentSlot.objects.filter(doctor=doctor, is_active=True).count() == 1
    doctor_client.post(reverse("scheduling:slot-day"), {"date": f"{_day(doctor, 2)}", "action": "reopen"})
    assert AppointmentSlot.objects.filter(doctor=doctor, is_active=True).count() == 3


def test_the_slot_form_refuses_a_wall_time_the_clocks_skip(client):
    doctor = DoctorFactory(clinic=ClinicFactory(timezone="America/New_York"))
    client.force_login(doctor.user)
    data = {"date": "2030-03-10", "start_time": "02:30", "duration_minutes": "30", "capacity": "1"}
    response = client.post(reverse("scheduling:slot-list"), data)
    assert response.status_code == 400 and "02:30 does not exist on 10 Mar 2030 in America/New_York" in _html(response)
    assert not AppointmentSlot.objects.exists()


# --- Time off ------------------------------------------------------------------------------


def test_a_doctor_takes_a_day_off_sees_the_visit_inside_and_cancels_it_with_a_reason(doctor_client, doctor, patient):
    visit = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=_at(doctor, 3, 10)).pk)
    free = SlotFactory(doctor=doctor, start=_at(doctor, 3, 11))
    response = doctor_client.post(reverse("scheduling:leave-list"), {"first_day": f"{_day(doctor, 3)}",
                                                                     "reason": "Conference"})
    leave = Leave.objects.get(doctor=doctor)
    assert response.url == reverse("scheduling:leave-detail", args=[leave.pk])
    assert (leave.start, leave.end) == (_at(doctor, 3, 0), _at(doctor, 4, 0))
    html = _html(doctor_client.get(response.url))
    assert patient.user.name in html and "Cancel these 1 visit" in html
    doctor_client.post(response.url, {"reason": "Dr. is at a conference; please book another day."})
    visit.refresh_from_db()
    assert visit.status == "cancelled" and visit.cancelled_by == doctor.user
    assert visit.cancelled_reason == "Dr. is at a conference; please book another day."
    free.refresh_from_db()
    assert free.is_active  # kept, but not bookable while the leave lasts
    with pytest.raises(SlotUnavailableError):
        services.appointment_book(patient=PatientFactory(), slot_id=free.pk)


def test_part_of_a_day_off_in_clinic_time(doctor_client, doctor):
    data = {"first_day": f"{_day(doctor, 2)}", "from_time": "14:00", "until_time": "17:30"}
    doctor_client.post(reverse("scheduling:leave-list"), data)
    leave = Leave.objects.get(doctor=doctor)
    assert (leave.start, leave.end) == (_at(doctor, 2, 14), _at(doctor, 2, 17, 30))


def test_a_bad_time_off_is_a_form_error(doctor_client, doctor):
    data = {"first_day": f"{_day(doctor, 2)}", "from_time": "17:00", "until_time": "09:00"}
    response = doctor_client.post(reverse("scheduling:leave-list"), data)
    assert response.status_code == 400 and "The end must be after the start." in _html(response)
    assert not Leave.objects.exists()


def test_a_doctor_cannot_see_or_remove_another_doctors_leave(doctor_client, other_doctor):
    leave = services.leave_create(doctor=other_doctor, start=_at(other_doctor, 2, 0), end=_at(other_doctor, 3, 0))
    assert doctor_client.get(reverse("scheduling:leave-detail", args=[leave.pk])).status_code == 404
    assert doctor_client.post(reverse("scheduling:leave-delete", args=[leave.pk])).status_code == 404
    assert Leave.objects.filter(pk=leave.pk).exists()


def test_removing_time_off_makes_its_slots_bookable_again(doctor_client, doctor, patient):
    slot = SlotFactory(doctor=doctor, start=_at(doctor, 2, 10))
    leave = services.leave_create(doctor=doctor, start=_at(doctor, 2, 0), end=_at(doctor, 3, 0))
    doctor_client.post(reverse("scheduling:leave-delete", args=[leave.pk]))
    assert not Leave.objects.exists()
    services.appointment_book(patient=patient, slot_id=slot.pk)


# --- the day: approval, cancelling a visit, load ---------------------------------------------


@pytest.fixture
def approving(clinic):
    return DoctorFactory(clinic=clinic, requires_approval=True)


def test_the_day_lists_bookings_waiting_for_approval_and_the_doctor_confirms_one(client, approving, patient):
    pending = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=approving,
                                                                             start=_at(approving, 1, 10)).pk)
    client.force_login(approving.user)
    html = _html(client.get(reverse("scheduling:doctor-day")))
    assert "Waiting for your approval (1)" in html and patient.user.name in html
    client.post(reverse("scheduling:doctor-appointment-confirm", args=[pending.pk]))
    pending.refresh_from_db()
    assert pending.status == "confirmed"
    assert "Waiting for your approval" not in _html(client.get(reverse("scheduling:doctor-day")))


def test_the_doctor_declines_a_pending_booking_with_a_reason(client, approving, patient):
    pending = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=approving).pk)
    client.force_login(approving.user)
    url = reverse("scheduling:doctor-appointment-decline", args=[pending.pk])
    assert client.post(url, {"reason": ""}).status_code == 302
    pending.refresh_from_db()
    assert pending.status == "pending"  # a reason is required
    client.post(url, {"reason": "Please see a dermatologist instead."})
    pending.refresh_from_db()
    assert (pending.status, pending.cancelled_reason) == ("cancelled", "Please see a dermatologist instead.")
    assert pending.slot.booked_count == 0


def test_another_doctor_cannot_confirm_or_decline(doctor_client, approving, patient):
    pending = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=approving).pk)
    assert doctor_client.post(reverse("scheduling:doctor-appointment-confirm", args=[pending.pk])).status_code == 404
    assert doctor_client.post(reverse("scheduling:doctor-appointment-decline", args=[pending.pk]),
                              {"reason": "x"}).status_code == 404
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_confirm_and_decline_need_a_post(doctor_client, doctor, patient):
    booked = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk)
    assert doctor_client.get(reverse("scheduling:doctor-appointment-confirm", args=[booked.pk])).status_code == 405


def test_the_doctor_cancels_a_visit_with_a_reason_inside_the_patients_window(doctor_client, doctor, patient):
    soon = SlotFactory(doctor=doctor, start=timezone.now() + timedelta(minutes=90))
    visit = services.appointment_book(patient=patient, slot_id=soon.pk, booked_by=doctor.user)
    doctor_client.post(reverse("scheduling:doctor-appointment-cancel", args=[visit.pk]),
                       {"reason": "The doctor is unwell today."})
    visit.refresh_from_db()
    assert (visit.status, visit.cancelled_reason, visit.cancelled_by) == (
        "cancelled", "The doctor is unwell today.", doctor.user)


def test_the_day_shows_the_load_and_the_free_places_of_the_schedule(doctor_client, doctor, patient):
    slots = [SlotFactory(doctor=doctor, start=_at(doctor, 1, hour), capacity=2) for hour in (9, 10)]
    services.appointment_book(patient=patient, slot_id=slots[0].pk)
    html = _html(doctor_client.get(reverse("scheduling:doctor-day"), {"date": f"{_day(doctor, 1)}"}))
    assert f"<strong>1 of {doctor.max_patients_per_day}</strong> places booked" in html
    assert '<span data-free-places>3</span> still free to book' in html


# --- patients meet the policy before they try ---------------------------------------------------


@pytest.fixture
def strict(clinic):
    clinic.min_notice_minutes = 180
    clinic.booking_horizon_days = 10
    clinic.cancellation_window_minutes = 24 * 60
    clinic.max_active_bookings_per_patient = 1
    clinic.save()
    return clinic


def test_the_week_greys_out_times_inside_the_notice_and_beyond_the_horizon(client, doctor, strict):
    soon = SlotFactory(doctor=doctor, start=timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=60))
    fine = SlotFactory(doctor=doctor, start=soon.start + timedelta(hours=6))
    far = SlotFactory(doctor=doctor, start=_at(doctor, 12, 10))
    url = reverse("scheduling:doctor-detail", args=[doctor.pk])
    html = _html(client.get(url, {"week": f"{timezone.localtime(soon.start, strict.tzinfo).date()}"}))
    assert reverse("scheduling:appointment-book", args=[soon.pk]) not in html and "too soon" in html
    fine_week = _html(client.get(url, {"week": f"{timezone.localtime(fine.start, strict.tzinfo).date()}"}))
    assert reverse("scheduling:appointment-book", args=[fine.pk]) in fine_week
    far_week = _html(client.get(url, {"week": f"{_day(doctor, 12)}"}))
    assert reverse("scheduling:appointment-book", args=[far.pk]) not in far_week and "opens later" in far_week
    assert "Online booking closes 3 hours before a visit and opens 10 days ahead" in html


def test_a_patient_opening_a_too_soon_time_is_told_and_the_post_is_refused(patient_client, doctor, strict):
    soon = SlotFactory(doctor=doctor, start=timezone.now() + timedelta(minutes=60))
    page = _html(patient_client.get(reverse("scheduling:appointment-book", args=[soon.pk])))
    assert "too soon to book online" in page and 'name="reason_for_visit"' not in page
    response = patient_client.post(reverse("scheduling:appointment-book", args=[soon.pk]),
                                   {"reason_for_visit": "Checkup"})
    assert response.status_code == 409 and "too soon to book online" in _html(response)
    assert not Appointment.objects.exists()


def test_a_patient_beyond_the_horizon_or_the_cap_is_refused_in_the_portal(patient_client, patient, doctor, strict):
    far = SlotFactory(doctor=doctor, start=_at(doctor, 12, 10))
    refused = patient_client.post(reverse("scheduling:appointment-book", args=[far.pk]), {"reason_for_visit": "x"})
    assert refused.status_code == 409 and "not open for booking yet" in _html(refused)
    services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=_at(doctor, 2, 10)).pk)
    second = SlotFactory(doctor=doctor, start=_at(doctor, 3, 10))
    capped = patient_client.post(reverse("scheduling:appointment-book", args=[second.pk]), {"reason_for_visit": "x"})
    assert capped.status_code == 409 and "most upcoming visits this clinic allows" in _html(capped)
    assert Appointment.objects.filter(patient=patient).count() == 1


def test_inside_the_cancellation_window_the_patient_is_told_to_call_and_cannot_cancel(
    patient_client, patient, doctor, strict
):
    visit = services.appointment_book(patient=patient, slot_id=SlotFactory(
        doctor=doctor, start=timezone.now() + timedelta(hours=5)).pk, booked_by=doctor.user)
    detail = _html(patient_client.get(reverse("scheduling:appointment-detail", args=[visit.pk])))
    assert "too close to change online" in detail and "Cancel the appointment" not in detail
    response = patient_client.post(reverse("scheduling:appointment-cancel", args=[visit.pk]), {"reason": "x"},
                                   follow=True)
    assert "too close to change online" in _html(response)
    moved = patient_client.get(reverse("scheduling:appointment-reschedule", args=[visit.pk]), follow=True)
    assert "too close to change online" in _html(moved)
    visit.refresh_from_db()
    assert visit.status == "confirmed"


def test_the_appointment_says_until_when_it_can_be_changed(patient_client, patient, doctor, strict):
    visit = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=_at(doctor, 3, 10)).pk)
    html = _html(patient_client.get(reverse("scheduling:appointment-detail", args=[visit.pk])))
    deadline = timezone.localtime(visit.start - timedelta(hours=24), strict.tzinfo)
    assert f"until {deadline:%A} {deadline.day} {deadline:%B}, 10:00 IST" in html


def test_a_pending_booking_tells_the_patient_it_waits_for_the_doctor(patient_client, patient, clinic):
    approving = DoctorFactory(clinic=clinic, requires_approval=True)
    slot = SlotFactory(doctor=approving)
    booking_page = _html(patient_client.get(reverse("scheduling:appointment-book", args=[slot.pk])))
    assert "confirms each booking" in booking_page
    response = patient_client.post(reverse("scheduling:appointment-book", args=[slot.pk]),
                                   {"reason_for_visit": "Rash"}, follow=True)
    assert "held for you until the doctor confirms" in _html(response) and "Waiting for Dr." in _html(response)


def test_search_gives_the_next_time_a_patient_can_book_not_one_inside_the_notice(client, doctor, strict):
    SlotFactory(doctor=doctor, start=timezone.now() + timedelta(minutes=30))  # inside the 3-hour notice
    bookable = SlotFactory(doctor=doctor, start=_at(doctor, 2, 10))
    later_doctor = DoctorFactory(clinic=strict)
    SlotFactory(doctor=later_doctor, start=_at(doctor, 11, 10))  # beyond the 10-day horizon
    page = client.get(reverse("scheduling:doctor-list")).context["page"]
    next_free = {d.pk: d.next_free_start for d in page.object_list}
    assert next_free[doctor.pk] == bookable.start and next_free[later_doctor.pk] is None


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2999-01-01"])
def test_a_date_at_the_calendars_ends_is_refused_not_a_crash(doctor_client, doctor, value):
    # 9999-12-31 in the clinic's zone is past the last moment Python can hold in UTC.
    day = doctor_client.get(reverse("scheduling:doctor-day"), {"date": value})
    assert day.status_code == 200 and day.context["day"] == _day(doctor, 0)  # today instead
    slots = doctor_client.get(reverse("scheduling:slot-list"), {"date": value})
    assert slots.status_code == 200 and slots.context["since"] is None


@pytest.mark.parametrize("value", ["9999-12-31", "9999-12-27", "0001-01-01"])
def test_a_week_at_the_calendars_ends_shows_this_week(client, doctor, value):
    response = client.get(reverse("scheduling:doctor-detail", args=[doctor.pk]), {"week": value})
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    assert response.status_code == 200 and response.context["week_start"] == today - timedelta(days=today.weekday())


def test_forms_refuse_dates_beyond_ten_years(doctor_client, doctor):
    response = doctor_client.post(reverse("scheduling:leave-list"), {"first_day": "9999-12-31"})
    assert response.status_code == 200 and "Choose a date between" in _html(response)
    assert not Leave.objects.exists()


def test_the_portal_takes_rule_times_in_hours_and_minutes(doctor_client, doctor):
    response = doctor_client.post(reverse("scheduling:my-week"), {**RULE, "start_time": "09:00:30"})
    assert response.status_code == 200 and "Enter a valid time." in _html(response)
    assert not AvailabilityRule.objects.exists()


def test_another_doctor_cannot_cancel_a_doctors_visit(client, other_doctor, doctor, patient):
    visit = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk)
    client.force_login(other_doctor.user)
    response = client.post(reverse("scheduling:doctor-appointment-cancel", args=[visit.pk]), {"reason": "Mine now"})
    assert response.status_code == 404
    visit.refresh_from_db()
    assert (visit.status, visit.cancelled_reason) == ("confirmed", "")


@pytest.fixture
def a_doctors_schedule(doctor, patient):
    """One of everything a doctor's schedule pages can change."""
    rule = services.availability_rule_create(doctor=doctor, weekday=0, start_time=time(9), end_time=time(10))
    slot = SlotFactory(doctor=doctor, start=_at(doctor, 3, 10))
    visit = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=_at(doctor, 4, 10)).pk)
    leave = services.leave_create(doctor=doctor, start=_at(doctor, 20, 0), end=_at(doctor, 21, 0))
    return {"rule": rule, "slot": slot, "visit": visit, "leave": leave}


def _doctor_posts(doctor, w):
    day = f"{_day(doctor, 3)}"
    return [
        ("my-week", [], RULE),
        ("rule-edit", [w["rule"].pk], {**RULE, "end_time": "11:00"}),
        ("rule-delete", [w["rule"].pk], {}),
        ("slots-generate", [], {"date_from": f"{_day(doctor, 1)}", "date_to": f"{_day(doctor, 8)}"}),
        ("slot-list", [], {"date": day, "start_time": "15:00", "duration_minutes": "30", "capacity": "1"}),
        ("slot-change", [w["slot"].pk], {"action": "close"}),
        ("slot-day", [], {"date": day, "action": "close"}),
        ("leave-list", [], {"first_day": f"{_day(doctor, 5)}"}),
        ("leave-detail", [w["leave"].pk], {"reason": "x"}),
        ("leave-delete", [w["leave"].pk], {}),
        ("doctor-appointment", [w["visit"].pk], {"notes": "Seen"}),
        ("doctor-appointment-cancel", [w["visit"].pk], {"reason": "x"}),
        ("doctor-appointment-confirm", [w["visit"].pk], {}),
        ("doctor-appointment-decline", [w["visit"].pk], {"reason": "x"}),
    ]


def _schedule_state(doctor):
    return (
        list(AvailabilityRule.objects.filter(doctor=doctor).values_list("pk", "end_time")),
        list(AppointmentSlot.objects.filter(doctor=doctor).values_list("pk", "is_active").order_by("pk")),
        list(Leave.objects.filter(doctor=doctor).values_list("pk", flat=True)),
        list(Appointment.objects.filter(doctor=doctor).values_list("pk", "status", "notes")),
    )


@pytest.mark.parametrize("step", range(14))
def test_a_patient_cannot_change_a_doctors_schedule(patient_client, doctor, a_doctors_schedule, step):
    name, args, body = _doctor_posts(doctor, a_doctors_schedule)[step]
    before = _schedule_state(doctor)
    assert patient_client.post(reverse(f"scheduling:{name}", args=args), body).status_code == 403
    assert _schedule_state(doctor) == before


@pytest.mark.parametrize("step", range(14))
def test_another_doctor_cannot_change_a_doctors_schedule(client, doctor, other_doctor, a_doctors_schedule, step):
    name, args, body = _doctor_posts(doctor, a_doctors_schedule)[step]
    client.force_login(other_doctor.user)
    before = _schedule_state(doctor)
    client.post(reverse(f"scheduling:{name}", args=args), body)  # 404, or a change of their own schedule
    assert _schedule_state(doctor) == before
