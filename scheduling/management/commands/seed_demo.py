"""Demo data for a laptop: three clinics in two time zones, seven doctors with
weekly hours and four weeks of slots made from them, time off, a doctor who
approves each booking, a demo patient with a visit, an admin, and a living
day in every clinic (visits earlier today and later today, in that clinic's
own day, whatever the hour). Safe to run again: it only adds what is missing.

Development only: its admin's password is printed here and in the README, so
with DEBUG off it refuses to run.
"""

import os
from base64 import b32encode
from datetime import datetime, time, timedelta
from functools import cache

from django.contrib.auth.hashers import make_password
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import Patient, User
from clinics.models import Clinic, Doctor
from healthsvc.timezones import local_date_bounds
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot, AvailabilityRule, Leave
from scheduling.selectors import slot_list_bookable
from scheduling.tasks import notifications_suppressed

ADMIN = ("admin@healthsvc.local", "Clinic Admin", "admin-demo-2026")
# The demo admin's second factor (the admin site requires one), published like
# its password: an authenticator app takes the key in base32 (printed below),
# and each recovery code signs in once (a new seed_demo run restores them).
ADMIN_TOTP_KEY = "6865616c74687376632d64656d6f2d61646d696e"  # hex of "healthsvc-demo-admin"
ADMIN_RECOVERY_CODES = ("demo-recovery-1", "demo-recovery-2", "demo-recovery-3")
PATIENT = ("patient@healthsvc.local", "Priya Patel", "patient-demo-2026")
DOCTOR_PASSWORD = "doctor-demo-2026"
# The people in each clinic's day (four per clinic, in CLINICS order); they
# log in with the demo patient's password.
OTHER_PATIENTS = [
    "Rahul Verma", "Sara Khan", "Arjun Nair", "Meera Joshi",
    "Kabir Malhotra", "Ananya Desai", "Vivaan Kulkarni", "Diya Menon",
    "Oliver Smith", "Amelia Jones", "Harry Taylor", "Isla Brown",
]

CLINICS = [
    {"name": "Sunrise Heart & Skin Clinic", "city": "Pune", "state": "MH", "zip_code": "411001",
     "address": "12 FC Road, Shivajinagar", "phone": "+91 20 5555 0101", "timezone": "Asia/Kolkata",
     "latitude": "18.520430", "longitude": "73.856743", "email": "pune@sunrise.example"},
    {"name": "Sunrise Children's Clinic", "city": "Mumbai", "state": "MH", "zip_code": "400050",
     "address": "4 Hill Road, Bandra West", "phone": "+91 22 5555 0102", "timezone": "Asia/Kolkata",
     "latitude": "19.054999", "longitude": "72.840279", "email": "mumbai@sunrise.example",
     "min_notice_minutes": 120},
    {"name": "Thames Family Practice", "city": "London", "state": "England", "zip_code": "SE1 9RT",
     "address": "88 Borough High Street", "phone": "+44 20 5555 0103", "timezone": "Europe/London",
     "latitude": "51.503399", "longitude": "-0.091480", "email": "london@thames.example",
     "cancellation_window_minutes": 24 * 60},
]

# (email, name, specialty, license, clinic index, requires approval)
DOCTORS = [
    ("dr.mehta@healthsvc.local", "Anil Mehta", "Cardiology", "MH-CARD-1001", 0, False),
    ("dr.rao@healthsvc.local", "Kavya Rao", "Dermatology", "MH-DERM-1002", 0, True),
    ("dr.iyer@healthsvc.local", "Sunil Iyer", "Pediatrics", "MH-PED-1003", 1, False),
    ("dr.shah@healthsvc.local", "Neha Shah", "Cardiology", "MH-CARD-1004", 1, False),
    ("dr.clarke@healthsvc.local", "Emma Clarke", "General Practice", "UK-GP-2001", 2, False),
    ("dr.okafor@healthsvc.local", "Tunde Okafor", "Orthopedics", "UK-ORTH-2002", 2, False),
    # So that "skin doctor London" finds someone, as "skin doctor Pune" does.
    ("dr.hughes@healthsvc.local", "Siân Hughes", "Dermatology", "UK-DERM-2003", 2, False),
]

# Weekly hours: Monday to Friday 09:00-17:00 with lunch 13:00-14:00, 30-minute
# slots; the paediatrician sees two children per 20-minute slot and works
# Saturday mornings too.
WEEKDAY_HOURS = {"start_time": time(9), "end_time": time(17), "break_start": time(13), "break_end": time(14)}
GENERATE_DAYS = 28


@cache
def _password_hash(password: str) -> str:
    # Hashing is slow on purpose; the demo's many accounts share a few passwords.
    return make_password(password)


def _user(email, name, password, **fields):
    user, created = User.objects.get_or_create(email=email, defaults={"name": name, **fields})
    if created:
        user.password = _password_hash(password)
        user.save(update_fields=["password"])
    return user


