"""The appointment's state machine: every allowed and every forbidden
transition, through the services that make them, and approval."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import PatientFactory
from clinics.tests.factories import DoctorFactory
from scheduling import services
from scheduling.exceptions import InvalidStateError, SlotFullError
from scheduling.models import Appointment
from scheduling.services.lifecycle import TRANSITIONS, transition_allowed
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db

S = Appointment.Status
ALL = [S.PENDING, S.CONFIRMED, S.CANCELLED, S.COMPLETED, S.NO_SHOW]
ALLOWED = {
    (S.PENDING, S.CONFIRMED), (S.PENDING, S.CANCELLED),
    (S.CONFIRMED, S.CANCELLED), (S.CONFIRMED, S.COMPLETED), (S.CONFIRMED, S.NO_SHOW),
}


@pytest.mark.parametrize("current", ALL)
@pytest.mark.parametrize("new", ALL)
def test_the_transition_table(current, new):
    assert transition_allowed(current, new) == ((current, new) in ALLOWED)


def test_the_table_names_every_status_and_final_ones_lead_nowhere():
    assert set(TRANSITIONS) == set(ALL)
    assert all(not TRANSITIONS[status] for status in (S.CANCELLED, S.COMPLETED, S.NO_SHOW))


def _appointment_in(status: str, *, started: bool) -> Appointment:
    """A raw row in `status`, its visit begun an hour ago or tomorrow; the slot's
    booked_count as the booking core would have left it."""
    start = timezone.now() + (timedelta(hours=-1) if started else timedelta(days=1))
    slot = SlotFactory(start=start, capacity=2, booked_count=0 if status == S.CANCELLED else 1)
    extra = {"cancelled_at": timezone.now()} if status == S.CANCELLED else {}
    return AppointmentFactory(slot=slot, status=status, **extra)


def _make(appointment: Appointment, new: str, by):
    """Ask the service that makes `new` from the appointment's status."""
    if new == S.CONFIRMED:
        return services.appointment_confirm(appointment_id=appointment.pk, by=by)
    if new == S.CANCELLED:
        return services.appointment_cancel(appointment_id=appointment.pk, by=by, reason="Test")
    if new in (S.COMPLETED, S.NO_SHOW):
        return services.appointment_set_outcome(appointment_id=appointment.pk, status=new, by=by)
    raise AssertionError(f"no service makes {new}")


@pytest.mark.parametrize("current", ALL)
@pytest.mark.parametrize("new", [S.CONFIRMED, S.CANCELLED, S.COMPLETED, S.NO_SHOW])
def test_each_service_makes_exactly_the_allowed_transitions(current, new, admin_user):
    # Outcomes are recorded once the visit has begun; cancelling is for one that has not.
    appointment = _appointment_in(current, started=new in (S.COMPLETED, S.NO_SHOW))
    booked_before = appointment.slot.booked_count
    if current == new and new in (S.COMPLETED, S.NO_SHOW):
        # Recording the outcome a visit already has is no transition: a PATCH that changes nothing.
        assert _make(appointment, new, admin_user).status == new
        return
    if (current, new) in ALLOWED:
        assert _make(appointment, new, admin_user).status == new
    else:
        with pytest.raises(InvalidStateError):
            _make(appointment, new, admin_user)
    appointment.refresh_from_db()
    appointment.slot.refresh_from_db()
    assert appointment.status == (new if (current, new) in ALLOWED else current)
    freed = (current, new) in ALLOWED and new == S.CANCELLED
    assert appointment.slot.booked_count == booked_before - (1 if freed else 0)


@pytest.mark.parametrize("current", ALL)
def test_only_a_pending_appointment_can_be_declined(current, admin_user):
    appointment = _appointment_in(current, started=False)
    if current == S.PENDING:
        declined = services.appointment_decline(appointment_id=appointment.pk, by=admin_user, reason="Full")
        assert (declined.status, declined.cancelled_reason, declined.cancelled_by) == (S.CANCELLED, "Full", admin_user)
    else:
        with pytest.raises(InvalidStateError):
            services.appointment_decline(appointment_id=appointment.pk, by=admin_user, reason="Full")
        appointment.refresh_from_db()
        assert appointment.status == current


