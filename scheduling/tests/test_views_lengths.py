"""Every length rule of the portal's scheduling forms is enforced on the
server, with the model's limit (the API reads the same): an over-long value
is refused and nothing is saved, whatever the browser's maxlength allowed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling import forms, services
from scheduling.api import serializers as api
from scheduling.models import Appointment, Leave

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(patient, slot):
    return services.appointment_book(patient=patient, slot_id=slot.pk, reason="Check-up")


def test_doctor_notes_over_the_limit_are_refused(doctor_client, booked):
    page = reverse("scheduling:doctor-appointment", args=[booked.pk])
    for field in ("notes", "note_for_patient"):
        response = doctor_client.post(page, {"status": "", field: "x" * 5001})
        assert response.status_code == 200 and field in response.context["form"].errors
    booked.refresh_from_db()
    assert booked.notes == "" and booked.note_for_patient == ""


@pytest.mark.parametrize(("url", "data"), [
    ("scheduling:doctor-appointment-cancel", {"reason": "x" * 2001}),
    ("scheduling:doctor-appointment-cancel", {"reason": "Away", "internal_note": "x" * 2001}),
])
def test_doctor_cancel_over_the_limit_is_refused(doctor_client, booked, url, data):
    response = doctor_client.post(reverse(url, args=[booked.pk]), data, follow=True)
    assert "at most 2000 characters" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CONFIRMED


def test_doctor_decline_over_the_limit_is_refused(doctor, doctor_client, patient, slot):
    doctor.requires_approval = True
    doctor.save(update_fields=["requires_approval"])
    pending = services.appointment_book(patient=patient, slot_id=slot.pk)
    assert pending.status == Appointment.Status.PENDING
    doctor_client.post(reverse("scheduling:doctor-appointment-decline", args=[pending.pk]), {"reason": "x" * 2001})
    pending.refresh_from_db()
    assert pending.status == Appointment.Status.PENDING


def test_leave_note_over_the_limit_is_refused(doctor_client, doctor):
    day = timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=20)
    response = doctor_client.post(reverse("scheduling:leave-list"), {"first_day": day.isoformat(), "reason": "x" * 201})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert not Leave.objects.exists()


@pytest.mark.parametrize(("form_field", "model", "model_field"), [
    (forms.BookForm.base_fields["reason_for_visit"], Appointment, "reason_for_visit"),
    (forms.CancelForm.base_fields["reason"], Appointment, "cancelled_reason"),
    (forms.DeclineForm.base_fields["reason"], Appointment, "cancelled_reason"),
    (forms.DoctorCancelForm.base_fields["internal_note"], Appointment, "cancelled_internal_note"),
    (forms.OutcomeForm.base_fields["notes"], Appointment, "notes"),
    (forms.OutcomeForm.base_fields["note_for_patient"], Appointment, "note_for_patient"),
    (forms.LeaveForm.base_fields["reason"], Leave, "reason"),
    (api.AppointmentBookInputSerializer().fields["reason_for_visit"], Appointment, "reason_for_visit"),
    (api.AppointmentCancelInputSerializer().fields["reason"], Appointment, "cancelled_reason"),
    (api.AppointmentCancelInputSerializer().fields["internal_note"], Appointment, "cancelled_internal_note"),
    (api.AppointmentDeclineInputSerializer().fields["reason"], Appointment, "cancelled_reason"),
    (api.AppointmentOutcomeInputSerializer().fields["notes"], Appointment, "notes"),
    (api.AppointmentOutcomeInputSerializer().fields["note_for_patient"], Appointment, "note_for_patient"),
])
def test_portal_and_api_limits_are_the_models(form_field, model, model_field):
    assert form_field.max_length == model._meta.get_field(model_field).max_length
