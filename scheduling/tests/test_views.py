"""Portal pages for booking (patients) and running the day (doctors): they
render, they check who is asking, and every write goes through the core."""

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import PatientFactory, UserFactory
from clinics.tests.factories import DoctorFactory
from healthsvc.testing import force_login_verified
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db




@pytest.fixture
def booked(patient, slot):
    return services.appointment_book(patient=patient, slot_id=slot.pk, reason="Chest pain on stairs")


def _local_day(moment, clinic):
    return timezone.localtime(moment, clinic.tzinfo).date()


def _start_it(appointment):
    """Move an appointment (and its slot) to have started ten minutes ago."""
    start = timezone.now() - timedelta(minutes=10)
    AppointmentSlot.objects.filter(pk=appointment.slot_id).update(start=start, end=start + timedelta(minutes=30))
    Appointment.objects.filter(pk=appointment.pk).update(start=start, end=start + timedelta(minutes=30))
    appointment.refresh_from_db()
    return appointment


def _html(response):
    return response.content.decode()


# --- who may open what ----------------------------------------------------------

PATIENT_PAGES = ["appointment-list"]
PATIENT_APPOINTMENT_PAGES = ["appointment-detail", "appointment-cancel", "appointment-reschedule"]
DOCTOR_PAGES = ["doctor-day", "slot-list", "my-week", "leave-list"]


@pytest.mark.parametrize("name", PATIENT_PAGES + DOCTOR_PAGES)
def test_pages_send_visitors_to_log_in(client, name):
    url = reverse(f"scheduling:{name}")
    response = client.get(url)
    assert response.status_code == 302 and response.url == f"{reverse('accounts:login')}?next={url}"


def test_booking_page_sends_visitors_to_log_in_and_back(client, slot):
    url = reverse("scheduling:appointment-book", args=[slot.pk])
    assert client.get(url).url == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.parametrize("name", PATIENT_APPOINTMENT_PAGES)
def test_patient_typing_another_patients_appointment_gets_404(client, other_patient, name, booked):
    client.force_login(other_patient.user)
    assert client.get(reverse(f"scheduling:{name}", args=[booked.pk])).status_code == 404
    assert client.post(reverse(f"scheduling:{name}", args=[booked.pk]), {"reason": "x"}).status_code == 404
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CONFIRMED


def test_another_patient_cannot_download_the_ics(client, other_patient, booked):
    client.force_login(other_patient.user)
    assert client.get(reverse("scheduling:appointment-ics", args=[booked.pk])).status_code == 404


@pytest.mark.parametrize("name", PATIENT_APPOINTMENT_PAGES)
def test_doctors_do_not_use_patient_pages(doctor_client, booked, name):
    assert doctor_client.get(reverse(f"scheduling:{name}", args=[booked.pk])).status_code == 403


def test_doctor_cannot_book(doctor_client, slot):
    response = doctor_client.post(reverse("scheduling:appointment-book", args=[slot.pk]), {"reason_for_visit": "x"})
    assert response.status_code == 403 and not Appointment.objects.exists()


@pytest.mark.parametrize("name", DOCTOR_PAGES)
def test_doctor_pages_need_a_doctor(patient_client, admin_user, name):
    assert patient_client.get(reverse(f"scheduling:{name}")).status_code == 403
    force_login_verified(patient_client, admin_user)
    assert patient_client.get(reverse(f"scheduling:{name}")).status_code == 403


def test_doctor_account_without_a_profile_sees_why(client):
    client.force_login(UserFactory(role=User.Role.DOCTOR, is_verified=False))
    response = client.get(reverse("scheduling:doctor-day"))
    assert response.status_code == 403 and "not set up yet" in _html(response)


def test_doctor_cannot_open_another_doctors_visit(client, other_doctor, booked):
    client.force_login(other_doctor.user)
    url = reverse("scheduling:doctor-appointment", args=[booked.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"notes": "sneaky"}).status_code == 404
    booked.refresh_from_db()
    assert booked.notes == ""


