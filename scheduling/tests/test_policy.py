"""The clinic's booking policy in the booking core: minimum notice, horizon,
cancellation window and the cap on a patient's future visits. Patients meet
it whatever the entry point; staff and doctors do not."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.exceptions import (
    BookingLimitReachedError,
    BookingTooFarError,
    BookingTooSoonError,
    CancellationWindowPassedError,
)
from scheduling.models import Appointment
from scheduling.services.policy import change_deadline
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict_clinic():
    return ClinicFactory(timezone="Asia/Kolkata", min_notice_minutes=120, booking_horizon_days=14,
                         cancellation_window_minutes=24 * 60, max_active_bookings_per_patient=2)


@pytest.fixture
def strict_doctor(strict_clinic):
    return DoctorFactory(clinic=strict_clinic, max_patients_per_day=50)


def _in(minutes=0, days=0):
    return (timezone.now() + timedelta(days=days, minutes=minutes)).replace(second=0, microsecond=0)


def test_a_clinic_without_its_own_policy_uses_the_servers_defaults(settings):
    settings.BOOKING_POLICY = {"min_notice_minutes": 5, "booking_horizon_days": 7,
                               "cancellation_window_minutes": 10, "max_active_bookings_per_patient": 3}
    policy = ClinicFactory(min_notice_minutes=30).booking_policy
    assert (policy.min_notice_minutes, policy.booking_horizon_days) == (30, 7)
    assert (policy.cancellation_window_minutes, policy.max_active_bookings_per_patient) == (10, 3)


def test_a_patient_cannot_book_inside_the_notice_but_staff_can(strict_doctor, patient, admin_user):
    soon = SlotFactory(doctor=strict_doctor, start=_in(minutes=90))
    with pytest.raises(BookingTooSoonError):
        services.appointment_book(patient=patient, slot_id=soon.pk, booked_by=patient.user)
    with pytest.raises(BookingTooSoonError):
        services.appointment_book(patient=patient, slot_id=soon.pk)  # nobody named: the patient's rules
    soon.refresh_from_db()
    assert soon.booked_count == 0
    services.appointment_book(patient=patient, slot_id=soon.pk, booked_by=admin_user)
    later = SlotFactory(doctor=strict_doctor, start=_in(minutes=150))
    assert services.appointment_book(patient=PatientFactory(), slot_id=later.pk).status == "confirmed"


def test_the_horizon_counts_whole_local_days(strict_doctor, strict_clinic, patient, admin_user):
    tz = strict_clinic.tzinfo
    last_day = timezone.localdate(timezone=tz) + timedelta(days=14)
    late_on_last = SlotFactory(doctor=strict_doctor, start=datetime.combine(last_day, time(23, 30), tzinfo=tz))
    first_beyond = SlotFactory(doctor=strict_doctor, start=datetime.combine(
        last_day + timedelta(days=1), time(0), tzinfo=tz))
    services.appointment_book(patient=patient, slot_id=late_on_last.pk)
    with pytest.raises(BookingTooFarError):
        services.appointment_book(patient=PatientFactory(), slot_id=first_beyond.pk)
    services.appointment_book(patient=PatientFactory(), slot_id=first_beyond.pk, booked_by=admin_user)
    assert strict_clinic.booking_window()[1] == first_beyond.start


def test_a_patient_holds_at_most_the_clinics_cap_of_future_visits(strict_doctor, strict_clinic, patient, admin_user):
    slots = [SlotFactory(doctor=strict_doctor, start=_in(days=day)) for day in (1, 2, 3, 4)]
    services.appointment_book(patient=patient, slot_id=slots[0].pk)
    services.appointment_book(patient=patient, slot_id=slots[1].pk)
    with pytest.raises(BookingLimitReachedError):
        services.appointment_book(patient=patient, slot_id=slots[2].pk)
    # Elsewhere the cap is that clinic's own; staff may book beyond it.
    elsewhere = SlotFactory(doctor=DoctorFactory(), start=_in(days=5))
    services.appointment_book(patient=patient, slot_id=elsewhere.pk)
    services.appointment_book(patient=patient, slot_id=slots[2].pk, booked_by=admin_user)
    assert Appointment.objects.filter(patient=patient, clinic=strict_clinic).count() == 3


def test_cancelled_and_past_visits_do_not_count_against_the_cap(strict_doctor, patient, admin_user):
    # A visit of yesterday still marked confirmed (nobody recorded the outcome) is not "future".
    AppointmentFactory(patient=patient, slot=SlotFactory(doctor=strict_doctor, start=_in(days=-1)))
    first, second, third = (SlotFactory(doctor=strict_doctor, start=_in(days=d)) for d in (1, 2, 3))
    cancelled = services.appointment_book(patient=patient, slot_id=first.pk)
    services.appointment_cancel(appointment_id=cancelled.pk, by=admin_user)
    services.appointment_book(patient=patient, slot_id=second.pk)
    services.appointment_book(patient=patient, slot_id=third.pk)  # the cancelled one left room
    assert Appointment.objects.filter(patient=patient, status="confirmed", start__gt=timezone.now()).count() == 2


def test_a_reschedule_does_not_count_the_visit_it_moves(strict_doctor, patient):
    slots = [SlotFactory(doctor=strict_doctor, start=_in(days=d)) for d in (2, 3, 4)]
    services.appointment_book(patient=patient, slot_id=slots[0].pk)
    moving = services.appointment_book(patient=patient, slot_id=slots[1].pk)
    moved = services.appointment_reschedule(appointment_id=moving.pk, slot_id=slots[2].pk, by=patient.user)
    assert moved.slot_id == slots[2].pk


def test_a_patient_cannot_cancel_or_move_inside_the_window_but_doctor_and_staff_can(
    strict_doctor, patient, admin_user
):
    tomorrow_ish = SlotFactory(doctor=strict_doctor, start=_in(minutes=20 * 60))  # inside the 24 h window
    other = SlotFactory(doctor=strict_doctor, start=_in(days=3))
    appointment = services.appointment_book(patient=patient, slot_id=tomorrow_ish.pk, booked_by=admin_user)
    with pytest.raises(CancellationWindowPassedError):
        services.appointment_cancel(appointment_id=appointment.pk, by=patient.user)
    with pytest.raises(CancellationWindowPassedError):
        services.appointment_reschedule(appointment_id=appointment.pk, slot_id=other.pk, by=patient.user)
    appointment.refresh_from_db()
    assert appointment.status == "confirmed" and appointment.slot_id == tomorrow_ish.pk
    services.appointment_reschedule(appointment_id=appointment.pk, slot_id=other.pk, by=admin_user)
    second = services.appointment_book(patient=PatientFactory(), slot_id=tomorrow_ish.pk, booked_by=admin_user)
    services.appointment_cancel(appointment_id=second.pk, by=strict_doctor.user, reason="Away")
    assert Appointment.objects.get(pk=second.pk).status == "cancelled"


def test_a_patient_moving_a_visit_meets_the_notice_at_the_new_time(strict_doctor, patient):
    appointment = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=strict_doctor,
                                                                                  start=_in(days=3)).pk)
    too_soon = SlotFactory(doctor=strict_doctor, start=_in(minutes=60))
    with pytest.raises(BookingTooSoonError):
        services.appointment_reschedule(appointment_id=appointment.pk, slot_id=too_soon.pk, by=patient.user)


def test_the_change_deadline_is_the_window_before_the_visit(strict_doctor, patient):
    appointment = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=strict_doctor,
                                                                                  start=_in(days=5)).pk)
    assert change_deadline(appointment) == appointment.start - timedelta(hours=24)


def test_only_staff_and_the_appointments_own_doctor_are_exempt(strict_doctor, patient, admin_user):
    visit = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=strict_doctor,
                                                                           start=_in(minutes=180)).pk,
                                      booked_by=admin_user)
    with pytest.raises(CancellationWindowPassedError):
        services.appointment_cancel(appointment_id=visit.pk, by=DoctorFactory().user)  # another doctor
    soon = SlotFactory(doctor=strict_doctor, start=_in(minutes=30))
    with pytest.raises(BookingTooSoonError):
        services.appointment_book(patient=PatientFactory(), slot_id=soon.pk, booked_by=DoctorFactory().user)
    services.appointment_cancel(appointment_id=visit.pk, by=strict_doctor.user)