def test_a_pending_visit_gets_no_outcome_until_confirmed(admin_user):
    appointment = _appointment_in(S.PENDING, started=True)
    with pytest.raises(InvalidStateError, match="Confirm the appointment"):
        services.appointment_set_outcome(appointment_id=appointment.pk, status=S.COMPLETED, by=admin_user)


def test_a_doctor_who_requires_approval_gets_pending_bookings_that_hold_their_place(patient):
    doctor = DoctorFactory(requires_approval=True)
    slot = SlotFactory(doctor=doctor, capacity=1)
    appointment = services.appointment_book(patient=patient, slot_id=slot.pk)
    slot.refresh_from_db()
    assert appointment.status == S.PENDING and slot.booked_count == 1
    assert services.appointment_book(patient=PatientFactory(), slot_id=SlotFactory(doctor=DoctorFactory()).pk
                                     ).status == S.CONFIRMED
    with pytest.raises(SlotFullError):
        services.appointment_book(patient=PatientFactory(), slot_id=slot.pk)


def test_confirming_keeps_the_place_and_declining_returns_it(patient, other_patient):
    doctor = DoctorFactory(requires_approval=True)
    slot = SlotFactory(doctor=doctor, capacity=2)
    first = services.appointment_book(patient=patient, slot_id=slot.pk)
    second = services.appointment_book(patient=other_patient, slot_id=slot.pk)
    services.appointment_confirm(appointment_id=first.pk, by=doctor.user)
    services.appointment_decline(appointment_id=second.pk, by=doctor.user, reason="Please see Dr. Rao instead")
    slot.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status, slot.booked_count) == (S.CONFIRMED, S.CANCELLED, 1)
    assert second.cancelled_reason == "Please see Dr. Rao instead" and second.cancelled_at is not None


def test_a_visit_moved_to_a_doctor_who_approves_bookings_waits_for_that_doctor(patient):
    visit = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=DoctorFactory()).pk)
    approving = DoctorFactory(requires_approval=True)
    moved = services.appointment_reschedule(appointment_id=visit.pk, slot_id=SlotFactory(doctor=approving).pk,
                                            by=patient.user)
    moved.refresh_from_db()
    assert (moved.doctor_id, moved.status) == (approving.pk, S.PENDING)
    back = services.appointment_reschedule(appointment_id=visit.pk, slot_id=SlotFactory(doctor=DoctorFactory()).pk,
                                           by=patient.user)
    assert back.status == S.CONFIRMED


def test_a_visit_moved_to_another_time_of_the_same_doctor_keeps_its_status(patient):
    approving = DoctorFactory(requires_approval=True)
    visit = services.appointment_book(patient=patient, slot_id=SlotFactory(doctor=approving).pk)
    services.appointment_confirm(appointment_id=visit.pk, by=approving.user)
    moved = services.appointment_reschedule(appointment_id=visit.pk, slot_id=SlotFactory(doctor=approving).pk,
                                            by=patient.user)
    assert moved.status == S.CONFIRMED


def test_no_code_outside_the_state_machine_changes_a_status_or_a_place_count():
    """Every assignment to `.status` and every queryset `.update(status=...)`
    lives in services/lifecycle.py (a waitlist entry's in services/waitlist.py,
    a queued background task's in tasks.py);
    every change of `booked_count` and `held_count` in services/places.py
    (tests and migrations aside)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    owners = {
        "status": {"scheduling/services/lifecycle.py", "scheduling/services/waitlist.py", "scheduling/tasks.py"},
        "booked_count": {"scheduling/services/places.py"},
        "held_count": {"scheduling/services/places.py"},
    }
    found = []
    paths = [path for app in ("healthsvc", "accounts", "clinics", "scheduling") for path in (root / app).rglob("*.py")]
    for path in sorted(paths):
        relative = path.relative_to(root).as_posix()
        if "/tests/" in relative or "/migrations/" in relative:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = [t.attr for t in getattr(node, "targets", [getattr(node, "target", None)])
                           if isinstance(t, ast.Attribute)]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update":
                targets = [kw.arg for kw in node.keywords]
            found += [(name, relative) for name in targets if name in owners and relative not in owners[name]]
    assert found == []
