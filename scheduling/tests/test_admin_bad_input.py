"""Ids that are no ids, in the admin's search-as-you-type fields, are form
errors or ignored, never a 500."""

import pytest
from django.urls import reverse

from healthsvc.testing import force_login_verified
from scheduling.models import AppointmentSlot

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.fixture
def staff_client(client, admin_user):
    force_login_verified(client, admin_user)
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("query", [{"doctor": "abc"}, {"doctor": HUGE}, {"doctor": "1", "patient": HUGE},
                                   {"patient": "abc"}, {"doctor": "-1", "day": "garbage"}])
def test_the_booking_page_takes_odd_ids(staff_client, doctor, query):
    assert staff_client.get(reverse("admin:scheduling_appointment_book"), query).status_code == 200


@pytest.mark.parametrize("page", ["admin:scheduling_leave_add", "admin:scheduling_appointmentslot_add",
                                  "admin:clinics_doctor_add", "admin:accounts_patient_add"])
@pytest.mark.parametrize("value", ["abc", HUGE])
def test_add_forms_prefilled_with_odd_ids_render(staff_client, page, value):
    response = staff_client.get(reverse(page), {"doctor": value, "user": value, "clinic": value})
    assert response.status_code == 200


@pytest.mark.parametrize("value", ["abc", HUGE])
def test_a_slot_posted_with_an_odd_doctor_is_a_form_error(staff_client, value):
    response = staff_client.post(reverse("admin:scheduling_appointmentslot_add"),
                                 {"doctor": value, "day": "2030-03-01", "start_time": "10:00",
                                  "duration_minutes": "30", "capacity": "1"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not AppointmentSlot.objects.exists()
