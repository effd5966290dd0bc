from base64 import b32encode
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import Patient, User
from clinics.models import Clinic, Doctor
from healthsvc.timezones import local_date_bounds
from scheduling.models import Appointment, AppointmentSlot, AvailabilityRule, Leave

pytestmark = pytest.mark.django_db

MODELS = [User, Patient, Clinic, Doctor, AvailabilityRule, Leave, AppointmentSlot, Appointment]


def _counts():
    return {m.__name__: m.objects.count() for m in MODELS}


@pytest.fixture(autouse=True)
def _development(settings):
    """seed_demo runs on a laptop only (DEBUG on); the test settings have it off."""
    settings.DEBUG = True


def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo")
    assert set(_counts().values()) == {0}  # not even the admin with the published password


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
    admin = authenticate(RequestFactory().post("/"), email="admin@healthsvc.local", password="admin-demo-2026")
    patient = authenticate(RequestFactory().post("/"), email="patient@healthsvc.local", password="patient-demo-2026")
    doctor = authenticate(RequestFactory().post("/"), email="dr.mehta@healthsvc.local", password="doctor-demo-2026")
    assert admin is not None and admin.role == "admin" and admin.is_staff
    # The admin site needs a second factor: the printed key is the demo admin's authenticator.
    from django_otp.oath import totp

    from accounts import two_factor
    from scheduling.management.commands.seed_demo import ADMIN_TOTP_KEY

    assert two_factor.otp_enabled(admin) and b32encode(bytes.fromhex(ADMIN_TOTP_KEY)).decode() in out
    assert two_factor.otp_check(admin, str(totp(bytes.fromhex(ADMIN_TOTP_KEY))).zfill(6)) is not None
    assert two_factor.otp_check(admin, "demo-recovery-2") is not None
    assert patient is not None and hasattr(patient, "patient") and hasattr(doctor, "doctor")
    booked = Appointment.objects.get(patient=patient.patient)
    assert booked.status == "confirmed" and booked.slot.booked_count == 1 and booked.start > timezone.now()


def test_seed_demo_makes_slots_from_weekly_hours_with_leave_and_approval():
    call_command("seed_demo")
    for doctor in Doctor.objects.all():
        assert AvailabilityRule.objects.filter(doctor=doctor).count() >= 5
        assert AppointmentSlot.objects.filter(doctor=doctor, start__gt=timezone.now()).count() > 50
    leave = Leave.objects.get()
    assert not AppointmentSlot.objects.filter(doctor=leave.doctor, start__lt=leave.end, end__gt=leave.start).exists()
    approving = Doctor.objects.get(requires_approval=True)
    assert Appointment.objects.filter(doctor=approving, status="pending").exists()
    starts = AppointmentSlot.objects.values_list("doctor_id", "start")
    assert len(starts) == len(set(starts))
    for slot in AppointmentSlot.objects.all():
        assert slot.booked_count == slot.appointments.exclude(status="cancelled").count()


def test_seed_demo_gives_every_clinic_a_day_with_visits_in_its_own_calendar():
    call_command("seed_demo")
    for clinic in Clinic.objects.all():
        start, end = local_date_bounds(timezone.localdate(timezone=clinic.tzinfo), clinic.tzinfo)
        today = Appointment.objects.filter(clinic=clinic, start__gte=start, start__lt=end)
        # Two before now and two after, except the ones the day's edges cut off.
        assert today.count() >= 2
        assert today.filter(start__lt=timezone.now()).exists() or timezone.now() - start < timedelta(hours=2)
        assert today.filter(start__gt=timezone.now()).exists() or end - timezone.now() < timedelta(hours=3)


def test_seed_demo_prints_the_address_it_was_given(capsys, monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    call_command("seed_demo", host="192.168.1.20", port="8123")
    out = capsys.readouterr().out
    assert "http://192.168.1.20:8123/admin/" in out and "Portal   http://192.168.1.20:8123/" in out
    assert "8000" not in out


def test_seed_demo_takes_host_and_port_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9001")
    call_command("seed_demo")
    out = capsys.readouterr().out
    # A wildcard listen address is reached as localhost.
    assert "http://localhost:9001/admin/" in out and "127.0.0.1:8000" not in out


def test_seed_demo_defaults_to_the_makefile_address(capsys, monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    call_command("seed_demo")
    assert "http://127.0.0.1:8000/admin/" in capsys.readouterr().out


def test_make_run_passes_its_host_and_port_to_seed_demo():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "seed_demo --host $(HOST) --port $(PORT)" in makefile
    assert "runserver $(HOST):$(PORT)" in makefile
