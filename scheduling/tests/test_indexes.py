"""The hot reads are served by indexes (PostgreSQL's planner, asked with
sequential scans priced out so the small test tables do not hide the choice)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from scheduling.models import Appointment
from scheduling.selectors import slot_list_bookable, slot_rows

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_doctors_free_week_is_read_from_the_covering_index_alone(doctor):
    start = timezone.now()
    plan = _plan(slot_rows(slot_list_bookable(doctor_id=doctor.pk, start=start, end=start + timedelta(days=7))))
    assert "Index Only Scan using scheduling_slot_free_idx" in plan, plan


def test_a_doctors_slots_full_ones_included_use_the_doctor_start_index(doctor):
    start = timezone.now()
    plan = _plan(slot_list_bookable(doctor_id=doctor.pk, start=start, end=start + timedelta(days=7), available=False))
    assert "scheduling_slot_unique_doctor_start" in plan, plan


def test_a_patients_appointments_use_the_patient_start_index(patient):
    plan = _plan(Appointment.objects.filter(patient=patient).order_by("-start"))
    assert "scheduling_appt_patient_idx" in plan, plan
