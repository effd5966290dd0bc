"""PATCH /appointments/{id}: a recorded outcome may be corrected (completed <->
no_show) within 7 days of when it was recorded; the correction is audited."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from healthsvc.testing import assert_error
from scheduling import services
from scheduling.models import Appointment
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen(doctor, patient):
    """A visit that began an hour ago, its outcome recorded through the API's service."""
    slot = SlotFactory(doctor=doctor, start=timezone.now() - timedelta(hours=1), capacity=2, booked_count=1)
    appointment = AppointmentFactory(patient=patient, slot=slot)
    return services.appointment_set_outcome(appointment_id=appointment.pk, status="no_show", by=doctor.user)


def _url(appointment):
    return f"/api/v1/appointments/{appointment.pk}"


def test_recording_an_outcome_stamps_when(seen):
    assert seen.outcome_recorded_at is not None
    assert abs(seen.outcome_recorded_at - timezone.now()) < timedelta(minutes=1)


@pytest.mark.parametrize("who", ["doctor", "admin_user"])
def test_doctor_or_admin_corrects_within_the_window(auth_client, seen, who, request):
    user = request.getfixturevalue(who)
    user = getattr(user, "user", user)
    recorded_at = seen.outcome_recorded_at
    response = auth_client(user).patch(_url(seen), {"status": "completed", "notes": "Came late; seen."},
                                       format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"
    seen.refresh_from_db()
    seen.slot.refresh_from_db()
    assert (seen.status, seen.notes, seen.slot.booked_count) == ("completed", "Came late; seen.", 1)
    assert seen.outcome_recorded_at == recorded_at  # a correction does not restart the window
    row = AuditEvent.objects.get(action="outcome_correction")
    assert (row.object_id, row.actor_id, row.patient_id) == (str(seen.pk), user.pk, seen.patient_id)
    assert row.detail == {"from": "no_show", "to": "completed", "fields": ["notes", "status"]}
    assert "Came late" not in str(row.detail)


def test_correcting_back_and_forth_within_the_window(auth_client, doctor, seen):
    client = auth_client(doctor.user)
    assert client.patch(_url(seen), {"status": "completed"}, format="json").status_code == 200
    assert client.patch(_url(seen), {"status": "no_show"}, format="json").status_code == 200
    assert [r.detail["to"] for r in AuditEvent.objects.filter(action="outcome_correction").order_by("id")] == [
        "completed", "no_show"]


def test_after_seven_days_a_correction_is_409_and_nothing_changes(auth_client, doctor, seen):
    later = seen.outcome_recorded_at + timedelta(days=7, minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = auth_client(doctor.user).patch(_url(seen), {"status": "completed", "notes": "x"}, format="json")
    body = assert_error(response, 409, "INVALID_STATE")
    assert "7 days" in body["detail"]
    seen.refresh_from_db()
    assert (seen.status, seen.notes) == ("no_show", "")
    assert not AuditEvent.objects.filter(action="outcome_correction").exists()


def test_just_inside_seven_days_it_may_still_be_corrected(auth_client, doctor, seen):
    later = seen.outcome_recorded_at + timedelta(days=7) - timedelta(minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = auth_client(doctor.user).patch(_url(seen), {"status": "completed"}, format="json")
    assert response.status_code == 200, response.content
    seen.refresh_from_db()
    assert seen.status == "completed"
    assert AuditEvent.objects.filter(action="outcome_correction", object_id=str(seen.pk)).count() == 1


def test_notes_alone_may_still_be_written_after_the_window(auth_client, doctor, seen):
    later = seen.outcome_recorded_at + timedelta(days=30)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = auth_client(doctor.user).patch(_url(seen), {"notes": "Phoned: moved away."}, format="json")
    assert response.status_code == 200
    seen.refresh_from_db()
    assert (seen.status, seen.notes) == ("no_show", "Phoned: moved away.")


def test_an_outcome_recorded_before_the_field_existed_counts_from_the_last_change(auth_client, doctor, patient):
    slot = SlotFactory(doctor=doctor, start=timezone.now() - timedelta(days=20), booked_count=1)
    old = AppointmentFactory(patient=patient, slot=slot, status=Appointment.Status.COMPLETED)
    Appointment.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=10))
    assert_error(auth_client(doctor.user).patch(_url(old), {"status": "no_show"}, format="json"),
                 409, "INVALID_STATE")
    old.refresh_from_db()
    assert old.status == "completed"


@pytest.mark.parametrize("who, status, code", [
    ("patient", 403, "PERMISSION_DENIED"), ("other_patient", 403, "PERMISSION_DENIED"),
    ("other_doctor", 404, "NOT_FOUND"),
])
def test_who_may_not_correct(auth_client, seen, who, status, code, request):
    user = request.getfixturevalue(who).user
    assert_error(auth_client(user).patch(_url(seen), {"status": "completed"}, format="json"), status, code)
    seen.refresh_from_db()
    assert seen.status == "no_show"
    assert not AuditEvent.objects.filter(action="outcome_correction").exists()


def test_a_cancelled_appointment_has_no_outcome_to_correct(auth_client, doctor, patient):
    slot = SlotFactory(doctor=doctor, start=timezone.now() - timedelta(hours=1))
    cancelled = AppointmentFactory(patient=patient, slot=slot, status="cancelled", cancelled_at=timezone.now())
    assert_error(auth_client(doctor.user).patch(_url(cancelled), {"status": "completed"}, format="json"),
                 409, "INVALID_STATE")
    cancelled.refresh_from_db()
    assert cancelled.status == "cancelled"


def test_the_admin_bulk_actions_do_not_overwrite_a_recorded_outcome(seen, admin_user):
    from scheduling.exceptions import InvalidStateError

    with pytest.raises(InvalidStateError):
        services.appointment_set_outcome(appointment_id=seen.pk, status="completed", by=admin_user)
    seen.refresh_from_db()
    assert seen.status == "no_show"
