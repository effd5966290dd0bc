"""The waitlist: patients wait for a doctor's day, freed places are offered
in the order they joined and held for the first, who accepts, leaves or lets
the offer run out to the next."""

from datetime import time, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django.utils.html import escape

from accounts.tests.factories import PatientFactory
from scheduling.exceptions import InvalidStateError, SlotFullError, SlotHasBookingsError
from scheduling.models import Appointment, AppointmentSlot, AvailabilityRule, WaitlistEntry
from scheduling.selectors import slot_list_bookable
from scheduling.services import (
    appointment_book,
    appointment_cancel,
    leave_create,
    leave_delete,
    slot_create,
    slot_update,
    slots_generate,
    slots_reopen_day,
)
from scheduling.services.booking import appointment_book_offer
from scheduling.services.slots import slot_start_at
from scheduling.services.waitlist import waitlist_join, waitlist_leave
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db
Status = WaitlistEntry.Status
URL = "/api/v1/waitlist"


def local_day(slot):
    return timezone.localtime(slot.start, slot.clinic.tzinfo).date()


@pytest.fixture
def full_slot(slot, other_patient):
    """The doctor's only slot that day, booked by another patient."""
    appointment_book(patient=other_patient, slot_id=slot.pk)
    slot.refresh_from_db()
    return slot


def _free(slot, patient, capture):
    """The booking on the slot is cancelled, its commit callbacks (mail) run."""
    appointment = Appointment.objects.get(slot=slot, status=Appointment.Status.CONFIRMED)
    with capture(execute=True):
        appointment_cancel(appointment_id=appointment.pk, by=appointment.patient.user)


# --- joining ------------------------------------------------------------------------


def test_a_patient_joins_and_lists_their_entry(auth_client, patient, doctor, full_slot):
    client = auth_client(patient.user)
    response = client.post(URL, {"doctor_id": doctor.pk, "date": local_day(full_slot).isoformat()}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "patient_id", "doctor_id", "date", "status", "offered_slot_id", "offered_until",
                         "created_at"}
    assert body["status"] == "waiting" and body["patient_id"] == patient.pk and body["offered_slot_id"] is None
    listed = client.get(URL).json()["results"]
    assert [entry["id"] for entry in listed] == [body["id"]]


def test_joining_twice_is_refused(auth_client, patient, doctor, full_slot):
    client = auth_client(patient.user)
    data = {"doctor_id": doctor.pk, "date": local_day(full_slot).isoformat()}
    assert client.post(URL, data, format="json").status_code == 201
    response = client.post(URL, data, format="json")
    assert response.status_code == 409
    assert response.json()["error_code"] == "ALREADY_ON_WAITLIST"
    assert WaitlistEntry.objects.filter(patient=patient).count() == 1


def test_after_leaving_a_patient_may_join_again(patient, doctor, full_slot):
    entry = waitlist_join(patient=patient, doctor=doctor, day=local_day(full_slot))
    waitlist_leave(entry_id=entry.pk)
    assert waitlist_join(patient=patient, doctor=doctor, day=local_day(full_slot)).status == Status.WAITING


@pytest.mark.parametrize("date", ["2001-01-01", "20300301", "tomorrow", None])
def test_a_bad_or_past_date_is_a_400(auth_client, patient, doctor, date):
    response = auth_client(patient.user).post(URL, {"doctor_id": doctor.pk, "date": date}, format="json")
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR" and "date" in response.json()["errors"]


def test_a_date_too_far_ahead_is_a_400(auth_client, patient, doctor):
    far = timezone.localdate() + timedelta(days=400)
    response = auth_client(patient.user).post(URL, {"doctor_id": doctor.pk, "date": far.isoformat()}, format="json")
    assert response.status_code == 400 and "date" in response.json()["errors"]


def test_an_unknown_doctor_is_a_404(auth_client, patient):
    response = auth_client(patient.user).post(URL, {"doctor_id": 999999, "date": "2099-01-01"}, format="json")
    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"


def test_a_doctor_may_not_join(auth_client, doctor, full_slot):
    response = auth_client(doctor.user).post(URL, {"doctor_id": doctor.pk, "date": local_day(full_slot).isoformat()},
                                             format="json")
    assert response.status_code == 403 and response.json()["error_code"] == "PERMISSION_DENIED"


