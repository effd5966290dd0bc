"""DELETE /patients/{id}: an admin closes a patient's account. The data stays,
the tokens die at once, future visits are cancelled and their places freed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import TokenFamily
from accounts.tests.factories import TEST_PASSWORD, DependentFactory, UserFactory
from audit.models import AuditEvent
from healthsvc.testing import assert_error
from scheduling import services
from scheduling.models import Appointment
from scheduling.services.patients import DEACTIVATION_REASON
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db


def _url(patient):
    return f"/api/v1/patients/{patient.pk}"


@pytest.fixture
def visits(patient, doctor):
    """The patient's future visit, their child's, and a past completed one."""
    child = DependentFactory(guardian=patient)
    future = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor, capacity=2).pk)
    childs = services.appointment_book(patient=child, slot_id=SlotFactory(doctor=doctor).pk, booked_by=patient.user)
    past_slot = SlotFactory(doctor=doctor, start=timezone.now() - timedelta(days=3), booked_count=1)
    past = AppointmentFactory(patient=patient, slot=past_slot, status=Appointment.Status.COMPLETED)
    return {"future": future, "child": childs, "past": past, "dependent": child}


def test_admin_deactivates_a_patient(api_client, auth_client, admin_user, patient, visits, mailoutbox,
                                     django_capture_on_commit_callbacks):
    pair = account_services.user_tokens(patient.user)
    victim = api_client
    victim.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert victim.get("/api/v1/patients/me").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client(admin_user).delete(_url(patient))
    assert response.status_code == 204, response.content

    patient.refresh_from_db()
    patient.user.refresh_from_db()
    assert patient.user.is_active is False and patient.allergies == "" and patient.user.email == "pat@example.com"
    # Tokens already issued stop at once; the refresh token is dead too.
    assert_error(victim.get("/api/v1/patients/me"), 401, "TOKEN_INVALID")
    assert_error(api_client.post(reverse("api:auth-refresh"), {"refresh": pair["refresh"]}, format="json"),
                 401, "TOKEN_INVALID")
    assert not TokenFamily.objects.filter(user=patient.user, ended_at__isnull=True).exists()
    # Future visits, the child's too, are cancelled and their places freed; the past one stays.
    for key in ("future", "child"):
        visit = visits[key]
        visit.refresh_from_db()
        visit.slot.refresh_from_db()
        assert (visit.status, visit.cancelled_reason, visit.cancelled_by_id) == (
            "cancelled", DEACTIVATION_REASON, admin_user.pk)
        assert visit.slot.booked_count == 0
    visits["past"].refresh_from_db()
    assert visits["past"].status == "completed"
    # The data stays readable to admins.
    assert auth_client(admin_user).get(_url(patient)).status_code == 200
    assert Appointment.objects.filter(patient=patient).count() == 2
    row = AuditEvent.objects.get(action="deactivate", object_type="patient")
    assert (row.patient_id, row.actor_id, row.detail) == (patient.pk, admin_user.pk, {"cancelled_appointments": 2,
                                                                     "left_waitlists": 0})
    # The patient hears of the cancellations (they would otherwise turn up).
    to_patient = [mail for mail in mailoutbox if any("pat@example.com" in to for to in mail.to)]
    assert len(to_patient) == 2 and all("cancelled" in mail.subject.lower() for mail in to_patient)


def test_a_deactivated_patient_cannot_log_in(api_client, admin_user, patient):
    services.patient_deactivate(patient_id=patient.pk, by=admin_user)
    response = api_client.post(reverse("api:auth-login"), {"email": "pat@example.com", "password": TEST_PASSWORD},
                               format="json")
    assert_error(response, 401, "INVALID_CREDENTIALS")


def test_deactivating_twice_changes_nothing_more(auth_client, admin_user, patient, visits):
    assert auth_client(admin_user).delete(_url(patient)).status_code == 204
    assert auth_client(admin_user).delete(_url(patient)).status_code == 204
    assert AuditEvent.objects.filter(action="deactivate", object_type="patient").count() == 1


def test_a_dependent_has_no_login_to_close(auth_client, admin_user, patient, visits):
    child = visits["dependent"]
    assert_error(auth_client(admin_user).delete(_url(child)), 409, "PATIENT_IS_DEPENDENT")
    visits["child"].refresh_from_db()
    patient.user.refresh_from_db()
    assert visits["child"].status == "confirmed" and patient.user.is_active


def _assert_untouched(patient, visits):
    patient.user.refresh_from_db()
    visits["future"].refresh_from_db()
    assert patient.user.is_active and visits["future"].status == "confirmed"
    assert not AuditEvent.objects.filter(action="deactivate").exists()


def test_the_patient_may_not_close_their_own_account_here(auth_client, patient, visits):
    assert_error(auth_client(patient.user).delete(_url(patient)), 403, "PERMISSION_DENIED")
    _assert_untouched(patient, visits)


def test_the_guardian_may_not_delete_their_dependent(auth_client, patient, visits):
    assert_error(auth_client(patient.user).delete(_url(visits["dependent"])), 403, "PERMISSION_DENIED")
    _assert_untouched(patient, visits)


def test_another_patient_gets_404(auth_client, other_patient, patient, visits):
    assert_error(auth_client(other_patient.user).delete(_url(patient)), 404, "NOT_FOUND")
    _assert_untouched(patient, visits)


def test_the_patients_doctor_may_not(auth_client, doctor, patient, visits):
    assert_error(auth_client(doctor.user).delete(_url(patient)), 403, "PERMISSION_DENIED")
    _assert_untouched(patient, visits)


def test_another_doctor_gets_404(auth_client, other_doctor, patient, visits):
    assert_error(auth_client(other_doctor.user).delete(_url(patient)), 404, "NOT_FOUND")
    _assert_untouched(patient, visits)


def test_anonymous_gets_401(api_client, patient, visits):
    assert_error(api_client.delete(_url(patient)), 401, "NOT_AUTHENTICATED")
    _assert_untouched(patient, visits)


def test_an_unknown_patient_is_404(auth_client, admin_user):
    assert_error(auth_client(admin_user).delete("/api/v1/patients/999999"), 404, "NOT_FOUND")


def test_a_plain_admin_may_deactivate_patients(auth_client, patient):
    plain = UserFactory(role="admin")
    assert auth_client(plain).delete(_url(patient)).status_code == 204
    patient.user.refresh_from_db()
    assert not patient.user.is_active


def test_query_count_is_flat_in_the_number_of_visits(auth_client, admin_user, patient, doctor,
                                                      django_assert_max_num_queries):
    for _ in range(3):
        services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk)
    # Each cancellation is the cancel service's own work (locks, place, waitlist, audit):
    # a fixed cost per visit, plus a fixed cost for the account.
    with django_assert_max_num_queries(80):
        assert auth_client(admin_user).delete(_url(patient)).status_code == 204
    assert not Appointment.objects.filter(patient=patient, status="confirmed").exists()


def test_the_patient_leaves_their_waitlists_and_a_freed_place_goes_to_the_next(auth_client, admin_user, patient,
                                                                               other_patient, doctor):
    slot = SlotFactory(doctor=doctor)
    day = timezone.localdate(slot.start, timezone=doctor.clinic.tzinfo)
    mine = services.waitlist_join(patient=patient, doctor=doctor, day=day)
    booked = services.appointment_book(patient=patient, slot_id=slot.pk)
    theirs = services.waitlist_join(patient=other_patient, doctor=doctor, day=day)
    assert auth_client(admin_user).delete(_url(patient)).status_code == 204
    mine.refresh_from_db()
    theirs.refresh_from_db()
    booked.refresh_from_db()
    assert (mine.status, booked.status) == ("left", "cancelled")
    # The place the cancellation freed is offered to the next waiting patient, not to the closed account.
    assert (theirs.status, theirs.offered_slot_id) == ("offered", slot.pk)


def test_no_one_may_book_for_a_closed_account_or_its_family(auth_client, admin_user, patient, doctor):
    """Staff booking on behalf of a closed account (or of its family member)
    get 409 USER_INACTIVE and nothing is booked."""
    child = DependentFactory(guardian=patient)
    assert auth_client(admin_user).delete(_url(patient)).status_code == 204
    slot = SlotFactory(doctor=doctor, capacity=3)
    for who in (patient, child):
        response = auth_client(admin_user).post(
            reverse("api:appointment-book"), {"slot_id": slot.pk, "patient_id": who.pk}, format="json")
        assert_error(response, 409, "USER_INACTIVE")
    slot.refresh_from_db()
    assert slot.booked_count == 0 and not Appointment.objects.filter(slot=slot).exists()


def test_the_service_itself_refuses_anyone_but_an_admin(patient, doctor, other_patient, visits):
    """The rule lives in the service, not only in the view: a doctor or another
    patient calling it closes nothing and cancels nothing."""
    from healthsvc.exceptions import PermissionDeniedError
    from scheduling.services.patients import patient_deactivate

    for caller in (doctor.user, other_patient.user, patient.user):
        with pytest.raises(PermissionDeniedError):
            patient_deactivate(patient_id=patient.pk, by=caller)
    _assert_untouched(patient, visits)
