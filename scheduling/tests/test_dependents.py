"""Booking for a family member (a dependent): the guardian books, moves and
cancels for them through the one booking core, in the portal and the API; each
appointment says who it is for; nobody but the guardian, the dependent's
doctors and staff sees it. Policy limits count per patient."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import DependentFactory, PatientFactory
from healthsvc.exceptions import PermissionDeniedError
from healthsvc.testing import assert_error
from scheduling import services
from scheduling.exceptions import BookingLimitReachedError, OverlappingAppointmentError
from scheduling.models import Appointment
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

BOOK_URL = reverse("api:appointment-book")
LIST_URL = reverse("api:appointment-list")


@pytest.fixture
def child(patient):
    return DependentFactory(guardian=patient, name="Maya Shah")


@pytest.fixture
def other_child(other_patient):
    return DependentFactory(guardian=other_patient, name="Otto Other")


@pytest.fixture
def childs_visit(child, patient, doctor):
    return services.appointment_book(patient=child, slot_id=SlotFactory(doctor=doctor).pk, reason="Fever",
                                     booked_by=patient.user)


def _html(response) -> str:
    return response.content.decode()


# --- the booking core -------------------------------------------------------------


def test_the_guardian_books_for_a_dependent(child, patient, slot):
    appointment = services.appointment_book(patient=child, slot_id=slot.pk, booked_by=patient.user)
    appointment.refresh_from_db()
    assert (appointment.patient_id, appointment.booked_by_id) == (child.pk, patient.user_id)


@pytest.mark.parametrize("who", ["other_patient", "other_guardian"])
def test_another_patient_may_not_book_for_someone_elses_dependent(request, child, slot, who):
    user = PatientFactory().user if who == "other_guardian" else request.getfixturevalue(who).user
    with pytest.raises(PermissionDeniedError):
        services.appointment_book(patient=child, slot_id=slot.pk, booked_by=user)
    assert not Appointment.objects.exists()


def test_a_parent_and_a_child_can_book_the_same_time(child, patient, doctor):
    slot = SlotFactory(doctor=doctor, capacity=2)
    services.appointment_book(patient=patient, slot_id=slot.pk, booked_by=patient.user)
    services.appointment_book(patient=child, slot_id=slot.pk, booked_by=patient.user)
    assert set(Appointment.objects.values_list("patient_id", flat=True)) == {patient.pk, child.pk}


def test_the_overlap_rule_still_holds_for_the_dependent_itself(child, patient, doctor, other_doctor):
    slot = SlotFactory(doctor=doctor)
    services.appointment_book(patient=child, slot_id=slot.pk, booked_by=patient.user)
    with pytest.raises(OverlappingAppointmentError):
        services.appointment_book(patient=child, slot_id=SlotFactory(doctor=other_doctor, start=slot.start).pk,
                                  booked_by=patient.user)


def test_the_cap_on_future_visits_counts_per_patient(child, patient, doctor, clinic):
    clinic.max_active_bookings_per_patient = 1
    clinic.save()
    services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk, booked_by=patient.user)
    services.appointment_book(patient=child, slot_id=SlotFactory(doctor=doctor).pk, booked_by=patient.user)
    with pytest.raises(BookingLimitReachedError):
        services.appointment_book(patient=child, slot_id=SlotFactory(doctor=doctor).pk, booked_by=patient.user)


def test_the_guardian_moves_and_cancels_a_dependents_visit(childs_visit, patient, doctor):
    new_slot = SlotFactory(doctor=doctor)
    services.appointment_reschedule(appointment_id=childs_visit.pk, slot_id=new_slot.pk, by=patient.user)
    services.appointment_cancel(appointment_id=childs_visit.pk, by=patient.user, reason="Better now")
    childs_visit.refresh_from_db()
    assert (childs_visit.slot_id, childs_visit.status, childs_visit.cancelled_by_id) == (
        new_slot.pk, Appointment.Status.CANCELLED, patient.user_id)


def test_the_dependents_mail_goes_to_the_guardian_and_says_whom_it_is_for(
    child, patient, slot, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_book(patient=child, slot_id=slot.pk, booked_by=patient.user)
    to_patient = [m for m in mail.outbox if "pat@example.com" in m.to[0]]
    assert len(to_patient) == 1
    message = to_patient[0]
    assert message.to == ["Pat Patient <pat@example.com>"]
    assert "Hello Pat Patient" in message.body and "For:   Maya Shah" in message.body
    assert "Maya Shah" in message.alternatives[0][0]
    to_doctor = next(m for m in mail.outbox if m is not message)
    assert "Maya Shah (family member of Pat Patient)" in to_doctor.body
    (ics,) = [a for a in message.attachments if a[0].endswith(".ics")]
    text = ics[1] if isinstance(ics[1], str) else ics[1].decode()
    assert "mailto:pat@example.com" in text and "Maya Shah" in text


# --- the API ------------------------------------------------------------------------


def test_the_patient_books_for_their_dependent_with_patient_id(auth_client, patient, child, slot):
    response = auth_client(patient.user).post(BOOK_URL, {"slot_id": slot.pk, "patient_id": child.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["patient_id"] == child.pk
    assert Appointment.objects.get().booked_by_id == patient.user_id


@pytest.mark.parametrize("who", ["other_patient", "other_guardian"])
def test_booking_for_someone_elses_dependent_is_a_404_and_books_nothing(request, auth_client, child, slot, who):
    user = PatientFactory().user if who == "other_guardian" else request.getfixturevalue(who).user
    if who == "other_guardian":
        DependentFactory(guardian=user.patient)
    response = auth_client(user).post(BOOK_URL, {"slot_id": slot.pk, "patient_id": child.pk}, format="json")
    assert_error(response, 404, "NOT_FOUND")
    assert not Appointment.objects.exists()


def test_a_doctor_may_not_book_for_a_dependent(auth_client, doctor, child, slot):
    response = auth_client(doctor.user).post(BOOK_URL, {"slot_id": slot.pk, "patient_id": child.pk}, format="json")
    assert_error(response, 403, "PERMISSION_DENIED")
    assert not Appointment.objects.exists()


def test_the_guardians_list_includes_dependents_and_patient_id_narrows(auth_client, patient, child, doctor,
                                                                       childs_visit, other_child):
    own = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk, booked_by=patient.user)
    services.appointment_book(patient=other_child, slot_id=SlotFactory(doctor=doctor).pk, booked_by=other_child.guardian.user)
    client = auth_client(patient.user)
    ids = {row["id"] for row in client.get(LIST_URL).json()["results"]}
    assert ids == {own.pk, childs_visit.pk}
    narrowed = client.get(LIST_URL, {"patient_id": child.pk}).json()["results"]
    assert [row["id"] for row in narrowed] == [childs_visit.pk]
    per_patient = client.get(reverse("api:patient-appointment-list", args=[child.pk])).json()["results"]
    assert [row["id"] for row in per_patient] == [childs_visit.pk]


@pytest.mark.parametrize("who", ["other_patient", "other_guardian", "other_doctor"])
def test_may_not_see_or_change_a_dependents_appointment_through_the_api(request, auth_client, childs_visit, child, who):
    user = PatientFactory().user if who == "other_guardian" else request.getfixturevalue(who).user
    if who == "other_guardian":
        DependentFactory(guardian=user.patient)
    client = auth_client(user)
    assert_error(client.get(reverse("api:appointment-detail", args=[childs_visit.pk])), 404, "NOT_FOUND")
    assert childs_visit.pk not in {row["id"] for row in client.get(LIST_URL).json()["results"]}
    cancel = client.post(reverse("api:appointment-cancel", args=[childs_visit.pk]), {}, format="json")
    assert cancel.status_code in (403, 404)
    if who != "other_doctor":
        assert_error(client.get(reverse("api:patient-appointment-list", args=[child.pk])), 404, "NOT_FOUND")
    childs_visit.refresh_from_db()
    assert childs_visit.status == Appointment.Status.CONFIRMED


def test_anonymous_callers_may_not_see_a_dependents_appointment(api_client, childs_visit):
    assert api_client.get(reverse("api:appointment-detail", args=[childs_visit.pk])).status_code == 401


def test_the_dependents_doctor_sees_the_appointment(auth_client, doctor, childs_visit):
    response = auth_client(doctor.user).get(reverse("api:appointment-detail", args=[childs_visit.pk]))
    assert response.status_code == 200 and response.json()["patient_id"] == childs_visit.patient_id


def test_the_guardian_cancels_and_moves_through_the_api(auth_client, patient, childs_visit, doctor):
    client = auth_client(patient.user)
    new_slot = SlotFactory(doctor=doctor)
    moved = client.post(reverse("api:appointment-reschedule", args=[childs_visit.pk]), {"slot_id": new_slot.pk},
                        format="json")
    assert moved.status_code == 200, moved.content
    cancelled = client.post(reverse("api:appointment-cancel", args=[childs_visit.pk]), {"reason": "Better"},
                            format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    childs_visit.refresh_from_db()
    assert (childs_visit.slot_id, childs_visit.status) == (new_slot.pk, Appointment.Status.CANCELLED)


def _count_queries(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    assert response.status_code == 200
    return len(queries)


def _book_family_visits(patient, doctor, admin_user, dependents: int, *, from_day: int = 1):
    first = timezone.now() + timedelta(days=from_day)
    for i in range(dependents):
        child = DependentFactory(guardian=patient)
        slot = SlotFactory(doctor=doctor, start=first + timedelta(days=i))
        services.appointment_book(patient=child, slot_id=slot.pk, booked_by=admin_user)


def test_the_lists_query_counts_stay_flat_with_dependents(auth_client, client, patient, doctor, admin_user):
    api = auth_client(patient.user)
    client.force_login(patient.user)
    _book_family_visits(patient, doctor, admin_user, 1)
    dependents_url = reverse("api:patient-dependents")
    api_one = _count_queries(lambda: api.get(LIST_URL))
    portal_one = _count_queries(lambda: client.get(reverse("scheduling:appointment-list")))
    dependents_one = _count_queries(lambda: api.get(dependents_url))
    profile_one = _count_queries(lambda: client.get(reverse("accounts:profile")))
    _book_family_visits(patient, doctor, admin_user, 6, from_day=2)
    assert _count_queries(lambda: api.get(LIST_URL)) == api_one
    assert _count_queries(lambda: client.get(reverse("scheduling:appointment-list"))) == portal_one
    assert _count_queries(lambda: api.get(dependents_url)) == dependents_one
    assert _count_queries(lambda: client.get(reverse("accounts:profile"))) == profile_one


def test_the_doctors_day_query_count_stays_flat_with_dependents(client, patient, doctor, admin_user):
    client.force_login(doctor.user)
    day = (timezone.now() + timedelta(days=1)).astimezone(doctor.clinic.tzinfo).date()
    url = f"{reverse('scheduling:doctor-day')}?date={day:%Y-%m-%d}"
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    for i, guardian in enumerate([patient, PatientFactory(), PatientFactory()]):
        child = DependentFactory(guardian=guardian)
        services.appointment_book(patient=child, slot_id=SlotFactory(doctor=doctor, start=start + timedelta(
            minutes=30 * i)).pk, booked_by=admin_user)
        if i == 0:
            one = _count_queries(lambda: client.get(url))
    assert _count_queries(lambda: client.get(url)) == one


# --- the portal -------------------------------------------------------------------


def test_the_booking_page_asks_whom_the_visit_is_for_only_with_family(patient_client, patient, slot):
    url = reverse("scheduling:appointment-book", args=[slot.pk])
    assert "Who is this visit for?" not in _html(patient_client.get(url))
    DependentFactory(guardian=patient, name="Maya Shah")
    html = _html(patient_client.get(url))
    assert "Who is this visit for?" in html and "Maya Shah" in html
    # "You" is chosen unless the patient picks a family member.
    (you,) = [tag for tag in html.split("<input") if f'value="{patient.pk}"' in tag and 'name="patient"' in tag]
    assert "checked" in you


def test_the_patient_books_for_a_dependent_in_the_portal(patient_client, patient, child, slot):
    url = reverse("scheduling:appointment-book", args=[slot.pk])
    response = patient_client.post(url, {"patient": child.pk, "reason_for_visit": "Fever"})
    assert response.status_code == 302, _html(response)
    appointment = Appointment.objects.get()
    assert (appointment.patient_id, appointment.booked_by_id) == (child.pk, patient.user_id)
    detail = _html(patient_client.get(response.url))
    assert "for Maya Shah" in detail  # the message
    assert "<dt>For</dt><dd>Maya Shah · booked by you</dd>" in detail
    listing = _html(patient_client.get(reverse("scheduling:appointment-list")))
    assert "For Maya Shah" in listing


def test_without_a_choice_the_visit_is_the_patients_own(patient_client, patient, child, slot):
    patient_client.post(reverse("scheduling:appointment-book", args=[slot.pk]), {"patient": patient.pk,
                                                                                 "reason_for_visit": "Check"})
    assert Appointment.objects.get().patient_id == patient.pk


def test_the_portal_refuses_booking_for_someone_elses_dependent(patient_client, child, other_child, slot):
    response = patient_client.post(reverse("scheduling:appointment-book", args=[slot.pk]),
                                   {"patient": other_child.pk, "reason_for_visit": "Fever"})
    assert response.status_code == 200 and "Choose yourself or one of your family members" in _html(response)
    assert not Appointment.objects.exists()


def test_the_guardian_moves_a_dependents_visit_in_the_portal(patient_client, childs_visit, doctor):
    url = reverse("scheduling:appointment-reschedule", args=[childs_visit.pk])
    assert f"Choose a new time with Dr. {doctor.user.name} for Maya Shah" in _html(patient_client.get(url))
    new_slot = SlotFactory(doctor=doctor)
    response = patient_client.post(url, {"slot": new_slot.pk})
    assert response.status_code == 302
    childs_visit.refresh_from_db()
    assert childs_visit.slot_id == new_slot.pk


def test_the_guardian_cancels_a_dependents_visit_in_the_portal(patient_client, childs_visit):
    url = reverse("scheduling:appointment-cancel", args=[childs_visit.pk])
    assert "Maya Shah" in _html(patient_client.get(url))
    response = patient_client.post(url, {"reason": "Better now"})
    assert response.status_code == 302
    childs_visit.refresh_from_db()
    assert childs_visit.status == Appointment.Status.CANCELLED
    assert "for Maya Shah" in _html(patient_client.get(response.url))


@pytest.mark.parametrize("who", ["other_patient", "other_guardian"])
def test_may_not_open_a_dependents_appointment_in_the_portal(request, client, childs_visit, who):
    user = PatientFactory().user if who == "other_guardian" else request.getfixturevalue(who).user
    if who == "other_guardian":
        DependentFactory(guardian=user.patient)
    client.force_login(user)
    for name in ("appointment-detail", "appointment-cancel", "appointment-reschedule", "appointment-ics"):
        assert client.get(reverse(f"scheduling:{name}", args=[childs_visit.pk])).status_code == 404, name
    assert "Maya Shah" not in _html(client.get(reverse("scheduling:appointment-list")))
    assert client.post(reverse("scheduling:appointment-cancel", args=[childs_visit.pk]),
                       {"reason": "x"}).status_code == 404
    childs_visit.refresh_from_db()
    assert childs_visit.status == Appointment.Status.CONFIRMED


def test_a_doctor_without_the_visit_may_not_open_it_in_the_portal(client, other_doctor, childs_visit):
    client.force_login(other_doctor.user)
    assert client.get(reverse("scheduling:doctor-appointment", args=[childs_visit.pk])).status_code == 404
    assert client.get(reverse("scheduling:appointment-ics", args=[childs_visit.pk])).status_code == 404


def test_anonymous_may_not_open_a_dependents_appointment(client, childs_visit):
    response = client.get(reverse("scheduling:appointment-detail", args=[childs_visit.pk]))
    assert response.status_code == 302 and reverse("accounts:login") in response.url


def test_the_doctor_sees_whom_the_visit_is_for(client, doctor, childs_visit):
    client.force_login(doctor.user)
    html = _html(client.get(reverse("scheduling:doctor-appointment", args=[childs_visit.pk])))
    assert "Visit of Maya Shah (family member of Pat Patient)" in html
    day = childs_visit.start.astimezone(doctor.clinic.tzinfo).date()
    day_html = _html(client.get(f"{reverse('scheduling:doctor-day')}?date={day:%Y-%m-%d}"))
    assert "Maya Shah (family member of Pat Patient)" in day_html


def test_a_time_the_patient_holds_can_still_be_booked_for_a_family_member(patient_client, patient, child, doctor):
    """The holder's own visit is "This is your appointment" only without family:
    with family members the page says they hold it and offers it for one of them;
    choosing themselves again books nothing more."""
    slot = SlotFactory(doctor=doctor, capacity=2)
    services.appointment_book(patient=patient, slot_id=slot.pk)
    url = reverse("scheduling:appointment-book", args=[slot.pk])
    html = _html(patient_client.get(url))
    assert "You already hold this time" in html and "Who is this visit for?" in html
    again = patient_client.post(url, {"patient": patient.pk, "reason_for_visit": "Check"})
    assert again.status_code == 200 and "You already booked this" in _html(again)
    assert Appointment.objects.filter(slot=slot).count() == 1
    booked = patient_client.post(url, {"patient": child.pk, "reason_for_visit": "Fever"})
    assert booked.status_code == 302
    assert sorted(Appointment.objects.filter(slot=slot).values_list("patient_id", flat=True)) == sorted(
        [patient.pk, child.pk])


def test_the_same_day_question_is_about_the_person_the_visit_is_for(patient_client, patient, child, doctor):
    """The parent's own visit that day asks nothing of the child's booking."""
    first = SlotFactory(doctor=doctor)
    services.appointment_book(patient=patient, slot_id=first.pk)
    later = SlotFactory(doctor=doctor, start=first.start + timedelta(hours=2))
    response = patient_client.post(reverse("scheduling:appointment-book", args=[later.pk]),
                                   {"patient": child.pk, "reason_for_visit": "Fever"})
    assert response.status_code == 302, _html(response)
    assert Appointment.objects.get(slot=later).patient_id == child.pk