# --- offering -----------------------------------------------------------------------


def test_the_first_joined_gets_the_first_offer(patient, doctor, full_slot, django_capture_on_commit_callbacks):
    second = PatientFactory()
    first = waitlist_join(patient=patient, doctor=doctor, day=local_day(full_slot))
    later = waitlist_join(patient=second, doctor=doctor, day=local_day(full_slot))
    _free(full_slot, patient, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    later.refresh_from_db()
    assert first.status == Status.OFFERED and first.offered_slot_id == full_slot.pk
    assert first.offered_until > timezone.now() + timedelta(minutes=29)
    assert later.status == Status.WAITING
    full_slot.refresh_from_db()
    assert (full_slot.booked_count, full_slot.held_count) == (0, 1)
    offers = [m for m in mail.outbox if m.to[0].endswith(f"<{patient.user.email}>")]
    assert len(offers) == 1 and "/waitlist/" in offers[0].body and "held for you" in offers[0].body


def test_a_held_place_cannot_be_booked_by_someone_else(auth_client, patient, doctor, full_slot,
                                                        django_capture_on_commit_callbacks):
    waitlist_join(patient=patient, doctor=doctor, day=local_day(full_slot))
    _free(full_slot, patient, django_capture_on_commit_callbacks)
    stranger = PatientFactory()
    response = auth_client(stranger.user).post("/api/v1/appointments/book", {"slot_id": full_slot.pk}, format="json")
    assert response.status_code == 409 and response.json()["error_code"] == "SLOT_FULL"
    assert not slot_list_bookable(doctor_id=doctor.pk).filter(pk=full_slot.pk).exists()


def test_a_held_place_keeps_its_slot_open(patient, doctor, full_slot, django_capture_on_commit_callbacks):
    waitlist_join(patient=patient, doctor=doctor, day=local_day(full_slot))
    _free(full_slot, patient, django_capture_on_commit_callbacks)
    with pytest.raises(SlotHasBookingsError):
        slot_update(slot_id=full_slot.pk, is_active=False)


def test_raising_the_capacity_offers_the_new_place(patient, doctor, full_slot):
    entry = waitlist_join(patient=patient, doctor=doctor, day=local_day(full_slot))
    slot_update(slot_id=full_slot.pk, capacity=2)
    entry.refresh_from_db()
    assert entry.status == Status.OFFERED and entry.offered_slot_id == full_slot.pk


def test_generated_slots_are_offered(patient, doctor):
    day = timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=3)
    entry = waitlist_join(patient=patient, doctor=doctor, day=day)
    AvailabilityRule.objects.create(doctor=doctor, clinic=doctor.clinic, weekday=day.weekday(),
                                    start_time="09:00", end_time="10:00", slot_minutes=30)
    slots_generate(doctor=doctor, date_from=day, date_to=day)
    entry.refresh_from_db()
    first = AppointmentSlot.objects.filter(doctor=doctor).order_by("start").first()
    assert entry.status == Status.OFFERED and entry.offered_slot_id == first.pk


# --- accepting, expiring, leaving ---------------------------------------------------


def _offered(patient, doctor, slot, capture, *more):
    entries = [waitlist_join(patient=p, doctor=doctor, day=local_day(slot)) for p in (patient, *more)]
    _free(slot, patient, capture)
    for entry in entries:
        entry.refresh_from_db()
    return entries


def test_accepting_books_the_held_place(auth_client, patient, doctor, full_slot, django_capture_on_commit_callbacks):
    (entry,) = _offered(patient, doctor, full_slot, django_capture_on_commit_callbacks)
    response = auth_client(patient.user).post(f"{URL}/{entry.pk}/accept")
    assert response.status_code == 201, response.content
    assert response.json()["slot_id"] == full_slot.pk and response.json()["patient_id"] == patient.pk
    entry.refresh_from_db()
    full_slot.refresh_from_db()
    assert entry.status == Status.BOOKED and entry.appointment_id == response.json()["id"]
    assert (full_slot.booked_count, full_slot.held_count) == (1, 0)
    again = auth_client(patient.user).post(f"{URL}/{entry.pk}/accept")
    assert again.status_code == 409 and again.json()["error_code"] == "INVALID_STATE"


