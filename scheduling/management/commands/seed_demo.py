"""Demo data for a laptop: clinics in two time zones, doctors, two weeks of
slots, a demo patient and an admin. Safe to run again: it only adds what is missing."""

from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Patient, User
from clinics.models import Clinic, Doctor
from scheduling.models import AppointmentSlot
from scheduling.selectors import slot_list_bookable
from scheduling.services import appointment_book

ADMIN = ("admin@healthsvc.local", "Clinic Admin", "admin-demo-2026")
PATIENT = ("patient@healthsvc.local", "Priya Patel", "patient-demo-2026")
DOCTOR_PASSWORD = "doctor-demo-2026"

CLINICS = [
    {"name": "Sunrise Heart & Skin Clinic", "city": "Pune", "state": "MH", "zip_code": "411001",
     "address": "12 FC Road, Shivajinagar", "phone": "+91 20 5555 0101", "timezone": "Asia/Kolkata",
     "latitude": "18.520430", "longitude": "73.856743", "email": "pune@sunrise.example"},
    {"name": "Sunrise Children's Clinic", "city": "Mumbai", "state": "MH", "zip_code": "400050",
     "address": "4 Hill Road, Bandra West", "phone": "+91 22 5555 0102", "timezone": "Asia/Kolkata",
     "latitude": "19.054999", "longitude": "72.840279", "email": "mumbai@sunrise.example"},
    {"name": "Thames Family Practice", "city": "London", "state": "England", "zip_code": "SE1 9RT",
     "address": "88 Borough High Street", "phone": "+44 20 5555 0103", "timezone": "Europe/London",
     "latitude": "51.503399", "longitude": "-0.091480", "email": "london@thames.example"},
]

# (email, name, specialty, license, clinic index)
DOCTORS = [
    ("dr.mehta@healthsvc.local", "Anil Mehta", "Cardiology", "MH-CARD-1001", 0),
    ("dr.rao@healthsvc.local", "Kavya Rao", "Dermatology", "MH-DERM-1002", 0),
    ("dr.iyer@healthsvc.local", "Sunil Iyer", "Pediatrics", "MH-PED-1003", 1),
    ("dr.shah@healthsvc.local", "Neha Shah", "Cardiology", "MH-CARD-1004", 1),
    ("dr.clarke@healthsvc.local", "Emma Clarke", "General Practice", "UK-GP-2001", 2),
    ("dr.okafor@healthsvc.local", "Tunde Okafor", "Orthopedics", "UK-ORTH-2002", 2),
]

DAYS = 14
SLOT_TIMES = [time(9, 0), time(9, 30), time(10, 0), time(10, 30), time(11, 0), time(11, 30),
              time(14, 0), time(14, 30), time(15, 0), time(15, 30)]


def _user(email, name, password, **fields):
    user, created = User.objects.get_or_create(email=email, defaults={"name": name, **fields})
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


class Command(BaseCommand):
    help = "Load demo clinics, doctors, slots, a patient and an admin (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        _user(ADMIN[0], ADMIN[1], ADMIN[2], role=User.Role.ADMIN, is_staff=True, is_superuser=True, is_verified=True)
        patient_user = _user(PATIENT[0], PATIENT[1], PATIENT[2], role=User.Role.PATIENT, is_verified=True,
                             mobile_no="+91 98765 43210")
        Patient.objects.get_or_create(user=patient_user, defaults={"blood_group": "O+", "allergies": "Penicillin"})

        clinics = [Clinic.objects.update_or_create(name=c["name"], defaults=c)[0] for c in CLINICS]
        created_slots = 0
        for email, name, specialty, license_number, clinic_index in DOCTORS:
            user = _user(email, name, DOCTOR_PASSWORD, role=User.Role.DOCTOR, is_verified=True)
            doctor, _ = Doctor.objects.get_or_create(
                license_number=license_number,
                defaults={"user": user, "clinic": clinics[clinic_index], "specialty": specialty,
                          "qualifications": "MBBS, MD", "experience_years": 8, "max_patients_per_day": 12},
            )
            created_slots += self._slots(doctor)

        patient = Patient.objects.get(user=patient_user)
        if not patient.appointments.exists():
            # One booking, through the booking core, so "My appointments" and
            # the doctor's day have something to show.
            slot = slot_list_bookable(doctor_id=Doctor.objects.get(license_number=DOCTORS[0][3]).pk).first()
            if slot is not None:
                appointment_book(patient=patient, slot_id=slot.pk, reason="Follow-up of blood pressure")

        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created_slots} new slots)."))
        self.stdout.write(f"  Admin    {ADMIN[0]} / {ADMIN[2]}   -> http://127.0.0.1:8000/admin/")
        self.stdout.write(f"  Patient  {PATIENT[0]} / {PATIENT[2]}")
        self.stdout.write(f"  Doctors  {', '.join(d[0] for d in DOCTORS)} / {DOCTOR_PASSWORD}")

    def _slots(self, doctor: Doctor) -> int:
        """Two weeks of weekday slots in the clinic's local time, skipping ones that exist."""
        tz = doctor.clinic.tzinfo
        today = timezone.localdate(timezone=tz)
        existing = set(AppointmentSlot.objects.filter(doctor=doctor, is_active=True).values_list("start", flat=True))
        now = timezone.now()
        new = []
        for offset in range(DAYS):
            day = today + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for t in SLOT_TIMES:
                start = datetime.combine(day, t, tzinfo=tz)
                if start > now and start not in existing:
                    new.append(AppointmentSlot(doctor=doctor, clinic=doctor.clinic, start=start,
                                               end=start + timedelta(minutes=30), duration_minutes=30,
                                               capacity=2 if t.hour < 12 else 1))
        AppointmentSlot.objects.bulk_create(new)
        return len(new)