# --- booking -----------------------------------------------------------------------


def test_booking_page_confirms_the_time_in_the_clinic_zone(patient_client, slot):
    response = patient_client.get(reverse("scheduling:appointment-book", args=[slot.pk]))
    html = _html(response)
    local = timezone.localtime(slot.start, slot.clinic.tzinfo)
    assert response.status_code == 200 and "Confirm your appointment" in html
    assert f"{local:%H:%M}" in html and "IST (Asia/Kolkata)" in html
    assert 'name="csrfmiddlewaretoken"' in html and 'for="id_reason_for_visit"' in html


def test_booking_goes_through_the_core_for_the_logged_in_patient(patient_client, patient, other_patient, slot):
    response = patient_client.post(
        reverse("scheduling:appointment-book", args=[slot.pk]),
        # A forged patient id is ignored: the patient is whoever is logged in.
        {"reason_for_visit": "Palpitations", "patient": other_patient.pk, "patient_id": other_patient.pk},
    )
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("scheduling:appointment-detail", args=[appointment.pk])
    assert (appointment.patient, appointment.status) == (patient, "confirmed")
    assert appointment.reason_for_visit == "Palpitations"
    assert appointment.booked_by == patient.user
    slot.refresh_from_db()
    assert slot.booked_count == 1
    assert "Booked: Dr." in _html(patient_client.get(response.url))


def test_booking_needs_a_reason(patient_client, slot):
    response = patient_client.post(reverse("scheduling:appointment-book", args=[slot.pk]), {"reason_for_visit": " "})
    assert response.status_code == 200 and "This field is required." in _html(response)
    assert not Appointment.objects.exists()


def test_booking_requires_the_csrf_token(patient, slot):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient.user)
    response = client.post(reverse("scheduling:appointment-book", args=[slot.pk]), {"reason_for_visit": "x"})
    assert response.status_code == 403 and not Appointment.objects.exists()


def test_last_place_taken_a_moment_earlier_shows_a_clear_message_and_other_times(
    patient_client, patient, other_patient, slot, doctor
):
    later = SlotFactory(doctor=doctor)
    page = patient_client.get(reverse("scheduling:appointment-book", args=[slot.pk]))
    assert "Book this appointment" in _html(page)
    services.appointment_book(patient=other_patient, slot_id=slot.pk)  # someone else is quicker

    response = patient_client.post(reverse("scheduling:appointment-book", args=[slot.pk]), {"reason_for_visit": "x"})
    html = _html(response)
    assert response.status_code == 409
    assert "was just taken by someone else. Nothing was booked." in html
    assert reverse("scheduling:appointment-book", args=[later.pk]) in html
    assert "Book this appointment" not in html
    assert not Appointment.objects.filter(patient=patient).exists()
    slot.refresh_from_db()
    assert slot.booked_count == 1


def test_full_slot_is_not_offered_on_the_booking_page(patient_client, other_patient, slot, doctor):
    services.appointment_book(patient=other_patient, slot_id=slot.pk)
    later = SlotFactory(doctor=doctor)
    html = _html(patient_client.get(reverse("scheduling:appointment-book", args=[slot.pk])))
    assert "is no longer free" in html and "Book this appointment" not in html
    assert reverse("scheduling:appointment-book", args=[later.pk]) in html


@pytest.mark.parametrize("change", [{"is_active": False}, {"start": timezone.now() - timedelta(hours=1)}])
def test_unbookable_slot_is_refused_with_nothing_booked(patient_client, patient, slot, change):
    page = patient_client.get(reverse("scheduling:appointment-book", args=[slot.pk]))
    assert page.status_code == 200
    AppointmentSlot.objects.filter(pk=slot.pk).update(**change)
    response = patient_client.post(reverse("scheduling:appointment-book", args=[slot.pk]), {"reason_for_visit": "x"})
    assert response.status_code == 409 and "can no longer be booked" in _html(response)
    assert not Appointment.objects.exists()


