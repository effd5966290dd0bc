"""Every row of the contract's error table, produced by a real request, and
our own extensions AVAILABILITY_OVERLAP (409) and URI_TOO_LONG (414) beside them.

SERVER_ERROR (500) comes from a failing view in test_api_infra.py; that the
refusals change nothing is asserted beside each endpoint's own tests."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import TEST_PASSWORD
from scheduling import services
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _book(client, slot_id, **extra):
    return client.post(f"{API}/appointments/book", {"slot_id": slot_id}, format="json", **extra)


def validation_error(c):
    return c.anon.post(f"{API}/auth/register", {"email": "nope"}, format="json")


def naive_datetime(c):
    return c.client(c.doctor.user).post(f"{API}/slots", {"doctor_id": c.doctor.pk,
                                                       "slot_datetime": "2030-03-01T10:00:00"}, format="json")


def not_authenticated(c):
    return c.anon.get(f"{API}/appointments")


def token_invalid(c):
    c.anon.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    return c.anon.get(f"{API}/appointments")


def invalid_credentials(c):
    return c.anon.post(f"{API}/auth/login", {"email": c.patient.user.email, "password": "wrong"}, format="json")


def permission_denied(c):
    return c.client(c.patient.user).get(f"{API}/patients")


def not_found(c):
    mine = services.appointment_book(patient=c.other_patient, slot_id=c.slot.pk)
    return c.client(c.patient.user).get(f"{API}/appointments/{mine.pk}")


def method_not_allowed(c):
    return c.client(c.patient.user).delete(f"{API}/appointments")


def email_taken(c):
    return c.anon.post(f"{API}/auth/register", {"name": "X", "email": c.patient.user.email,
                                                "password": "plum-orchard-sunset-42"}, format="json")


def slot_full(c):
    services.appointment_book(patient=c.other_patient, slot_id=c.slot.pk)
    return _book(c.client(c.patient.user), c.slot.pk)


def already_booked(c):
    roomy = SlotFactory(doctor=c.doctor, capacity=3)
    services.appointment_book(patient=c.patient, slot_id=roomy.pk)
    return _book(c.client(c.patient.user), roomy.pk)


def slot_unavailable(c):
    past = SlotFactory(doctor=c.doctor, start=timezone.now() - timedelta(hours=2))
    return _book(c.client(c.patient.user), past.pk)


def daily_limit_reached(c):
    c.doctor.max_patients_per_day = 1
    c.doctor.save()
    services.appointment_book(patient=c.other_patient, slot_id=c.slot.pk)
    same_day = SlotFactory(doctor=c.doctor, start=c.slot.start + timedelta(hours=1))
    return _book(c.client(c.patient.user), same_day.pk)


def overlapping_appointment(c):
    services.appointment_book(patient=c.patient, slot_id=c.slot.pk)
    overlapping = SlotFactory(doctor=c.other_doctor, start=c.slot.start + timedelta(minutes=10))
    return _book(c.client(c.patient.user), overlapping.pk)


def slot_overlap(c):
    start = (c.slot.start + timedelta(minutes=10)).isoformat()
    return c.client(c.doctor.user).post(f"{API}/slots", {"doctor_id": c.doctor.pk, "slot_datetime": start},
                                        format="json")


def slot_has_bookings(c):
    services.appointment_book(patient=c.patient, slot_id=c.slot.pk)
    return c.client(c.doctor.user).delete(f"{API}/slots/{c.slot.pk}")


def invalid_state(c):
    appointment = services.appointment_book(patient=c.patient, slot_id=c.slot.pk)
    services.appointment_cancel(appointment_id=appointment.pk)
    return c.client(c.patient.user).post(f"{API}/appointments/{appointment.pk}/cancel", {}, format="json")


def _clinic_policy(c, **policy):
    clinic = c.doctor.clinic
    for name, value in policy.items():
        setattr(clinic, name, value)
    clinic.save()


def booking_too_soon(c):
    _clinic_policy(c, min_notice_minutes=120)
    soon = SlotFactory(doctor=c.doctor, start=timezone.now() + timedelta(minutes=90))
    return _book(c.client(c.patient.user), soon.pk)


def booking_too_far(c):
    _clinic_policy(c, booking_horizon_days=30)
    far = SlotFactory(doctor=c.doctor, start=timezone.now() + timedelta(days=45))
    return _book(c.client(c.patient.user), far.pk)


def cancellation_window_passed(c):
    _clinic_policy(c, min_notice_minutes=0, cancellation_window_minutes=180)
    soon = SlotFactory(doctor=c.doctor, start=timezone.now() + timedelta(minutes=90))
    appointment = services.appointment_book(patient=c.patient, slot_id=soon.pk)
    return c.client(c.patient.user).post(f"{API}/appointments/{appointment.pk}/cancel", {}, format="json")


def booking_limit_reached(c):
    _clinic_policy(c, max_active_bookings_per_patient=1)
    services.appointment_book(patient=c.patient, slot_id=c.slot.pk)
    return _book(c.client(c.patient.user), SlotFactory(doctor=c.other_doctor).pk)


def capacity_below_booked(c):
    roomy = SlotFactory(doctor=c.doctor, capacity=2)
    services.appointment_book(patient=c.patient, slot_id=roomy.pk)
    services.appointment_book(patient=c.other_patient, slot_id=roomy.pk)
    return c.client(c.doctor.user).patch(f"{API}/slots/{roomy.pk}", {"capacity": 1}, format="json")


def availability_overlap(c):
    services.availability_rule_create(doctor=c.doctor, weekday=0, start_time=time(9), end_time=time(12))
    return c.client(c.doctor.user).post(f"{API}/doctors/{c.doctor.pk}/availability",
                                        {"weekday": 0, "start_time": "11:00", "end_time": "13:00"}, format="json")


def idempotency_key_reused(c):
    client = c.client(c.patient.user)
    other = SlotFactory(doctor=c.other_doctor)
    assert _book(client, c.slot.pk, HTTP_IDEMPOTENCY_KEY="key-1").status_code == 201
    return _book(client, other.pk, HTTP_IDEMPOTENCY_KEY="key-1")


def payload_too_large(c):
    return c.anon.generic("POST", f"{API}/auth/register", '{"name": "' + "x" * 2_000_000 + '"}',
                          content_type="application/json")


def uri_too_long(c):
    return c.anon.get(f"{API}/clinics?city=" + "x" * 5000)


def rate_limited(c, monkeypatch):
    from accounts.api.views import LoginApi

    monkeypatch.setitem(LoginApi.throttle_classes[0].THROTTLE_RATES, "login", "1/min")
    c.anon.post(f"{API}/auth/login", {"email": c.patient.user.email, "password": TEST_PASSWORD}, format="json")
    return c.anon.post(f"{API}/auth/login", {"email": c.patient.user.email, "password": TEST_PASSWORD}, format="json")


CATALOGUE = [
    (400, "VALIDATION_ERROR", validation_error),
    (400, "VALIDATION_ERROR", naive_datetime),
    (401, "NOT_AUTHENTICATED", not_authenticated),
    (401, "TOKEN_INVALID", token_invalid),
    (401, "INVALID_CREDENTIALS", invalid_credentials),
    (403, "PERMISSION_DENIED", permission_denied),
    (404, "NOT_FOUND", not_found),
    (405, "METHOD_NOT_ALLOWED", method_not_allowed),
    (409, "EMAIL_TAKEN", email_taken),
    (409, "SLOT_FULL", slot_full),
    (409, "ALREADY_BOOKED", already_booked),
    (409, "SLOT_UNAVAILABLE", slot_unavailable),
    (409, "DAILY_LIMIT_REACHED", daily_limit_reached),
    (409, "OVERLAPPING_APPOINTMENT", overlapping_appointment),
    (409, "SLOT_OVERLAP", slot_overlap),
    (409, "SLOT_HAS_BOOKINGS", slot_has_bookings),
    (409, "INVALID_STATE", invalid_state),
    (409, "BOOKING_TOO_SOON", booking_too_soon),
    (409, "BOOKING_TOO_FAR", booking_too_far),
    (409, "CANCELLATION_WINDOW_PASSED", cancellation_window_passed),
    (409, "BOOKING_LIMIT_REACHED", booking_limit_reached),
    (409, "CAPACITY_BELOW_BOOKED", capacity_below_booked),
    (409, "AVAILABILITY_OVERLAP", availability_overlap),  # our extension of the contract
    (413, "PAYLOAD_TOO_LARGE", payload_too_large),
    (414, "URI_TOO_LONG", uri_too_long),  # our extension of the contract
    (422, "IDEMPOTENCY_KEY_REUSED", idempotency_key_reused),
    (429, "RATE_LIMITED", rate_limited),
]


class Cast:
    def __init__(self, api_client, auth_client, doctor, other_doctor, patient, other_patient):
        self.anon, self.client = api_client, auth_client
        self.doctor, self.other_doctor = doctor, other_doctor
        self.patient, self.other_patient = patient, other_patient
        self.slot = SlotFactory(doctor=doctor, capacity=1)


@pytest.mark.parametrize("status, code, make", CATALOGUE, ids=[f"{c}-{m.__name__}" for _, c, m in CATALOGUE])
def test_error_code_from_a_real_request(api_client, auth_client, doctor, other_doctor, patient, other_patient,
                                        monkeypatch, status, code, make):
    cast = Cast(api_client, auth_client, doctor, other_doctor, patient, other_patient)
    response = make(cast, monkeypatch) if make is rate_limited else make(cast)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_code"] == code and isinstance(body["detail"], str) and body["detail"]
    if status == 400:
        assert body["errors"]
    if status == 429:
        assert int(response["Retry-After"]) > 0

