"""A doctor reads a patient (GET /api/v1/patients/{id}, patient_list_for_user)
only through a current or recent visit: one not cancelled whose visit has not
ended or ended within DOCTOR_PATIENT_ACCESS_DAYS (180 by default). Cancelled
visits grant nothing, and a doctor whose profile is inactive reads nobody."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.exceptions import PatientNotFoundError
from accounts.models import User
from accounts.selectors import patient_get_for_user, patient_is_readable, patient_list_for_user
from accounts.tests.factories import PatientFactory, UserFactory
from clinics.models import Doctor
from healthsvc.testing import assert_error, audit_statements
from scheduling import services
from scheduling.models import Appointment
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db

Status = Appointment.Status


def _visit(patient, doctor, *, days_ago: float, status=Status.COMPLETED):
    """A raw appointment whose visit started `days_ago` days ago (negative: ahead)."""
    slot = SlotFactory(doctor=doctor, start=timezone.now() - timedelta(days=days_ago))
    cancelled_at = timezone.now() if status == Status.CANCELLED else None
    return AppointmentFactory(patient=patient, slot=slot, status=status, cancelled_at=cancelled_at)


def _get(auth_client, doctor, patient):
    return auth_client(doctor.user).get(reverse("api:patient-detail", args=[patient.pk]))


def test_a_doctor_with_only_a_cancelled_appointment_gets_404(auth_client, doctor, patient, slot):
    visit = services.appointment_book(patient=patient, slot_id=slot.pk)
    services.appointment_cancel(appointment_id=visit.pk, by=patient.user)
    assert_error(_get(auth_client, doctor, patient), 404, "NOT_FOUND")


def test_a_cancelled_past_visit_inside_the_window_grants_nothing(auth_client, doctor, patient):
    _visit(patient, doctor, days_ago=3, status=Status.CANCELLED)
    assert_error(_get(auth_client, doctor, patient), 404, "NOT_FOUND")


def test_a_visit_completed_181_days_ago_gets_404(auth_client, doctor, patient):
    _visit(patient, doctor, days_ago=181)
    assert_error(_get(auth_client, doctor, patient), 404, "NOT_FOUND")


def test_a_visit_completed_179_days_ago_gets_200(auth_client, doctor, patient):
    _visit(patient, doctor, days_ago=179)
    response = _get(auth_client, doctor, patient)
    assert response.status_code == 200 and response.json()["id"] == patient.pk


def test_a_recent_no_show_still_grants(auth_client, doctor, patient):
    _visit(patient, doctor, days_ago=10, status=Status.NO_SHOW)
    assert _get(auth_client, doctor, patient).status_code == 200


def test_a_pending_future_appointment_gets_200(auth_client, doctor, patient, slot):
    Doctor.objects.filter(pk=doctor.pk).update(requires_approval=True)
    doctor.refresh_from_db()
    visit = services.appointment_book(patient=patient, slot_id=slot.pk)
    assert visit.status == Status.PENDING
    response = _get(auth_client, doctor, patient)
    assert response.status_code == 200 and response.json()["allergies"] == patient.allergies


def test_a_confirmed_visit_long_past_and_never_closed_ages_out(auth_client, doctor, patient):
    # Still `confirmed` by status, but the visit ended 200 days ago: not a current one.
    _visit(patient, doctor, days_ago=200, status=Status.CONFIRMED)
    assert_error(_get(auth_client, doctor, patient), 404, "NOT_FOUND")


def test_another_doctors_visit_grants_nothing(auth_client, doctor, other_doctor, patient):
    _visit(patient, other_doctor, days_ago=1)
    assert_error(_get(auth_client, doctor, patient), 404, "NOT_FOUND")


def test_an_inactive_doctor_profile_gets_404(auth_client, doctor, patient, slot):
    services.appointment_book(patient=patient, slot_id=slot.pk)
    Doctor.objects.filter(pk=doctor.pk).update(is_active=False)
    assert_error(_get(auth_client, doctor, patient), 404, "NOT_FOUND")


def test_an_inactive_doctor_profile_reads_nobody(doctor, patient, slot):
    services.appointment_book(patient=patient, slot_id=slot.pk)
    doctor.is_active = False
    doctor.save()
    user = User.objects.get(pk=doctor.user_id)
    assert list(patient_list_for_user(user=user)) == []
    assert not patient_is_readable(user=user, patient_id=patient.pk)


@pytest.mark.parametrize(("days", "expected"), [(30, 404), (90, 200)])
def test_the_setting_sets_the_window(auth_client, doctor, patient, days, expected):
    _visit(patient, doctor, days_ago=60)
    with override_settings(DOCTOR_PATIENT_ACCESS_DAYS=days):
        assert _get(auth_client, doctor, patient).status_code == expected


def test_the_doctors_list_holds_each_current_patient_once(doctor, patient, other_patient):
    _visit(patient, doctor, days_ago=5)
    _visit(patient, doctor, days_ago=2)
    _visit(patient, doctor, days_ago=-3, status=Status.CONFIRMED)
    _visit(other_patient, doctor, days_ago=400)
    _visit(PatientFactory(), doctor, days_ago=1, status=Status.CANCELLED)
    assert list(patient_list_for_user(user=doctor.user)) == [patient]
    with pytest.raises(PatientNotFoundError):
        patient_get_for_user(user=doctor.user, patient_id=other_patient.pk)


def test_a_doctor_role_without_a_profile_reads_nobody(patient):
    user = UserFactory(role=User.Role.DOCTOR)
    assert list(patient_list_for_user(user=user)) == []


def test_the_patient_list_endpoint_stays_admin_only(auth_client, doctor, patient):
    _visit(patient, doctor, days_ago=1)
    assert_error(auth_client(doctor.user).get(reverse("api:patient-list")), 403, "PERMISSION_DENIED")


@pytest.mark.parametrize("visits", [1, 20])
def test_reading_a_patient_takes_a_flat_number_of_queries(auth_client, doctor, patient, visits,
                                                          django_assert_max_num_queries):
    for i in range(visits):
        _visit(patient, doctor, days_ago=1 + i)
    client = auth_client(doctor.user)
    # The token's user, the doctor's profile, the patient with the visit check in one query; the audit row.
    with django_assert_max_num_queries(3 + audit_statements()):
        assert client.get(reverse("api:patient-detail", args=[patient.pk])).status_code == 200


@pytest.mark.parametrize(("value", "starts"), [("365", True), ("-1", False), ("soon", False)])
def test_the_window_comes_from_the_environment_and_a_bad_value_stops_the_start(value, starts):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "healthsvc.settings.base", "DEBUG": "true",
           "DOCTOR_PATIENT_ACCESS_DAYS": value}
    script = ("import django; django.setup(); from django.conf import settings; "
              "print(settings.DOCTOR_PATIENT_ACCESS_DAYS)")
    result = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2], env=env,
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode == 0) is starts, result.stderr
    if starts:
        assert result.stdout.strip() == value