def test_booking_the_same_slot_twice_says_you_already_booked_it(patient_client, booked, slot):
    # Back after booking and submit again: not an error, the appointment they hold (issue 12).
    response = patient_client.post(reverse("scheduling:appointment-book", args=[slot.pk]), {"reason_for_visit": "x"})
    html = _html(response)
    assert response.status_code == 200
    assert "You already booked this." in html and reverse("scheduling:appointment-detail", args=[booked.pk]) in html
    assert Appointment.objects.count() == 1


def test_unknown_slot_is_404(patient_client):
    assert patient_client.get(reverse("scheduling:appointment-book", args=[999999])).status_code == 404


# --- my appointments --------------------------------------------------------------


def test_my_appointments_lists_upcoming_and_past_with_status_doctor_clinic_and_time(
    patient_client, patient, other_patient, doctor
):
    upcoming = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk, reason="a")
    cancelled = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk, reason="b")
    services.appointment_cancel(appointment_id=cancelled.pk, by=patient.user)
    past = _start_it(services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk))
    two_days = timedelta(days=2)
    Appointment.objects.filter(pk=past.pk).update(start=past.start - two_days, end=past.end - two_days)
    not_mine = services.appointment_book(patient=other_patient, slot_id=SlotFactory(doctor=doctor).pk)

    response = patient_client.get(reverse("scheduling:appointment-list"))
    html = _html(response)
    assert list(response.context["upcoming"]) == [upcoming]
    assert set(response.context["past"].object_list) == {cancelled, past}
    assert reverse("scheduling:appointment-detail", args=[not_mine.pk]) not in html
    assert "Confirmed" in html and "Cancelled" in html
    assert doctor.user.name in html and doctor.clinic.name in html and "(Asia/Kolkata)" in html


def test_appointment_detail_offers_calendar_reschedule_and_cancel(patient_client, booked):
    html = _html(patient_client.get(reverse("scheduling:appointment-detail", args=[booked.pk])))
    assert "Chest pain on stairs" in html
    for name in ("appointment-ics", "appointment-reschedule", "appointment-cancel"):
        assert reverse(f"scheduling:{name}", args=[booked.pk]) in html


def test_cancelled_appointment_offers_no_changes(patient_client, patient, booked):
    services.appointment_cancel(appointment_id=booked.pk, by=patient.user, reason="Feeling better")
    html = _html(patient_client.get(reverse("scheduling:appointment-detail", args=[booked.pk])))
    assert "Feeling better" in html
    assert reverse("scheduling:appointment-cancel", args=[booked.pk]) not in html


# --- cancel -------------------------------------------------------------------------


def test_cancel_asks_for_confirmation_first(patient_client, booked):
    response = patient_client.get(reverse("scheduling:appointment-cancel", args=[booked.pk]))
    assert response.status_code == 200 and "Cancel this appointment?" in _html(response)
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CONFIRMED


def test_cancel_needs_a_reason(patient_client, booked):
    response = patient_client.post(reverse("scheduling:appointment-cancel", args=[booked.pk]), {"reason": ""})
    assert response.status_code == 200 and "This field is required." in _html(response)
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CONFIRMED


def test_cancel_goes_through_the_core(patient_client, patient, booked, slot):
    response = patient_client.post(reverse("scheduling:appointment-cancel", args=[booked.pk]), {"reason": "Travelling"})
    assert response.status_code == 302 and response.url == reverse("scheduling:appointment-list")
    booked.refresh_from_db()
    slot.refresh_from_db()
    assert (booked.status, booked.cancelled_reason, booked.cancelled_by) == ("cancelled", "Travelling", patient.user)
    assert slot.booked_count == 0
    assert "Cancelled your appointment" in _html(patient_client.get(response.url))


