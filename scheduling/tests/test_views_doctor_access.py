"""The doctor's visit page shows the patient's medical summary (age, blood
group, allergies, phone, emergency contact) only while the doctor may read
the patient: the rule of GET /api/v1/patients/{id} (accounts.selectors)."""

from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Patient
from clinics.models import Doctor
from scheduling import services
from scheduling.models import Appointment
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db

ALLERGY = "Penicillin (anaphylaxis)"
CONTACT = "Ravi, +91 98200 00000"


@pytest.fixture
def patient(patient):
    Patient.objects.filter(pk=patient.pk).update(allergies=ALLERGY, blood_group="O+", emergency_contact=CONTACT,
                                                 date_of_birth=date(1980, 5, 1))
    patient.refresh_from_db()
    return patient


def _page(doctor_client, appointment):
    response = doctor_client.get(reverse("scheduling:doctor-appointment", args=[appointment.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _past(patient, doctor, *, days_ago, status):
    slot = SlotFactory(doctor=doctor, start=timezone.now() - timedelta(days=days_ago))
    cancelled_at = timezone.now() if status == Appointment.Status.CANCELLED else None
    return AppointmentFactory(patient=patient, slot=slot, status=status, cancelled_at=cancelled_at)


def test_a_current_visit_shows_the_medical_summary(doctor_client, patient, slot):
    html = _page(doctor_client, services.appointment_book(patient=patient, slot_id=slot.pk))
    assert ALLERGY in html and CONTACT in html and "no-medical-summary" not in html


def test_an_old_cancelled_visit_shows_the_visit_but_not_the_allergies(doctor_client, doctor, patient):
    visit = _past(patient, doctor, days_ago=400, status=Appointment.Status.CANCELLED)
    html = _page(doctor_client, visit)
    assert patient.user.name in html
    # The date of birth as the page writes it ("1980" alone also turns up in random tokens).
    assert all(text not in html for text in (ALLERGY, CONTACT, "O+", "1 May 1980"))
    assert "no-medical-summary" in html


def test_a_cancelled_upcoming_visit_shows_no_medical_summary(doctor_client, patient, slot):
    visit = services.appointment_book(patient=patient, slot_id=slot.pk)
    services.appointment_cancel(appointment_id=visit.pk, by=patient.user)
    assert ALLERGY not in _page(doctor_client, visit)


def test_a_visit_outside_the_window_shows_no_medical_summary(doctor_client, doctor, patient):
    visit = _past(patient, doctor, days_ago=181, status=Appointment.Status.COMPLETED)
    assert ALLERGY not in _page(doctor_client, visit)
    with override_settings(DOCTOR_PATIENT_ACCESS_DAYS=365):
        assert ALLERGY in _page(doctor_client, visit)


def test_a_recent_completed_visit_shows_the_medical_summary(doctor_client, doctor, patient):
    assert ALLERGY in _page(doctor_client, _past(patient, doctor, days_ago=179, status=Appointment.Status.COMPLETED))


def test_an_inactive_doctor_profile_sees_no_medical_summary(doctor_client, doctor, patient, slot):
    visit = services.appointment_book(patient=patient, slot_id=slot.pk)
    Doctor.objects.filter(pk=doctor.pk).update(is_active=False)
    # The session itself ends (accounts.backends): the page sends them to log in.
    response = doctor_client.get(reverse("scheduling:doctor-appointment", args=[visit.pk]))
    assert response.status_code == 302 and ALLERGY not in response.content.decode()
