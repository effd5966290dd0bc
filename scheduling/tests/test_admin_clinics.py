"""The clinic admin: the time zone from the IANA names, and the booking
policy in its own fieldset saying what the server's defaults are."""

import pytest
from django.urls import reverse

from clinics.models import Clinic

pytestmark = pytest.mark.django_db



def _data(clinic, **changes):
    data = {"name": clinic.name, "address": clinic.address, "city": clinic.city, "state": clinic.state,
            "zip_code": clinic.zip_code, "phone": "", "email": "", "timezone": clinic.timezone, "latitude": "",
            "longitude": "", "is_active": "on", "min_notice_minutes": "", "booking_horizon_days": "",
            "cancellation_window_minutes": "", "max_active_bookings_per_patient": ""}
    return {**data, **changes}


def test_policy_has_its_own_fieldset_with_the_server_defaults(staff_client, clinic, settings):
    settings.BOOKING_POLICY = {**settings.BOOKING_POLICY, "min_notice_minutes": 45}
    response = staff_client.get(reverse("admin:clinics_clinic_change", args=[clinic.pk]))
    fieldsets = {name: options["fields"] for name, options in response.context["adminform"].fieldsets}
    assert fieldsets["Booking policy"] == ("min_notice_minutes", "booking_horizon_days",
                                           "cancellation_window_minutes", "max_active_bookings_per_patient")
    html = response.content.decode()
    assert "Staff and doctors are exempt." in html and "Empty: the server's default, now 45." in html


def test_time_zone_is_a_select_of_canonical_names(staff_client, clinic):
    html = staff_client.get(reverse("admin:clinics_clinic_change", args=[clinic.pk])).content.decode()
    assert '<select name="timezone"' in html
    assert '<option value="Asia/Kolkata" selected>' in html and 'value="Asia/Calcutta"' not in html


def test_saving_policy_and_zone(staff_client, clinic):
    url = reverse("admin:clinics_clinic_change", args=[clinic.pk])
    response = staff_client.post(url, _data(clinic, timezone="Europe/London", min_notice_minutes="30",
                                            max_active_bookings_per_patient="2"))
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.timezone, clinic.min_notice_minutes, clinic.booking_horizon_days) == ("Europe/London", 30, None)
    assert clinic.booking_policy.max_active_bookings_per_patient == 2


@pytest.mark.parametrize("zone", ["Asia/Calcutta", "Mars/Olympus"])
def test_an_alias_or_unknown_zone_is_refused(staff_client, clinic, zone):
    response = staff_client.post(reverse("admin:clinics_clinic_change", args=[clinic.pk]), _data(clinic, timezone=zone))
    assert response.status_code == 200 and "Select a valid choice." in response.content.decode()
    assert Clinic.objects.get(pk=clinic.pk).timezone == "Asia/Kolkata"
