import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import Patient, User
from clinics.models import Clinic, Doctor
from scheduling.models import Appointment, AppointmentSlot

pytestmark = pytest.mark.django_db

MODELS = [User, Patient, Clinic, Doctor, AppointmentSlot, Appointment]


def _counts():
    return {m.__name__: m.objects.count() for m in MODELS}


def test_seed_demo_is_idempotent_and_its_logins_work(capsys):
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    assert first["Clinic"] >= 3 and first["Doctor"] >= 5 and first["AppointmentSlot"] > 100
    assert Clinic.objects.values("timezone").distinct().count() == 2
    assert Doctor.objects.values("specialty").distinct().count() >= 4

    out = capsys.readouterr().out
    assert "admin@healthsvc.local" in out and "patient@healthsvc.local" in out
    admin = authenticate(email="admin@healthsvc.local", password="admin-demo-2026")
    patient = authenticate(email="patient@healthsvc.local", password="patient-demo-2026")
    assert admin is not None and admin.role == "admin" and admin.is_staff
    assert patient is not None and hasattr(patient, "patient")
    booked = Appointment.objects.get(patient=patient.patient)
    assert booked.status == "confirmed" and booked.slot.booked_count == 1
