"""Leaves, changing and closing slots, and a doctor's day load."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import selectors, services
from scheduling.exceptions import (
    CapacityBelowBookedError,
    LeaveNotFoundError,
    ScheduleValidationError,
    SlotHasBookingsError,
    SlotOverlapError,
    SlotUnavailableError,
)
from scheduling.models import AppointmentSlot, Leave
from scheduling.services.leaves import leave_bounds
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db


def _at(doctor, days, hour, minute=0):
    tz = doctor.clinic.tzinfo
    return datetime.combine(timezone.localdate(timezone=tz) + timedelta(days=days), time(hour, minute), tzinfo=tz)


# --- leaves ---------------------------------------------------------------------------


def test_a_free_slot_inside_a_leave_cannot_be_booked_or_listed_until_the_leave_goes(doctor, patient):
    inside = SlotFactory(doctor=doctor, start=_at(doctor, 2, 10))
    outside = SlotFactory(doctor=doctor, start=_at(doctor, 3, 10))
    leave = services.leave_create(doctor=doctor, start=_at(doctor, 2, 0), end=_at(doctor, 3, 0), reason="Conference")
    with pytest.raises(SlotUnavailableError, match="away"):
        services.appointment_book(patient=patient, slot_id=inside.pk)
    assert list(selectors.slot_list_bookable(doctor_id=doctor.pk)) == [outside]
    inside.refresh_from_db()
    assert inside.is_active and inside.booked_count == 0  # the leave closes nothing
    services.leave_delete(leave_id=leave.pk)
    assert services.appointment_book(patient=patient, slot_id=inside.pk).slot_id == inside.pk
    with pytest.raises(LeaveNotFoundError):
        services.leave_delete(leave_id=leave.pk)


def test_a_leave_over_part_of_a_slot_makes_it_unavailable(doctor, patient):
    slot = SlotFactory(doctor=doctor, start=_at(doctor, 2, 10), duration_minutes=30)
    services.leave_create(doctor=doctor, start=_at(doctor, 2, 10, 15), end=_at(doctor, 2, 12))
    with pytest.raises(SlotUnavailableError):
        services.appointment_book(patient=patient, slot_id=slot.pk)
    back_to_back = SlotFactory(doctor=doctor, start=_at(doctor, 2, 12))
    services.appointment_book(patient=patient, slot_id=back_to_back.pk)


def test_the_appointments_inside_a_new_leave_are_listed_not_cancelled(doctor, patient, other_patient, admin_user):
    inside = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=_at(doctor, 2, 9)).pk)
    cancelled = services.appointment_book(patient=other_patient, slot_id=SlotFactory(
        doctor=doctor, start=_at(doctor, 2, 11)).pk)
    services.appointment_cancel(appointment_id=cancelled.pk, by=admin_user)
    services.appointment_book(patient=other_patient, slot_id=SlotFactory(doctor=doctor, start=_at(doctor, 4, 9)).pk)
    leave = services.leave_create(doctor=doctor, start=_at(doctor, 2, 0), end=_at(doctor, 3, 0))
    assert list(selectors.leave_appointments(leave=leave)) == [inside]
    inside.refresh_from_db()
    assert inside.status == "confirmed"


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (lambda d: _at(d, 2, 10), lambda d: _at(d, 2, 9), "end"),
        (lambda d: _at(d, -3, 10), lambda d: _at(d, -2, 9), "end"),
        (lambda d: _at(d, 1, 0), lambda d: _at(d, 400, 0), "end"),
        (lambda d: _at(d, 1, 0).replace(tzinfo=None), lambda d: _at(d, 2, 0), "start"),
    ],
    ids=["end-before-start", "already-over", "too-long", "naive"],
)
def test_a_bad_leave_is_refused_and_nothing_is_saved(doctor, start, end, field):
    with pytest.raises(ScheduleValidationError) as refused:
        services.leave_create(doctor=doctor, start=start(doctor), end=end(doctor))
    assert field in refused.value.extra["errors"]
    assert not Leave.objects.exists()


def test_leave_bounds_are_whole_local_days_or_the_given_times():
    tz = ZoneInfo("Asia/Kolkata")
    start, end = leave_bounds(tz=tz, first_day=date(2030, 3, 4), last_day=date(2030, 3, 6))
    assert (start, end) == (datetime(2030, 3, 3, 18, 30, tzinfo=UTC), datetime(2030, 3, 6, 18, 30, tzinfo=UTC))
    start, end = leave_bounds(tz=tz, first_day=date(2030, 3, 4), from_time=time(14), until_time=time(17))
    assert (start, end) == (datetime(2030, 3, 4, 8, 30, tzinfo=UTC), datetime(2030, 3, 4, 11, 30, tzinfo=UTC))


def test_leave_bounds_follow_dst_and_refuse_a_skipped_wall_time():
    tz = ZoneInfo("America/New_York")
    start, end = leave_bounds(tz=tz, first_day=date(2030, 3, 10))
    assert end - start == timedelta(hours=23)  # the day the clocks go forward
    with pytest.raises(ScheduleValidationError) as refused:
        leave_bounds(tz=tz, first_day=date(2030, 3, 10), from_time=time(2, 30))
    assert "from_time" in refused.value.extra["errors"]
    with pytest.raises(ScheduleValidationError):
        leave_bounds(tz=tz, first_day=date(2030, 3, 11), from_time=time(14), until_time=time(9))


# --- one slot: capacity, close, reopen -------------------------------------------------


def test_capacity_never_goes_below_the_booked_places(doctor, patient, other_patient):
    slot = SlotFactory(doctor=doctor, capacity=3)
    services.appointment_book(patient=patient, slot_id=slot.pk)
    services.appointment_book(patient=other_patient, slot_id=slot.pk)
    with pytest.raises(CapacityBelowBookedError):
        services.slot_update(slot_id=slot.pk, capacity=1)
    slot.refresh_from_db()
    assert slot.capacity == 3
    assert services.slot_update(slot_id=slot.pk, capacity=2).capacity == 2
    assert services.slot_update(slot_id=slot.pk, capacity=10).capacity == 10


def test_a_slot_with_active_appointments_cannot_be_closed(doctor, patient):
    slot = SlotFactory(doctor=doctor, capacity=2)
    services.appointment_book(patient=patient, slot_id=slot.pk)
    with pytest.raises(SlotHasBookingsError):
        services.slot_update(slot_id=slot.pk, is_active=False)
    slot.refresh_from_db()
    assert slot.is_active


def test_a_closed_slot_is_not_bookable_and_reopens(doctor, patient):
    slot = SlotFactory(doctor=doctor)
    services.slot_update(slot_id=slot.pk, is_active=False)
    with pytest.raises(SlotUnavailableError):
        services.appointment_book(patient=patient, slot_id=slot.pk)
    assert services.slot_update(slot_id=slot.pk, is_active=True).is_active
    services.appointment_book(patient=patient, slot_id=slot.pk)


def test_reopening_a_slot_that_overlaps_an_open_one_or_has_begun_is_refused(doctor):
    closed = SlotFactory(doctor=doctor, start=_at(doctor, 2, 10), is_active=False)
    services.slot_create(doctor=doctor, start=_at(doctor, 2, 10, 15))
    with pytest.raises(SlotOverlapError):
        services.slot_update(slot_id=closed.pk, is_active=True)
    begun = SlotFactory(doctor=doctor, start=timezone.now() - timedelta(minutes=5), is_active=False)
    with pytest.raises(SlotUnavailableError):
        services.slot_update(slot_id=begun.pk, is_active=True)
    closed.refresh_from_db()
    begun.refresh_from_db()
    assert not closed.is_active and not begun.is_active


def test_closing_a_day_keeps_the_booked_slots_and_reopening_brings_the_rest_back(doctor, patient):
    morning = [SlotFactory(doctor=doctor, start=_at(doctor, 2, hour)) for hour in (9, 10, 11)]
    next_day = SlotFactory(doctor=doctor, start=_at(doctor, 3, 9))
    services.appointment_book(patient=patient, slot_id=morning[1].pk)
    day = timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=2)
    assert services.slots_close_day(doctor=doctor, day=day) == (2, 1)
    assert list(AppointmentSlot.objects.filter(doctor=doctor, is_active=True).order_by("start")) == [
        morning[1], next_day]
    assert services.slots_reopen_day(doctor=doctor, day=day) == 2
    assert AppointmentSlot.objects.filter(doctor=doctor, is_active=True).count() == 4


# --- a doctor's day ----------------------------------------------------------------------


def test_the_day_counts_held_places_and_free_places_within_the_daily_limit(clinic, admin_user):
    doctor = DoctorFactory(clinic=clinic, max_patients_per_day=4)
    slots = [SlotFactory(doctor=doctor, start=_at(doctor, 2, hour), capacity=2) for hour in (9, 10, 11)]
    away = SlotFactory(doctor=doctor, start=_at(doctor, 2, 16), capacity=5)
    services.leave_create(doctor=doctor, start=_at(doctor, 2, 15), end=_at(doctor, 2, 18))
    services.appointment_book(patient=PatientFactory(), slot_id=slots[0].pk)
    cancelled = services.appointment_book(patient=PatientFactory(), slot_id=slots[1].pk)
    services.appointment_cancel(appointment_id=cancelled.pk, by=admin_user)
    SlotFactory(doctor=doctor, start=_at(doctor, 3, 9))  # another day
    day = timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=2)
    schedule = selectors.doctor_day_schedule(doctor=doctor, day=day)
    assert [a.status for a in schedule.appointments] == ["confirmed", "cancelled"]
    assert (schedule.booked, schedule.max_patients_per_day) == (1, 4)
    # 5 free places on bookable slots (1 + 2 + 2; the slot inside the leave is not bookable), capped at 4 - 1.
    assert schedule.free_places == 3
    assert away.booked_count == 0


def test_completed_visits_count_in_the_day_load(doctor):
    slot = SlotFactory(doctor=doctor, start=timezone.now() - timedelta(hours=1), booked_count=1)
    AppointmentFactory(slot=slot, status="completed")
    schedule = selectors.doctor_day_schedule(doctor=doctor, day=timezone.localtime(slot.start,
                                                                                   doctor.clinic.tzinfo).date())
    assert schedule.booked == 1


def test_the_day_is_the_clinics_local_day():
    doctor = DoctorFactory(clinic=ClinicFactory(timezone="America/New_York"))
    # 23:30 New York on the 5th is 03:30 UTC on the 6th: it belongs to the 5th.
    late = SlotFactory(doctor=doctor, start=datetime(2031, 3, 6, 4, 30, tzinfo=UTC), booked_count=1)
    AppointmentFactory(slot=late)
    assert selectors.doctor_day_schedule(doctor=doctor, day=date(2031, 3, 5)).booked == 1
    assert selectors.doctor_day_schedule(doctor=doctor, day=date(2031, 3, 6)).booked == 0


def test_the_days_of_several_doctors_in_two_zones_come_in_two_queries(django_assert_num_queries):
    doctors = [DoctorFactory(clinic=ClinicFactory(timezone=zone)) for zone in ("Asia/Kolkata", "Europe/London")] * 2
    doctors = [doctors[0], doctors[1], DoctorFactory(clinic=doctors[0].clinic)]
    day = timezone.localdate(timezone=doctors[0].clinic.tzinfo) + timedelta(days=3)
    for doctor in doctors:
        tz = doctor.clinic.tzinfo
        services.appointment_book(patient=PatientFactory(), slot_id=SlotFactory(
            doctor=doctor, start=datetime.combine(day, time(10), tzinfo=tz), capacity=3).pk)
        SlotFactory(doctor=doctor, start=datetime.combine(day, time(23, 30), tzinfo=tz))  # late in that local day
    with django_assert_num_queries(2):
        together = selectors.doctor_day_schedules(doctors=doctors, day=day)
    one_by_one = [selectors.doctor_day_schedule(doctor=doctor, day=day) for doctor in doctors]
    assert [(s.booked, s.free_places, [a.pk for a in s.appointments]) for s in together] == [
        (s.booked, s.free_places, [a.pk for a in s.appointments]) for s in one_by_one]
    assert [(s.booked, s.free_places) for s in together] == [(1, 3)] * 3


def test_a_slot_given_in_a_zones_time_lasts_its_minutes_across_the_clocks_going_back(doctor):
    # 01:30 EDT on 2027-11-07 plus an hour is 01:30 EST: added by wall time it would last two hours.
    start = datetime(2027, 11, 7, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    slot = services.slot_create(doctor=doctor, start=start, duration_minutes=60)
    slot.refresh_from_db()
    assert slot.end - slot.start == timedelta(hours=1) and slot.start == start.astimezone(UTC)


def test_a_leave_given_in_a_zones_time_is_measured_in_real_hours(doctor):
    tz = ZoneInfo("America/New_York")
    # 366 days and one hour of wall time, but 366 days of real time (the clocks went forward once more than back).
    start, end = datetime(2030, 3, 9, 12, tzinfo=tz), datetime(2031, 3, 10, 13, tzinfo=tz)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=366)
    leave = services.leave_create(doctor=doctor, start=start, end=end)
    assert leave.end - leave.start == timedelta(days=366)


def test_cancelling_the_visits_inside_a_leave_goes_through_the_core_and_reports_refusals(doctor, patient, admin_user):
    later = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=_at(doctor, 1, 10)).pk)
    begun_slot = SlotFactory(doctor=doctor, start=timezone.now() - timedelta(minutes=5), booked_count=1)
    begun = AppointmentFactory(slot=begun_slot)
    leave = services.leave_create(doctor=doctor, start=timezone.now() - timedelta(hours=1), end=_at(doctor, 2, 0))
    result = services.leave_cancel_appointments(leave=leave, by=admin_user, reason="Dr. is away")
    assert [a.pk for a in result.cancelled] == [later.pk]
    assert [(a.pk, exc.code) for a, exc in result.refused] == [(begun.pk, "INVALID_STATE")]
    later.refresh_from_db()
    assert (later.status, later.cancelled_reason, later.slot.booked_count) == ("cancelled", "Dr. is away", 0)
