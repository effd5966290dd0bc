"""Hostile form data to the portal's booking and schedule forms (Hypothesis).

Each example posts a form the view accepts (test_the_accepted_forms_are_accepted)
with one field made hostile, or a body that is not a form at all: the answer is
a 4xx page, the page again with the form's errors, or (where the view works so)
a redirect with an error message; never a 500, and the database unchanged.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from healthsvc.tests.hostile import (
    FormEndpoint,
    beyond_64_bits,
    form_choice_bad,
    form_date_bad,
    form_int_bad,
    form_text_bad,
    form_time_bad,
    future_utc,
    invalid_utf8_value,
    with_nul,
)
from scheduling import services
from scheduling.forms import DURATION_CHOICES
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(patient, doctor):
    from datetime import time

    services.availability_rule_create(doctor=doctor, weekday=0, start_time=time(9), end_time=time(12))
    return {
        "free": SlotFactory(doctor=doctor, capacity=2, start=future_utc(days=3)),
        "later": SlotFactory(doctor=doctor, capacity=1, start=future_utc(days=4)),
        "booked": services.appointment_book(
            patient=patient, slot_id=SlotFactory(doctor=doctor, start=future_utc(days=2)).pk, reason="Chest pain"),
    }


def _day(doctor, days: int) -> str:
    return (timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=days)).isoformat()


def _forms(name, world, doctor):
    w = world
    slot_ids = st.one_of(st.integers(min_value=10**6, max_value=2**63 - 1).map(str), beyond_64_bits.map(str),
                         st.sampled_from(["", "1.5", "abc", "-1", "0", str(w["booked"].slot_id)]),
                         invalid_utf8_value, with_nul)
    durations = [m for m, _ in DURATION_CHOICES]
    rule = {"weekday": "5", "start_time": "09:00", "end_time": "12:00", "slot_minutes": "30", "capacity": "1",
            "break_start": "10:00", "break_end": "10:30"}
    return {
        "book": FormEndpoint(f"/book/{w['free'].pk}/", {"reason_for_visit": "Chest pain"},
                             {"reason_for_visit": form_text_bad(2000, blank_ok=False)}),
        "cancel": FormEndpoint(f"/appointments/{w['booked'].pk}/cancel/", {"reason": "Better"},
                               {"reason": form_text_bad(2000, blank_ok=False)}),
        "reschedule": FormEndpoint(f"/appointments/{w['booked'].pk}/reschedule/", {"slot": w["later"].pk},
                                   {"slot": slot_ids}),
        "slot-create": FormEndpoint("/doctor/slots/", {"date": _day(doctor, 20), "start_time": "07:00",
                                                       "duration_minutes": "30", "capacity": "2"}, {
            "date": form_date_bad | st.just(_day(doctor, -2)), "start_time": form_time_bad,
            "duration_minutes": form_choice_bad(durations), "capacity": form_int_bad(1, 100),
        }),
        "slot-change": FormEndpoint(f"/doctor/slots/{w['free'].pk}/", {"capacity": "3", "action": "close"},
                                    {"capacity": form_int_bad(1, 100), "action": form_choice_bad(["", "close", "reopen"])},
                                    refuses_by_redirect=True),
        "rule-create": FormEndpoint("/doctor/week/", rule, {
            "weekday": form_choice_bad(range(7)), "start_time": form_time_bad, "end_time": form_time_bad,
            "slot_minutes": form_choice_bad(durations), "capacity": form_int_bad(1, 100),
            "break_start": form_time_bad, "break_end": form_time_bad,
        }),
        "generate": FormEndpoint("/doctor/week/generate/", {"date_from": _day(doctor, 1), "date_to": _day(doctor, 8)},
                                 {"date_from": form_date_bad, "date_to": form_date_bad | st.just(_day(doctor, 0))},
                                 refuses_by_redirect=True),
        "leave": FormEndpoint("/doctor/time-off/", {"first_day": _day(doctor, 10), "last_day": _day(doctor, 11),
                                                    "from_time": "", "until_time": "", "reason": "Course"}, {
            "first_day": form_date_bad | st.just(_day(doctor, 12)), "last_day": form_date_bad,
            "from_time": form_time_bad, "until_time": form_time_bad, "reason": form_text_bad(200),
        }),
    }[name]


ACTORS = {"book": "patient", "cancel": "patient", "reschedule": "patient", "slot-create": "doctor",
          "slot-change": "doctor", "rule-create": "doctor", "generate": "doctor", "leave": "doctor"}


@pytest.fixture
def call(world, patient, doctor):
    # A 400 page the handler makes from an exception (an unreadable multipart
    # body) is an answer here; a 500 fails assert_form_refused.
    client = Client(raise_request_exception=False)

    def make(name):
        client.force_login(patient.user if ACTORS[name] == "patient" else doctor.user)
        return _forms(name, world, doctor), client

    return make


@pytest.mark.parametrize("name", sorted(ACTORS))
def test_the_accepted_forms_are_accepted(call, name):
    endpoint, client = call(name)
    endpoint.assert_accepts_valid(client)


@pytest.mark.parametrize("name", sorted(ACTORS))
@given(data=st.data())
def test_hostile_form_data_is_refused_and_changes_nothing(call, name, data):
    endpoint, client = call(name)
    endpoint.assert_refuses(client, data.draw(endpoint.hostile(), label="request"))
