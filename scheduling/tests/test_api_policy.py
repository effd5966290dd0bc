"""The booking policy through the API: each rule refuses a patient with its
code and changes nothing; staff (and the doctor, for cancelling) may."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from clinics.tests.factories import DoctorFactory
from healthsvc.testing import assert_error
from scheduling import services
from scheduling.models import Appointment
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def strict_doctor(clinic):
    clinic.min_notice_minutes = 120
    clinic.booking_horizon_days = 7
    clinic.cancellation_window_minutes = 12 * 60
    clinic.max_active_bookings_per_patient = 1
    clinic.save()
    return DoctorFactory(clinic=clinic, max_patients_per_day=50)


def _in(**delta):
    return (timezone.now() + timedelta(**delta)).replace(second=0, microsecond=0)


def _book(client, slot, **body):
    return client.post(f"{API}/appointments/book", {"slot_id": slot.pk, **body}, format="json")


def test_inside_the_notice_a_patient_is_refused_and_staff_book_on_their_behalf(
    auth_client, patient, admin_user, strict_doctor
):
    soon = SlotFactory(doctor=strict_doctor, start=_in(minutes=60))
    assert_error(_book(auth_client(patient.user), soon), 409, "BOOKING_TOO_SOON")
    soon.refresh_from_db()
    assert soon.booked_count == 0 and not Appointment.objects.exists()
    response = _book(auth_client(admin_user), soon, patient_id=patient.pk)
    assert response.status_code == 201 and response.json()["status"] == "confirmed"


def test_beyond_the_horizon_a_patient_is_refused_and_staff_may_book(auth_client, patient, admin_user, strict_doctor):
    tz = strict_doctor.clinic.tzinfo
    far = SlotFactory(doctor=strict_doctor, start=datetime.combine(
        timezone.localdate(timezone=tz) + timedelta(days=8), time(10), tzinfo=tz))
    assert_error(_book(auth_client(patient.user), far), 409, "BOOKING_TOO_FAR")
    assert _book(auth_client(admin_user), far, patient_id=patient.pk).status_code == 201


def test_a_patient_at_the_clinics_cap_is_refused_and_staff_may_book_more(
    auth_client, patient, admin_user, strict_doctor
):
    first, second = (SlotFactory(doctor=strict_doctor, start=_in(days=d)) for d in (2, 3))
    assert _book(auth_client(patient.user), first).status_code == 201
    assert_error(_book(auth_client(patient.user), second), 409, "BOOKING_LIMIT_REACHED")
    assert Appointment.objects.filter(patient=patient).count() == 1
    assert _book(auth_client(admin_user), second, patient_id=patient.pk).status_code == 201


@pytest.mark.parametrize("who", ["admin_user", "doctor_of_visit"])
def test_inside_the_cancellation_window_the_patient_is_refused_but_staff_and_the_doctor_cancel(
    auth_client, patient, admin_user, strict_doctor, who
):
    visit = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=strict_doctor,
                                                                           start=_in(hours=6)).pk, booked_by=admin_user)
    url = f"{API}/appointments/{visit.pk}/cancel"
    assert_error(auth_client(patient.user).post(url, {"reason": "x"}, format="json"), 409,
                 "CANCELLATION_WINDOW_PASSED")
    later = SlotFactory(doctor=strict_doctor, start=_in(days=2))
    assert_error(auth_client(patient.user).post(f"{API}/appointments/{visit.pk}/reschedule", {"slot_id": later.pk},
                                                format="json"), 409, "CANCELLATION_WINDOW_PASSED")
    visit.refresh_from_db()
    assert (visit.status, visit.slot_id) == ("confirmed", visit.slot.pk)
    staff = admin_user if who == "admin_user" else strict_doctor.user
    response = auth_client(staff).post(url, {"reason": "The clinic called the patient"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
