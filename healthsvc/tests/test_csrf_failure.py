"""The page a stale form gets (CSRF_FAILURE_VIEW): branded, 403, nothing saved, the way back."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from scheduling.models import Appointment

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict_client():
    return Client(enforce_csrf_checks=True)


def test_stale_booking_form_gets_the_branded_page_and_nothing_is_booked(strict_client, patient, slot):
    strict_client.force_login(patient.user)
    page = reverse("scheduling:appointment-book", args=[slot.pk])
    response = strict_client.post(page, {"reason_for_visit": "Chest pain", "csrfmiddlewaretoken": "stale" * 8},
                                  HTTP_REFERER=f"http://testserver{page}")
    assert response.status_code == 403
    body = response.content.decode()
    assert "Nothing was saved or booked." in body
    assert "CSRF verification failed" not in body
    assert 'class="site-header"' in body  # extends base.html
    assert f'href="{page}"' in body  # back to the page the form was on
    assert "Sign in again" not in body  # still signed in
    assert not Appointment.objects.exists()


def test_signed_out_visitor_is_offered_to_sign_in_again_back_to_the_page(strict_client, slot):
    page = reverse("scheduling:appointment-book", args=[slot.pk])
    response = strict_client.post(page, {"reason_for_visit": "x"}, HTTP_REFERER=f"http://testserver{page}")
    assert response.status_code == 403
    body = response.content.decode()
    assert "Sign in again" in body
    assert f'href="/accounts/login/?next=/book/{slot.pk}/"' in body


def test_foreign_referer_is_not_offered_as_the_way_back(strict_client, patient, slot):
    strict_client.force_login(patient.user)
    page = reverse("scheduling:appointment-book", args=[slot.pk])
    response = strict_client.post(page, {"reason_for_visit": "x"}, HTTP_REFERER="https://evil.example/phish")
    body = response.content.decode()
    assert response.status_code == 403
    assert "evil.example" not in body
    assert "Back to the page you were on" not in body  # home is the way back
    assert f'href="{reverse("scheduling:home")}"' in body


def test_no_referer_offers_home(strict_client, patient, slot):
    strict_client.force_login(patient.user)
    response = strict_client.post(reverse("scheduling:appointment-book", args=[slot.pk]), {"reason_for_visit": "x"})
    assert response.status_code == 403
    assert "Go to the home page" in response.content.decode()


def test_api_with_a_token_is_not_affected_by_csrf(auth_client, patient, slot):
    response = auth_client(patient.user).post("/api/v1/appointments/book", {"slot_id": slot.pk, "reason_for_visit": "x"},
                                              format="json")
    assert response.status_code == 201, response.content
    assert slot.appointments.get().patient_id == patient.pk


def test_api_path_failing_csrf_gets_the_error_envelope(rf):
    from healthsvc.views import csrf_failure

    response = csrf_failure(rf.post("/api/v1/appointments/"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert json.loads(response.content)["error_code"] == "PERMISSION_DENIED"
