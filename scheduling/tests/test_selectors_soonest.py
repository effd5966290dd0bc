"""Earliest available: doctors sorted by their next free time, the from-date
and morning/afternoon filters on the clinic's clock, and the soonest times of
a specialty side by side."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import selectors, services
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


def _day(days: int):
    """One calendar date for every clinic (counted from today in UTC): near
    midnight UTC Pune's and London's local dates differ, and a test that
    counts days in each zone would mean two different dates by "day after"."""
    return timezone.now().date() + timedelta(days=days)


def _at(clinic, hour, minute=0, days=1):
    return datetime.combine(_day(days), time(hour, minute), tzinfo=clinic.tzinfo)


@pytest.fixture
def two_zones():
    pune = ClinicFactory(name="Heart Care", city="Pune", timezone="Asia/Kolkata")
    london = ClinicFactory(name="Thames Practice", city="London", timezone="Europe/London")
    doctors = {
        "mehta": DoctorFactory(clinic=pune, specialty="Cardiology", user__name="Anil Mehta"),
        "shah": DoctorFactory(clinic=pune, specialty="Cardiology", user__name="Neha Shah"),
        "clarke": DoctorFactory(clinic=london, specialty="Cardiology", user__name="Emma Clarke"),
        "rao": DoctorFactory(clinic=pune, specialty="Dermatology", user__name="Kavya Rao"),
    }
    # Mehta: a morning in 3 days; Shah: an afternoon tomorrow; Clarke: a morning
    # tomorrow and an afternoon in 2 days (London time); Rao: none.
    SlotFactory(doctor=doctors["mehta"], start=_at(pune, 10, days=3))
    SlotFactory(doctor=doctors["shah"], start=_at(pune, 15, days=1))
    SlotFactory(doctor=doctors["clarke"], start=_at(london, 9, 30, days=1))
    SlotFactory(doctor=doctors["clarke"], start=_at(london, 14, days=2))
    return doctors


def _names(doctors):
    return [doctor.user.name for doctor in doctors]


def test_soonest_sort_puts_the_earliest_free_time_first_and_doctors_without_one_last(two_zones):
    doctors = selectors.doctor_list_with_next_free(sort="soonest")
    starts = {doctor.user.name: doctor.next_free_start for doctor in doctors}
    assert _names(doctors)[-1] == "Kavya Rao" and starts["Kavya Rao"] is None
    timed = [name for name in _names(doctors) if starts[name]]
    assert timed == sorted(timed, key=lambda name: starts[name])
    assert _names(selectors.doctor_list_with_next_free(sort="name")) == [
        "Anil Mehta", "Emma Clarke", "Kavya Rao", "Neha Shah"]


def test_a_full_slot_is_not_a_free_time(two_zones):
    shah = two_zones["shah"]
    later = SlotFactory(doctor=shah, start=_at(shah.clinic, 11, days=5))
    services.appointment_book(patient=PatientFactory(), slot_id=shah.slots.order_by("start").first().pk)
    found = selectors.doctor_list_with_next_free(sort="soonest").get(pk=shah.pk)
    assert found.next_free_start == later.start


def test_from_date_counts_only_times_from_that_local_day_and_hides_doctors_without(two_zones):
    day_after = _day(2)
    doctors = selectors.doctor_list_with_next_free(sort="soonest", from_date=day_after)
    assert set(_names(doctors)) == {"Anil Mehta", "Emma Clarke"}
    clarke = doctors.get(pk=two_zones["clarke"].pk)
    assert timezone.localtime(clarke.next_free_start, clarke.clinic.tzinfo).hour == 14


def test_morning_and_afternoon_are_on_the_clinics_clock(two_zones):
    mornings = selectors.doctor_list_with_next_free(sort="soonest", part_of_day="morning")
    assert set(_names(mornings)) == {"Anil Mehta", "Emma Clarke"}
    afternoons = selectors.doctor_list_with_next_free(sort="soonest", part_of_day="afternoon")
    assert set(_names(afternoons)) == {"Neha Shah", "Emma Clarke"}
    clarke = afternoons.get(pk=two_zones["clarke"].pk)
    # 14:00 in London, whatever UTC or the server's zone says.
    assert timezone.localtime(clarke.next_free_start, clarke.clinic.tzinfo).time() == time(14)


def test_time_filters_combine_with_the_search(two_zones):
    doctors = selectors.doctor_list_with_next_free(sort="soonest", part_of_day="morning", search="cardiologist pune")
    assert _names(doctors) == ["Anil Mehta"]


@pytest.mark.parametrize(("criteria", "expected"), [
    ({}, "name"), ({"search": "mehta"}, "name"), ({"specialty": "Cardiology"}, "soonest"),
    ({"city": "London"}, "soonest"), ({"search": "skin doctor"}, "soonest"),
])
def test_the_sort_defaults_to_soonest_when_a_specialty_or_city_is_chosen(criteria, expected):
    assert selectors.doctor_sort_default(**criteria) == expected


# --- the soonest across a specialty ---------------------------------------------------


def test_soonest_lists_a_specialtys_doctors_with_their_next_free_times(two_zones):
    mehta = two_zones["mehta"]
    for days in (4, 5, 6, 7, 8):
        SlotFactory(doctor=mehta, start=_at(mehta.clinic, 10, days=days))
    entries = selectors.doctor_list_soonest(specialty="cardiology")
    assert {entry.doctor.user.name for entry in entries} == {"Anil Mehta", "Neha Shah", "Emma Clarke"}
    firsts = [entry.slots[0].start for entry in entries]
    assert firsts == sorted(firsts)
    by_name = {entry.doctor.user.name: entry.slots for entry in entries}
    assert len(by_name["Anil Mehta"]) == selectors.SOONEST_SLOTS_PER_DOCTOR
    assert [slot.start for slot in by_name["Anil Mehta"]] == sorted(slot.start for slot in by_name["Anil Mehta"])
    assert by_name["Anil Mehta"][0].start == _at(mehta.clinic, 10, days=3)
    assert len(by_name["Emma Clarke"]) == 2


def test_soonest_narrows_by_city_and_time_and_leaves_out_doctors_without_a_time(two_zones):
    assert [e.doctor.user.name for e in selectors.doctor_list_soonest(specialty="Cardiology", city="London")] == [
        "Emma Clarke"]
    afternoon = selectors.doctor_list_soonest(specialty="Cardiology", part_of_day="afternoon")
    assert {e.doctor.user.name for e in afternoon} == {"Neha Shah", "Emma Clarke"}
    assert all(timezone.localtime(s.start, e.doctor.clinic.tzinfo).hour >= 12 for e in afternoon for s in e.slots)
    assert selectors.doctor_list_soonest(specialty="Dermatology") == []


@pytest.mark.parametrize("doctors", [2, 12])
def test_soonest_takes_three_queries_however_many_doctors(django_assert_num_queries, doctors):
    clinic = ClinicFactory()
    for n in range(doctors):
        doctor = DoctorFactory(clinic=clinic, specialty="Cardiology")
        for days in (1, 2, 3):
            SlotFactory(doctor=doctor, start=_at(clinic, 9 + n % 8, days=days))
    with django_assert_num_queries(3):
        entries = selectors.doctor_list_soonest(specialty="Cardiology")
        assert sum(len(entry.slots) for entry in entries) == 3 * doctors
        assert all(entry.doctor.user.name and entry.doctor.clinic.timezone for entry in entries)
        assert all(slot.clinic.timezone for entry in entries for slot in entry.slots)
