"""Weekly rules and the slots generated from them: exact slots in two zones,
idempotence, DST change days, leaves, and the database as the backstop."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.exceptions import (
    AvailabilityOverlapError,
    AvailabilityRuleNotFoundError,
    DoctorNotVerifiedError,
    ScheduleValidationError,
    SlotUnavailableError,
)
from scheduling.models import AppointmentSlot, AvailabilityRule
from scheduling.services import availability
from scheduling.services.availability import rule_wall_times, slot_times

pytestmark = pytest.mark.django_db

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def _doctor(zone: str):
    return DoctorFactory(clinic=ClinicFactory(timezone=zone), max_patients_per_day=100)


def _rule(doctor, weekday, start, end, minutes=30, **extra):
    return services.availability_rule_create(
        doctor=doctor, weekday=weekday, start_time=start, end_time=end, slot_minutes=minutes, **extra
    )


def _next_monday(tz) -> date:
    today = timezone.localdate(timezone=tz)
    return today + timedelta(days=7 - today.weekday())


def _local_starts(doctor) -> list[datetime]:
    tz = doctor.clinic.tzinfo
    return [s.start.astimezone(tz) for s in AppointmentSlot.objects.filter(doctor=doctor).order_by("start")]


# --- rules ---------------------------------------------------------------------------


def test_a_rule_is_saved_for_the_doctors_clinic(doctor):
    rule = _rule(doctor, MON, time(9), time(13), capacity=2, break_start=time(11), break_end=time(11, 15))
    rule.refresh_from_db()
    assert (rule.clinic_id, rule.weekday, rule.capacity, rule.break_end) == (doctor.clinic_id, MON, 2, time(11, 15))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"start_time": time(13), "end_time": time(9)}, "end_time"),
        ({"start_time": time(9), "end_time": time(9)}, "end_time"),
        ({"break_start": time(10)}, "break_end"),
        ({"break_start": time(8), "break_end": time(8, 30)}, "break_start"),
        ({"break_start": time(12), "break_end": time(11)}, "break_end"),
        ({"slot_minutes": 4}, "slot_minutes"),
        ({"slot_minutes": 481}, "slot_minutes"),
        ({"capacity": 0}, "capacity"),
        ({"weekday": 7}, "weekday"),
    ],
)
def test_a_bad_rule_is_refused_on_its_field_and_nothing_is_saved(doctor, fields, field):
    data = {"weekday": MON, "start_time": time(9), "end_time": time(13), "slot_minutes": 30, **fields}
    with pytest.raises(ScheduleValidationError) as refused:
        services.availability_rule_create(doctor=doctor, **data)
    assert field in refused.value.extra["errors"]
    assert not AvailabilityRule.objects.exists()


def test_a_rule_at_another_clinic_is_refused(doctor):
    with pytest.raises(ScheduleValidationError) as refused:
        _rule(doctor, MON, time(9), time(12), clinic=ClinicFactory())
    assert "clinic_id" in refused.value.extra["errors"]


def test_overlapping_rules_of_one_day_are_refused_but_other_days_and_doctors_may(doctor, other_doctor):
    _rule(doctor, MON, time(9), time(13))
    with pytest.raises(AvailabilityOverlapError, match="Monday rule 09:00–13:00"):
        _rule(doctor, MON, time(12), time(15))
    _rule(doctor, MON, time(13), time(17))  # back to back
    _rule(doctor, TUE, time(9), time(13))
    _rule(other_doctor, MON, time(9), time(13))
    assert AvailabilityRule.objects.filter(doctor=doctor).count() == 3


def test_a_rule_is_updated_and_checked_against_the_others(doctor):
    first = _rule(doctor, MON, time(9), time(12))
    second = _rule(doctor, MON, time(14), time(17))
    updated = services.availability_rule_update(rule_id=second.pk, start_time=time(13), capacity=3)
    assert (updated.start_time, updated.capacity) == (time(13), 3)
    with pytest.raises(AvailabilityOverlapError):
        services.availability_rule_update(rule_id=second.pk, start_time=time(11))
    second.refresh_from_db()
    assert second.start_time == time(13)
    services.availability_rule_update(rule_id=first.pk, end_time=time(13))  # touching is fine


def test_deleting_a_rule_keeps_the_slots_it_made(doctor):
    rule = _rule(doctor, MON, time(9), time(10))
    monday = _next_monday(doctor.clinic.tzinfo)
    services.slots_generate(doctor=doctor, date_from=monday, date_to=monday)
    services.availability_rule_delete(rule_id=rule.pk)
    assert AppointmentSlot.objects.filter(doctor=doctor).count() == 2
    with pytest.raises(AvailabilityRuleNotFoundError):
        services.availability_rule_delete(rule_id=rule.pk)


def test_wall_times_step_by_the_slot_length_and_restart_after_the_break():
    rule = AvailabilityRule(
        weekday=MON, start_time=time(9), end_time=time(12, 10), slot_minutes=45,
        break_start=time(10, 30), break_end=time(10, 40),
    )
    # 09:00, 09:45 (ends 10:30); after the break 10:40, 11:25 (ends 12:10).
    assert rule_wall_times(rule) == [time(9), time(9, 45), time(10, 40), time(11, 25)]


# --- generation ---------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Europe/London"])
def test_two_weeks_make_exactly_the_rules_slots_in_the_clinic_zone(zone):
    doctor = _doctor(zone)
    tz = doctor.clinic.tzinfo
    _rule(doctor, MON, time(9), time(11), minutes=30, break_start=time(10), break_end=time(10, 30))
    _rule(doctor, WED, time(14), time(16), minutes=60, capacity=3)
    monday = _next_monday(tz)
    result = services.slots_generate(doctor=doctor, date_from=monday, date_to=monday + timedelta(days=13))
    expected = []
    for week in (0, 7):
        for hour, minute in [(9, 0), (9, 30), (10, 30)]:
            expected.append(datetime.combine(monday + timedelta(days=week), time(hour, minute), tzinfo=tz))
        for hour in (14, 15):
            expected.append(datetime.combine(monday + timedelta(days=week + 2), time(hour), tzinfo=tz))
    assert _local_starts(doctor) == sorted(expected)
    assert (result.created, result.skipped) == (10, 0)
    wednesday = AppointmentSlot.objects.filter(doctor=doctor, duration_minutes=60)
    assert wednesday.count() == 4 and {s.capacity for s in wednesday} == {3}
    assert {s.clinic_id for s in AppointmentSlot.objects.filter(doctor=doctor)} == {doctor.clinic_id}
    assert all(s.end - s.start == timedelta(minutes=s.duration_minutes) for s in wednesday)


def test_a_second_run_creates_nothing(doctor):
    _rule(doctor, MON, time(9), time(12))
    _rule(doctor, THU, time(15), time(17), minutes=20)
    monday = _next_monday(doctor.clinic.tzinfo)
    first = services.slots_generate(doctor=doctor, date_from=monday, date_to=monday + timedelta(days=13))
    second = services.slots_generate(doctor=doctor, date_from=monday, date_to=monday + timedelta(days=13))
    assert first.created == 2 * (6 + 6) and first.skipped == 0
    assert (second.created, second.skipped) == (0, first.created)
    assert AppointmentSlot.objects.filter(doctor=doctor).count() == first.created


def test_generation_leaves_booked_closed_and_hand_made_slots_as_they_are(doctor, patient):
    tz = doctor.clinic.tzinfo
    _rule(doctor, MON, time(9), time(12))
    monday = _next_monday(tz)
    # Opened by hand at 11:10: it overlaps the rule's 11:00 and 11:30.
    hand_made = services.slot_create(doctor=doctor, start=datetime.combine(monday, time(11, 10), tzinfo=tz))
    first = services.slots_generate(doctor=doctor, date_from=monday, date_to=monday)
    assert (first.created, first.skipped) == (4, 2)
    nine, half_past = AppointmentSlot.objects.filter(doctor=doctor).exclude(pk=hand_made.pk).order_by("start")[:2]
    services.appointment_book(patient=patient, slot_id=nine.pk)
    services.slot_update(slot_id=half_past.pk, is_active=False)

    second = services.slots_generate(doctor=doctor, date_from=monday, date_to=monday)
    nine.refresh_from_db()
    half_past.refresh_from_db()
    assert (second.created, second.skipped) == (0, 6)
    assert nine.booked_count == 1 and nine.is_active
    assert not half_past.is_active  # closed stays closed: a generation never reopens it
    assert [s.time() for s in _local_starts(doctor)] == [time(9), time(9, 30), time(10), time(10, 30), time(11, 10)]


def test_no_slot_is_made_inside_a_leave(doctor):
    tz = doctor.clinic.tzinfo
    _rule(doctor, MON, time(9), time(12))
    _rule(doctor, TUE, time(9), time(12))
    monday = _next_monday(tz)
    services.leave_create(doctor=doctor, start=datetime.combine(monday, time(10, 15), tzinfo=tz),
                          end=datetime.combine(monday + timedelta(days=1), time(0), tzinfo=tz))
    result = services.slots_generate(doctor=doctor, date_from=monday, date_to=monday + timedelta(days=1))
    starts = [s.time() for s in _local_starts(doctor) if s.date() == monday]
    assert starts == [time(9), time(9, 30)]  # 10:00-10:30 reaches into the leave
    assert len([s for s in _local_starts(doctor) if s.date() != monday]) == 6
    assert (result.created, result.skipped) == (8, 4)


def test_times_already_passed_today_are_skipped(doctor):
    tz = doctor.clinic.tzinfo
    now = timezone.localtime(timezone.now(), tz)
    _rule(doctor, now.weekday(), time(0), time(23, 30), minutes=30)
    result = services.slots_generate(doctor=doctor, date_from=now.date(), date_to=now.date())
    assert all(s.start > timezone.now() for s in AppointmentSlot.objects.filter(doctor=doctor))
    assert result.created + result.skipped == 47
    assert result.created == AppointmentSlot.objects.filter(doctor=doctor).count()


@pytest.mark.parametrize(
    ("offset_from", "offset_to", "field"),
    [(-1, 0, "date_from"), (3, 2, "date_to"), (0, 367, "date_to")],
)
def test_a_bad_range_is_refused(doctor, offset_from, offset_to, field):
    _rule(doctor, MON, time(9), time(12))
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    with pytest.raises(ScheduleValidationError) as refused:
        services.slots_generate(doctor=doctor, date_from=today + timedelta(days=offset_from),
                                date_to=today + timedelta(days=offset_to))
    assert field in refused.value.extra["errors"]
    assert not AppointmentSlot.objects.exists()


def test_366_days_ahead_is_the_limit_and_is_allowed(doctor):
    _rule(doctor, MON, time(9), time(9, 30))
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    result = services.slots_generate(doctor=doctor, date_from=today, date_to=today + timedelta(days=366))
    assert result.created in (52, 53)


def test_an_unverified_or_inactive_doctor_cannot_generate(unverified_doctor, doctor):
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    with pytest.raises(DoctorNotVerifiedError):
        services.slots_generate(doctor=unverified_doctor, date_from=today, date_to=today)
    doctor.is_active = False
    doctor.save()
    with pytest.raises(SlotUnavailableError):
        services.slots_generate(doctor=doctor, date_from=today, date_to=today)


def test_the_database_refuses_a_duplicate_even_when_the_check_is_bypassed(doctor, monkeypatch):
    """Generation relies on the unique (doctor, start) index, not only on its
    own look-up: with the look-up blinded, a second run still adds nothing."""
    _rule(doctor, MON, time(9), time(12))
    monday = _next_monday(doctor.clinic.tzinfo)
    services.slots_generate(doctor=doctor, date_from=monday, date_to=monday)
    monkeypatch.setattr(availability, "_existing", lambda **kwargs: (set(), availability._Busy([])))
    second = services.slots_generate(doctor=doctor, date_from=monday, date_to=monday)
    assert second.created == 0 and second.skipped == 6
    assert AppointmentSlot.objects.filter(doctor=doctor).count() == 6


def test_generate_ahead_covers_every_doctor_with_rules_in_their_own_zone():
    kolkata, london = _doctor("Asia/Kolkata"), _doctor("Europe/London")
    for doctor in (kolkata, london):
        for weekday in range(7):
            _rule(doctor, weekday, time(23), time(23, 30))
    _doctor("UTC")  # no rules: nothing to do
    results = services.slots_generate_ahead(days=3)
    assert set(results) == {kolkata, london}
    for doctor in (kolkata, london):
        tz = doctor.clinic.tzinfo
        today = timezone.localdate(timezone=tz)
        dates = {s.date() for s in _local_starts(doctor)}
        assert dates <= {today + timedelta(days=n) for n in range(3)} and today + timedelta(days=2) in dates


# --- time zones -------------------------------------------------------------------------


def _made(rule_start, rule_end, minutes, zone, day):
    rule = AvailabilityRule(weekday=day.weekday(), start_time=rule_start, end_time=rule_end, slot_minutes=minutes)
    return list(slot_times([rule], date_from=day, date_to=day, tz=ZoneInfo(zone)))


def _utc(slot):
    return slot.start.astimezone(UTC).strftime("%H:%M")


def test_new_york_spring_forward_makes_no_slot_in_the_skipped_hour():
    # 2030-03-10: at 02:00 EST the clocks jump to 03:00 EDT.
    made = _made(time(1), time(4), 30, "America/New_York", date(2030, 3, 10))
    walls = [s.start.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M %Z") for s in made]
    assert walls == ["01:00 EST", "01:30 EST", "03:00 EDT", "03:30 EDT"]
    assert [_utc(s) for s in made] == ["06:00", "06:30", "07:00", "07:30"]


def test_new_york_fall_back_makes_each_repeated_wall_time_once_at_its_first_occurrence():
    # 2030-11-03: at 02:00 EDT the clocks go back to 01:00 EST; 01:00-01:59 happens twice.
    made = _made(time(0, 30), time(3), 30, "America/New_York", date(2030, 11, 3))
    walls = [s.start.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M %Z") for s in made]
    assert walls == ["00:30 EDT", "01:00 EDT", "01:30 EDT", "02:00 EST", "02:30 EST"]
    assert [_utc(s) for s in made] == ["04:30", "05:00", "05:30", "07:00", "07:30"]


def test_a_slot_reaching_across_the_skipped_hour_does_not_overlap_the_next():
    # 90-minute slots from 01:30: 01:30 EST lasts until 04:00 EDT, so 03:00 EDT is not made.
    made = _made(time(1, 30), time(6), 90, "America/New_York", date(2030, 3, 10))
    assert [s.start.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") for s in made] == ["01:30", "04:30"]
    assert all(a.end <= b.start for a, b in zip(made, made[1:]))


def test_london_spring_forward_and_fall_back():
    # 2030-03-31: 01:00 GMT -> 02:00 BST. 2030-10-27: 02:00 BST -> 01:00 GMT.
    spring = _made(time(0), time(3), 60, "Europe/London", date(2030, 3, 31))
    assert [_utc(s) for s in spring] == ["00:00", "01:00"]  # 00:00 GMT and 02:00 BST
    autumn = _made(time(0), time(3), 60, "Europe/London", date(2030, 10, 27))
    assert [_utc(s) for s in autumn] == ["23:00", "00:00", "02:00"]  # 00:00 and 01:00 BST, 02:00 GMT


def test_a_zone_without_dst_keeps_every_wall_time():
    made = _made(time(0), time(4), 30, "Asia/Kolkata", date(2030, 3, 10))
    assert len(made) == 8 and _utc(made[0]) == "18:30"


def test_generation_on_a_dst_day_stores_utc_and_is_idempotent():
    doctor = _doctor("America/New_York")
    _rule(doctor, SUN, time(1), time(4))
    day = date(2030, 3, 10)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(availability, "generation_range_check", lambda **kwargs: None)
        first = services.slots_generate(doctor=doctor, date_from=day, date_to=day)
        second = services.slots_generate(doctor=doctor, date_from=day, date_to=day)
    starts = [s.start.astimezone(UTC).strftime("%H:%M") for s in AppointmentSlot.objects.filter(doctor=doctor)]
    assert starts == ["06:00", "06:30", "07:00", "07:30"]
    assert (first.created, second.created, second.skipped) == (4, 0, 4)


def test_the_daily_command_generates_ahead_and_says_what_it_did(doctor, capsys):
    from django.core.management import CommandError, call_command

    for weekday in range(7):
        _rule(doctor, weekday, time(23), time(23, 30))
    call_command("generate_slots", "--days", "5")
    first = AppointmentSlot.objects.filter(doctor=doctor).count()
    call_command("generate_slots", "--days", "5")
    out = capsys.readouterr().out
    assert first in (4, 5) and AppointmentSlot.objects.filter(doctor=doctor).count() == first
    assert f"Dr. {doctor.user.name} (Asia/Kolkata): {first} created" in out and "0 created, 5 skipped" in out
    with pytest.raises(CommandError):
        call_command("generate_slots", "--days", "400")


def test_rule_times_are_whole_minutes(doctor):
    with pytest.raises(ScheduleValidationError) as refused:
        services.availability_rule_create(doctor=doctor, weekday=MON, start_time=time(9, 0, 30), end_time=time(12))
    assert "start_time" in refused.value.extra["errors"]


@pytest.mark.postgres_only
def test_on_postgresql_the_no_overlap_constraint_leaves_out_what_a_blinded_look_up_would_overlap(doctor, monkeypatch):
    """The exclusion constraint is a backstop too: with the look-up blinded,
    the rule's 09:00 and 09:30 slots overlap a slot opened at 09:10 and are
    left out by the database, the rest go in."""
    tz = doctor.clinic.tzinfo
    _rule(doctor, MON, time(9), time(11))
    monday = _next_monday(tz)
    services.slot_create(doctor=doctor, start=datetime.combine(monday, time(9, 10), tzinfo=tz))
    monkeypatch.setattr(availability, "_existing", lambda **kwargs: (set(), availability._Busy([])))
    result = services.slots_generate(doctor=doctor, date_from=monday, date_to=monday)
    assert (result.created, result.skipped) == (2, 2)
    assert [s.time() for s in _local_starts(doctor)] == [time(9, 10), time(10), time(10, 30)]
