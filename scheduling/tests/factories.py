from datetime import timedelta

import factory
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import DoctorFactory
from scheduling.models import Appointment, AppointmentSlot

# Starts cycle through 60 days (inside the default 90-day booking horizon);
# tests that need one doctor's slots far apart give `start` themselves.
_CYCLE_HOURS = 60 * 24


def _next_start(n: int):
    # Distinct, future, minute-aligned starts: one every hour from tomorrow.
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    return base + timedelta(hours=n % _CYCLE_HOURS)


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
