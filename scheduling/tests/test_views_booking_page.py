"""The booking page before the patient submits (issue 12): a time they hold is
theirs, Back-and-resubmit says so, a second visit with the same doctor that
day is asked about, the other times after a refusal move their visit; and a
booking sent after the idle logout keeps its reason for the same user only."""

from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.decorators import DRAFT_FIELD
from accounts.models import FormDraft
from accounts.services import DRAFT_KEEP, form_draft_prune, form_draft_token
from accounts.tests.factories import TEST_PASSWORD
from audit.models import AuditEvent
from clinics.tests.factories import DoctorFactory
from scheduling import services
from scheduling.models import Appointment
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


def _at(doctor, hour, days=3):
    tz = doctor.clinic.tzinfo
    day = timezone.localdate(timezone=tz) + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=tz)


def _book_url(slot) -> str:
    return reverse("scheduling:appointment-book", args=[slot.pk])


@pytest.fixture
def morning(doctor):
    return SlotFactory(doctor=doctor, start=_at(doctor, 10))


@pytest.fixture
def afternoon(doctor):
    return SlotFactory(doctor=doctor, start=_at(doctor, 14))


# --- "This is your appointment" ---------------------------------------------------------


def test_a_time_the_patient_holds_shows_this_is_your_appointment(patient_client, patient, morning):
    held = services.appointment_book(patient=patient, slot_id=morning.pk, reason="Check-up")
    response = patient_client.get(_book_url(morning))
    html = _html(response)
    assert response.status_code == 200
    assert "This is your appointment" in html and "Confirm your appointment" not in html
    assert reverse("scheduling:appointment-detail", args=[held.pk]) in html
    assert "Book this appointment" not in html and "Other free times" not in html
    assert AuditEvent.objects.filter(action="read", object_type="appointment", object_id=str(held.pk)).exists()


def test_a_held_time_of_another_patient_is_not_shown_as_mine(patient_client, other_patient, doctor):
    shared = SlotFactory(doctor=doctor, start=_at(doctor, 10), capacity=2)
    services.appointment_book(patient=other_patient, slot_id=shared.pk, reason="Theirs")
    html = _html(patient_client.get(_book_url(shared)))
    assert "Confirm your appointment" in html and "This is your appointment" not in html
    assert "Theirs" not in html


def test_a_cancelled_booking_of_the_time_is_not_mine_any_more(patient_client, patient, morning):
    held = services.appointment_book(patient=patient, slot_id=morning.pk)
    services.appointment_cancel(appointment_id=held.pk, by=patient.user, reason="Changed my mind")
    assert "Confirm your appointment" in _html(patient_client.get(_book_url(morning)))


def test_back_and_submit_again_says_you_already_booked_this(patient_client, patient, morning):
    first = patient_client.post(_book_url(morning), {"reason_for_visit": "Cough"})
    assert first.status_code == 302
    again = patient_client.post(_book_url(morning), {"reason_for_visit": "Cough"})
    html = _html(again)
    assert again.status_code == 200
    assert "You already booked this." in html and "This is your appointment" in html
    held = Appointment.objects.get(patient=patient)
    assert reverse("scheduling:appointment-detail", args=[held.pk]) in html
    assert "Nothing was booked" not in html and "Other free times" not in html


@pytest.mark.parametrize("others", [0, 5])
def test_the_booking_pages_count_their_queries_flat(
    patient_client, patient, doctor, morning, afternoon, others, django_assert_max_num_queries
):
    services.appointment_book(patient=patient, slot_id=morning.pk)
    for day in range(others):  # more visits with the doctor cost no more queries
        services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=_at(doctor, 9, 6 + day)).pk)
    with django_assert_max_num_queries(15):  # session, user, patient, family, slot, held, audit read (5), session save (3)
        assert patient_client.get(_book_url(morning)).status_code == 200
    with django_assert_max_num_queries(17):
        assert patient_client.get(_book_url(afternoon)).status_code == 200


# --- the same doctor twice in one day -----------------------------------------------------


def test_a_second_visit_with_the_doctor_that_day_is_asked_about(patient_client, patient, morning, afternoon):
    services.appointment_book(patient=patient, slot_id=morning.pk)
    html = _html(patient_client.get(_book_url(afternoon)))
    name = afternoon.doctor.user.name
    assert f"You already see Dr. {name} on that day at 10:00 — book another?" in html
    assert 'name="also_same_day"' in html


