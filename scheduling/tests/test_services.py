"""The booking core: every rule, its error code, and that a refusal changes nothing."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from healthsvc.timezones import local_day_bounds
from scheduling import services
from scheduling.exceptions import (
    AlreadyBookedError,
    AppointmentNotFoundError,
    CapacityBelowBookedError,
    DailyLimitReachedError,
    DoctorNotVerifiedError,
    InvalidStateError,
    OverlappingAppointmentError,
    SlotFullError,
    SlotHasBookingsError,
    SlotNotFoundError,
    SlotOverlapError,
    SlotUnavailableError,
    SlotValidationError,
)
from scheduling.models import Appointment, AppointmentSlot
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


def _state(*slots):
    """What a refusal must leave untouched: booked counts and every appointment row."""
    counts = [AppointmentSlot.objects.get(pk=s.pk).booked_count for s in slots]
    rows = list(Appointment.objects.order_by("pk").values_list("pk", "slot_id", "status"))
    return counts, rows


# --- book ---------------------------------------------------------------------


def test_book_creates_a_confirmed_appointment_and_takes_a_place(patient, slot):
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk, reason="Chest pain")
    slot.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED
    assert (appointment.doctor, appointment.clinic, appointment.start, appointment.end) == (
        slot.doctor, slot.clinic, slot.start, slot.end,
    )
    assert appointment.reason_for_visit == "Chest pain"
    assert slot.booked_count == 1


def test_book_rejects_full_slot(patient, other_patient, slot):
    services.appointment_book(patient=other_patient, slot_id=slot.pk)
    before = _state(slot)
    with pytest.raises(SlotFullError) as err:
        services.appointment_book(patient=patient, slot_id=slot.pk)
    assert err.value.code == "SLOT_FULL" and err.value.status == 409
    assert _state(slot) == before


def test_book_rejects_second_booking_of_same_patient_on_slot(patient, doctor):
    slot = SlotFactory(doctor=doctor, capacity=3)
    services.appointment_book(patient=patient, slot_id=slot.pk)
    before = _state(slot)
    with pytest.raises(AlreadyBookedError) as err:
        services.appointment_book(patient=patient, slot_id=slot.pk)
    assert err.value.code == "ALREADY_BOOKED"
    assert _state(slot) == before


@pytest.mark.parametrize("make_unavailable", ["past", "inactive_slot", "inactive_doctor", "inactive_clinic"])
def test_book_rejects_unavailable_slot(patient, doctor, make_unavailable):
    start = timezone.now() - timedelta(hours=1) if make_unavailable == "past" else None
    slot = SlotFactory(doctor=doctor, **({"start": start} if start else {}))
    if make_unavailable == "inactive_slot":
        AppointmentSlot.objects.filter(pk=slot.pk).update(is_active=False)
    elif make_unavailable == "inactive_doctor":
        type(doctor).objects.filter(pk=doctor.pk).update(is_active=False)
    elif make_unavailable == "inactive_clinic":
        type(doctor.clinic).objects.filter(pk=doctor.clinic_id).update(is_active=False)
    with pytest.raises(SlotUnavailableError) as err:
        services.appointment_book(patient=patient, slot_id=slot.pk)
    assert err.value.code == "SLOT_UNAVAILABLE"
    assert _state(slot) == ([0], [])


def test_book_unknown_slot_is_not_found(patient):
    with pytest.raises(SlotNotFoundError) as err:
        services.appointment_book(patient=patient, slot_id=987654)
    assert err.value.status == 404


def test_book_rejects_when_doctor_daily_limit_reached(doctor):
    doctor.max_patients_per_day = 2
    doctor.save()
    tz = ZoneInfo(doctor.clinic.timezone)
    day = (timezone.now() + timedelta(days=2)).astimezone(tz).date()
    starts = [datetime(day.year, day.month, day.day, 9 + i, tzinfo=tz) for i in range(3)]
    slots = [SlotFactory(doctor=doctor, start=s) for s in starts]
    for s in slots[:2]:
        services.appointment_book(patient=PatientFactory(), slot_id=s.pk)
    before = _state(*slots)
    with pytest.raises(DailyLimitReachedError) as err:
        services.appointment_book(patient=PatientFactory(), slot_id=slots[2].pk)
    assert err.value.code == "DAILY_LIMIT_REACHED"
    assert _state(*slots) == before


def test_daily_limit_counts_the_clinic_local_day_not_the_utc_day(doctor):
    """In Asia/Kolkata (UTC+5:30), 01:00 and 23:00 local on one day straddle two UTC dates."""
    doctor.max_patients_per_day = 1
    doctor.save()
    tz = ZoneInfo("Asia/Kolkata")
    day = (timezone.now() + timedelta(days=3)).astimezone(tz).date()
    early = SlotFactory(doctor=doctor, start=datetime(day.year, day.month, day.day, 1, tzinfo=tz))
    late = SlotFactory(doctor=doctor, start=datetime(day.year, day.month, day.day, 23, tzinfo=tz))
    next_day = SlotFactory(doctor=doctor, start=datetime(day.year, day.month, day.day, 23, tzinfo=tz) + timedelta(hours=2))
    assert early.start.astimezone(ZoneInfo("UTC")).date() != late.start.astimezone(ZoneInfo("UTC")).date()
    services.appointment_book(patient=PatientFactory(), slot_id=early.pk)
    with pytest.raises(DailyLimitReachedError):
        services.appointment_book(patient=PatientFactory(), slot_id=late.pk)
    services.appointment_book(patient=PatientFactory(), slot_id=next_day.pk)


def test_cancelled_appointments_free_the_daily_place(doctor, patient):
    doctor.max_patients_per_day = 1
    doctor.save()
    first, second = SlotFactory(doctor=doctor), SlotFactory(doctor=doctor)
    second.start = first.start + timedelta(hours=1)
    AppointmentSlot.objects.filter(pk=second.pk).update(start=second.start, end=second.start + timedelta(minutes=30))
    appointment = services.appointment_book(patient=patient, slot_id=first.pk)
    services.appointment_cancel(appointment_id=appointment.pk, by=patient.user)
    assert services.appointment_book(patient=PatientFactory(), slot_id=second.pk).pk


def test_book_rejects_patient_with_overlapping_appointment(patient, slot, other_doctor):
    services.appointment_book(patient=patient, slot_id=slot.pk)
    overlapping = SlotFactory(doctor=other_doctor, start=slot.start + timedelta(minutes=15))
    before = _state(slot, overlapping)
    with pytest.raises(OverlappingAppointmentError) as err:
        services.appointment_book(patient=patient, slot_id=overlapping.pk)
    assert err.value.code == "OVERLAPPING_APPOINTMENT"
    assert _state(slot, overlapping) == before


def test_back_to_back_appointments_are_allowed(patient, slot, other_doctor):
    services.appointment_book(patient=patient, slot_id=slot.pk)
    following = SlotFactory(doctor=other_doctor, start=slot.end)
    assert services.appointment_book(patient=patient, slot_id=following.pk).pk


# --- cancel -------------------------------------------------------------------


def test_cancel_returns_the_place_and_records_who_and_why(patient, slot):
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    cancelled = services.appointment_cancel(appointment_id=appointment.pk, by=patient.user, reason="Feeling better")
    slot.refresh_from_db()
    assert cancelled.status == Appointment.Status.CANCELLED
    assert cancelled.cancelled_at is not None and cancelled.cancelled_reason == "Feeling better"
    assert cancelled.cancelled_by == patient.user
    assert slot.booked_count == 0


def test_cancel_twice_is_invalid_state_and_changes_nothing(patient, slot):
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    services.appointment_cancel(appointment_id=appointment.pk)
    before = _state(slot)
    with pytest.raises(InvalidStateError) as err:
        services.appointment_cancel(appointment_id=appointment.pk)
    assert err.value.code == "INVALID_STATE"
    assert _state(slot) == before


def test_cancel_unknown_appointment_is_not_found():
    with pytest.raises(AppointmentNotFoundError):
        services.appointment_cancel(appointment_id=424242)


def test_after_cancel_the_slot_can_be_booked_again(patient, other_patient, slot):
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    services.appointment_cancel(appointment_id=appointment.pk)
    services.appointment_book(patient=other_patient, slot_id=slot.pk)
    slot.refresh_from_db()
    assert slot.booked_count == 1


# --- reschedule ---------------------------------------------------------------


def test_reschedule_moves_the_booking(patient, slot, doctor):
    target = SlotFactory(doctor=doctor)
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    moved = services.appointment_reschedule(appointment_id=appointment.pk, slot_id=target.pk)
    slot.refresh_from_db()
    target.refresh_from_db()
    assert (moved.slot_id, moved.start, moved.end) == (target.pk, target.start, target.end)
    assert (slot.booked_count, target.booked_count) == (0, 1)
    assert Appointment.objects.count() == 1


def test_reschedule_to_another_doctor_updates_doctor_and_clinic(patient, slot):
    elsewhere = DoctorFactory(clinic=ClinicFactory(timezone="Europe/London"))
    target = SlotFactory(doctor=elsewhere)
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    moved = services.appointment_reschedule(appointment_id=appointment.pk, slot_id=target.pk)
    moved.refresh_from_db()
    assert (moved.doctor, moved.clinic) == (elsewhere, elsewhere.clinic)


def test_reschedule_to_a_full_slot_changes_nothing(patient, other_patient, slot, doctor):
    target = SlotFactory(doctor=doctor)
    services.appointment_book(patient=other_patient, slot_id=target.pk)
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    before = _state(slot, target)
    with pytest.raises(SlotFullError):
        services.appointment_reschedule(appointment_id=appointment.pk, slot_id=target.pk)
    assert _state(slot, target) == before


def test_reschedule_within_the_same_day_does_not_count_itself_against_the_limit(patient, doctor):
    doctor.max_patients_per_day = 1
    doctor.save()
    first = SlotFactory(doctor=doctor)
    later = SlotFactory(doctor=doctor, start=first.start + timedelta(hours=1))
    appointment = services.appointment_book(patient=patient, slot_id=first.pk)
    assert services.appointment_reschedule(appointment_id=appointment.pk, slot_id=later.pk).slot_id == later.pk


def test_reschedule_of_cancelled_appointment_is_invalid_state(patient, slot, doctor):
    target = SlotFactory(doctor=doctor)
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    services.appointment_cancel(appointment_id=appointment.pk)
    with pytest.raises(InvalidStateError):
        services.appointment_reschedule(appointment_id=appointment.pk, slot_id=target.pk)
    target.refresh_from_db()
    assert target.booked_count == 0


def test_reschedule_onto_its_own_slot_is_refused(patient, slot):
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    with pytest.raises(AlreadyBookedError):
        services.appointment_reschedule(appointment_id=appointment.pk, slot_id=slot.pk)


def test_reschedule_to_a_past_slot_is_unavailable(patient, slot, doctor):
    past = SlotFactory(doctor=doctor, start=timezone.now() - timedelta(days=1))
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    with pytest.raises(SlotUnavailableError):
        services.appointment_reschedule(appointment_id=appointment.pk, slot_id=past.pk)
    slot.refresh_from_db()
    assert slot.booked_count == 1


# --- outcome ------------------------------------------------------------------


def test_outcome_of_a_future_visit_is_refused(patient, slot):
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    with pytest.raises(InvalidStateError):
        services.appointment_set_outcome(appointment_id=appointment.pk, status="completed")


def test_outcome_after_the_visit_started_is_recorded_and_keeps_the_place(patient, slot):
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    Appointment.objects.filter(pk=appointment.pk).update(start=timezone.now() - timedelta(minutes=5))
    done = services.appointment_set_outcome(appointment_id=appointment.pk, status="completed", notes="Fine")
    slot.refresh_from_db()
    assert (done.status, done.notes, slot.booked_count) == ("completed", "Fine", 1)
    with pytest.raises(InvalidStateError):
        services.appointment_cancel(appointment_id=appointment.pk)


# --- slots --------------------------------------------------------------------


def test_slot_create_opens_a_slot(doctor):
    start = timezone.now() + timedelta(days=5)
    slot = services.slot_create(doctor=doctor, start=start, duration_minutes=20, capacity=3)
    assert (slot.clinic, slot.end, slot.booked_count) == (doctor.clinic, start + timedelta(minutes=20), 0)


def test_slot_create_refuses_overlap(slot):
    with pytest.raises(SlotOverlapError):
        services.slot_create(doctor=slot.doctor, start=slot.start + timedelta(minutes=10))
    assert AppointmentSlot.objects.count() == 1


def test_slot_create_refuses_unverified_doctor(unverified_doctor):
    with pytest.raises(DoctorNotVerifiedError):
        services.slot_create(doctor=unverified_doctor, start=timezone.now() + timedelta(days=1))
    assert not AppointmentSlot.objects.exists()


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"start": timezone.now() - timedelta(minutes=1)}, "slot_datetime"),
        ({"duration_minutes": 4}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 101}, "capacity"),
    ],
)
def test_slot_create_validates_shape(doctor, kwargs, field):
    kwargs = {"start": timezone.now() + timedelta(days=1), **kwargs}
    with pytest.raises(SlotValidationError) as err:
        services.slot_create(doctor=doctor, **kwargs)
    assert err.value.code == "VALIDATION_ERROR" and field in err.value.extra["errors"]


def test_slot_deactivate_refuses_a_slot_with_bookings(patient, slot):
    services.appointment_book(patient=patient, slot_id=slot.pk)
    with pytest.raises(SlotHasBookingsError):
        services.slot_deactivate(slot_id=slot.pk)
    slot.refresh_from_db()
    assert slot.is_active


def test_slot_deactivate_soft_deletes(slot):
    services.slot_deactivate(slot_id=slot.pk)
    slot.refresh_from_db()
    assert not slot.is_active


def test_slot_update_never_goes_below_booked_places(patient, doctor):
    slot = SlotFactory(doctor=doctor, capacity=3)
    services.appointment_book(patient=patient, slot_id=slot.pk)
    services.appointment_book(patient=PatientFactory(), slot_id=slot.pk)
    with pytest.raises(CapacityBelowBookedError):
        services.slot_update(slot_id=slot.pk, capacity=1)
    assert services.slot_update(slot_id=slot.pk, capacity=2).capacity == 2


def test_local_day_bounds_across_a_dst_change():
    tz = ZoneInfo("Europe/London")
    start, end = local_day_bounds(datetime(2030, 3, 31, 12, tzinfo=tz), tz)
    utc = ZoneInfo("UTC")
    # The spring-forward day is 23 real hours long.
    assert end.astimezone(utc) - start.astimezone(utc) == timedelta(hours=23)


def test_cancel_after_the_visit_started_is_refused(patient, slot):
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    Appointment.objects.filter(pk=appointment.pk).update(start=timezone.now() - timedelta(minutes=1))
    with pytest.raises(InvalidStateError):
        services.appointment_cancel(appointment_id=appointment.pk)
    slot.refresh_from_db()
    assert slot.booked_count == 1


def test_slot_create_refuses_a_clinic_the_doctor_does_not_work_at(doctor):
    elsewhere = ClinicFactory()
    with pytest.raises(SlotValidationError) as err:
        services.slot_create(doctor=doctor, clinic=elsewhere, start=timezone.now() + timedelta(days=1))
    assert "clinic_id" in err.value.extra["errors"]
    assert not AppointmentSlot.objects.exists()


def test_slot_create_refuses_a_start_beyond_the_horizon(doctor):
    with pytest.raises(SlotValidationError):
        services.slot_create(doctor=doctor, start=timezone.now() + timedelta(days=3650))


def test_an_unknown_integrity_error_is_re_raised_with_its_cause(patient, slot, monkeypatch):
    from django.db import IntegrityError

    from scheduling.services import booking

    def failing_create(**kwargs):
        raise IntegrityError("some_other_constraint")

    monkeypatch.setattr(booking.Appointment.objects, "create", failing_create)
    with pytest.raises(IntegrityError, match="some_other_constraint") as err:
        services.appointment_book(patient=patient, slot_id=slot.pk)
    assert err.value.__cause__ is not err.value


def test_reschedule_after_the_visit_started_is_refused(patient, slot, doctor):
    target = SlotFactory(doctor=doctor)
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    Appointment.objects.filter(pk=appointment.pk).update(start=timezone.now() - timedelta(minutes=1))
    with pytest.raises(InvalidStateError):
        services.appointment_reschedule(appointment_id=appointment.pk, slot_id=target.pk)
    target.refresh_from_db()
    assert target.booked_count == 0