def _patient(email, name, *, mobile_no="", **profile):
    user = _user(email, name, PATIENT[2], role=User.Role.PATIENT, is_verified=True, mobile_no=mobile_no)
    return Patient.objects.get_or_create(user=user, defaults=profile)[0]


def _second_factor(admin: User) -> None:
    TOTPDevice.objects.get_or_create(user=admin, name="Demo authenticator",
                                     defaults={"key": ADMIN_TOTP_KEY, "confirmed": True})
    codes, _ = StaticDevice.objects.get_or_create(user=admin, name="Recovery codes", defaults={"confirmed": True})
    for code in ADMIN_RECOVERY_CODES:
        StaticToken.objects.get_or_create(device=codes, token=two_factor.recovery_digest(code))


def site_url(host: str, port: str | int) -> str:
    """`http://HOST:PORT/` as a browser takes it: a wildcard listen address
    (0.0.0.0, ::) is reached on this machine as localhost; an IPv6 address is bracketed."""
    host = (host or "127.0.0.1").strip("[]")
    if host in ("0.0.0.0", "::", ""):
        host = "localhost"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


class Command(BaseCommand):
    help = "Load demo clinics, doctors, weekly hours and slots, patients and a living day (idempotent)."

    def add_arguments(self, parser):
        # `make run` passes the address runserver is about to listen on, so the
        # printed links are the ones that work (HOST/PORT in the environment too).
        parser.add_argument("--host", default=os.environ.get("HOST") or "127.0.0.1",
                            help="The host the server listens on, for the printed links (env HOST).")
        parser.add_argument("--port", default=os.environ.get("PORT") or "8000",
                            help="The port the server listens on, for the printed links (env PORT).")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo is for development: its admin and patients have published passwords. "
                "It refuses to run with DEBUG off; set DEBUG=true for a laptop or a throwaway database."
            )
        # Its bookings are demo data, not news: a mail for each would bury the
        # console (the development mail backend) under a hundred messages.
        with notifications_suppressed():
            self._seed()
        self._print_logins(site_url(options["host"], options["port"]))

    @transaction.atomic
    def _seed(self):
        admin = _user(ADMIN[0], ADMIN[1], ADMIN[2], role=User.Role.ADMIN, is_staff=True, is_superuser=True,
                      is_verified=True)
        _second_factor(admin)
        patient = _patient(PATIENT[0], PATIENT[1], mobile_no="+91 98765 43210", blood_group="O+",
                           allergies="Penicillin")
        others = [_patient(f"{name.split()[0].lower()}@healthsvc.local", name) for name in OTHER_PATIENTS]

        clinics = [Clinic.objects.update_or_create(name=c["name"], defaults=c)[0] for c in CLINICS]
        doctors = [self._doctor(row, clinics) for row in DOCTORS]
        for doctor in doctors:
            self._rules(doctor)
        self._leave(doctors[5], admin)
        created = 0
        for doctor in doctors:
            today = timezone.localdate(timezone=doctor.clinic.tzinfo)
            created += services.slots_generate(
                doctor=doctor, date_from=today, date_to=today + timedelta(days=GENERATE_DAYS - 1)
            ).created

        if not patient.appointments.exists():
            # The demo patient's own visit, through the booking core, from tomorrow on.
            tomorrow = timezone.now() + timedelta(days=1)
            slot = slot_list_bookable(doctor_id=doctors[0].pk, start=tomorrow).first()
            if slot is not None:
                services.appointment_book(patient=patient, slot_id=slot.pk, reason="Follow-up of blood pressure",
                                          booked_by=patient.user)
        for index, clinic in enumerate(clinics):
            doctor = next(d for d in doctors if d.clinic_id == clinic.pk)
            self._living_day(doctor, others[4 * index:4 * index + 4], admin)
        self._waiting_for_approval(doctors[1], others[0])

        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new slots)."))

    def _print_logins(self, url: str) -> None:
        self.stdout.write(f"  Portal   {url}")
        self.stdout.write(f"  Admin    {ADMIN[0]} / {ADMIN[2]}   -> {url}admin/")
        key = b32encode(bytes.fromhex(ADMIN_TOTP_KEY)).decode()
        self.stdout.write(f"           second factor: authenticator key {key}, or a recovery code "
                          f"({', '.join(ADMIN_RECOVERY_CODES)})")
        self.stdout.write(f"  Patient  {PATIENT[0]} / {PATIENT[2]}")
        self.stdout.write(f"  Doctors  {', '.join(d[0] for d in DOCTORS)} / {DOCTOR_PASSWORD}")

    def _doctor(self, row, clinics) -> Doctor:
        email, name, specialty, license_number, clinic_index, approval = row
        user = _user(email, name, DOCTOR_PASSWORD, role=User.Role.DOCTOR, is_verified=True)
        doctor, _ = Doctor.objects.get_or_create(
            license_number=license_number,
            defaults={"user": user, "clinic": clinics[clinic_index], "specialty": specialty,
                      "qualifications": "MBBS, MD", "experience_years": 8, "max_patients_per_day": 12,
                      "requires_approval": approval},
        )
        return Doctor.objects.select_related("clinic", "user").get(pk=doctor.pk)

    def _rules(self, doctor: Doctor) -> None:
        if AvailabilityRule.objects.filter(doctor=doctor).exists():
            return
        children = doctor.specialty == "Pediatrics"
        shape = {"slot_minutes": 20, "capacity": 2} if children else {"slot_minutes": 30, "capacity": 1}
        for weekday in range(5):
            services.availability_rule_create(doctor=doctor, weekday=weekday, **WEEKDAY_HOURS, **shape)
        if children:
            services.availability_rule_create(doctor=doctor, weekday=5, start_time=time(9), end_time=time(12), **shape)

    def _leave(self, doctor: Doctor, admin: User) -> None:
        """The orthopaedist is away all of next Wednesday (a course)."""
        if Leave.objects.filter(doctor=doctor).exists():
            return
        today = timezone.localdate(timezone=doctor.clinic.tzinfo)
        wednesday = today + timedelta(days=(2 - today.weekday()) % 7 or 7)
        start, end = local_date_bounds(wednesday, doctor.clinic.tzinfo)
        services.leave_create(doctor=doctor, start=start, end=end, reason="Fracture clinic course", by=admin)

    def _living_day(self, doctor: Doctor, patients: list[Patient], admin: User) -> None:
        """Visits earlier and later today in the clinic's own day: two that have
        happened (one seen, one waiting for its outcome) and two to come."""
        tz = doctor.clinic.tzinfo
        day_start, day_end = local_date_bounds(timezone.localdate(timezone=tz), tz)
        if Appointment.objects.filter(doctor=doctor, start__gte=day_start, start__lt=day_end).exists():
            return
        now = timezone.now()
        hour = now.replace(minute=0, second=0, microsecond=0)
        earlier = [t for t in (hour - timedelta(hours=2), hour - timedelta(hours=1)) if t >= day_start]
        later = [t for t in (hour + timedelta(hours=1), hour + timedelta(hours=2)) if t + timedelta(minutes=30) <= day_end]
        for index, start in enumerate(earlier):
            self._past_visit(doctor, patients[index], start, seen=index == 0, by=admin)
        for index, start in enumerate(later):
            slot = self._slot_at(doctor, start)
            if slot is not None:
                services.appointment_book(patient=patients[2 + index], slot_id=slot.pk, reason="Review",
                                          booked_by=admin)

    def _slot_at(self, doctor: Doctor, start: datetime) -> AppointmentSlot | None:
        """A bookable slot of the doctor starting in the half hour from `start`, or a new one there."""
        existing = slot_list_bookable(doctor_id=doctor.pk, start=start, end=start + timedelta(minutes=30)).first()
        if existing is not None:
            return existing
        if AppointmentSlot.objects.filter(doctor=doctor, is_active=True, start__lt=start + timedelta(minutes=30),
                                          end__gt=start).exists():
            return None
        return services.slot_create(doctor=doctor, start=start)

    def _past_visit(self, doctor: Doctor, patient: Patient, start: datetime, *, seen: bool, by: User) -> None:
        """A visit earlier today. The booking core rightly refuses to book the
        past, so the demo writes the slot and the booking as they were then;
        the outcome goes through the state machine as the doctor would record it."""
        end = start + timedelta(minutes=30)
        if AppointmentSlot.objects.filter(doctor=doctor, is_active=True, start__lt=end, end__gt=start).exists():
            return
        slot = AppointmentSlot.objects.create(doctor=doctor, clinic=doctor.clinic, start=start, end=end,
                                              duration_minutes=30, capacity=1, booked_count=1)
        appointment = Appointment.objects.create(
            patient=patient, doctor=doctor, clinic=doctor.clinic, slot=slot, start=start, end=end,
            status=Appointment.Status.CONFIRMED, reason_for_visit="Check-up", booked_by=by,
        )
        if seen:
            services.appointment_set_outcome(appointment_id=appointment.pk, status=Appointment.Status.COMPLETED,
                                             notes="Seen; all well.", by=doctor.user)

    def _waiting_for_approval(self, doctor: Doctor, patient: Patient) -> None:
        """A booking of the doctor who approves each one, waiting for her."""
        if Appointment.objects.filter(doctor=doctor, status=Appointment.Status.PENDING).exists():
            return
        slot = slot_list_bookable(doctor_id=doctor.pk, start=timezone.now() + timedelta(days=1)).first()
        if slot is not None:
            services.appointment_book(patient=patient, slot_id=slot.pk, reason="Rash on both arms",
                                      booked_by=patient.user)
