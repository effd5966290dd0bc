"""Staff who may only look (the 'view' permissions) cannot run the actions that
change a slot, an appointment or a schedule: Django does not offer them, and a
forged POST changes nothing."""

from datetime import time

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from healthsvc.testing import force_login_verified
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

VIEW = ["view_appointment", "view_todayappointment", "view_appointmentslot", "view_leave", "view_doctor"]


@pytest.fixture
def viewer_client(client):
    viewer = UserFactory(role=User.Role.ADMIN, is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__in=VIEW))
    force_login_verified(client, viewer)
    return client


@pytest.fixture
def booked(patient, doctor, admin_user):
    return services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=doctor).pk, booked_by=admin_user)


def _post_action(client, changelist, action, pk, **extra):
    return client.post(reverse(changelist), {"action": action, ACTION_CHECKBOX_NAME: [pk], "index": 0,
                                             "confirm": "1", "reason": "x", **extra}, follow=True)


@pytest.mark.parametrize("action", ["cancel_appointments", "confirm_appointments", "decline_appointments"])
def test_a_viewer_cannot_change_appointments_through_actions(viewer_client, booked, action):
    listing = viewer_client.get(reverse("admin:scheduling_appointment_changelist"))
    assert listing.status_code == 200 and f'value="{action}"' not in listing.content.decode()
    _post_action(viewer_client, "admin:scheduling_appointment_changelist", action, booked.pk)
    booked.refresh_from_db()
    assert booked.status == "confirmed"


@pytest.fixture
def started_today(admin_user):
    """A visit that began five minutes ago, in a clinic whose local day is well
    under way whatever the hour the tests run at."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from clinics.tests.factories import ClinicFactory, DoctorFactory
    from scheduling.tests.factories import AppointmentFactory

    zones = ["Asia/Kolkata", "Europe/London", "America/New_York", "Asia/Tokyo", "Pacific/Honolulu"]
    zone = next(z for z in zones if 2 <= timezone.localtime(timezone.now(), ZoneInfo(z)).hour <= 21)
    doctor = DoctorFactory(clinic=ClinicFactory(timezone=zone))
    slot = SlotFactory(doctor=doctor, start=timezone.now() - timedelta(minutes=5), booked_count=1)
    return AppointmentFactory(slot=slot)


@pytest.mark.parametrize("action", ["mark_completed", "mark_no_show"])
def test_a_viewer_cannot_record_outcomes_on_todays_appointments(viewer_client, client, admin_user, started_today,
                                                              action):
    _post_action(viewer_client, "admin:scheduling_todayappointment_changelist", action, started_today.pk)
    started_today.refresh_from_db()
    assert started_today.status == "confirmed"
    force_login_verified(client, admin_user)  # and an admin can: the row was there to act on
    _post_action(client, "admin:scheduling_todayappointment_changelist", action, started_today.pk)
    started_today.refresh_from_db()
    assert started_today.status != "confirmed"


def test_a_viewer_cannot_close_slots_generate_or_cancel_the_visits_of_a_leave(viewer_client, doctor, booked):
    free = SlotFactory(doctor=doctor)
    _post_action(viewer_client, "admin:scheduling_appointmentslot_changelist", "deactivate_slots", free.pk)
    free.refresh_from_db()
    assert free.is_active
    services.availability_rule_create(doctor=doctor, weekday=0, start_time=time(9), end_time=time(10))
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    before = AppointmentSlot.objects.count()
    _post_action(viewer_client, "admin:clinics_doctor_changelist", "generate_slots", doctor.pk,
                 date_from=f"{today}", date_to=f"{today}")
    assert AppointmentSlot.objects.count() == before
    leave = services.leave_create(doctor=doctor, start=booked.start, end=booked.end)
    _post_action(viewer_client, "admin:scheduling_leave_changelist", "cancel_visits_inside", leave.pk)
    assert Appointment.objects.get(pk=booked.pk).status == "confirmed"
