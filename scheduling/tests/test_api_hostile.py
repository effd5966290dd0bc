"""Hostile input to the booking, slot and schedule endpoints (Hypothesis).

Each property sends one endpoint, as an actor allowed to call it, a body it
accepts with one hostile change (healthsvc/tests/hostile.py): every example
must get its 4xx with the error envelope and leave the database as it was.
test_the_accepted_bodies_are_accepted proves the unchanged bodies succeed, so
each refusal is the hostile change's doing.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from clinics.tests.factories import ClinicFactory
from healthsvc.tests.hostile import (
    Endpoint,
    bad_aware_datetimes,
    bad_bools,
    bad_choice,
    bad_dates,
    bad_ids,
    bad_ints,
    bad_text,
    bad_wall_times,
    future_utc,
    iso_z,
)
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def world(patient, doctor, clinic):
    """The rows the endpoints act on: free slots, a booked future visit, a
    visit that has begun (for its outcome), a weekly rule."""
    free = SlotFactory(doctor=doctor, capacity=2, start=future_utc(days=3))
    later = SlotFactory(doctor=doctor, capacity=1, start=future_utc(days=4))
    booked = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=future_utc(days=2)).pk,
                                       reason="Chest pain")
    begun_slot = SlotFactory(doctor=doctor, start=timezone.now() + timedelta(days=1, hours=5))
    begun = services.appointment_book(patient=patient, slot_id=begun_slot.pk, reason="Follow-up")
    start = timezone.now() - timedelta(hours=1)
    AppointmentSlot.objects.filter(pk=begun_slot.pk).update(start=start, end=start + timedelta(minutes=30))
    Appointment.objects.filter(pk=begun.pk).update(start=start, end=start + timedelta(minutes=30))
    rule = services.availability_rule_create(doctor=doctor, weekday=0, start_time=_t("09:00"), end_time=_t("12:00"))
    return {"free": free, "later": later, "booked": booked, "begun": begun, "rule": rule,
            "other_clinic": ClinicFactory(timezone="Europe/London")}


def _t(text):
    from datetime import time

    return time(int(text[:2]), int(text[3:]))


def _local_day(doctor, days: int) -> str:
    return (timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=days)).isoformat()


def endpoints(name, world, patient, doctor, clinic):
    """The endpoint `name`, its accepted body and its hostile values."""
    w = world
    kolkata = timezone.get_fixed_timezone(330)
    leave_start = (timezone.now() + timedelta(days=10)).astimezone(kolkata).replace(hour=0, minute=0, second=0,
                                                                                    microsecond=0)
    rule_body = {"clinic_id": clinic.pk, "weekday": 5, "start_time": "09:00", "end_time": "12:00", "slot_minutes": 30,
                 "capacity": 1, "break_start": "10:00", "break_end": "10:30"}
    rule_fields = {
        "clinic_id": bad_ids, "weekday": bad_ints(0, 6), "start_time": bad_wall_times, "end_time": bad_wall_times,
        "slot_minutes": bad_ints(5, 480), "capacity": bad_ints(1, 100),
        "break_start": bad_wall_times.filter(lambda v: v is not None),
        "break_end": bad_wall_times.filter(lambda v: v is not None),
    }
    # Rules between fields: the end after the start, a break of both ends
    # inside the hours, the doctor's own clinic.
    rule_cross = [
        ({**rule_body, "start_time": "12:00", "end_time": "09:00"},),
        ({**rule_body, "start_time": "09:00", "end_time": "09:00"},),
        ({**rule_body, "break_start": "08:00", "break_end": "08:30"},),
        ({**rule_body, "break_start": "10:30", "break_end": "10:00"},),
        ({**rule_body, "break_start": "11:30", "break_end": "12:30"},),
        ({**rule_body, "break_start": "10:00", "break_end": None},),
        ({**rule_body, "break_start": None, "break_end": "10:30"},),
        ({**rule_body, "clinic_id": w["other_clinic"].pk},),
    ]
    slot_body = {"doctor_id": doctor.pk, "clinic_id": clinic.pk, "slot_datetime": iso_z(future_utc(days=20, hour=4)),
                 "duration_minutes": 30, "capacity": 2}
    leave_body = {"start": leave_start.isoformat(), "end": (leave_start + timedelta(days=1)).isoformat(),
                  "reason": "Course"}
    table = {
        "book": Endpoint("POST", f"{API}/appointments/book",
                         {"slot_id": w["free"].pk, "reason_for_visit": "Chest pain", "patient_id": patient.pk},
                         {"slot_id": bad_ids, "reason_for_visit": bad_text(2000), "patient_id": bad_ids}),
        "reschedule": Endpoint("POST", f"{API}/appointments/{w['booked'].pk}/reschedule", {"slot_id": w["later"].pk},
                               {"slot_id": bad_ids}),
        "cancel": Endpoint("POST", f"{API}/appointments/{w['booked'].pk}/cancel", {"reason": "Better"},
                           {"reason": bad_text(2000)}, empty_is_valid=True),
        "outcome": Endpoint("PATCH", f"{API}/appointments/{w['begun'].pk}",
                            {"status": "completed", "notes": "Seen", "note_for_patient": "Rest"},
                            {"status": bad_choice(["completed", "no_show"]) | st.sampled_from(
                                ["cancelled", "confirmed", "pending", "no-show", "Completed"]),
                             "notes": bad_text(5000), "note_for_patient": bad_text(5000)}),
        "slot-create": Endpoint("POST", f"{API}/slots", slot_body, {
            "doctor_id": bad_ids, "clinic_id": bad_ids, "slot_datetime": bad_aware_datetimes(),
            "duration_minutes": bad_ints(5, 480), "capacity": bad_ints(1, 100),
        }, cross=[
            ({**slot_body, "slot_datetime": iso_z(timezone.now() - timedelta(hours=2))},),
            ({**slot_body, "slot_datetime": iso_z(timezone.now() + timedelta(days=1831))},),
        ]),
        "slot-update": Endpoint("PATCH", f"{API}/slots/{w['free'].pk}", {"capacity": 3, "is_active": True},
                                {"capacity": bad_ints(1, 100), "is_active": bad_bools}),
        "rule-create": Endpoint("POST", f"{API}/doctors/{doctor.pk}/availability", rule_body, rule_fields,
                                cross=rule_cross),
        "rule-update": Endpoint("PATCH", f"{API}/availability/{w['rule'].pk}", rule_body, rule_fields,
                                cross=[*rule_cross, ({"start_time": "12:30"},), ({"end_time": "08:00"},),
                                       ({"break_start": "07:00", "break_end": "07:30"},)],
                                # A PATCH that names no field changes nothing and answers the rule.
                                empty_is_valid=True),
        "generate": Endpoint("POST", f"{API}/doctors/{doctor.pk}/availability/generate",
                             {"date_from": _local_day(doctor, 1), "date_to": _local_day(doctor, 8)},
                             {"date_from": bad_dates, "date_to": bad_dates},
                             cross=[({"date_from": _local_day(doctor, 8), "date_to": _local_day(doctor, 1)},),
                                    ({"date_from": _local_day(doctor, -1), "date_to": _local_day(doctor, 3)},),
                                    ({"date_from": _local_day(doctor, 1), "date_to": _local_day(doctor, 368)},)]),
        "leave": Endpoint("POST", f"{API}/doctors/{doctor.pk}/leaves", leave_body,
                          {"start": bad_aware_datetimes(), "end": bad_aware_datetimes(), "reason": bad_text(200)},
                          cross=[({**leave_body, "start": leave_body["end"], "end": leave_body["start"]},),
                                 ({**leave_body, "end": leave_body["start"]},),
                                 ({**leave_body, "start": (leave_start - timedelta(days=30)).isoformat(),
                                   "end": (leave_start - timedelta(days=20)).isoformat()},),
                                 ({**leave_body, "end": (leave_start + timedelta(days=400)).isoformat()},)]),
    }
    return table[name]


ACTORS = {"book": "patient", "reschedule": "patient", "cancel": "patient", "outcome": "doctor",
          "slot-create": "doctor", "slot-update": "doctor", "rule-create": "doctor", "rule-update": "doctor",
          "generate": "doctor", "leave": "doctor"}
ACCEPTED = {"book": 201, "reschedule": 200, "cancel": 200, "outcome": 200, "slot-create": 201, "slot-update": 200,
            "rule-create": 201, "rule-update": 200, "generate": 200, "leave": 201}


@pytest.fixture
def call(world, patient, doctor, clinic, auth_client):
    def make(name):
        endpoint = endpoints(name, world, patient, doctor, clinic)
        user = patient.user if ACTORS[name] == "patient" else doctor.user
        return endpoint, auth_client(user)

    return make


@pytest.mark.parametrize("name", sorted(ACTORS))
def test_the_accepted_bodies_are_accepted(call, name):
    endpoint, client = call(name)
    response = endpoint.send_valid(client)
    assert response.status_code == ACCEPTED[name], response.content


@pytest.mark.parametrize("name", sorted(ACTORS))
@given(data=st.data())
def test_hostile_input_is_refused_with_the_envelope_and_changes_nothing(call, name, data):
    endpoint, client = call(name)
    endpoint.assert_refuses(client, data.draw(endpoint.hostile(), label="request"))
