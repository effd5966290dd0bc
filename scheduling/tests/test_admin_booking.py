"""Booking on a patient's behalf in the admin: find the patient by name, email
or phone, pick the doctor and a day, choose one of that day's free times
(shown in clinic time) and book it through the booking core."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinics.tests.factories import DoctorFactory
from healthsvc.timezones import local_day_bounds
from scheduling import services
from scheduling.models import Appointment

pytestmark = pytest.mark.django_db

BOOK = "admin:scheduling_appointment_book"



@pytest.fixture
def day(doctor):
    return timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=2)


@pytest.fixture
def free(doctor, day):
    """Two free times on `day` (10:00 and 11:30 IST) and one the day after."""
    tz = doctor.clinic.tzinfo
    return [
        services.slot_create(doctor=doctor, start=datetime.combine(day, time(10), tzinfo=tz)),
        services.slot_create(doctor=doctor, start=datetime.combine(day, time(11, 30), tzinfo=tz), capacity=2),
        services.slot_create(doctor=doctor, start=datetime.combine(day + timedelta(days=1), time(9), tzinfo=tz)),
    ]


def _show(client, patient, doctor, day=None):
    data = {"patient": patient.pk if patient else "", "doctor": doctor.pk,
            "day": f"{day:%Y-%m-%d}" if day else "", "show": "Show free times"}
    return client.post(reverse(BOOK), data)


def _book(client, patient, slot, reason="Phoned in", **extra):
    day = timezone.localtime(slot.start, slot.clinic.tzinfo).date()
    data = {"patient": patient.pk if patient else "", "doctor": slot.doctor_id, "day": f"{day:%Y-%m-%d}",
            "slot": slot.pk, "reason_for_visit": reason, "book": "Book", **extra}
    return client.post(reverse(BOOK), data)


def test_the_form_searches_patients_instead_of_listing_them(staff_client, patient):
    html = staff_client.get(reverse(BOOK)).content.decode()
    assert 'data-field-name="patient"' in html and 'data-field-name="doctor"' in html
    assert reverse("admin:scheduling_appointment_book_patients") in html
    assert patient.user.name not in html and patient.user.email not in html
    assert 'name="slot"' not in html  # no times before a doctor and day are chosen


@pytest.mark.parametrize("term", ["Pat Pa", "pat@exam", "98765"])
def test_patient_search_finds_by_name_email_or_phone(staff_client, patient, other_patient, term):
    patient.user.mobile_no = "+91 98765 43210"
    patient.user.save()
    response = staff_client.get(reverse("admin:scheduling_appointment_book_patients"), {
        "term": term, "app_label": "scheduling", "model_name": "appointment", "field_name": "patient",
    })
    assert response.json()["results"] == [
        {"id": str(patient.pk), "text": "Pat Patient · pat@example.com · +91 98765 43210"}
    ]


def test_patient_search_is_for_staff_only(client, patient):
    client.force_login(patient.user)
    response = client.get(reverse("admin:scheduling_appointment_book_patients"), {
        "term": "Pat", "app_label": "scheduling", "model_name": "appointment", "field_name": "patient",
    })
    assert response.status_code == 302 and "/login/" in response.url


def test_doctor_search_uses_the_doctor_admin(staff_client, doctor):
    response = staff_client.get(reverse("admin:autocomplete"), {
        "term": doctor.user.name[:4], "app_label": "scheduling", "model_name": "appointment", "field_name": "doctor",
    })
    assert str(doctor.pk) in {row["id"] for row in response.json()["results"]}


def test_show_free_times_lists_that_days_bookable_slots_in_clinic_time(staff_client, patient, doctor, day, free):
    response = _show(staff_client, patient, doctor, day)
    html = response.content.decode()
    assert response.status_code == 200
    assert [s.pk for s in response.context["slots"]] == [free[0].pk, free[1].pk]
    assert "10:00 IST (Asia/Kolkata) · 30 min · 1 of 1 free" in html
    assert "11:30 IST (Asia/Kolkata) · 30 min · 2 of 2 free" in html
    assert "09:00 IST" not in html
    assert 'value="Book"' in html
    assert "Pat Patient · pat@example.com" in html  # the chosen patient stays chosen


def test_show_free_times_defaults_to_today_in_the_doctors_clinic(staff_client, patient, doctor):
    tz = doctor.clinic.tzinfo
    now = timezone.now()
    _, day_end = local_day_bounds(now, tz)
    later_today = services.slot_create(doctor=doctor, start=now + (day_end - now) / 2, duration_minutes=5)
    response = _show(staff_client, patient, doctor)
    today = timezone.localdate(timezone=tz)
    assert response.context["day"] == today
    assert f'value="{today:%Y-%m-%d}"' in response.content.decode()
    assert [s.pk for s in response.context["slots"]] == [later_today.pk]


def test_the_whole_flow_books_through_the_core_as_staff(staff_client, patient, doctor, day, free, admin_user):
    assert _show(staff_client, patient, doctor, day).status_code == 200
    response = _book(staff_client, patient, free[1], reason="Phoned in: chest pain")
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:scheduling_appointment_change", args=[appointment.pk])
    assert (appointment.patient, appointment.slot_id, appointment.booked_by, appointment.status) == (
        patient, free[1].pk, admin_user, Appointment.Status.CONFIRMED,
    )
    assert appointment.reason_for_visit == "Phoned in: chest pain"
    free[1].refresh_from_db()
    assert free[1].booked_count == 1
    page = staff_client.get(response.url).content.decode()
    assert f"Booked appointment #{appointment.pk}: Pat Patient with Dr. {doctor.user.name} on " in page
    assert f"{day:%Y-%m-%d} 11:30 IST (Asia/Kolkata)" in page


def test_staff_may_book_inside_the_clinics_notice(staff_client, patient, doctor):
    soon = services.slot_create(doctor=doctor, start=timezone.now() + timedelta(minutes=10))
    assert _book(staff_client, patient, soon).status_code == 302
    assert Appointment.objects.get().booked_by.is_staff


def test_a_slot_just_taken_is_a_form_error_and_the_times_are_listed_again(
    staff_client, patient, other_patient, doctor, day, free
):
    services.appointment_book(patient=other_patient, slot_id=free[0].pk)  # between "Show" and "Book"
    response = _book(staff_client, patient, free[0])
    html = response.content.decode()
    assert response.status_code == 200
    assert "Slot is fully booked." in html and "Nothing was booked." in html
    assert [s.pk for s in response.context["slots"]] == [free[1].pk]
    assert Appointment.objects.filter(patient=patient).count() == 0


def test_the_daily_limit_is_a_form_error(staff_client, patient, other_patient, doctor, day, free):
    doctor.max_patients_per_day = 1
    doctor.save()
    services.appointment_book(patient=other_patient, slot_id=free[1].pk)
    response = _book(staff_client, patient, free[0])
    assert response.status_code == 200
    assert "The doctor has no more places that day." in response.content.decode()


def test_book_needs_a_patient_and_one_of_the_doctors_times(staff_client, patient, doctor, free):
    response = _book(staff_client, None, free[0])
    assert "Choose the patient." in response.content.decode()
    elsewhere = services.slot_create(doctor=DoctorFactory(clinic=doctor.clinic), start=free[0].start)
    response = _book(staff_client, patient, elsewhere, doctor=doctor.pk)
    assert "Choose one of the free times." in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_doctor_who_requires_approval_gets_a_pending_booking(staff_client, patient, doctor, free):
    doctor.requires_approval = True
    doctor.save()
    response = _book(staff_client, patient, free[0])
    assert Appointment.objects.get().status == Appointment.Status.PENDING
    assert "It is pending: the doctor requires approval" in staff_client.get(response.url).content.decode()


def test_a_link_with_doctor_and_day_shows_that_days_times(staff_client, doctor, day, free):
    response = staff_client.get(reverse(BOOK), {"doctor": doctor.pk, "day": f"{day:%Y-%m-%d}"})
    assert [s.pk for s in response.context["slots"]] == [free[0].pk, free[1].pk]


def test_a_day_without_free_times_points_to_the_next_one(staff_client, patient, doctor, day, free):
    response = _show(staff_client, patient, doctor, day - timedelta(days=1))
    html = response.content.decode()
    assert "No free times that day." in html
    assert f"The next one is {day:%Y-%m-%d} 10:00 IST (Asia/Kolkata)" in html
    assert f"day={day:%Y-%m-%d}" in html


def test_patients_cannot_open_the_booking_form(client, patient):
    client.force_login(patient.user)
    response = client.get(reverse(BOOK))
    assert response.status_code == 302 and "/login/" in response.url


def test_a_link_with_only_the_patient_chooses_them_without_errors(staff_client, patient):
    response = staff_client.get(reverse(BOOK), {"patient": patient.pk})
    html = response.content.decode()
    assert f'<option value="{patient.pk}" selected>Pat Patient · pat@example.com</option>' in html
    assert "errorlist" not in html
