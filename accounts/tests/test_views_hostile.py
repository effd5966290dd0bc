"""Hostile form data to the portal's register and profile forms (Hypothesis);
as in scheduling/tests/test_views_hostile.py."""

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Patient
from healthsvc.tests.hostile import (
    FormEndpoint,
    form_choice_bad,
    form_date_bad,
    form_text_bad,
    short_text,
)

pytestmark = pytest.mark.django_db

bad_phones = st.one_of(form_text_bad(20), st.sampled_from(["abc", "12", "+", "++91 98765", "1" * 21]))


def _forms(name, patient):
    return {
        "register": FormEndpoint("/accounts/register/", {
            "name": "Asha Rao", "email": "asha@example.com", "mobile_no": "+91 98765 43210",
            "password1": "plum-orchard-sunset-42", "password2": "plum-orchard-sunset-42",
        }, {
            "name": form_text_bad(150, blank_ok=False), "mobile_no": bad_phones,
            "email": st.one_of(form_text_bad(254, blank_ok=False), short_text.filter(lambda s: "@" not in s),
                               st.sampled_from([patient.user.email, patient.user.email.upper(), "a@@b.com"])),
            "password1": st.one_of(form_text_bad(128, blank_ok=False), st.sampled_from(["password", "123"])),
            "password2": st.sampled_from(["", "plum-orchard-sunset-43", "plum-orchard-sunset-42 x"]),
        }),
        "profile": FormEndpoint("/profile/", {
            "name": "Pat Patient", "mobile_no": "+91 98765 43210", "date_of_birth": "1990-05-01", "blood_group": "O+",
            "allergies": "Penicillin", "emergency_contact": "Ravi Patel, +91 98765 43210", "wants_reminders": "on",
        }, {
            "name": form_text_bad(150, blank_ok=False), "mobile_no": bad_phones,
            "date_of_birth": form_date_bad | st.sampled_from(["2999-01-01", "1899-12-31"]),
            "blood_group": form_choice_bad(["", *(c for c, _ in Patient.BloodGroup.choices)]),
            "allergies": form_text_bad(2000), "emergency_contact": form_text_bad(200) | st.just("Ravi"),
        }),
    }[name]


@pytest.fixture
def call(patient):
    client = Client(raise_request_exception=False)  # as in scheduling/tests/test_views_hostile.py

    def make(name):
        if name == "profile":
            client.force_login(patient.user)
        return _forms(name, patient), client

    return make


@pytest.mark.parametrize("name", ["register", "profile"])
def test_the_accepted_forms_are_accepted(call, name):
    endpoint, client = call(name)
    endpoint.assert_accepts_valid(client)


@pytest.mark.parametrize("name", ["register", "profile"])
@given(data=st.data())
def test_hostile_form_data_is_refused_and_changes_nothing(call, name, data):
    endpoint, client = call(name)
    endpoint.assert_refuses(client, data.draw(endpoint.hostile(), label="request"))
