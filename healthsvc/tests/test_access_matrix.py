"""Who may do what: every endpoint of the contract against every persona, in
one table. Each "may not" is a row that fails if its check is removed.

Personas: anonymous, the patient who owns the appointment, another patient,
the doctor of that appointment (whose schedule the Schedules rows touch),
another doctor, an unverified doctor, an admin.
"HIDDEN" means 200 but the owner's appointment is not in the list.
"""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import AdminUserFactory, DependentFactory, PatientFactory, UserFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from scheduling import services
from scheduling.models import AppointmentSlot, AvailabilityRule, Leave
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["anon", "owner", "other_patient", "doctor", "other_doctor", "unverified", "admin"]
HIDDEN = "HIDDEN"


class World:
    def __init__(self):
        self.clinic = ClinicFactory(latitude="18.52", longitude="73.85")
        self.spare_clinic = ClinicFactory()
        self.doctor = DoctorFactory(clinic=self.clinic)
        self.other_doctor = DoctorFactory(clinic=self.clinic)
        self.unverified = DoctorFactory(clinic=self.clinic, user__is_verified=False)
        self.patient = PatientFactory()
        self.child = DependentFactory(guardian=self.patient)  # the owner's family member
        self.other_patient = PatientFactory()
        self.admin = AdminUserFactory()  # a superuser
        self.other_admin = UserFactory(role=User.Role.ADMIN)
        self.registered = UserFactory(role=User.Role.DOCTOR, is_verified=False)  # self-registered, no profile
        self.slot = SlotFactory(doctor=self.doctor, capacity=3)
        self.free_slot = SlotFactory(doctor=self.doctor, capacity=3)
        self.appointment = services.appointment_book(patient=self.patient, slot_id=self.slot.pk)
        self.later = (timezone.now() + timedelta(days=40)).replace(microsecond=0).isoformat()
        # The doctor's schedule: a Monday rule, a booking waiting for approval and a
        # leave, both past the 60 days the slot factory's starts cycle through.
        self.rule = services.availability_rule_create(doctor=self.doctor, weekday=0, start_time=time(9),
                                                      end_time=time(12))
        self.unverified_rule = services.availability_rule_create(doctor=self.unverified, weekday=0,
                                                                 start_time=time(9), end_time=time(12))
        far = timezone.now().replace(microsecond=0) + timedelta(days=62)
        self.doctor.requires_approval = True
        self.doctor.save()
        self.pending = services.appointment_book(patient=self.patient, slot_id=SlotFactory(doctor=self.doctor,
                                                                                           start=far).pk)
        self.doctor.requires_approval = False
        self.doctor.save()
        self.leave = services.leave_create(doctor=self.doctor, start=far + timedelta(days=5),
                                           end=far + timedelta(days=5, hours=4))
        self.leave_body = {"start": (far + timedelta(days=7)).isoformat(),
                           "end": (far + timedelta(days=7, hours=3)).isoformat()}
        today = timezone.localdate(timezone=self.clinic.tzinfo)
        self.week = {"date_from": str(today + timedelta(days=1)), "date_to": str(today + timedelta(days=7))}
        self.slot_count = AppointmentSlot.objects.count()

    def user(self, persona):
        return {
            "anon": None, "owner": self.patient.user, "other_patient": self.other_patient.user,
            "doctor": self.doctor.user, "other_doctor": self.other_doctor.user,
            "unverified": self.unverified.user, "admin": self.admin,
        }[persona]


def row(method, path, body, *expected, id):
    assert len(expected) == len(PERSONAS)
    return pytest.param(method, path, body, dict(zip(PERSONAS, expected)), id=id)


