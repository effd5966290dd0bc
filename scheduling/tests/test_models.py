"""Each database constraint refuses a bad row written directly, bypassing the services."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from scheduling.models import Appointment, AppointmentSlot
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "changes",
    [
        {"booked_count": 2},  # over capacity 1
        {"booked_count": -1},
        {"capacity": 0},
        {"duration_minutes": 4},
        {"duration_minutes": 481},
    ],
)
def test_slot_check_constraints_refuse_bad_values(slot, changes):
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentSlot.objects.filter(pk=slot.pk).update(**changes)
    slot.refresh_from_db()
    assert (slot.booked_count, slot.capacity, slot.duration_minutes) == (0, 1, 30)


def test_slot_end_must_follow_start(slot):
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentSlot.objects.filter(pk=slot.pk).update(end=slot.start)


def test_slot_booked_count_may_reach_capacity(slot):
    AppointmentSlot.objects.filter(pk=slot.pk).update(booked_count=1)
    slot.refresh_from_db()
    assert slot.booked_count == 1


def test_two_active_slots_of_a_doctor_cannot_share_a_start(slot):
    with pytest.raises(IntegrityError), transaction.atomic():
        SlotFactory(doctor=slot.doctor, start=slot.start, duration_minutes=15)


def test_an_inactive_slot_frees_its_start_for_a_new_one(slot):
    AppointmentSlot.objects.filter(pk=slot.pk).update(is_active=False)
    assert SlotFactory(doctor=slot.doctor, start=slot.start).pk


def test_other_doctors_may_share_a_start(slot, other_doctor):
    assert SlotFactory(doctor=other_doctor, start=slot.start).pk


@pytest.mark.postgres_only
def test_overlapping_active_slots_of_a_doctor_are_refused(slot):
    with pytest.raises(IntegrityError, match="scheduling_slot_no_overlap"), transaction.atomic():
        SlotFactory(doctor=slot.doctor, start=slot.start + timedelta(minutes=10), duration_minutes=30)


@pytest.mark.postgres_only
def test_back_to_back_slots_do_not_overlap(slot):
    assert SlotFactory(doctor=slot.doctor, start=slot.end, duration_minutes=30).pk


def test_one_active_appointment_per_patient_and_slot(slot, patient):
    slot.capacity = 2
    slot.save()
    AppointmentFactory(patient=patient, slot=slot)
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(patient=patient, slot=slot)


def test_a_cancelled_appointment_does_not_block_rebooking_the_slot(slot, patient):
    AppointmentFactory(patient=patient, slot=slot, status="cancelled", cancelled_at=timezone.now())
    assert AppointmentFactory(patient=patient, slot=slot).pk


@pytest.mark.postgres_only
def test_overlapping_active_appointments_of_a_patient_are_refused(slot, other_doctor, patient):
    AppointmentFactory(patient=patient, slot=slot)
    other = SlotFactory(doctor=other_doctor, start=slot.start + timedelta(minutes=15))
    with pytest.raises(IntegrityError, match="scheduling_appointment_no_patient_overlap"), transaction.atomic():
        AppointmentFactory(patient=patient, slot=other)


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "cancelled", "cancelled_at": None},
        {"status": "confirmed", "cancelled_at": timezone.now()},
        {"status": "lost"},
    ],
)
def test_appointment_status_constraints(slot, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(slot=slot, **fields)
    assert not Appointment.objects.exists()


def test_patient_blood_group_is_one_of_the_fixed_set(db):
    patient = PatientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(patient).objects.filter(pk=patient.pk).update(blood_group="Z+")