def test_cancelling_twice_says_there_is_nothing_to_cancel(patient_client, patient, booked):
    services.appointment_cancel(appointment_id=booked.pk, by=patient.user)
    url = reverse("scheduling:appointment-cancel", args=[booked.pk])
    response = patient_client.post(url, {"reason": "x"}, follow=True)
    assert "This appointment is cancelled; it cannot be cancelled here." in _html(response)
    booked.slot.refresh_from_db()
    assert booked.slot.booked_count == 0  # the place was given back once, not twice


@pytest.mark.parametrize("action", ["appointment-cancel", "appointment-reschedule"])
def test_a_visit_that_has_begun_cannot_be_changed_and_says_why(patient_client, booked, slot, action):
    _start_it(booked)  # the core refuses it too (Appointment.is_changeable)
    url = reverse(f"scheduling:{action}", args=[booked.pk])
    response = patient_client.post(url, {"reason": "Too late"}, follow=True)
    assert "This visit has already started" in _html(response)
    booked.refresh_from_db()
    slot.refresh_from_db()
    assert (booked.status, slot.booked_count) == ("confirmed", 1)


# --- reschedule ------------------------------------------------------------------


def test_reschedule_offers_the_same_doctors_other_free_times(patient_client, booked, doctor, other_doctor):
    mine = SlotFactory(doctor=doctor)
    theirs = SlotFactory(doctor=other_doctor)
    week = _local_day(mine.start, mine.clinic)
    html = _html(patient_client.get(reverse("scheduling:appointment-reschedule", args=[booked.pk]), {"week": week}))
    assert f'value="{mine.pk}"' in html
    assert f'value="{theirs.pk}"' not in html and f'value="{booked.slot_id}"' not in html


def test_reschedule_moves_the_appointment_through_the_core(patient_client, booked, doctor, slot):
    new = SlotFactory(doctor=doctor)
    response = patient_client.post(reverse("scheduling:appointment-reschedule", args=[booked.pk]), {"slot": new.pk})
    assert response.status_code == 302
    booked.refresh_from_db()
    slot.refresh_from_db()
    new.refresh_from_db()
    assert booked.slot == new and booked.start == new.start
    assert (slot.booked_count, new.booked_count) == (0, 1)


def test_reschedule_to_another_doctors_slot_is_a_form_error(patient_client, booked, other_doctor, slot):
    theirs = SlotFactory(doctor=other_doctor)
    response = patient_client.post(reverse("scheduling:appointment-reschedule", args=[booked.pk]), {"slot": theirs.pk})
    assert response.status_code == 200 and "Choose one of the free times shown." in _html(response)
    booked.refresh_from_db()
    assert booked.slot == slot


def test_reschedule_to_a_just_taken_slot_changes_nothing(patient_client, booked, other_patient, doctor, slot):
    new = SlotFactory(doctor=doctor)
    services.appointment_book(patient=other_patient, slot_id=new.pk)
    response = patient_client.post(reverse("scheduling:appointment-reschedule", args=[booked.pk]), {"slot": new.pk})
    assert response.status_code == 409
    assert "just taken by someone else. Your appointment was not changed." in _html(response)
    booked.refresh_from_db()
    assert booked.slot == slot


# --- .ics ---------------------------------------------------------------------------