def test_without_the_tick_nothing_is_booked_and_the_reason_is_kept(patient_client, patient, morning, afternoon):
    services.appointment_book(patient=patient, slot_id=morning.pk)
    response = patient_client.post(_book_url(afternoon), {"reason_for_visit": "Second opinion on the scan"})
    html = _html(response)
    assert response.status_code == 200
    assert "Tick this box to book a second visit that day" in html
    assert "Second opinion on the scan" in html
    assert not Appointment.objects.filter(slot=afternoon).exists()


def test_with_the_tick_the_second_visit_is_booked(patient_client, patient, morning, afternoon):
    services.appointment_book(patient=patient, slot_id=morning.pk)
    response = patient_client.post(_book_url(afternoon), {"reason_for_visit": "Results", "also_same_day": "on"})
    assert response.status_code == 302
    assert Appointment.objects.filter(patient=patient, slot=afternoon).exists()


@pytest.mark.parametrize("other", ["another_day", "another_doctor", "cancelled"])
def test_no_question_without_an_active_visit_with_that_doctor_that_day(patient_client, patient, doctor, afternoon, other):
    if other == "another_day":
        services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=_at(doctor, 10, days=4)).pk)
    elif other == "another_doctor":
        colleague = DoctorFactory(clinic=doctor.clinic)
        services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=colleague, start=_at(doctor, 10)).pk)
    else:
        held = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=_at(doctor, 10)).pk)
        services.appointment_cancel(appointment_id=held.pk, by=patient.user)
    html = _html(patient_client.get(_book_url(afternoon)))
    assert "book another?" not in html and "Confirm your appointment" in html


def test_another_patients_visit_that_day_is_not_asked_about(patient_client, other_patient, morning, afternoon):
    services.appointment_book(patient=other_patient, slot_id=morning.pk)
    assert "book another?" not in _html(patient_client.get(_book_url(afternoon)))


# --- other times after a refusal move the visit ---------------------------------------------


def test_after_a_refusal_other_times_move_the_patients_visit_with_that_doctor(
    patient_client, patient, other_patient, doctor, morning, afternoon
):
    mine = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, start=_at(doctor, 9, 5)).pk)
    services.appointment_book(patient=other_patient, slot_id=morning.pk)  # just filled
    response = patient_client.post(_book_url(morning), {"reason_for_visit": "x"})
    html = _html(response)
    assert response.status_code == 409
    assert "Move your appointment with Dr." in html
    assert reverse("scheduling:appointment-reschedule", args=[mine.pk]) + "?week=" in html
    assert _book_url(afternoon) not in html  # no link that would add a second appointment
    assert Appointment.objects.filter(patient=patient).count() == 1


def test_after_a_refusal_without_a_visit_the_other_times_book(patient_client, other_patient, morning, afternoon):
    services.appointment_book(patient=other_patient, slot_id=morning.pk)
    html = _html(patient_client.get(_book_url(morning)))
    assert "Other free times with Dr." in html and _book_url(afternoon) in html
    assert "Move your appointment" not in html


def test_the_move_offer_never_names_another_patients_visit(patient_client, other_patient, doctor, morning):
    services.appointment_book(patient=other_patient, slot_id=SlotFactory(doctor=doctor, start=_at(doctor, 9, 5)).pk)
    services.appointment_book(patient=other_patient, slot_id=morning.pk)
    html = _html(patient_client.get(_book_url(morning)))
    assert "Move your appointment" not in html


# --- the reason survives the idle logout, for the same user only ------------------------------


def _stale_post(slot, patient, reason="Chest pain when climbing stairs", client=None):
    """The booking form sent after the session ended: anonymous, with the token the page carried."""
    client = client or Client()
    page = _book_url(slot)
    token = form_draft_token(user=patient.user, page=page)
    return client, client.post(page, {"reason_for_visit": reason, DRAFT_FIELD: token})


def test_the_booking_page_carries_a_signed_draft_token(patient_client, morning):
    assert f'name="{DRAFT_FIELD}"' in _html(patient_client.get(_book_url(morning)))


def test_a_signed_out_booking_keeps_the_reason_and_asks_to_sign_in(patient, morning):
    client, response = _stale_post(morning, patient)
    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={_book_url(morning)}"
    assert "Chest pain" not in response.url  # never in a URL
    assert not Appointment.objects.exists()
    draft = FormDraft.objects.get()
    assert draft.user == patient.user and draft.data == {"reason_for_visit": "Chest pain when climbing stairs"}
    login_page = _html(client.get(response.url))
    assert "You were signed out; sign in and your booking is still here. Nothing was booked yet." in login_page