def test_a_waiting_entry_cannot_be_accepted(auth_client, patient, doctor, full_slot):
    entry = waitlist_join(patient=patient, doctor=doctor, day=local_day(full_slot))
    response = auth_client(patient.user).post(f"{URL}/{entry.pk}/accept")
    assert response.status_code == 409 and response.json()["error_code"] == "INVALID_STATE"


def test_the_hold_expires_to_the_next_patient(patient, doctor, full_slot, django_capture_on_commit_callbacks):
    second = PatientFactory()
    first, later = _offered(patient, doctor, full_slot, django_capture_on_commit_callbacks, second)
    WaitlistEntry.objects.filter(pk=first.pk).update(offered_until=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("expire_waitlist_offers", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first.refresh_from_db()
    later.refresh_from_db()
    full_slot.refresh_from_db()
    assert first.status == Status.EXPIRED
    assert later.status == Status.OFFERED and later.offered_slot_id == full_slot.pk
    assert full_slot.held_count == 1 and full_slot.booked_count == 0
    assert any(m.to[0].endswith(f"<{second.user.email}>") for m in mail.outbox)


def test_an_expired_offer_cannot_be_accepted_and_moves_on(patient, doctor, full_slot,
                                                           django_capture_on_commit_callbacks):
    second = PatientFactory()
    first, later = _offered(patient, doctor, full_slot, django_capture_on_commit_callbacks, second)
    WaitlistEntry.objects.filter(pk=first.pk).update(offered_until=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvalidStateError):
        appointment_book_offer(entry_id=first.pk, patient=patient)
    later.refresh_from_db()
    assert later.status == Status.OFFERED
    assert not Appointment.objects.filter(patient=patient, slot=full_slot).exists()


def test_the_last_expired_hold_frees_the_place(patient, doctor, full_slot, django_capture_on_commit_callbacks):
    (entry,) = _offered(patient, doctor, full_slot, django_capture_on_commit_callbacks)
    WaitlistEntry.objects.filter(pk=entry.pk).update(offered_until=timezone.now() - timedelta(seconds=1))
    call_command("expire_waitlist_offers", stdout=open("/dev/null", "w"))  # noqa: SIM115
    full_slot.refresh_from_db()
    assert full_slot.held_count == 0
    assert appointment_book(patient=PatientFactory(), slot_id=full_slot.pk).slot_id == full_slot.pk


def test_leaving_releases_the_place_to_the_next(auth_client, patient, doctor, full_slot,
                                                django_capture_on_commit_callbacks):
    second = PatientFactory()
    first, later = _offered(patient, doctor, full_slot, django_capture_on_commit_callbacks, second)
    response = auth_client(patient.user).delete(f"{URL}/{first.pk}")
    assert response.status_code == 204
    first.refresh_from_db()
    later.refresh_from_db()
    assert first.status == Status.LEFT and later.status == Status.OFFERED
    full_slot.refresh_from_db()
    assert full_slot.held_count == 1
    again = auth_client(patient.user).delete(f"{URL}/{first.pk}")
    assert again.status_code == 409 and again.json()["error_code"] == "INVALID_STATE"


def test_an_admin_may_remove_an_entry(auth_client, admin_user, patient, doctor, full_slot):
    entry = waitlist_join(patient=patient, doctor=doctor, day=local_day(full_slot))
    assert auth_client(admin_user).delete(f"{URL}/{entry.pk}").status_code == 204
    assert auth_client(admin_user).get(URL).json()["results"][0]["status"] == "left"


# --- what another patient may not do --------------------------------------------------


def test_another_patient_may_not_see_accept_or_remove_an_entry(auth_client, patient, doctor, full_slot,
                                                               django_capture_on_commit_callbacks):
    (entry,) = _offered(patient, doctor, full_slot, django_capture_on_commit_callbacks)
    stranger = auth_client(PatientFactory().user)
    assert stranger.get(URL).json()["results"] == []
    for response in (stranger.post(f"{URL}/{entry.pk}/accept"), stranger.delete(f"{URL}/{entry.pk}")):
        assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"
    entry.refresh_from_db()
    assert entry.status == Status.OFFERED


def test_a_doctor_may_not_list_accept_or_remove_entries(auth_client, patient, doctor, full_slot):
    entry = waitlist_join(patient=patient, doctor=doctor, day=local_day(full_slot))
    client = auth_client(doctor.user)
    for response in (client.get(URL), client.post(f"{URL}/{entry.pk}/accept"), client.delete(f"{URL}/{entry.pk}")):
        assert response.status_code == 403 and response.json()["error_code"] == "PERMISSION_DENIED"
    entry.refresh_from_db()
    assert entry.status == Status.WAITING  # the refusals changed nothing


def test_anonymous_callers_are_refused(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.post(URL, {}, format="json").status_code == 401


# --- the portal -----------------------------------------------------------------------


def test_a_full_day_on_the_doctors_page_offers_its_waitlist(patient_client, doctor, full_slot):
    week = local_day(full_slot).isoformat()
    page = patient_client.get(f"/doctors/{doctor.pk}/?week={week}").content.decode()
    assert "Join the waitlist for this day" in page
    response = patient_client.post(f"/doctors/{doctor.pk}/waitlist/", {"date": week})
    assert response.status_code == 302 and response["Location"] == "/waitlist/"
    assert WaitlistEntry.objects.get().status == Status.WAITING
    assert "Leave" in patient_client.get("/waitlist/").content.decode()


def test_the_portal_accepts_an_offer(patient_client, patient, doctor, full_slot, django_capture_on_commit_callbacks):
    (entry,) = _offered(patient, doctor, full_slot, django_capture_on_commit_callbacks)
    assert "Accept" in patient_client.get("/waitlist/").content.decode()
    response = patient_client.post(f"/waitlist/{entry.pk}/accept/")
    appointment = Appointment.objects.get(patient=patient, slot=full_slot)
    assert response.status_code == 302 and response["Location"] == f"/appointments/{appointment.pk}/"


def test_the_portal_hides_another_patients_entry(client, patient, doctor, full_slot):
    entry = waitlist_join(patient=patient, doctor=doctor, day=local_day(full_slot))
    client.force_login(PatientFactory().user)
    assert client.post(f"/waitlist/{entry.pk}/leave/").status_code == 404
    assert client.post(f"/waitlist/{entry.pk}/accept/").status_code == 404
    entry.refresh_from_db()
    assert entry.status == entry.Status.WAITING


def test_a_full_slot_without_held_places_is_never_overbooked(patient, doctor, full_slot):
    with pytest.raises(SlotFullError):
        appointment_book(patient=patient, slot_id=full_slot.pk)


# --- the admin ------------------------------------------------------------------------


def test_the_admin_lists_entries_with_filters_and_removes_through_the_service(
    staff_client, patient, doctor, full_slot, django_capture_on_commit_callbacks
):
    second = PatientFactory()
    first, later = _offered(patient, doctor, full_slot, django_capture_on_commit_callbacks, second)
    url = "/admin/scheduling/waitlistentry/"
    page = staff_client.get(url, {"status__exact": "offered"})
    assert page.status_code == 200 and page.context["cl"].result_count == 1
    response = staff_client.post(url, {"action": "remove_from_waitlist", "_selected_action": [first.pk]})
    assert response.status_code == 302
    first.refresh_from_db()
    later.refresh_from_db()
    assert first.status == Status.LEFT and later.status == Status.OFFERED
    assert staff_client.get(f"{url}{first.pk}/delete/").status_code == 403


def test_a_place_too_soon_to_book_online_is_not_offered(patient, doctor, clinic):
    clinic.min_notice_minutes = 48 * 60
    clinic.save()
    soon = SlotFactory(doctor=doctor, start=timezone.now().replace(second=0, microsecond=0) + timedelta(hours=3))
    entry = waitlist_join(patient=patient, doctor=doctor, day=local_day(soon))
    slot_update(slot_id=soon.pk, capacity=2)
    entry.refresh_from_db()
    soon.refresh_from_db()
    assert entry.status == Status.WAITING and soon.held_count == 0


def test_the_capacity_cannot_go_below_the_booked_and_held_places(patient, doctor, full_slot):
    from scheduling.exceptions import CapacityBelowBookedError

    waitlist_join(patient=patient, doctor=doctor, day=local_day(full_slot))
    slot_update(slot_id=full_slot.pk, capacity=2)  # the new place is held for the patient
    with pytest.raises(CapacityBelowBookedError, match="1 held for the waitlist"):
        slot_update(slot_id=full_slot.pk, capacity=1)
    full_slot.refresh_from_db()
    assert (full_slot.capacity, full_slot.booked_count, full_slot.held_count) == (2, 1, 1)


def test_a_visit_moved_away_offers_its_place(patient, other_patient, doctor, full_slot):
    from scheduling.services import appointment_reschedule

    entry = waitlist_join(patient=patient, doctor=doctor, day=local_day(full_slot))
    moved = Appointment.objects.get(slot=full_slot)
    appointment_reschedule(appointment_id=moved.pk, slot_id=SlotFactory(doctor=doctor).pk, by=other_patient.user)
    entry.refresh_from_db()
    assert entry.status == Status.OFFERED and entry.offered_slot_id == full_slot.pk


# --- every way a place frees is offered ---------------------------------------------


def _at(doctor, day, hour):
    return slot_start_at(clinic=doctor.clinic, day=day, wall=time(hour))


@pytest.fixture
def waited_day(patient, other_patient, doctor):
    """A day three days ahead whose one open slot (10:00) is booked, and a
    patient waiting for it."""
    day = timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=3)
    booked = SlotFactory(doctor=doctor, start=_at(doctor, day, 10), capacity=1)
    appointment_book(patient=other_patient, slot_id=booked.pk)
    entry = waitlist_join(patient=patient, doctor=doctor, day=day)
    return day, entry


def _offer_of(entry):
    entry.refresh_from_db()
    return entry.status, entry.offered_slot_id


def test_a_slot_opened_by_hand_is_offered(waited_day, doctor, django_capture_on_commit_callbacks):
    day, entry = waited_day
    with django_capture_on_commit_callbacks(execute=True):
        slot = slot_create(doctor=doctor, start=_at(doctor, day, 15), duration_minutes=30)
    assert _offer_of(entry) == (Status.OFFERED, slot.pk)
    slot.refresh_from_db()
    assert (slot.booked_count, slot.held_count) == (0, 1)
    (message,) = mail.outbox
    assert message.to == [f"{entry.patient.user.name} <{entry.patient.user.email}>"]
    clinic = doctor.clinic
    assert clinic.address in message.body and clinic.city in message.body  # where to go, in both parts
    assert escape(clinic.address) in message.alternatives[0][0]


@pytest.mark.parametrize("how", ["one", "day"])
def test_a_reopened_slot_is_offered(how, waited_day, doctor):
    day, entry = waited_day
    closed = SlotFactory(doctor=doctor, start=_at(doctor, day, 15), is_active=False)
    if how == "one":
        slot_update(slot_id=closed.pk, is_active=True)
    else:
        assert slots_reopen_day(doctor=doctor, day=day) == 1
    assert _offer_of(entry) == (Status.OFFERED, closed.pk)


def test_deleting_a_leave_offers_its_places(waited_day, doctor):
    day, entry = waited_day
    free = SlotFactory(doctor=doctor, start=_at(doctor, day, 15))
    leave = leave_create(doctor=doctor, start=_at(doctor, day, 14), end=_at(doctor, day, 17))
    slot_update(slot_id=free.pk, capacity=2)  # a place freed inside a leave is not offered
    assert _offer_of(entry) == (Status.WAITING, None)
    leave_delete(leave_id=leave.pk)
    assert _offer_of(entry) == (Status.OFFERED, free.pk)


def test_a_slot_opened_on_another_day_is_not_offered(waited_day, doctor):
    day, entry = waited_day
    slot_create(doctor=doctor, start=_at(doctor, day + timedelta(days=1), 10), duration_minutes=30)
    assert _offer_of(entry) == (Status.WAITING, None)