def test_patient_downloads_the_appointment_as_ics(patient_client, booked):
    response = patient_client.get(reverse("scheduling:appointment-ics", args=[booked.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="appointment-{booked.pk}.ics"'
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and f"UID:appointment-{booked.pk}@healthsvc" in body


def test_the_doctor_downloads_it_too(doctor_client, booked):
    assert doctor_client.get(reverse("scheduling:appointment-ics", args=[booked.pk])).status_code == 200


def test_ics_needs_login(client, booked):
    assert client.get(reverse("scheduling:appointment-ics", args=[booked.pk])).status_code == 302


# --- the doctor's day -------------------------------------------------------------


def test_doctor_day_lists_patients_reasons_statuses_and_load(doctor_client, doctor, patient, other_patient):
    tz = doctor.clinic.tzinfo
    day_after = timezone.localdate(timezone=tz) + timedelta(days=2)  # two times of one local day, whatever the hour
    booked = services.appointment_book(patient=patient, reason="Chest pain on stairs", slot_id=SlotFactory(
        doctor=doctor, start=datetime.combine(day_after, time(10), tzinfo=tz)).pk)
    cancelled = services.appointment_book(
        patient=other_patient, slot_id=SlotFactory(doctor=doctor, start=booked.start + timedelta(hours=2)).pk
    )
    services.appointment_cancel(appointment_id=cancelled.pk, by=other_patient.user)
    someone_elses = services.appointment_book(
        patient=PatientFactory(), slot_id=SlotFactory(doctor=DoctorFactory(clinic=doctor.clinic), start=booked.start).pk
    )
    day = _local_day(booked.start, doctor.clinic)
    response = doctor_client.get(reverse("scheduling:doctor-day"), {"date": f"{day}"})
    html = _html(response)
    assert response.status_code == 200
    assert response.context["appointments"] == [booked, cancelled]
    assert "Pat Patient" in html and "Chest pain on stairs" in html and "Confirmed" in html and "Cancelled" in html
    assert f"1 of {doctor.max_patients_per_day}" in html
    assert someone_elses.patient.user.name not in html


def test_doctor_day_defaults_to_today_and_lists_the_coming_days(doctor_client, doctor, patient):
    tz = doctor.clinic.tzinfo
    today = timezone.localdate(timezone=tz)
    soon = SlotFactory(doctor=doctor, start=datetime.combine(today + timedelta(days=2), time(10), tzinfo=tz))
    later = SlotFactory(doctor=doctor, start=datetime.combine(today + timedelta(days=20), time(10), tzinfo=tz))
    booked_soon = services.appointment_book(patient=patient, slot_id=soon.pk, reason="Soon")
    services.appointment_book(patient=patient, slot_id=later.pk, reason="Much later")
    response = doctor_client.get(reverse("scheduling:doctor-day"))
    assert response.status_code == 200 and response.context["day"] == today
    groups = response.context["upcoming_days"]
    assert [(g["date"], g["appointments"], g["load"]) for g in groups] == [
        (today + timedelta(days=2), [booked_soon], 1)
    ]
    html = _html(response)
    assert "Asia/Kolkata" in html and f'value="{today:%Y-%m-%d}"' in html


def test_doctor_day_ignores_a_bad_date(doctor_client):
    assert doctor_client.get(reverse("scheduling:doctor-day"), {"date": "not-a-date"}).status_code == 200


def test_doctor_marks_a_started_visit_completed_with_notes(doctor_client, doctor, booked):
    _start_it(booked)
    url = reverse("scheduling:doctor-appointment", args=[booked.pk])
    page = doctor_client.get(url)
    assert page.status_code == 200 and "Chest pain on stairs" in _html(page)
    response = doctor_client.post(url, {"status": "completed", "notes": "BP 120/80. Review in 3 months."})
    assert response.status_code == 302 and response.url.startswith(reverse("scheduling:doctor-day"))
    booked.refresh_from_db()
    assert (booked.status, booked.notes) == ("completed", "BP 120/80. Review in 3 months.")


def test_doctor_marks_a_no_show(doctor_client, booked):
    _start_it(booked)
    doctor_client.post(reverse("scheduling:doctor-appointment", args=[booked.pk]), {"status": "no_show", "notes": ""})
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.NO_SHOW


def test_outcome_before_the_visit_is_refused_with_the_cores_message(doctor_client, booked):
    response = doctor_client.post(reverse("scheduling:doctor-appointment", args=[booked.pk]), {"status": "completed"})
    assert response.status_code == 409 and "only once it has started" in _html(response)
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CONFIRMED


def test_doctor_may_add_notes_before_the_visit(doctor_client, booked):
    doctor_client.post(reverse("scheduling:doctor-appointment", args=[booked.pk]), {"status": "", "notes": "Bring ECG"})
    booked.refresh_from_db()
    assert (booked.status, booked.notes) == ("confirmed", "Bring ECG")


def test_doctor_visit_shows_the_patients_medical_summary(doctor_client, patient, booked):
    patient.allergies, patient.blood_group = "Penicillin", "O+"
    patient.save()
    html = _html(doctor_client.get(reverse("scheduling:doctor-appointment", args=[booked.pk])))
    assert "Penicillin" in html and "O+" in html


# --- opening slots ------------------------------------------------------------------


def _slot_form(day, at="10:30", **overrides):
    return {"date": f"{day}", "start_time": at, "duration_minutes": "30", "capacity": "1", **overrides}


def test_slot_page_renders_the_form_and_upcoming_slots(doctor_client, slot):
    response = doctor_client.get(reverse("scheduling:slot-list"))
    html = _html(response)
    assert response.status_code == 200 and 'for="id_start_time"' in html and "Asia/Kolkata" in html
    assert "0 of 1" in html


def test_slot_page_lists_only_the_doctors_own_slots(doctor_client, slot, other_doctor):
    SlotFactory(doctor=other_doctor, capacity=7)
    html = _html(doctor_client.get(reverse("scheduling:slot-list")))
    assert "0 of 1" in html and "0 of 7" not in html


def test_doctor_opens_a_slot_in_the_clinic_time_zone(doctor_client, doctor):
    day = timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=3)
    response = doctor_client.post(reverse("scheduling:slot-list"), _slot_form(day, capacity="2"))
    assert response.status_code == 302
    slot = AppointmentSlot.objects.get(doctor=doctor)
    assert slot.start == datetime.combine(day, time(10, 30), tzinfo=doctor.clinic.tzinfo)
    assert (slot.capacity, slot.duration_minutes, slot.clinic) == (2, 30, doctor.clinic)
    assert "Opened a slot" in _html(doctor_client.get(response.url))


def test_overlapping_slot_is_refused_with_a_message(doctor_client, doctor):
    day = timezone.localdate(timezone=doctor.clinic.tzinfo) + timedelta(days=3)
    doctor_client.post(reverse("scheduling:slot-list"), _slot_form(day))
    response = doctor_client.post(reverse("scheduling:slot-list"), _slot_form(day, at="10:45"))
    assert response.status_code == 409 and "overlapping" in _html(response)
    assert AppointmentSlot.objects.filter(doctor=doctor).count() == 1


def test_slot_in_the_past_is_a_form_error(doctor_client, doctor):
    day = timezone.localdate(timezone=doctor.clinic.tzinfo) - timedelta(days=1)
    response = doctor_client.post(reverse("scheduling:slot-list"), _slot_form(day))
    assert response.status_code == 400 and "The slot must start in the future." in _html(response)
    assert not AppointmentSlot.objects.exists()


def test_slot_form_checks_its_fields(doctor_client):
    data = {"date": "", "start_time": "25:00", "capacity": "0"}
    response = doctor_client.post(reverse("scheduling:slot-list"), data)
    html = _html(response)
    assert response.status_code == 200 and "Enter a valid time." in html
    assert "Ensure this value is greater than or equal to 1." in html
    assert not AppointmentSlot.objects.exists()


def test_unverified_doctor_sees_the_refusal(client, unverified_doctor):
    client.force_login(unverified_doctor.user)
    page = client.get(reverse("scheduling:slot-list"))
    assert "waiting for verification" in _html(page)
    day = timezone.localdate(timezone=unverified_doctor.clinic.tzinfo) + timedelta(days=3)
    response = client.post(reverse("scheduling:slot-list"), _slot_form(day))
    assert response.status_code == 403
    assert "must be verified by an admin before you can open slots" in _html(response)
    assert not AppointmentSlot.objects.exists()
