from datetime import timedelta

import factory
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import DoctorFactory
from scheduling.models import Appointment, AppointmentSlot


def _next_start(n: int):
    # Distinct, future, minute-aligned starts: one every hour from tomorrow.
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    return base + timedelta(hours=n)


class SlotFactory(factory.django.DjangoModelFactory):
    """A raw row for tests; product code opens slots through slot_create."""

    class Meta:
        model = AppointmentSlot

    doctor = factory.SubFactory(DoctorFactory)
    clinic = factory.SelfAttribute("doctor.clinic")
    start = factory.Sequence(_next_start)
    duration_minutes = 30
    capacity = 1


class AppointmentFactory(factory.django.DjangoModelFactory):
    """A raw row for constraint tests; bookings go through appointment_book."""

    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    slot = factory.SubFactory(SlotFactory)
    doctor = factory.SelfAttribute("slot.doctor")
    clinic = factory.SelfAttribute("slot.clinic")
    start = factory.SelfAttribute("slot.start")
    end = factory.LazyAttribute(lambda o: o.slot.start + timedelta(minutes=o.slot.duration_minutes))
    status = Appointment.Status.CONFIRMED