# method, path (formatted with the World), body (callable on the World or None), then expected
# statuses for: anon, owner, other_patient, doctor, other_doctor, unverified, admin
MATRIX = [
    row("get", "/api/v1/auth/profile", None, 401, 200, 200, 200, 200, 200, 200, id="profile"),
    row("post", "/api/v1/auth/logout", lambda w: {"refresh": "x"}, 401, 401, 401, 401, 401, 401, 401,
        id="logout-garbage-token"),
    row("patch", "/api/v1/auth/profile", lambda w: {"mobile_no": "+91 98765 43210"},
        401, 200, 200, 200, 200, 200, 200, id="profile-patch"),
    row("get", "/api/v1/admins", None, 401, 403, 403, 403, 403, 403, 200, id="admins-list"),
    row("post", "/api/v1/admins", lambda w: {"name": "New Admin", "email": "newadmin@example.com",
                                             "password": "plum-orchard-sunset-42"},
        401, 403, 403, 403, 403, 403, 201, id="admin-create"),
    row("delete", "/api/v1/admins/{w.other_admin.pk}", None, 401, 403, 403, 403, 403, 403, 204, id="admin-delete"),
    row("delete", "/api/v1/admins/{w.admin.pk}", None, 401, 403, 403, 403, 403, 403, 409, id="admin-delete-self"),
    row("get", "/api/v1/patients", None, 401, 403, 403, 403, 403, 403, 200, id="patients-list"),
    row("get", "/api/v1/patients/me", None, 401, 200, 200, 403, 403, 403, 403, id="patients-me"),
    row("get", "/api/v1/patients/{w.patient.pk}", None, 401, 200, 404, 200, 404, 404, 200, id="patient-get"),
    row("patch", "/api/v1/patients/{w.patient.pk}", lambda w: {"allergies": "Latex"},
        401, 200, 404, 403, 404, 404, 200, id="patient-patch"),
    row("put", "/api/v1/patients/{w.patient.pk}",
        lambda w: {"name": "N", "mobile_no": "", "date_of_birth": None, "blood_group": None, "allergies": "",
                   "emergency_contact": ""},
        401, 200, 404, 403, 404, 404, 200, id="patient-put"),
    row("delete", "/api/v1/patients/{w.patient.pk}", None, 401, 403, 404, 403, 404, 404, 204, id="patient-delete"),
    row("delete", "/api/v1/patients/{w.child.pk}", None, 401, 403, 404, 404, 404, 404, 409, id="dependent-delete"),
    row("get", "/api/v1/patients/{w.patient.pk}/appointments", None, 401, 200, 404, 403, 403, 403, 200,
        id="patient-appointments"),
    # --- Family members: the owner is the guardian; the doctor has no visit with the child ---
    row("get", "/api/v1/patients/me/dependents", None, 401, 200, 200, 403, 403, 403, 403, id="dependents-list"),
    row("post", "/api/v1/patients/me/dependents", lambda w: {"name": "Maya", "date_of_birth": "2019-04-02"},
        401, 201, 201, 403, 403, 403, 403, id="dependent-create"),
    row("get", "/api/v1/patients/{w.child.pk}", None, 401, 200, 404, 404, 404, 404, 200, id="dependent-get"),
    row("patch", "/api/v1/patients/{w.child.pk}", lambda w: {"allergies": "Latex"},
        401, 200, 404, 404, 404, 404, 200, id="dependent-patch"),
    row("get", "/api/v1/patients/{w.child.pk}/access-log", None, 401, 200, 404, 403, 403, 403, 200,
        id="dependent-access-log"),
    row("post", "/api/v1/appointments/book", lambda w: {"slot_id": w.free_slot.pk, "patient_id": w.child.pk},
        401, 201, 404, 403, 403, 403, 201, id="book-for-dependent"),
    row("get", "/api/v1/clinics", None, 200, 200, 200, 200, 200, 200, 200, id="clinics-list"),
    row("get", "/api/v1/clinics?near=18.5,73.8&radius_km=50", None, 200, 200, 200, 200, 200, 200, 200,
        id="clinics-near"),
    row("post", "/api/v1/clinics", lambda w: {"name": "New", "address": "1 Road", "city": "Pune", "timezone": "UTC"},
        401, 403, 403, 403, 403, 403, 201, id="clinic-create"),
    row("get", "/api/v1/clinics/{w.clinic.pk}", None, 200, 200, 200, 200, 200, 200, 200, id="clinic-get"),
    row("patch", "/api/v1/clinics/{w.clinic.pk}", lambda w: {"phone": "+1"}, 401, 403, 403, 403, 403, 403, 200,
        id="clinic-patch"),
    row("put", "/api/v1/clinics/{w.spare_clinic.pk}",
        lambda w: {"name": "S", "address": "2 Road", "city": "Pune", "timezone": "UTC"},
        401, 403, 403, 403, 403, 403, 200, id="clinic-put"),
    row("delete", "/api/v1/clinics/{w.spare_clinic.pk}", None, 401, 403, 403, 403, 403, 403, 204,
        id="clinic-delete"),
    row("get", "/api/v1/clinics/{w.clinic.pk}/doctors", None, 200, 200, 200, 200, 200, 200, 200,
        id="clinic-doctors"),
    row("get", "/api/v1/doctors", None, 200, 200, 200, 200, 200, 200, 200, id="doctors-list"),
    row("post", "/api/v1/doctors",
        lambda w: {"name": "Dr New", "email": "drnew@example.com", "password": "plum-orchard-sunset-42",
                   "specialty": "ENT", "license_number": "NEW-1", "clinic_id": w.clinic.pk},
        401, 403, 403, 403, 403, 403, 201, id="doctor-create"),
    row("post", "/api/v1/doctors",
        lambda w: {"user_id": w.registered.pk, "specialty": "ENT", "license_number": "NEW-2", "clinic_id": w.clinic.pk},
        401, 403, 403, 403, 403, 403, 201, id="doctor-verify-self-registered"),
    row("get", "/api/v1/doctors/{w.doctor.pk}", None, 200, 200, 200, 200, 200, 200, 200, id="doctor-get"),
    row("patch", "/api/v1/doctors/{w.doctor.pk}", lambda w: {"qualifications": "MD"},
        401, 403, 403, 200, 403, 403, 200, id="doctor-patch-own-fields"),
    row("patch", "/api/v1/doctors/{w.doctor.pk}", lambda w: {"max_patients_per_day": 3},
        401, 403, 403, 403, 403, 403, 200, id="doctor-patch-admin-fields"),
    row("get", "/api/v1/slots", None, 200, 200, 200, 200, 200, 200, 200, id="slots-list"),
    row("get", "/api/v1/slots/{w.slot.pk}", None, 200, 200, 200, 200, 200, 200, 200, id="slot-get"),
    row("post", "/api/v1/slots", lambda w: {"doctor_id": w.doctor.pk, "slot_datetime": w.later},
        401, 403, 403, 201, 403, 403, 201, id="slot-create"),
    row("post", "/api/v1/slots", lambda w: {"doctor_id": w.unverified.pk, "slot_datetime": w.later},
        401, 403, 403, 403, 403, 403, 403, id="slot-create-unverified-doctor"),
    row("delete", "/api/v1/slots/{w.free_slot.pk}", None, 401, 403, 403, 204, 403, 403, 204, id="slot-delete"),
    row("delete", "/api/v1/slots/{w.slot.pk}", None, 401, 403, 403, 409, 403, 403, 409, id="slot-delete-booked"),
    row("get", "/api/v1/appointments", None, 401, 200, HIDDEN, 200, HIDDEN, HIDDEN, 200, id="appointments-list"),
    row("post", "/api/v1/appointments/book",
        lambda w: {"slot_id": w.free_slot.pk, "patient_id": w.patient.pk, "reason_for_visit": "Checkup"},
        401, 201, 404, 403, 403, 403, 201, id="book-for-owner"),
    row("get", "/api/v1/appointments/{w.appointment.pk}", None, 401, 200, 404, 200, 404, 404, 200,
        id="appointment-get"),
    row("patch", "/api/v1/appointments/{w.appointment.pk}", lambda w: {"notes": "Seen"},
        401, 403, 403, 200, 404, 404, 200, id="appointment-patch"),
    row("post", "/api/v1/appointments/{w.appointment.pk}/cancel", lambda w: {"reason": "x"},
        401, 200, 404, 200, 404, 404, 200, id="appointment-cancel"),
    row("post", "/api/v1/appointments/{w.appointment.pk}/reschedule", lambda w: {"slot_id": w.free_slot.pk},
        401, 200, 404, 403, 403, 403, 200, id="appointment-reschedule"),
    row("post", "/api/v1/appointments/{w.pending.pk}/confirm", None, 401, 403, 403, 200, 404, 404, 200,
        id="appointment-confirm"),
    row("post", "/api/v1/appointments/{w.pending.pk}/decline", lambda w: {"reason": "Fully booked"},
        401, 403, 403, 200, 404, 404, 200, id="appointment-decline"),
    row("get", "/api/v1/appointments/{w.appointment.pk}/ics", None, 401, 200, 404, 200, 404, 404, 200,
        id="appointment-ics"),
    row("patch", "/api/v1/slots/{w.free_slot.pk}", lambda w: {"capacity": 5}, 401, 403, 403, 200, 403, 403, 200,
        id="slot-patch"),
    # --- Schedules: the doctor for their own, admins ---
    row("get", "/api/v1/doctors/{w.doctor.pk}/availability", None, 401, 403, 403, 200, 403, 403, 200,
        id="availability-list"),
    row("post", "/api/v1/doctors/{w.doctor.pk}/availability",
        lambda w: {"weekday": 2, "start_time": "09:00", "end_time": "12:00"},
        401, 403, 403, 201, 403, 403, 201, id="availability-create"),
    row("post", "/api/v1/doctors/{w.unverified.pk}/availability",
        lambda w: {"weekday": 2, "start_time": "09:00", "end_time": "12:00"},
        401, 403, 403, 403, 403, 201, 201, id="availability-create-unverified-own"),
    row("patch", "/api/v1/availability/{w.rule.pk}", lambda w: {"capacity": 2}, 401, 403, 403, 200, 403, 403, 200,
        id="availability-patch"),
    row("patch", "/api/v1/availability/{w.unverified_rule.pk}", lambda w: {"capacity": 2},
        401, 403, 403, 403, 403, 200, 200, id="availability-patch-unverified-own"),
    row("delete", "/api/v1/availability/{w.rule.pk}", None, 401, 403, 403, 204, 403, 403, 204,
        id="availability-delete"),
    row("post", "/api/v1/doctors/{w.doctor.pk}/availability/generate", lambda w: w.week,
        401, 403, 403, 200, 403, 403, 200, id="availability-generate"),
    row("post", "/api/v1/doctors/{w.unverified.pk}/availability/generate", lambda w: w.week,
        401, 403, 403, 403, 403, 403, 403, id="availability-generate-unverified-doctor"),
    row("get", "/api/v1/doctors/{w.doctor.pk}/leaves", None, 401, 403, 403, 200, 403, 403, 200, id="leaves-list"),
    row("post", "/api/v1/doctors/{w.doctor.pk}/leaves", lambda w: w.leave_body, 401, 403, 403, 201, 403, 403, 201,
        id="leave-create"),
    row("post", "/api/v1/doctors/{w.unverified.pk}/leaves", lambda w: w.leave_body,
        401, 403, 403, 403, 403, 201, 201, id="leave-create-unverified-own"),
    row("delete", "/api/v1/leaves/{w.leave.pk}", None, 401, 403, 403, 204, 403, 403, 204, id="leave-delete"),
    row("get", "/api/v1/doctors/{w.doctor.pk}/schedule", None, 401, 403, 403, 200, 403, 403, 200,
        id="doctor-schedule"),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("method, path, body, expected", MATRIX)
def test_access_matrix(api_client, auth_client, persona, method, path, body, expected):
    w = World()
    user = w.user(persona)
    client = auth_client(user) if user else api_client
    url = path.format(w=w)
    response = getattr(client, method)(url, body(w) if body else None, format="json")
    want = expected[persona]
    if want == HIDDEN:
        assert response.status_code == 200, response.content
        assert w.appointment.pk not in {r["id"] for r in response.json()["results"]}
        return
    assert response.status_code == want, (persona, response.content)
    if want >= 400:
        assert {"detail", "error_code"} <= set(response.json())
    if want in (401, 403, 404):
        # A refusal changes nothing the owner holds, nor the doctor's schedule.
        w.appointment.refresh_from_db()
        w.patient.refresh_from_db()
        assert w.appointment.status == "confirmed" and w.appointment.slot_id == w.slot.pk
        w.child.refresh_from_db()
        assert w.appointment.notes == "" and w.patient.allergies == "" and w.child.allergies == ""
        w.pending.refresh_from_db()
        w.free_slot.refresh_from_db()
        assert w.pending.status == "pending" and w.free_slot.capacity == 3
        assert AvailabilityRule.objects.filter(pk=w.rule.pk, capacity=1).exists()
        assert Leave.objects.filter(pk=w.leave.pk).exists()
        assert AppointmentSlot.objects.count() == w.slot_count
        # Nor any account: nobody deactivated, created or verified.
        assert set(User.objects.filter(is_active=False).values_list("pk", flat=True)) == set()
        assert User.objects.filter(role=User.Role.ADMIN).count() == 2
        w.registered.refresh_from_db()
        assert not w.registered.is_verified
