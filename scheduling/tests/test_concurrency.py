"""The booking services stay correct when many requests race on real connections.

Each test builds its rows first, then starts threads that each open their own
database connection, wait on a barrier so they call the service together, and
close the connection when done. On PostgreSQL the row locks serialise them; on
SQLite BEGIN IMMEDIATE makes writers queue on the database's write lock.
Every thread's outcome is collected and any exception the race must not
produce fails the test.
"""

import logging
import threading
import traceback
from datetime import datetime, time, timedelta
from time import monotonic

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling.exceptions import (
    BookingLimitReachedError,
    DailyLimitReachedError,
    InvalidStateError,
    OverlappingAppointmentError,
    SlotFullError,
    SlotUnavailableError,
)
from scheduling.models import Appointment, AppointmentSlot
from scheduling.services import appointment_book, appointment_cancel, appointment_reschedule
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREAD_TIMEOUT = 60  # seconds; well above SQLite's 20 s busy timeout


class Outcome:
    def __init__(self, result=None, error=None):
        self.result, self.error = result, error


def run_concurrently(calls):
    """Run each zero-argument call in its own thread with its own connection,
    released together by a barrier. Returns one Outcome per call, in order."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            try:
                connection.ensure_connection()  # connect before the race, not during it
            except BaseException:
                barrier.abort()  # e.g. "too many clients": fail now, not at the timeout
                raise
            barrier.wait(timeout=THREAD_TIMEOUT)
            outcomes[index] = Outcome(result=call())
        except BaseException as exc:  # noqa: BLE001 - every outcome is asserted on
            outcomes[index] = Outcome(error=exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    deadline = monotonic() + THREAD_TIMEOUT
    for thread in threads:
        thread.join(timeout=max(deadline - monotonic(), 0))
    assert not [t for t in threads if t.is_alive()], "a thread is still running: deadlock or lock starvation"
    return outcomes


def assert_errors_only(outcomes, *allowed):
    """Every failed call raised exactly one of the `allowed` types; show the rest."""
    unexpected = [o.error for o in outcomes if o.error is not None and type(o.error) not in allowed]
    # A broken barrier only echoes another thread's failure: show the cause first.
    unexpected.sort(key=lambda exc: isinstance(exc, threading.BrokenBarrierError))
    details = "\n".join("".join(traceback.format_exception(exc)) for exc in unexpected[:3])
    assert not unexpected, f"{len(unexpected)} unexpected exception(s):\n{details}"


def successes(outcomes):
    return [o.result for o in outcomes if o.error is None]


def errors_of(outcomes, error_type):
    return [o.error for o in outcomes if type(o.error) is error_type]


def held_count(slot):
    """Appointments holding a place on the slot: every status but cancelled."""
    return Appointment.objects.filter(slot=slot).exclude(status=Appointment.Status.CANCELLED).count()


def assert_counts_consistent(*slots):
    for slot in slots:
        slot.refresh_from_db()
        assert slot.booked_count == held_count(slot), f"slot {slot.pk}"
        assert 0 <= slot.booked_count <= slot.capacity, f"slot {slot.pk}"


def book_call(patient, slot):
    return lambda: appointment_book(patient=patient, slot_id=slot.pk)


@pytest.mark.parametrize(("capacity", "racers"), [(1, 50), (5, 50)])
def test_racing_bookings_fill_slot_exactly_to_capacity(capacity, racers):
    slot = SlotFactory(capacity=capacity)
    patients = PatientFactory.create_batch(racers)

    outcomes = run_concurrently([book_call(patient, slot) for patient in patients])

    assert_errors_only(outcomes, SlotFullError)
    assert len(successes(outcomes)) == capacity
    assert len(errors_of(outcomes, SlotFullError)) == racers - capacity
    assert Appointment.objects.filter(slot=slot).count() == capacity
    slot.refresh_from_db()
    assert slot.booked_count == capacity
    assert_counts_consistent(slot)


def test_concurrent_cancels_and_bookings_keep_booked_count_true():
    slot = SlotFactory(capacity=5)
    holders = PatientFactory.create_batch(5)
    held = [appointment_book(patient=patient, slot_id=slot.pk) for patient in holders]
    newcomers = PatientFactory.create_batch(20)
    # Each held appointment is cancelled twice at once: one cancel wins, the other is refused.
    cancels = [lambda a=appointment: appointment_cancel(appointment_id=a.pk) for appointment in held * 2]
    bookings = [book_call(patient, slot) for patient in newcomers]

    outcomes = run_concurrently(cancels + bookings)
    cancel_outcomes, booking_outcomes = outcomes[: len(cancels)], outcomes[len(cancels) :]

    assert_errors_only(outcomes, InvalidStateError, SlotFullError)
    assert_errors_only(cancel_outcomes, InvalidStateError)
    assert len(successes(cancel_outcomes)) == 5
    assert_errors_only(booking_outcomes, SlotFullError)
    assert Appointment.objects.filter(pk__in=[a.pk for a in held], status=Appointment.Status.CANCELLED).count() == 5
    slot.refresh_from_db()
    assert slot.booked_count == len(successes(booking_outcomes))
    assert_counts_consistent(slot)


def test_racing_bookings_of_one_doctor_stop_at_daily_limit():
    clinic = ClinicFactory(timezone="Asia/Kolkata")
    doctor = DoctorFactory(clinic=clinic, max_patients_per_day=10)
    tomorrow = timezone.localtime(timezone.now(), clinic.tzinfo).date() + timedelta(days=1)
    first = datetime.combine(tomorrow, time(8, 0), tzinfo=clinic.tzinfo)
    slots = [
        SlotFactory(doctor=doctor, start=first + timedelta(minutes=20 * i), duration_minutes=15, capacity=1)
        for i in range(30)
    ]
    assert {timezone.localtime(s.start, clinic.tzinfo).date() for s in slots} == {tomorrow}
    patients = PatientFactory.create_batch(30)

    outcomes = run_concurrently([book_call(patient, slot) for patient, slot in zip(patients, slots)])

    assert_errors_only(outcomes, DailyLimitReachedError)
    assert len(successes(outcomes)) == 10
    assert len(errors_of(outcomes, DailyLimitReachedError)) == 20
    assert Appointment.objects.filter(doctor=doctor).count() == 10
    assert_counts_consistent(*slots)


def test_patient_racing_for_overlapping_slots_of_different_doctors_gets_one():
    clinic = ClinicFactory()
    doctors = DoctorFactory.create_batch(4, clinic=clinic)
    base = timezone.now().replace(second=0, microsecond=0) + timedelta(days=2)
    # [0,30), [5,35), [10,40), [15,45) minutes: every pair overlaps.
    slots = [
        SlotFactory(doctor=d, start=base + timedelta(minutes=5 * i), duration_minutes=30, capacity=5)
        for i, d in enumerate(doctors)
    ]
    patients = PatientFactory.create_batch(5)

    # Every patient books all four slots at once; the five patients race in parallel.
    outcomes = run_concurrently([book_call(patient, slot) for patient in patients for slot in slots])

    assert_errors_only(outcomes, OverlappingAppointmentError)
    assert len(successes(outcomes)) == 5
    assert len(errors_of(outcomes, OverlappingAppointmentError)) == 15
    active = Appointment.objects.filter(status__in=Appointment.ACTIVE_STATUSES)
    for patient in patients:
        assert active.filter(patient=patient).count() == 1
    assert_counts_consistent(*slots)


def test_racing_reschedules_into_one_place_move_exactly_one():
    doctor, other_doctor = DoctorFactory.create_batch(2)
    # Source slots on both sides of the target's id and on two doctors, so
    # the movers lock slots in both orders and doctors of either side.
    source_a = SlotFactory(doctor=doctor, capacity=4)
    target = SlotFactory(doctor=doctor, capacity=1)
    source_b = SlotFactory(doctor=other_doctor, capacity=4)
    held = [
        appointment_book(patient=PatientFactory(), slot_id=source.pk)
        for source in (source_a, source_b)
        for _ in range(4)
    ]

    outcomes = run_concurrently(
        [lambda a=appointment: appointment_reschedule(appointment_id=a.pk, slot_id=target.pk) for appointment in held]
    )

    assert_errors_only(outcomes, SlotFullError)
    moved = successes(outcomes)
    assert len(moved) == 1
    assert len(errors_of(outcomes, SlotFullError)) == 7
    assert list(Appointment.objects.filter(slot=target).values_list("pk", flat=True)) == [moved[0].pk]
    assert AppointmentSlot.objects.get(pk=target.pk).booked_count == 1
    assert Appointment.objects.exclude(status=Appointment.Status.CONFIRMED).count() == 0
    assert_counts_consistent(source_a, target, source_b)
    assert source_a.booked_count + source_b.booked_count == 7


def test_generations_racing_each_other_and_bookings_make_no_duplicate_and_keep_counts_true():
    """Three generations of the same four weeks race twelve bookings of the
    slots the first week already has: every wall time gets exactly one slot,
    the generations' `created` add up to the slots made, and every slot's
    booked_count equals its appointments."""
    from scheduling.services import availability_rule_create, slots_generate

    doctor = DoctorFactory(clinic=ClinicFactory(timezone="Europe/London"), max_patients_per_day=100)
    for weekday in range(5):
        availability_rule_create(doctor=doctor, weekday=weekday, start_time=time(9), end_time=time(12),
                                 capacity=2)
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    monday = today + timedelta(days=7 - today.weekday())
    first_week = slots_generate(doctor=doctor, date_from=monday, date_to=monday + timedelta(days=6))
    assert first_week.created == 30
    open_slots = list(AppointmentSlot.objects.filter(doctor=doctor).order_by("start")[:6])
    patients = [PatientFactory() for _ in range(12)]

    def generate():
        return slots_generate(doctor=doctor, date_from=monday, date_to=monday + timedelta(days=27))

    def book(patient, slot):
        return lambda: appointment_book(patient=patient, slot_id=slot.pk)

    bookings = [book(patient, open_slots[i % len(open_slots)]) for i, patient in enumerate(patients)]
    outcomes = run_concurrently([generate, generate, generate, *bookings])

    assert_errors_only(outcomes, SlotFullError)
    results = [o.result for o in outcomes[:3]]
    slots = AppointmentSlot.objects.filter(doctor=doctor)
    starts = list(slots.values_list("start", flat=True))
    assert len(starts) == len(set(starts)) == 4 * 30
    assert sum(r.created for r in results) == 3 * 30 and all(r.created + r.skipped == 120 for r in results)
    booked = [o for o in outcomes[3:] if o.error is None]
    assert len(booked) == 12  # two places on each of six slots
    for slot in slots:
        held = slot.appointments.filter(status__in=Appointment.PLACE_HOLDING_STATUSES).count()
        assert slot.booked_count == held


def test_one_patient_racing_for_ten_slots_stops_at_the_clinics_cap():
    """Ten bookings of one patient at once, on ten doctors' slots of one
    clinic that lets a patient hold three future visits: exactly three land
    (the patient lock makes the count and the insert one step)."""
    clinic = ClinicFactory(max_active_bookings_per_patient=3)
    patient = PatientFactory()
    base = timezone.now() + timedelta(days=2)
    slots = [SlotFactory(doctor=DoctorFactory(clinic=clinic), start=base + timedelta(hours=i)) for i in range(10)]
    outcomes = run_concurrently(
        [lambda slot=slot: appointment_book(patient=patient, slot_id=slot.pk, booked_by=patient.user) for slot in slots]
    )
    assert_errors_only(outcomes, BookingLimitReachedError)
    assert len(successes(outcomes)) == 3
    assert Appointment.objects.filter(patient=patient, status="confirmed").count() == 3


def test_a_leave_racing_bookings_lets_none_land_inside_it_once_it_exists():
    """Eight bookings of one doctor race the doctor's new leave over all of
    them: each booking lands before the leave (and is listed by it) or is
    refused after it; none lands inside a leave that already existed."""
    from scheduling.selectors import leave_appointments
    from scheduling.services import leave_create

    doctor = DoctorFactory(max_patients_per_day=50)
    start = timezone.now() + timedelta(days=2)
    slots = [SlotFactory(doctor=doctor, start=start + timedelta(hours=i)) for i in range(8)]
    patients = [PatientFactory() for _ in slots]
    calls = [lambda patient=patient, slot=slot: appointment_book(patient=patient, slot_id=slot.pk)
             for patient, slot in zip(patients, slots)]
    calls.append(lambda: leave_create(doctor=doctor, start=start - timedelta(hours=1), end=start + timedelta(hours=10)))
    outcomes = run_concurrently(calls)
    assert_errors_only(outcomes, SlotUnavailableError)
    leave = outcomes[-1].result
    booked = list(Appointment.objects.filter(doctor=doctor))
    assert all(appointment.created_at <= leave.created_at for appointment in booked)
    assert len(booked) + sum(o.error is not None for o in outcomes[:-1]) == 8
    assert set(leave_appointments(leave=leave)) == set(booked)


def test_accepting_a_held_place_races_normal_bookings_and_keeps_it():
    """A place offered from the waitlist: the patient accepting it races 20
    others booking the slot. The held place goes to the patient, nobody else
    gets it, and the slot never holds more than its capacity."""
    from scheduling.models import WaitlistEntry
    from scheduling.services.booking import appointment_book_offer
    from scheduling.services.waitlist import waitlist_join

    slot = SlotFactory(capacity=1)
    waiting, first = PatientFactory(), PatientFactory()
    booked = appointment_book(patient=first, slot_id=slot.pk)
    day = timezone.localtime(slot.start, slot.clinic.tzinfo).date()
    entry = waitlist_join(patient=waiting, doctor=slot.doctor, day=day)
    appointment_cancel(appointment_id=booked.pk)
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.OFFERED
    others = PatientFactory.create_batch(20)
    calls = [lambda: appointment_book_offer(entry_id=entry.pk, patient=waiting)] + [book_call(p, slot) for p in others]
    outcomes = run_concurrently(calls)
    assert_errors_only(outcomes, SlotFullError)
    assert outcomes[0].error is None and outcomes[0].result.patient_id == waiting.pk
    assert len(errors_of(outcomes, SlotFullError)) == 20
    assert_counts_consistent(slot)
    slot.refresh_from_db()
    assert (slot.booked_count, slot.held_count) == (1, 0)


def test_cancellations_racing_on_one_day_offer_each_place_to_one_patient():
    """Three places of one day freed at once, three patients waiting: each is
    offered exactly one place, in order, and every place is held once."""
    from scheduling.models import WaitlistEntry
    from scheduling.services.waitlist import waitlist_join

    doctor = DoctorFactory()
    base = timezone.localtime(timezone.now(), doctor.clinic.tzinfo).replace(hour=9, minute=0, second=0,
                                                                            microsecond=0) + timedelta(days=2)
    slots = [SlotFactory(doctor=doctor, start=base + timedelta(hours=i), capacity=1) for i in range(3)]
    bookings = [appointment_book(patient=PatientFactory(), slot_id=s.pk) for s in slots]
    waiting = [waitlist_join(patient=PatientFactory(), doctor=doctor, day=base.date()) for _ in range(4)]
    outcomes = run_concurrently([lambda b=b: appointment_cancel(appointment_id=b.pk) for b in bookings])
    assert_errors_only(outcomes)
    statuses = [WaitlistEntry.objects.get(pk=e.pk).status for e in waiting]
    assert statuses == ["offered", "offered", "offered", "waiting"]
    offered = set(WaitlistEntry.objects.filter(status="offered").values_list("offered_slot_id", flat=True))
    assert offered == {s.pk for s in slots}
    for s in slots:
        s.refresh_from_db()
        assert (s.booked_count, s.held_count) == (0, 1)


@pytest.mark.parametrize("round_", range(3))
def test_closing_an_account_while_it_books_leaves_no_active_visit(round_):
    """An admin closes a patient's account while the patient books for
    themselves and for their child: each booking either lands before the
    closing, whose sweep cancels it, or is refused as the account closed.
    No active future visit of the family is left behind either way."""
    from accounts.tests.factories import AdminUserFactory, DependentFactory
    from scheduling.exceptions import PatientAccountClosedError
    from scheduling.services.patients import patient_deactivate

    doctor = DoctorFactory(clinic=ClinicFactory())
    patient = PatientFactory()
    child = DependentFactory(guardian=patient)
    admin = AdminUserFactory()
    start = timezone.now() + timedelta(days=3)
    slots = [SlotFactory(doctor=doctor, start=start + timedelta(hours=i), capacity=2) for i in range(4)]
    bookings = [
        (lambda s=s, who=who: appointment_book(patient=who, slot_id=s.pk, booked_by=patient.user))
        for s, who in zip(slots, [patient, child, patient, child], strict=True)
    ]
    outcomes = run_concurrently([lambda: patient_deactivate(patient_id=patient.pk, by=admin), *bookings])

    assert_errors_only(outcomes, PatientAccountClosedError)
    assert outcomes[0].error is None
    family = [patient.pk, child.pk]
    assert not Appointment.objects.filter(patient_id__in=family, status__in=Appointment.ACTIVE_STATUSES).exists()
    # Every place a booking took was given back.
    for slot in slots:
        slot.refresh_from_db()
        assert slot.booked_count == held_count(slot) == 0


@pytest.mark.parametrize("round_", range(3))
def test_closing_an_account_while_its_visits_move_leaves_no_active_visit(round_, caplog):
    """An admin closes a patient's account while staff move the patient's and
    their child's visits (a move locks the appointment, then the patient;
    the closing must not hold the patient while it waits for an appointment).
    Every call ends without a deadlock's 503: each move either lands before
    the closing, whose sweep then cancels the moved visit, or is refused."""
    from accounts.tests.factories import AdminUserFactory, DependentFactory
    from scheduling.exceptions import PatientAccountClosedError
    from scheduling.services.patients import patient_deactivate

    doctor = DoctorFactory(clinic=ClinicFactory())
    patient = PatientFactory()
    child = DependentFactory(guardian=patient)
    admin = AdminUserFactory()
    start = timezone.now() + timedelta(days=3)
    # Slot ids ascend while start times descend, so start order and id order differ.
    slots = [SlotFactory(doctor=doctor, start=start + timedelta(hours=8 - i), capacity=2) for i in range(4)]
    visits = [appointment_book(patient=who, slot_id=slot.pk, booked_by=admin)
              for who, slot in zip([patient, child], slots[:2], strict=True)]
    moves = [(lambda v=v, s=s: appointment_reschedule(appointment_id=v.pk, slot_id=s.pk, by=admin))
             for v, s in zip(visits, slots[2:], strict=True)]
    with caplog.at_level(logging.WARNING, logger="healthsvc.db"):
        outcomes = run_concurrently([lambda: patient_deactivate(patient_id=patient.pk, by=admin), *moves])

    assert_errors_only(outcomes, PatientAccountClosedError, InvalidStateError)
    # No deadlock even retried away (healthsvc.db.retry_on_conflict logs each retry).
    assert not [r.getMessage() for r in caplog.records if r.name == "healthsvc.db"]
    assert outcomes[0].error is None
    assert outcomes[0].result.deactivated and len(outcomes[0].result.cancelled_ids) == 2
    family = [patient.pk, child.pk]
    assert not Appointment.objects.filter(patient_id__in=family, status__in=Appointment.ACTIVE_STATUSES).exists()
    for slot in slots:
        slot.refresh_from_db()
        assert slot.booked_count == held_count(slot) == 0