def test_the_same_user_signing_in_gets_the_reason_back_once(patient, morning):
    client, response = _stale_post(morning, patient)
    login = client.post(reverse("accounts:login"), {"username": patient.user.email, "password": TEST_PASSWORD,
                                                    "next": _book_url(morning)})
    assert login.url == _book_url(morning)
    html = _html(client.get(login.url))
    assert "Chest pain when climbing stairs" in html and "Nothing was booked yet" in html
    assert not FormDraft.objects.exists()
    assert "Chest pain when climbing stairs" not in _html(client.get(_book_url(morning)))  # once


def test_another_user_signing_in_on_that_browser_may_not_see_the_reason(patient, other_patient, morning):
    client, _ = _stale_post(morning, patient)
    client.post(reverse("accounts:login"), {"username": other_patient.user.email, "password": TEST_PASSWORD})
    assert client.session[SESSION_KEY] == str(other_patient.user.pk)
    html = _html(client.get(_book_url(morning)))
    assert "Chest pain" not in html
    assert FormDraft.objects.filter(user=patient.user).exists()  # still the owner's


def test_a_forged_or_foreign_token_keeps_nothing(patient, morning, afternoon):
    client = Client()
    response = client.post(_book_url(morning), {"reason_for_visit": "x", DRAFT_FIELD: "forged:token"})
    assert response.status_code == 302 and not FormDraft.objects.exists()
    other_page = form_draft_token(user=patient.user, page=_book_url(afternoon))
    client.post(_book_url(morning), {"reason_for_visit": "x", DRAFT_FIELD: other_page})
    assert not FormDraft.objects.exists()


def test_an_expired_draft_is_not_given_back_and_is_pruned(patient, morning):
    client, _ = _stale_post(morning, patient)
    FormDraft.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(patient.user)
    assert "Chest pain" not in _html(client.get(_book_url(morning)))
    assert form_draft_prune() == 1 and not FormDraft.objects.exists()
    assert DRAFT_KEEP <= timedelta(hours=12)


def test_a_signed_out_cancel_keeps_its_reason(patient, morning):
    held = services.appointment_book(patient=patient, slot_id=morning.pk)
    page = reverse("scheduling:appointment-cancel", args=[held.pk])
    client = Client()
    response = client.post(page, {"reason": "Feeling better", DRAFT_FIELD: form_draft_token(user=patient.user, page=page)})
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    held.refresh_from_db()
    assert held.status == Appointment.Status.CONFIRMED
    client.force_login(patient.user)
    assert "Feeling better" in _html(client.get(page))


def test_a_signed_out_profile_keeps_the_changes_for_the_same_user_only(patient, other_patient):
    page = reverse("accounts:profile")
    client = Client()
    data = {"name": "Pat Patient", "allergies": "Latex", "emergency_contact": "", "mobile_no": "", "date_of_birth": "",
            "blood_group": "", DRAFT_FIELD: form_draft_token(user=patient.user, page=page)}
    assert client.post(page, data).status_code == 302
    client.force_login(other_patient.user)
    assert "Latex" not in _html(client.get(page))
    client.force_login(patient.user)
    assert "Latex" in _html(client.get(page))
    patient.refresh_from_db()
    assert patient.allergies == ""  # nothing saved until they press Save


def test_over_long_reasons_are_refused_on_the_server(patient_client, patient, morning):
    response = patient_client.post(_book_url(morning), {"reason_for_visit": "x" * 2001})
    assert response.status_code == 200 and "reason_for_visit" in response.context["form"].errors
    held = services.appointment_book(patient=patient, slot_id=morning.pk)
    cancel = patient_client.post(reverse("scheduling:appointment-cancel", args=[held.pk]), {"reason": "x" * 2001})
    assert cancel.status_code == 200 and "reason" in cancel.context["form"].errors
    held.refresh_from_db()
    assert held.status == Appointment.Status.CONFIRMED


def test_a_draft_waits_while_the_time_is_not_bookable(patient, other_patient, morning):
    client, _ = _stale_post(morning, patient)
    services.appointment_book(patient=other_patient, slot_id=morning.pk)  # filled meanwhile
    client.force_login(patient.user)
    assert "is no longer free" in _html(client.get(_book_url(morning)))
    assert FormDraft.objects.filter(user=patient.user).exists()  # not spent on a page without the form
