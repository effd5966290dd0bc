"""Staff use the admin; every place and status change there goes through the services."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import DoctorFactory
from healthsvc.testing import audit_statements
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot, IdempotencyKey
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "accounts_user", "accounts_patient", "clinics_clinic", "clinics_doctor",
    "scheduling_appointmentslot", "scheduling_appointment", "scheduling_todayappointment",
    "scheduling_idempotencykey", "scheduling_leave",
]



def _make_rows(n: int) -> None:
    for i in range(n):
        slot = SlotFactory(capacity=2, doctor=DoctorFactory())
        appointment = services.appointment_book(patient=PatientFactory(), slot_id=slot.pk)
        services.leave_create(doctor=slot.doctor, start=slot.start - timedelta(hours=1), end=slot.end)
        IdempotencyKey.objects.create(user=appointment.patient.user, key=f"k{i}-{slot.pk}", request_hash="0" * 64,
                                      response_status=201, response_body={"id": appointment.pk})


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelists_render_with_a_flat_number_of_queries(staff_client, model, django_assert_max_num_queries):
    # (The patients' and appointments' lists also write their audit row.)
    url = reverse(f"admin:{model}_changelist")
    _make_rows(2)
    with django_assert_max_num_queries(20 + audit_statements()) as few:
        assert staff_client.get(url).status_code == 200
    _make_rows(25)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = staff_client.get(url)
    assert response.status_code == 200


def test_slot_changelist_shows_booked_over_capacity(staff_client, patient):
    slot = SlotFactory(capacity=3)
    services.appointment_book(patient=patient, slot_id=slot.pk)
    response = staff_client.get(reverse("admin:scheduling_appointmentslot_changelist"))
    assert "1 / 3" in response.content.decode()


def _book_data(patient, slot, **extra):
    """What the booking form posts when staff press "Book" on one of the free times."""
    day = timezone.localtime(slot.start, slot.clinic.tzinfo).date()
    return {"patient": patient.pk, "doctor": slot.doctor_id, "day": f"{day:%Y-%m-%d}", "slot": slot.pk,
            "book": "Book", **extra}


def test_staff_booking_goes_through_the_booking_core(staff_client, patient, slot, admin_user):
    response = staff_client.post(
        reverse("admin:scheduling_appointment_book"), _book_data(patient, slot, reason_for_visit="Phoned in")
    )
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert (appointment.patient, appointment.status, appointment.booked_by) == (patient, "confirmed", admin_user)
    slot.refresh_from_db()
    assert slot.booked_count == 1


def test_staff_booking_of_a_full_slot_shows_the_refusal(staff_client, patient, other_patient, slot):
    services.appointment_book(patient=other_patient, slot_id=slot.pk)
    response = staff_client.post(reverse("admin:scheduling_appointment_book"), _book_data(patient, slot))
    assert response.status_code == 200
    assert "Slot is fully booked." in response.content.decode()
    assert Appointment.objects.count() == 1


def test_admin_add_appointment_leads_to_the_booking_form(staff_client):
    response = staff_client.get(reverse("admin:scheduling_appointment_add"))
    assert response.status_code == 302 and response.url == reverse("admin:scheduling_appointment_book")
    assert staff_client.get(response.url).status_code == 200


def test_staff_cancel_action_asks_for_a_reason_then_cancels_through_the_core(staff_client, patient, slot):
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    url = reverse("admin:scheduling_appointment_changelist")
    ask = staff_client.post(url, {"action": "cancel_appointments", "_selected_action": [appointment.pk]})
    assert ask.status_code == 200 and "Cancel appointments" in ask.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"

    staff_client.post(
        url, {"action": "cancel_appointments", "_selected_action": [appointment.pk], "confirm": "yes",
              "reason": "Doctor unwell"},
    )
    appointment.refresh_from_db()
    slot.refresh_from_db()
    assert (appointment.status, appointment.cancelled_reason, slot.booked_count) == ("cancelled", "Doctor unwell", 0)


def test_status_and_booked_count_are_read_only_in_the_admin(staff_client, patient, slot):
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    staff_client.post(
        reverse("admin:scheduling_appointment_change", args=[appointment.pk]),
        {"status": "cancelled", "notes": "Seen briefly"},
    )
    appointment.refresh_from_db()
    assert (appointment.status, appointment.notes) == ("confirmed", "Seen briefly")

    staff_client.post(
        reverse("admin:scheduling_appointmentslot_change", args=[slot.pk]),
        {"capacity": 4, "is_active": "on", "booked_count": 0},
    )
    slot.refresh_from_db()
    assert (slot.capacity, slot.booked_count) == (4, 1)


def test_admin_slot_capacity_cannot_go_below_booked(staff_client, patient, doctor):
    slot = SlotFactory(doctor=doctor, capacity=2)
    services.appointment_book(patient=patient, slot_id=slot.pk)
    services.appointment_book(patient=PatientFactory(), slot_id=slot.pk)
    response = staff_client.post(
        reverse("admin:scheduling_appointmentslot_change", args=[slot.pk]), {"capacity": 1, "is_active": "on"}
    )
    assert response.status_code == 200  # form redisplayed with the error
    assert "2 places are already booked." in response.content.decode()
    slot.refresh_from_db()
    assert slot.capacity == 2


def test_admin_creates_a_slot_through_the_service(staff_client, doctor):
    day = timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=3)
    response = staff_client.post(
        reverse("admin:scheduling_appointmentslot_add"),
        {"doctor": doctor.pk, "day": f"{day:%Y-%m-%d}", "time": "09:15", "duration_minutes": 20, "capacity": 3},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    slot = AppointmentSlot.objects.get()
    assert (slot.clinic, slot.capacity, slot.duration_minutes, slot.booked_count) == (doctor.clinic, 3, 20, 0)


def test_admin_slot_deactivate_action_refuses_booked_slots(staff_client, patient, doctor):
    booked, free = SlotFactory(doctor=doctor), SlotFactory(doctor=doctor)
    services.appointment_book(patient=patient, slot_id=booked.pk)
    staff_client.post(
        reverse("admin:scheduling_appointmentslot_changelist"),
        {"action": "deactivate_slots", "_selected_action": [booked.pk, free.pk]},
    )
    booked.refresh_from_db()
    free.refresh_from_db()
    assert (booked.is_active, free.is_active) == (True, False)


def test_patients_cannot_open_the_admin(client, patient):
    client.force_login(patient.user)
    response = client.get(reverse("admin:scheduling_appointment_changelist"))
    assert response.status_code == 302 and "/login/" in response.url
