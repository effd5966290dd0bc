"""The day board: a clinic's day doctor by doctor, with the same figures as
selectors.doctor_day_schedule (and so the doctor's own day page)."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import ClinicFactory, DoctorFactory
from healthsvc.testing import audit_statements
from scheduling import selectors, services
from scheduling.models import Appointment

pytestmark = pytest.mark.django_db

BOARD = "admin:scheduling_appointment_board"



@pytest.fixture
def day(clinic):
    return timezone.localdate(timezone=clinic.tzinfo) + timedelta(days=1)


def _visit(doctor, day, hour, minute=0, **kwargs):
    slot = services.slot_create(
        doctor=doctor, start=datetime.combine(day, time(hour, minute), tzinfo=doctor.clinic.tzinfo), capacity=2
    )
    return services.appointment_book(patient=PatientFactory(), slot_id=slot.pk, **kwargs)


@pytest.fixture
def busy_clinic(clinic, day):
    """Three doctors of the clinic with visits on `day`; one of them needs approval."""
    doctors = [DoctorFactory(clinic=clinic, user__name=name, max_patients_per_day=5)
               for name in ("Asha Rao", "Bina Shah", "Chetan Iyer")]
    doctors[1].requires_approval = True
    doctors[1].save()
    for index, doctor in enumerate(doctors):
        for hour in range(9, 10 + index):
            _visit(doctor, day, hour)
        services.slot_create(doctor=doctor, start=datetime.combine(day, time(15), tzinfo=clinic.tzinfo))
    return doctors


def _get(client, clinic, day, **params):
    return client.get(reverse(BOARD), {"clinic": clinic.pk, "date": f"{day:%Y-%m-%d}", **params})


def test_board_figures_are_the_doctors_day_schedule(staff_client, clinic, day, busy_clinic):
    response = _get(staff_client, clinic, day)
    assert response.status_code == 200
    shown = {s.doctor.pk: (s.booked, s.max_patients_per_day, s.free_places) for s in response.context["schedules"]}
    expected = {}
    for doctor in busy_clinic:
        schedule = selectors.doctor_day_schedule(doctor=doctor, day=day)
        expected[doctor.pk] = (schedule.booked, schedule.max_patients_per_day, schedule.free_places)
    assert shown == expected == {busy_clinic[0].pk: (1, 5, 2), busy_clinic[1].pk: (2, 5, 3),
                                 busy_clinic[2].pk: (3, 5, 2)}
    html = response.content.decode()
    assert "<strong>3 of 5</strong> places booked · <span data-free-places>2</span> still free to book" in html


def test_board_figures_equal_the_doctors_own_day_page(client, staff_client, clinic, day, busy_clinic):
    doctor = busy_clinic[2]
    board = _get(staff_client, clinic, day, doctor=doctor.pk).context["schedules"]
    client.force_login(doctor.user)
    own = client.get(reverse("scheduling:doctor-day"), {"date": f"{day:%Y-%m-%d}"}).context["schedule"]
    assert [(s.booked, s.free_places, [a.pk for a in s.appointments]) for s in board] == [
        (own.booked, own.free_places, [a.pk for a in own.appointments])
    ]


def test_board_figures_equal_the_api_schedule(staff_client, auth_client, admin_user, clinic, day, busy_clinic):
    board = {s.doctor.pk: (s.booked, s.max_patients_per_day, s.free_places, len(s.appointments))
             for s in _get(staff_client, clinic, day).context["schedules"]}
    api = auth_client(admin_user)
    for doctor in busy_clinic:
        body = api.get(reverse("api:doctor-schedule", args=[doctor.pk]), {"date": f"{day:%Y-%m-%d}"}).json()
        assert board[doctor.pk] == (body["booked"], body["max_patients_per_day"], body["free_places"],
                                    len(body["appointments"]))


def test_board_lists_visits_in_clinic_time_with_status_and_link(staff_client, clinic, day, busy_clinic):
    html = _get(staff_client, clinic, day).content.decode()
    pending = Appointment.objects.filter(doctor=busy_clinic[1]).first()
    assert pending.status == Appointment.Status.PENDING
    assert "09:00 IST" in html and "11:00 IST" in html
    assert "Pending: awaiting approval" in html and "bookings need approval" in html
    assert pending.patient.user.name in html
    assert reverse("admin:scheduling_appointment_change", args=[pending.pk]) in html
    assert "times in Asia/Kolkata (IST)" in html


def test_board_shows_one_doctor_when_asked_and_only_this_clinics_active_doctors(
    staff_client, clinic, day, busy_clinic
):
    DoctorFactory(clinic=ClinicFactory(), user__name="Elsewhere Doctor")
    DoctorFactory(clinic=clinic, user__name="Retired Doctor", is_active=False)
    everyone = _get(staff_client, clinic, day)
    assert [s.doctor.user.name for s in everyone.context["schedules"]] == ["Asha Rao", "Bina Shah", "Chetan Iyer"]
    one = _get(staff_client, clinic, day, doctor=busy_clinic[1].pk)
    assert [s.doctor for s in one.context["schedules"]] == [busy_clinic[1]]


def test_board_defaults_to_today_in_the_clinics_zone_with_day_links(staff_client):
    honolulu = ClinicFactory(name="Aloha Clinic", timezone="Pacific/Honolulu")
    response = staff_client.get(reverse(BOARD))
    today = timezone.localdate(timezone=honolulu.tzinfo)
    assert (response.context["clinic"], response.context["day"]) == (honolulu, today)
    html = response.content.decode()
    assert f"date={today - timedelta(days=1):%Y-%m-%d}" in html and f"date={today + timedelta(days=1):%Y-%m-%d}" in html
    assert "Today, " in html


def test_board_links_to_booking_that_doctor_and_day(staff_client, clinic, day, busy_clinic):
    html = _get(staff_client, clinic, day).content.decode()
    assert f"{reverse('admin:scheduling_appointment_book')}?doctor={busy_clinic[0].pk}&amp;day={day:%Y-%m-%d}" in html


def test_board_takes_a_flat_number_of_queries(staff_client, clinic, day, busy_clinic, django_assert_max_num_queries):
    with django_assert_max_num_queries(12 + audit_statements()) as few:  # and its audit row
        _get(staff_client, clinic, day)
    for _ in range(3):
        busy_clinic.append(DoctorFactory(clinic=clinic))
    for doctor in busy_clinic:
        for hour in (12, 13):
            _visit(doctor, day, hour)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert _get(staff_client, clinic, day).status_code == 200


@pytest.mark.parametrize("page", ["admin:index", "admin:scheduling_appointment_changelist",
                                  "admin:scheduling_todayappointment_changelist"])
def test_board_is_linked_from_the_index_the_appointments_and_today(staff_client, page):
    assert reverse(BOARD) in staff_client.get(reverse(page)).content.decode()


def test_patients_cannot_open_the_board(client, patient):
    client.force_login(patient.user)
    assert client.get(reverse(BOARD)).status_code == 302
