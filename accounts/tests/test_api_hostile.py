"""Hostile input to registration and the patient profile endpoints (Hypothesis).

As in scheduling/tests/test_api_hostile.py: an accepted body with one hostile
change must get its 4xx envelope and leave the database as it was.
"""


import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Patient, User
from healthsvc.tests.hostile import (
    TOO_LARGE,
    Endpoint,
    assert_envelope,
    assert_unchanged,
    bad_bools,
    bad_choice,
    bad_dates,
    bad_text,
    db_snapshot,
    short_text,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"

bad_emails = st.one_of(bad_text(254, blank_ok=False), short_text.filter(lambda s: "@" not in s),
                       st.sampled_from(["a@", "@b.com", "a@@b.com", "a b@c.com", "a@b..com", "<a@b.com>",
                                        "a@b.com\nBcc: c@d.com"]))
bad_phones = st.one_of(bad_text(20), st.sampled_from(["abc", "12", "+", "++91 98765", "phone: 123456", "1" * 21,
                                                      "98765 43210 ext", "\u0669\u0668\u0667\u0666\u0665\u0664\u0663"]))
PROFILE = {"name": "Pat Patient", "mobile_no": "+91 98765 43210", "date_of_birth": "1990-05-01", "blood_group": "O+",
           "allergies": "Penicillin", "emergency_contact": "Ravi Patel, +91 98765 43210", "wants_reminders": True}
PROFILE_FIELDS = {
    "name": bad_text(150, blank_ok=False), "mobile_no": bad_phones,
    "date_of_birth": st.one_of(bad_dates, st.sampled_from(["2999-01-01", "1899-12-31", "1066-10-14"])),
    "blood_group": bad_choice([c for c, _ in Patient.BloodGroup.choices], nullable=True),
    "allergies": bad_text(2000), "emergency_contact": st.one_of(bad_text(200), st.sampled_from(["Ravi", "Mum 123"])),
    "wants_reminders": bad_bools,
}
REGISTER = {"name": "Asha Rao", "email": "asha@example.com", "password": "plum-orchard-sunset-42", "role": "patient",
            "mobile_no": "+91 98765 43210"}


def _endpoint(name, patient):
    return {
        "register": Endpoint("POST", f"{API}/auth/register", REGISTER, {
            "name": bad_text(150, blank_ok=False), "email": bad_emails, "password": bad_text(128, blank_ok=False),
            "role": bad_choice([c for c, _ in User.Role.choices]), "mobile_no": bad_phones,
        }, cross=[
            ({**REGISTER, "role": "admin"}, (403, "PERMISSION_DENIED")),
            ({**REGISTER, "email": patient.user.email.upper()}, (409, "EMAIL_TAKEN")),
            ({**REGISTER, "password": "password"},), ({**REGISTER, "password": "12345678901"},),
            ({**REGISTER, "password": "asha@example.com"},),
        ]),
        "patient-put": Endpoint("PUT", f"{API}/patients/{patient.pk}", PROFILE, PROFILE_FIELDS),
        # A PATCH naming no field changes nothing and answers the profile.
        "patient-patch": Endpoint("PATCH", f"{API}/patients/{patient.pk}", PROFILE, PROFILE_FIELDS,
                                  empty_is_valid=True),
        # The caller's own name and mobile, with register's rules; naming no field changes nothing.
        "profile-patch": Endpoint("PATCH", f"{API}/auth/profile", {"name": "Pat P", "mobile_no": "+91 98765 43210"},
                                  {"name": bad_text(150, blank_ok=False), "mobile_no": bad_phones},
                                  empty_is_valid=True),
    }[name]


ACCEPTED = {"register": 201, "patient-put": 200, "patient-patch": 200, "profile-patch": 200}


@pytest.fixture
def call(patient, auth_client, api_client):
    def make(name):
        return _endpoint(name, patient), api_client if name == "register" else auth_client(patient.user)

    return make


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_the_accepted_bodies_are_accepted(call, name):
    endpoint, client = call(name)
    response = endpoint.send_valid(client)
    assert response.status_code == ACCEPTED[name], response.content


@pytest.mark.parametrize("name", sorted(ACCEPTED))
@given(data=st.data())
def test_hostile_input_is_refused_with_the_envelope_and_changes_nothing(call, name, data):
    endpoint, client = call(name)
    endpoint.assert_refuses(client, data.draw(endpoint.hostile(), label="request"))


# PUT /auth/profile (PATCH is the contract's) and a write to /patients/me are
# not implemented: whatever the body, 405 with the envelope, nothing written.
@pytest.mark.parametrize("method,path", [("PUT", "auth/profile"),
                                         ("PATCH", "patients/me"), ("PUT", "patients/me")])
@given(data=st.data())
def test_writes_to_read_only_profiles_are_405_whatever_the_body(patient, auth_client, method, path, data):
    endpoint = Endpoint(method, f"{API}/{path}", {"name": "Pat Patient", "mobile_no": "+91 98765 43210"},
                        {"name": bad_text(150, blank_ok=False), "mobile_no": bad_phones})
    hostile = data.draw(endpoint.hostile(), label="request")
    before = db_snapshot()
    response = hostile.send(auth_client(patient.user), method, endpoint.url)
    assert_envelope(response, TOO_LARGE if hostile.expected == TOO_LARGE else (405, "METHOD_NOT_ALLOWED"))
    assert_unchanged(before, hostile.what)
