"""The "Schedules" endpoints: weekly availability rules and slot generation,
leaves, a doctor's day, changing a slot, confirming and declining a pending
booking, and an appointment's calendar file. Each "may not" (a patient,
another doctor, an anonymous caller) is a test of its own: these are a
doctor's schedule and their patients' visits."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from healthsvc.testing import assert_error
from scheduling import services
from scheduling.models import AppointmentSlot, AvailabilityRule, Leave
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

RULE_FIELDS = {"id", "doctor_id", "clinic_id", "weekday", "start_time", "end_time", "slot_minutes", "capacity",
               "break_start", "break_end", "timezone"}
LEAVE_FIELDS = {"id", "doctor_id", "start", "end", "start_local", "end_local", "reason", "created_at"}
SCHEDULE_FIELDS = {"date", "timezone", "booked", "max_patients_per_day", "free_places", "appointments"}
PAGE_FIELDS = {"count", "next", "previous", "results"}
MISSING = 10**9

_error = assert_error


def rules_url(doctor_id):
    return reverse("api:doctor-availability-list", args=[doctor_id])


def rule_url(rule_id):
    return reverse("api:availability-rule-detail", args=[rule_id])


def generate_url(doctor_id):
    return reverse("api:doctor-availability-generate", args=[doctor_id])


def leaves_url(doctor_id):
    return reverse("api:doctor-leave-list", args=[doctor_id])


def leave_url(leave_id):
    return reverse("api:leave-detail", args=[leave_id])


def schedule_url(doctor_id):
    return reverse("api:doctor-schedule", args=[doctor_id])


def slot_url(slot_id):
    return reverse("api:slot-detail", args=[slot_id])


def appointment_url(name, appointment_id):
    return reverse(f"api:appointment-{name}", args=[appointment_id])


def _z(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _today(clinic):
    return timezone.localdate(timezone=clinic.tzinfo)


def _local(clinic, day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=clinic.tzinfo)


def _rule(doctor, weekday=0, start=9, end=12, **fields):
    return services.availability_rule_create(
        doctor=doctor, weekday=weekday, start_time=time(start), end_time=time(end), **fields
    )


def _leave(doctor, start, end, reason=""):
    return services.leave_create(doctor=doctor, start=start, end=end, reason=reason)


def _rule_row(rule):
    return AvailabilityRule.objects.filter(pk=rule.pk).values(
        "weekday", "start_time", "end_time", "slot_minutes", "capacity", "break_start", "break_end"
    ).first()


RULE_BODY = {"weekday": 0, "start_time": "09:00", "end_time": "13:00", "slot_minutes": 20, "capacity": 2,
             "break_start": "11:00", "break_end": "11:30"}


# --- GET /doctors/{id}/availability --------------------------------------------------------


def test_doctor_lists_their_weekly_rules_monday_first(auth_client, doctor, other_doctor):
    tuesday = _rule(doctor, weekday=1, start=14, end=18)
    monday = _rule(doctor, weekday=0, start=9, end=13, break_start=time(11), break_end=time(11, 30), capacity=2)
    _rule(other_doctor, weekday=0)

    response = auth_client(doctor.user).get(rules_url(doctor.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == PAGE_FIELDS and body["count"] == 2
    assert [row["id"] for row in body["results"]] == [monday.pk, tuesday.pk]
    assert body["results"][0] == {
        "id": monday.pk, "doctor_id": doctor.pk, "clinic_id": doctor.clinic_id, "weekday": 0,
        "start_time": "09:00", "end_time": "13:00", "slot_minutes": 30, "capacity": 2,
        "break_start": "11:00", "break_end": "11:30", "timezone": "Asia/Kolkata",
    }
    assert (body["results"][1]["break_start"], body["results"][1]["break_end"]) == (None, None)


def test_admin_lists_any_doctors_rules(auth_client, admin_user, doctor):
    rule = _rule(doctor)
    response = auth_client(admin_user).get(rules_url(doctor.pk))
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [rule.pk]


def test_other_doctor_cannot_list_a_doctors_rules(auth_client, doctor, other_doctor):
    _rule(doctor)
    _error(auth_client(other_doctor.user).get(rules_url(doctor.pk)), 403, "PERMISSION_DENIED")


def test_patient_cannot_list_a_doctors_rules(auth_client, doctor, patient):
    _rule(doctor)
    _error(auth_client(patient.user).get(rules_url(doctor.pk)), 403, "PERMISSION_DENIED")


def test_anonymous_cannot_list_a_doctors_rules(api_client, doctor):
    _rule(doctor)
    _error(api_client.get(rules_url(doctor.pk)), 401, "NOT_AUTHENTICATED")


def test_rules_of_an_unknown_doctor_are_not_found(auth_client, admin_user, doctor):
    _error(auth_client(admin_user).get(rules_url(MISSING)), 404, "NOT_FOUND")
    _error(auth_client(doctor.user).get(rules_url(MISSING)), 404, "NOT_FOUND")


@pytest.mark.parametrize("rows", [1, 30])
def test_rule_list_query_count_is_flat(auth_client, doctor, rows, django_assert_max_num_queries):
    for i in range(rows):  # five two-hour rules a day, none overlapping
        _rule(doctor, weekday=i % 7, start=2 * (i // 7), end=2 * (i // 7) + 1)
    client = auth_client(doctor.user)
    # The token's user, their doctor profile, the count, one page (with the clinics).
    with django_assert_max_num_queries(4):
        response = client.get(rules_url(doctor.pk), {"page_size": 100})
    assert len(response.json()["results"]) == rows


# --- POST /doctors/{id}/availability -------------------------------------------------------


def test_doctor_adds_a_weekly_rule_in_the_clinics_local_time(auth_client, doctor):
    response = auth_client(doctor.user).post(rules_url(doctor.pk), RULE_BODY)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == RULE_FIELDS
    assert body == {"id": body["id"], "doctor_id": doctor.pk, "clinic_id": doctor.clinic_id, **RULE_BODY,
                    "timezone": "Asia/Kolkata"}
    rule = AvailabilityRule.objects.get(pk=body["id"])
    assert (rule.doctor_id, rule.clinic_id) == (doctor.pk, doctor.clinic_id)
    assert _rule_row(rule) == {"weekday": 0, "start_time": time(9), "end_time": time(13), "slot_minutes": 20,
                               "capacity": 2, "break_start": time(11), "break_end": time(11, 30)}


def test_a_new_rule_defaults_to_30_minute_slots_for_one_patient_at_the_doctors_clinic(auth_client, doctor):
    response = auth_client(doctor.user).post(rules_url(doctor.pk),
                                             {"weekday": 6, "start_time": "10:00", "end_time": "12:00"})
    assert response.status_code == 201, response.content
    rule = AvailabilityRule.objects.get(pk=response.json()["id"])
    assert (rule.slot_minutes, rule.capacity, rule.clinic_id, rule.has_break) == (30, 1, doctor.clinic_id, False)


def test_admin_adds_a_rule_for_a_doctor(auth_client, admin_user, doctor):
    response = auth_client(admin_user).post(rules_url(doctor.pk), RULE_BODY)
    assert response.status_code == 201, response.content
    assert AvailabilityRule.objects.get().doctor_id == doctor.pk


def test_unverified_doctor_may_add_their_own_rules(auth_client, unverified_doctor):
    response = auth_client(unverified_doctor.user).post(rules_url(unverified_doctor.pk), RULE_BODY)
    assert response.status_code == 201, response.content
    assert AvailabilityRule.objects.filter(doctor=unverified_doctor).count() == 1


def test_other_doctor_cannot_add_rules_for_a_doctor(auth_client, doctor, other_doctor):
    _error(auth_client(other_doctor.user).post(rules_url(doctor.pk), RULE_BODY), 403, "PERMISSION_DENIED")
    assert not AvailabilityRule.objects.exists()


def test_patient_cannot_add_rules(auth_client, doctor, patient):
    _error(auth_client(patient.user).post(rules_url(doctor.pk), RULE_BODY), 403, "PERMISSION_DENIED")
    assert not AvailabilityRule.objects.exists()


def test_anonymous_cannot_add_rules(api_client, doctor):
    _error(api_client.post(rules_url(doctor.pk), RULE_BODY), 401, "NOT_AUTHENTICATED")
    assert not AvailabilityRule.objects.exists()


def test_a_rule_for_an_unknown_doctor_is_not_found(auth_client, admin_user):
    _error(auth_client(admin_user).post(rules_url(MISSING), RULE_BODY), 404, "NOT_FOUND")
    assert not AvailabilityRule.objects.exists()


def test_overlapping_rule_is_a_conflict(auth_client, doctor):
    existing = _rule(doctor, weekday=0, start=8, end=10)
    body = _error(auth_client(doctor.user).post(rules_url(doctor.pk), RULE_BODY), 409, "AVAILABILITY_OVERLAP")
    assert "08:00" in body["detail"]
    assert list(AvailabilityRule.objects.values_list("pk", flat=True)) == [existing.pk]


def test_the_same_hours_on_another_weekday_or_of_another_doctor_do_not_overlap(auth_client, doctor, other_doctor):
    _rule(doctor, weekday=1, start=9, end=13)
    _rule(other_doctor, weekday=0, start=9, end=13)
    assert auth_client(doctor.user).post(rules_url(doctor.pk), RULE_BODY).status_code == 201
    assert sorted(AvailabilityRule.objects.filter(doctor=doctor).values_list("weekday", flat=True)) == [0, 1]


@pytest.mark.parametrize(("field", "value"), [
    ("weekday", 7), ("weekday", -1), ("weekday", "0"), ("weekday", True),
    ("start_time", "9:00"), ("start_time", "09:00:00"), ("start_time", "24:00"), ("start_time", 900),
    ("start_time", None), ("end_time", "9pm"), ("slot_minutes", 4), ("slot_minutes", 481), ("capacity", 0),
    ("capacity", 101), ("break_start", "noon"), ("clinic_id", 0), ("clinic_id", "1"),
])
def test_create_rule_rejects_bad_shape(auth_client, doctor, field, value):
    body = _error(auth_client(doctor.user).post(rules_url(doctor.pk), {**RULE_BODY, field: value}),
                  400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {field}
    assert not AvailabilityRule.objects.exists()


def test_create_rule_lists_the_missing_fields(auth_client, doctor):
    body = _error(auth_client(doctor.user).post(rules_url(doctor.pk), {}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"weekday", "start_time", "end_time"}


@pytest.mark.parametrize(("change", "field"), [
    ({"start_time": "13:00", "end_time": "09:00"}, "end_time"),
    ({"end_time": "09:00"}, "end_time"),
    ({"break_end": None}, "break_end"),
    ({"break_start": None}, "break_start"),
    ({"break_start": "08:00", "break_end": "08:30"}, "break_start"),
    ({"break_start": "11:30", "break_end": "11:00"}, "break_end"),
])
def test_create_rule_rejects_hours_that_do_not_fit_together(auth_client, doctor, change, field):
    body = _error(auth_client(doctor.user).post(rules_url(doctor.pk), {**RULE_BODY, **change}),
                  400, "VALIDATION_ERROR")
    assert field in body["errors"]
    assert not AvailabilityRule.objects.exists()


def test_a_rule_at_a_clinic_the_doctor_does_not_work_at_is_refused(auth_client, admin_user, doctor):
    from clinics.tests.factories import ClinicFactory

    elsewhere = ClinicFactory()
    body = _error(auth_client(admin_user).post(rules_url(doctor.pk), {**RULE_BODY, "clinic_id": elsewhere.pk}),
                  400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"clinic_id"}
    body = _error(auth_client(admin_user).post(rules_url(doctor.pk), {**RULE_BODY, "clinic_id": MISSING}),
                  400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"clinic_id"}
    assert not AvailabilityRule.objects.exists()


# --- PATCH /availability/{id} --------------------------------------------------------------


def test_doctor_changes_a_rule_and_the_slots_already_made_stay(auth_client, doctor):
    tomorrow = _today(doctor.clinic) + timedelta(days=1)
    rule = _rule(doctor, weekday=tomorrow.weekday(), start=9, end=11)
    services.slots_generate(doctor=doctor, date_from=tomorrow, date_to=tomorrow)

    response = auth_client(doctor.user).patch(rule_url(rule.pk), {"slot_minutes": 60, "end_time": "12:00"})

    assert response.status_code == 200, response.content
    assert (response.json()["slot_minutes"], response.json()["end_time"], response.json()["start_time"]) == (
        60, "12:00", "09:00")
    assert _rule_row(rule)["slot_minutes"] == 60 and _rule_row(rule)["end_time"] == time(12)
    assert list(AppointmentSlot.objects.values_list("duration_minutes", flat=True)) == [30, 30, 30, 30]


def test_patch_with_nulls_removes_the_break(auth_client, doctor):
    rule = _rule(doctor, break_start=time(10), break_end=time(10, 30))
    response = auth_client(doctor.user).patch(rule_url(rule.pk), {"break_start": None, "break_end": None})
    assert response.status_code == 200, response.content
    assert (response.json()["break_start"], response.json()["break_end"]) == (None, None)
    assert (_rule_row(rule)["break_start"], _rule_row(rule)["break_end"]) == (None, None)


def test_admin_changes_any_rule(auth_client, admin_user, doctor):
    rule = _rule(doctor)
    assert auth_client(admin_user).patch(rule_url(rule.pk), {"capacity": 4}).json()["capacity"] == 4
    assert _rule_row(rule)["capacity"] == 4


def test_patching_a_rule_into_another_is_a_conflict(auth_client, doctor):
    _rule(doctor, weekday=0, start=9, end=12)
    rule = _rule(doctor, weekday=1, start=9, end=12)
    _error(auth_client(doctor.user).patch(rule_url(rule.pk), {"weekday": 0}), 409, "AVAILABILITY_OVERLAP")
    assert _rule_row(rule)["weekday"] == 1


def test_patch_refuses_an_end_before_the_start_and_changes_nothing(auth_client, doctor):
    rule = _rule(doctor, start=9, end=12)
    body = _error(auth_client(doctor.user).patch(rule_url(rule.pk), {"end_time": "08:00"}), 400, "VALIDATION_ERROR")
    assert "end_time" in body["errors"]
    assert _rule_row(rule)["end_time"] == time(12)


def test_other_doctor_cannot_change_a_doctors_rule(auth_client, doctor, other_doctor):
    rule = _rule(doctor)
    _error(auth_client(other_doctor.user).patch(rule_url(rule.pk), {"capacity": 5}), 403, "PERMISSION_DENIED")
    assert _rule_row(rule)["capacity"] == 1


def test_patient_cannot_change_a_rule(auth_client, doctor, patient):
    rule = _rule(doctor)
    _error(auth_client(patient.user).patch(rule_url(rule.pk), {"capacity": 5}), 403, "PERMISSION_DENIED")
    assert _rule_row(rule)["capacity"] == 1


def test_anonymous_cannot_change_a_rule(api_client, doctor):
    rule = _rule(doctor)
    _error(api_client.patch(rule_url(rule.pk), {"capacity": 5}), 401, "NOT_AUTHENTICATED")
    assert _rule_row(rule)["capacity"] == 1


def test_changing_an_unknown_rule_is_not_found(auth_client, admin_user):
    _error(auth_client(admin_user).patch(rule_url(MISSING), {"capacity": 5}), 404, "NOT_FOUND")


# --- DELETE /availability/{id} -------------------------------------------------------------


def test_doctor_removes_a_rule_and_its_slots_stay(auth_client, doctor):
    tomorrow = _today(doctor.clinic) + timedelta(days=1)
    rule = _rule(doctor, weekday=tomorrow.weekday(), start=9, end=10)
    services.slots_generate(doctor=doctor, date_from=tomorrow, date_to=tomorrow)
    response = auth_client(doctor.user).delete(rule_url(rule.pk))
    assert response.status_code == 204, response.content
    assert not AvailabilityRule.objects.exists()
    assert AppointmentSlot.objects.filter(doctor=doctor, is_active=True).count() == 2


def test_admin_removes_any_rule(auth_client, admin_user, doctor):
    rule = _rule(doctor)
    assert auth_client(admin_user).delete(rule_url(rule.pk)).status_code == 204
    assert not AvailabilityRule.objects.exists()


def test_other_doctor_cannot_remove_a_doctors_rule(auth_client, doctor, other_doctor):
    rule = _rule(doctor)
    _error(auth_client(other_doctor.user).delete(rule_url(rule.pk)), 403, "PERMISSION_DENIED")
    assert AvailabilityRule.objects.filter(pk=rule.pk).exists()


def test_patient_cannot_remove_a_rule(auth_client, doctor, patient):
    rule = _rule(doctor)
    _error(auth_client(patient.user).delete(rule_url(rule.pk)), 403, "PERMISSION_DENIED")
    assert AvailabilityRule.objects.filter(pk=rule.pk).exists()


def test_anonymous_cannot_remove_a_rule(api_client, doctor):
    rule = _rule(doctor)
    _error(api_client.delete(rule_url(rule.pk)), 401, "NOT_AUTHENTICATED")
    assert AvailabilityRule.objects.filter(pk=rule.pk).exists()


def test_removing_an_unknown_rule_is_not_found(auth_client, doctor):
    _error(auth_client(doctor.user).delete(rule_url(MISSING)), 404, "NOT_FOUND")


# --- POST /doctors/{id}/availability/generate ----------------------------------------------


def _week_ahead(clinic):
    first = _today(clinic) + timedelta(days=1)
    return {"date_from": first.isoformat(), "date_to": (first + timedelta(days=6)).isoformat()}


def test_generation_makes_the_slots_then_a_second_run_skips_them(auth_client, doctor):
    tomorrow = _today(doctor.clinic) + timedelta(days=1)
    _rule(doctor, weekday=tomorrow.weekday(), start=9, end=11, capacity=3)
    client = auth_client(doctor.user)

    first = client.post(generate_url(doctor.pk), _week_ahead(doctor.clinic))
    assert first.status_code == 200, first.content
    assert first.json() == {"created": 4, "skipped": 0}
    slots = AppointmentSlot.objects.filter(doctor=doctor).order_by("start")
    assert [s.start for s in slots] == [_local(doctor.clinic, tomorrow, h, m) for h, m in
                                        ((9, 0), (9, 30), (10, 0), (10, 30))]
    assert {(s.capacity, s.duration_minutes, s.booked_count, s.is_active) for s in slots} == {(3, 30, 0, True)}

    second = client.post(generate_url(doctor.pk), _week_ahead(doctor.clinic))
    assert second.status_code == 200 and second.json() == {"created": 0, "skipped": 4}
    assert AppointmentSlot.objects.filter(doctor=doctor).count() == 4


def test_generation_skips_times_inside_a_leave(auth_client, doctor):
    tomorrow = _today(doctor.clinic) + timedelta(days=1)
    _rule(doctor, weekday=tomorrow.weekday(), start=9, end=11)
    _leave(doctor, _local(doctor.clinic, tomorrow, 9), _local(doctor.clinic, tomorrow, 10))
    response = auth_client(doctor.user).post(generate_url(doctor.pk), _week_ahead(doctor.clinic))
    assert response.json() == {"created": 2, "skipped": 2}


def test_admin_generates_a_doctors_slots(auth_client, admin_user, doctor):
    tomorrow = _today(doctor.clinic) + timedelta(days=1)
    _rule(doctor, weekday=tomorrow.weekday(), start=9, end=10)
    response = auth_client(admin_user).post(generate_url(doctor.pk), _week_ahead(doctor.clinic))
    assert response.status_code == 200 and response.json()["created"] == 2
    assert AppointmentSlot.objects.filter(doctor=doctor).count() == 2


def test_unverified_doctor_cannot_generate_slots(auth_client, admin_user, unverified_doctor):
    tomorrow = _today(unverified_doctor.clinic) + timedelta(days=1)
    _rule(unverified_doctor, weekday=tomorrow.weekday())
    for user in (unverified_doctor.user, admin_user):
        _error(auth_client(user).post(generate_url(unverified_doctor.pk), _week_ahead(unverified_doctor.clinic)),
               403, "PERMISSION_DENIED")
    assert not AppointmentSlot.objects.exists()


def test_other_doctor_cannot_generate_a_doctors_slots(auth_client, doctor, other_doctor):
    _rule(doctor, weekday=(_today(doctor.clinic) + timedelta(days=1)).weekday())
    _error(auth_client(other_doctor.user).post(generate_url(doctor.pk), _week_ahead(doctor.clinic)),
           403, "PERMISSION_DENIED")
    assert not AppointmentSlot.objects.exists()


def test_patient_cannot_generate_slots(auth_client, doctor, patient):
    _rule(doctor, weekday=(_today(doctor.clinic) + timedelta(days=1)).weekday())
    _error(auth_client(patient.user).post(generate_url(doctor.pk), _week_ahead(doctor.clinic)),
           403, "PERMISSION_DENIED")
    assert not AppointmentSlot.objects.exists()


def test_anonymous_cannot_generate_slots(api_client, doctor):
    _rule(doctor, weekday=(_today(doctor.clinic) + timedelta(days=1)).weekday())
    _error(api_client.post(generate_url(doctor.pk), _week_ahead(doctor.clinic)), 401, "NOT_AUTHENTICATED")
    assert not AppointmentSlot.objects.exists()


def test_generating_for_an_unknown_doctor_is_not_found(auth_client, admin_user, doctor):
    _error(auth_client(admin_user).post(generate_url(MISSING), _week_ahead(doctor.clinic)), 404, "NOT_FOUND")


@pytest.mark.parametrize(("dates", "field"), [
    (lambda today: {"date_from": today + timedelta(days=5), "date_to": today + timedelta(days=4)}, "date_to"),
    (lambda today: {"date_from": today - timedelta(days=1), "date_to": today + timedelta(days=4)}, "date_from"),
    (lambda today: {"date_from": today, "date_to": today + timedelta(days=367)}, "date_to"),
    (lambda today: {"date_from": "2030-3-1", "date_to": today}, "date_from"),
    (lambda today: {"date_from": "20300301", "date_to": today}, "date_from"),
    (lambda today: {"date_from": today, "date_to": "2030-02-30"}, "date_to"),
    (lambda today: {"date_from": today}, "date_to"),
])
def test_generation_refuses_a_bad_range(auth_client, doctor, dates, field):
    _rule(doctor, weekday=(_today(doctor.clinic) + timedelta(days=1)).weekday())
    body = {key: str(value) for key, value in dates(_today(doctor.clinic)).items()}
    response = _error(auth_client(doctor.user).post(generate_url(doctor.pk), body), 400, "VALIDATION_ERROR")
    assert set(response["errors"]) == {field}
    assert not AppointmentSlot.objects.exists()


# --- GET /doctors/{id}/leaves ----------------------------------------------------------------


def test_doctor_lists_leaves_not_yet_over_soonest_first_in_utc_and_local_time(auth_client, doctor, other_doctor):
    clinic = doctor.clinic
    day = _today(clinic) + timedelta(days=10)
    later = _leave(doctor, _local(clinic, day, 0), _local(clinic, day + timedelta(days=2), 0), reason="Conference")
    sooner = _leave(doctor, _local(clinic, day - timedelta(days=3), 14), _local(clinic, day - timedelta(days=3), 18))
    now = timezone.now()
    Leave.objects.create(doctor=doctor, start=now - timedelta(days=3), end=now - timedelta(days=2))  # over
    _leave(other_doctor, _local(clinic, day, 0), _local(clinic, day, 12))

    response = auth_client(doctor.user).get(leaves_url(doctor.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == PAGE_FIELDS and body["count"] == 2
    assert [row["id"] for row in body["results"]] == [sooner.pk, later.pk]
    assert body["results"][1] == {
        "id": later.pk, "doctor_id": doctor.pk, "start": _z(later.start), "end": _z(later.end),
        "start_local": f"{day.isoformat()}T00:00:00+05:30",
        "end_local": f"{(day + timedelta(days=2)).isoformat()}T00:00:00+05:30",
        "reason": "Conference", "created_at": _z(later.created_at),
    }
    assert body["results"][1]["start"].endswith("T18:30:00Z")


def test_admin_lists_a_doctors_leaves(auth_client, admin_user, doctor):
    leave = _leave(doctor, timezone.now() + timedelta(days=1), timezone.now() + timedelta(days=2))
    response = auth_client(admin_user).get(leaves_url(doctor.pk))
    assert [row["id"] for row in response.json()["results"]] == [leave.pk]


def test_other_doctor_cannot_list_a_doctors_leaves(auth_client, doctor, other_doctor):
    _leave(doctor, timezone.now() + timedelta(days=1), timezone.now() + timedelta(days=2))
    _error(auth_client(other_doctor.user).get(leaves_url(doctor.pk)), 403, "PERMISSION_DENIED")


def test_patient_cannot_list_a_doctors_leaves(auth_client, doctor, patient):
    _leave(doctor, timezone.now() + timedelta(days=1), timezone.now() + timedelta(days=2))
    _error(auth_client(patient.user).get(leaves_url(doctor.pk)), 403, "PERMISSION_DENIED")


def test_anonymous_cannot_list_leaves(api_client, doctor):
    _error(api_client.get(leaves_url(doctor.pk)), 401, "NOT_AUTHENTICATED")


def test_leaves_of_an_unknown_doctor_are_not_found(auth_client, admin_user):
    _error(auth_client(admin_user).get(leaves_url(MISSING)), 404, "NOT_FOUND")


@pytest.mark.parametrize("rows", [1, 30])
def test_leave_list_query_count_is_flat(auth_client, doctor, rows, django_assert_max_num_queries):
    first = timezone.now() + timedelta(days=1)
    for i in range(rows):
        _leave(doctor, first + timedelta(days=i), first + timedelta(days=i, hours=3))
    client = auth_client(doctor.user)
    # The token's user, their doctor profile, the count, one page (with the doctor and clinic).
    with django_assert_max_num_queries(4):
        response = client.get(leaves_url(doctor.pk), {"page_size": 100})
    assert len(response.json()["results"]) == rows


# --- POST /doctors/{id}/leaves -----------------------------------------------------------------


def _leave_body(clinic, day, **overrides):
    body = {"start": _local(clinic, day, 0).isoformat(), "end": _local(clinic, day + timedelta(days=1), 0).isoformat(),
            "reason": "Conference"}
    return {**body, **overrides}


def test_doctor_adds_a_leave_and_hears_of_the_appointments_inside_it(auth_client, doctor, patient, other_patient):
    clinic = doctor.clinic
    day = _today(clinic) + timedelta(days=2)
    inside = SlotFactory(doctor=doctor, start=_local(clinic, day, 10), capacity=2)
    outside = SlotFactory(doctor=doctor, start=_local(clinic, day + timedelta(days=1), 10))
    kept = services.appointment_book(patient=patient, slot_id=inside.pk)
    cancelled = services.appointment_book(patient=other_patient, slot_id=inside.pk)
    services.appointment_cancel(appointment_id=cancelled.pk)
    services.appointment_book(patient=patient, slot_id=outside.pk)

    response = auth_client(doctor.user).post(leaves_url(doctor.pk), _leave_body(clinic, day))

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == LEAVE_FIELDS | {"appointments"}
    assert (body["start_local"], body["end_local"], body["reason"]) == (
        f"{day.isoformat()}T00:00:00+05:30", f"{(day + timedelta(days=1)).isoformat()}T00:00:00+05:30", "Conference")
    assert body["start"] == _z(_local(clinic, day, 0))
    assert [a["id"] for a in body["appointments"]] == [kept.pk]
    assert body["appointments"][0]["status"] == "confirmed"
    leave = Leave.objects.get(pk=body["id"])
    assert (leave.doctor_id, leave.start, leave.created_by_id) == (doctor.pk, _local(clinic, day, 0), doctor.user.pk)
    kept.refresh_from_db()
    assert kept.status == "confirmed"  # someone must cancel it; the leave does not


def test_a_leave_makes_its_free_slots_unbookable_until_it_is_removed(auth_client, doctor, patient):
    clinic = doctor.clinic
    day = _today(clinic) + timedelta(days=2)
    slot = SlotFactory(doctor=doctor, start=_local(clinic, day, 10))
    leave_id = auth_client(doctor.user).post(leaves_url(doctor.pk), _leave_body(clinic, day)).json()["id"]
    book = reverse("api:appointment-book")
    _error(auth_client(patient.user).post(book, {"slot_id": slot.pk}), 409, "SLOT_UNAVAILABLE")
    slot.refresh_from_db()
    assert slot.booked_count == 0
    assert auth_client(doctor.user).delete(leave_url(leave_id)).status_code == 204
    assert not Leave.objects.filter(pk=leave_id).exists()
    assert auth_client(patient.user).post(book, {"slot_id": slot.pk}).status_code == 201
    slot.refresh_from_db()
    assert slot.booked_count == 1


def test_admin_adds_a_leave_for_a_doctor(auth_client, admin_user, doctor):
    day = _today(doctor.clinic) + timedelta(days=2)
    response = auth_client(admin_user).post(leaves_url(doctor.pk), _leave_body(doctor.clinic, day, reason=""))
    assert response.status_code == 201, response.content
    leave = Leave.objects.get()
    assert (leave.doctor_id, leave.reason, leave.created_by_id) == (doctor.pk, "", admin_user.pk)


def test_unverified_doctor_may_add_their_own_leave(auth_client, unverified_doctor):
    day = _today(unverified_doctor.clinic) + timedelta(days=2)
    response = auth_client(unverified_doctor.user).post(leaves_url(unverified_doctor.pk),
                                                        _leave_body(unverified_doctor.clinic, day))
    assert response.status_code == 201, response.content
    assert Leave.objects.filter(doctor=unverified_doctor).count() == 1


def test_other_doctor_cannot_add_a_leave_for_a_doctor(auth_client, doctor, other_doctor):
    day = _today(doctor.clinic) + timedelta(days=2)
    _error(auth_client(other_doctor.user).post(leaves_url(doctor.pk), _leave_body(doctor.clinic, day)),
           403, "PERMISSION_DENIED")
    assert not Leave.objects.exists()


def test_patient_cannot_add_a_leave(auth_client, doctor, patient):
    day = _today(doctor.clinic) + timedelta(days=2)
    _error(auth_client(patient.user).post(leaves_url(doctor.pk), _leave_body(doctor.clinic, day)),
           403, "PERMISSION_DENIED")
    assert not Leave.objects.exists()


def test_anonymous_cannot_add_a_leave(api_client, doctor):
    day = _today(doctor.clinic) + timedelta(days=2)
    _error(api_client.post(leaves_url(doctor.pk), _leave_body(doctor.clinic, day)), 401, "NOT_AUTHENTICATED")
    assert not Leave.objects.exists()


def test_a_leave_for_an_unknown_doctor_is_not_found(auth_client, admin_user, clinic):
    _error(auth_client(admin_user).post(leaves_url(MISSING), _leave_body(clinic, _today(clinic) + timedelta(days=2))),
           404, "NOT_FOUND")
    assert not Leave.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"start": "2030-03-01T10:00:00"}, "start"),
    ({"end": "2030-03-02T10:00:00"}, "end"),
    ({"start": "tomorrow"}, "start"),
    ({"start": "9999-12-31T23:00:00Z", "end": "9999-12-31T23:30:00Z"}, "start"),
    ({"reason": "x" * 201}, "reason"),
    ({"reason": 5}, "reason"),
    ({"end": None}, "end"),
])
def test_create_leave_rejects_bad_shape(auth_client, doctor, change, field):
    body = {**_leave_body(doctor.clinic, _today(doctor.clinic) + timedelta(days=2)), **change}
    response = _error(auth_client(doctor.user).post(leaves_url(doctor.pk), body), 400, "VALIDATION_ERROR")
    assert field in response["errors"]
    assert not Leave.objects.exists()


@pytest.mark.parametrize("times", [
    lambda now: (now + timedelta(days=2), now + timedelta(days=1)),  # ends before it starts
    lambda now: (now - timedelta(days=2), now - timedelta(days=1)),  # over already
    lambda now: (now + timedelta(days=1), now + timedelta(days=368)),  # longer than 366 days
])
def test_create_leave_refuses_times_that_do_not_fit(auth_client, doctor, times):
    start, end = times(timezone.now().replace(microsecond=0))
    body = {"start": start.isoformat(), "end": end.isoformat()}
    response = _error(auth_client(doctor.user).post(leaves_url(doctor.pk), body), 400, "VALIDATION_ERROR")
    assert set(response["errors"]) == {"end"}
    assert not Leave.objects.exists()


# --- DELETE /leaves/{id} -----------------------------------------------------------------------


@pytest.fixture
def leave(doctor):
    return _leave(doctor, timezone.now() + timedelta(days=1), timezone.now() + timedelta(days=2))


def test_doctor_removes_their_leave(auth_client, doctor, leave):
    assert auth_client(doctor.user).delete(leave_url(leave.pk)).status_code == 204
    assert not Leave.objects.exists()


def test_admin_removes_a_doctors_leave(auth_client, admin_user, leave):
    assert auth_client(admin_user).delete(leave_url(leave.pk)).status_code == 204
    assert not Leave.objects.exists()


def test_other_doctor_cannot_remove_a_doctors_leave(auth_client, other_doctor, leave):
    _error(auth_client(other_doctor.user).delete(leave_url(leave.pk)), 403, "PERMISSION_DENIED")
    assert Leave.objects.filter(pk=leave.pk).exists()


def test_patient_cannot_remove_a_leave(auth_client, patient, leave):
    _error(auth_client(patient.user).delete(leave_url(leave.pk)), 403, "PERMISSION_DENIED")
    assert Leave.objects.filter(pk=leave.pk).exists()


def test_anonymous_cannot_remove_a_leave(api_client, leave):
    _error(api_client.delete(leave_url(leave.pk)), 401, "NOT_AUTHENTICATED")
    assert Leave.objects.filter(pk=leave.pk).exists()


def test_removing_an_unknown_leave_is_not_found(auth_client, doctor):
    _error(auth_client(doctor.user).delete(leave_url(MISSING)), 404, "NOT_FOUND")


# --- GET /doctors/{id}/schedule ----------------------------------------------------------------


def test_doctor_sees_their_local_day_with_every_status_and_the_load(auth_client, doctor, patient, other_patient):
    clinic = doctor.clinic
    day = _today(clinic) + timedelta(days=3)
    morning = SlotFactory(doctor=doctor, start=_local(clinic, day, 0, 30), capacity=2)  # 19:00 UTC the day before
    night = SlotFactory(doctor=doctor, start=_local(clinic, day, 23, 0))
    SlotFactory(doctor=doctor, start=_local(clinic, day + timedelta(days=1), 0, 30))  # the next local day
    first = services.appointment_book(patient=patient, slot_id=morning.pk)
    dropped = services.appointment_book(patient=other_patient, slot_id=morning.pk)
    services.appointment_cancel(appointment_id=dropped.pk)
    late = services.appointment_book(patient=other_patient, slot_id=night.pk)

    response = auth_client(doctor.user).get(schedule_url(doctor.pk), {"date": day.isoformat()})

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == SCHEDULE_FIELDS
    assert {k: body[k] for k in SCHEDULE_FIELDS - {"appointments"}} == {
        "date": day.isoformat(), "timezone": "Asia/Kolkata", "booked": 2, "max_patients_per_day": 20,
        "free_places": 1,
    }
    assert [(a["id"], a["status"]) for a in body["appointments"]] == [
        (first.pk, "confirmed"), (dropped.pk, "cancelled"), (late.pk, "confirmed"),
    ]


def test_schedule_defaults_to_today_in_the_clinics_zone(auth_client, doctor):
    body = auth_client(doctor.user).get(schedule_url(doctor.pk)).json()
    assert body["date"] == _today(doctor.clinic).isoformat() and body["appointments"] == []


def test_free_places_are_capped_by_the_daily_maximum(auth_client, admin_user, doctor, patient):
    doctor.max_patients_per_day = 1
    doctor.save()
    day = _today(doctor.clinic) + timedelta(days=3)
    booked = SlotFactory(doctor=doctor, start=_local(doctor.clinic, day, 9), capacity=3)
    SlotFactory(doctor=doctor, start=_local(doctor.clinic, day, 10), capacity=3)
    services.appointment_book(patient=patient, slot_id=booked.pk)
    body = auth_client(admin_user).get(schedule_url(doctor.pk), {"date": day.isoformat()}).json()
    assert (body["booked"], body["max_patients_per_day"], body["free_places"]) == (1, 1, 0)


@pytest.mark.parametrize("value", ["2030-3-1", "20300301", "2030-02-30", "tomorrow", "", "9999-12-31", "0001-01-01"])
def test_schedule_refuses_a_malformed_date(auth_client, doctor, value):
    body = _error(auth_client(doctor.user).get(schedule_url(doctor.pk), {"date": value}), 400, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"date"}


def test_admin_sees_a_doctors_day(auth_client, admin_user, doctor):
    assert auth_client(admin_user).get(schedule_url(doctor.pk)).status_code == 200


def test_other_doctor_cannot_see_a_doctors_day(auth_client, doctor, other_doctor):
    _error(auth_client(other_doctor.user).get(schedule_url(doctor.pk)), 403, "PERMISSION_DENIED")


def test_patient_cannot_see_a_doctors_day(auth_client, doctor, patient):
    _error(auth_client(patient.user).get(schedule_url(doctor.pk)), 403, "PERMISSION_DENIED")


def test_anonymous_cannot_see_a_doctors_day(api_client, doctor):
    _error(api_client.get(schedule_url(doctor.pk)), 401, "NOT_AUTHENTICATED")


def test_the_day_of_an_unknown_doctor_is_not_found(auth_client, admin_user):
    _error(auth_client(admin_user).get(schedule_url(MISSING)), 404, "NOT_FOUND")


@pytest.mark.parametrize("rows", [1, 30])
def test_schedule_query_count_is_flat(auth_client, admin_user, doctor, patient, rows, django_assert_max_num_queries):
    doctor.max_patients_per_day = 100
    doctor.save()
    day = _today(doctor.clinic) + timedelta(days=3)
    for i in range(rows):  # twenty-minute visits from 08:00, one after another
        start = _local(doctor.clinic, day, 8) + timedelta(minutes=20 * i)
        slot = SlotFactory(doctor=doctor, start=start, duration_minutes=20)
        services.appointment_book(patient=patient, slot_id=slot.pk, booked_by=admin_user)
    client = auth_client(doctor.user)
    # The token's user, their doctor profile and clinic, the appointments, the open places.
    with django_assert_max_num_queries(5):
        response = client.get(schedule_url(doctor.pk), {"date": day.isoformat()})
    assert len(response.json()["appointments"]) == rows


# --- PATCH /slots/{id} ---------------------------------------------------------------------------


def _slot_row(slot):
    return AppointmentSlot.objects.filter(pk=slot.pk).values_list("capacity", "is_active", "booked_count").get()


def test_owning_doctor_raises_a_slots_capacity(auth_client, slot, patient):
    services.appointment_book(patient=patient, slot_id=slot.pk)
    response = auth_client(slot.doctor.user).patch(slot_url(slot.pk), {"capacity": 3})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["capacity"], body["booked_count"], body["available_spots"], body["is_booked"]) == (3, 1, 2, False)
    assert body["slot_datetime_local"] == slot.start.astimezone(slot.clinic.tzinfo).isoformat()
    assert _slot_row(slot) == (3, True, 1)


def test_admin_closes_a_free_slot_and_it_leaves_the_list(auth_client, admin_user, api_client, slot):
    response = auth_client(admin_user).patch(slot_url(slot.pk), {"is_active": False})
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert _slot_row(slot) == (1, False, 0)
    assert api_client.get(reverse("api:slot-list")).json()["count"] == 0


def test_doctor_reopens_a_closed_slot(auth_client, doctor):
    closed = SlotFactory(doctor=doctor, is_active=False)
    response = auth_client(doctor.user).patch(slot_url(closed.pk), {"is_active": True})
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is True
    assert _slot_row(closed) == (1, True, 0)


def test_capacity_below_the_booked_places_is_a_conflict(auth_client, doctor, patient, other_patient):
    slot = SlotFactory(doctor=doctor, capacity=3)
    services.appointment_book(patient=patient, slot_id=slot.pk)
    services.appointment_book(patient=other_patient, slot_id=slot.pk)
    _error(auth_client(doctor.user).patch(slot_url(slot.pk), {"capacity": 1}), 409, "CAPACITY_BELOW_BOOKED")
    assert _slot_row(slot) == (3, True, 2)


def test_closing_a_slot_with_active_appointments_is_a_conflict(auth_client, slot, patient):
    services.appointment_book(patient=patient, slot_id=slot.pk)
    _error(auth_client(slot.doctor.user).patch(slot_url(slot.pk), {"is_active": False, "capacity": 2}),
           409, "SLOT_HAS_BOOKINGS")
    assert _slot_row(slot) == (1, True, 1)  # the capacity change was rolled back too


def test_reopening_a_slot_that_has_begun_is_unavailable(auth_client, doctor):
    begun = SlotFactory(doctor=doctor, start=timezone.now() - timedelta(minutes=10), is_active=False)
    _error(auth_client(doctor.user).patch(slot_url(begun.pk), {"is_active": True}), 409, "SLOT_UNAVAILABLE")
    assert _slot_row(begun) == (1, False, 0)


def test_reopening_a_slot_another_open_slot_overlaps_is_a_conflict(auth_client, doctor):
    closed = SlotFactory(doctor=doctor, is_active=False)
    SlotFactory(doctor=doctor, start=closed.start + timedelta(minutes=10))
    _error(auth_client(doctor.user).patch(slot_url(closed.pk), {"is_active": True}), 409, "SLOT_OVERLAP")
    assert _slot_row(closed) == (1, False, 0)


@pytest.mark.parametrize("body", [{}, {"capacity": 0}, {"capacity": 101}, {"capacity": "2"}, {"is_active": "no"},
                                  {"capacity": None}])
def test_slot_patch_rejects_bad_shape(auth_client, slot, body):
    _error(auth_client(slot.doctor.user).patch(slot_url(slot.pk), body), 400, "VALIDATION_ERROR")
    assert _slot_row(slot) == (1, True, 0)


def test_other_doctor_cannot_change_a_doctors_slot(auth_client, slot, other_doctor):
    _error(auth_client(other_doctor.user).patch(slot_url(slot.pk), {"capacity": 4}), 403, "PERMISSION_DENIED")
    assert _slot_row(slot) == (1, True, 0)


def test_patient_cannot_change_a_slot(auth_client, slot, patient):
    _error(auth_client(patient.user).patch(slot_url(slot.pk), {"capacity": 4}), 403, "PERMISSION_DENIED")
    assert _slot_row(slot) == (1, True, 0)


def test_anonymous_cannot_change_a_slot(api_client, slot):
    _error(api_client.patch(slot_url(slot.pk), {"capacity": 4}), 401, "NOT_AUTHENTICATED")
    assert _slot_row(slot) == (1, True, 0)


def test_changing_an_unknown_slot_is_not_found(auth_client, admin_user):
    _error(auth_client(admin_user).patch(slot_url(MISSING), {"capacity": 4}), 404, "NOT_FOUND")


def test_slot_local_start_carries_the_clinics_offset(api_client, doctor):
    slot = SlotFactory(doctor=doctor, start=datetime(2031, 6, 1, 3, 30, tzinfo=UTC))
    body = api_client.get(slot_url(slot.pk)).json()
    assert (body["slot_datetime"], body["slot_datetime_local"]) == ("2031-06-01T03:30:00Z", "2031-06-01T09:00:00+05:30")


# --- POST /appointments/{id}/confirm and /decline ----------------------------------------------


@pytest.fixture
def pending(doctor, patient, slot):
    doctor.requires_approval = True
    doctor.save()
    return services.appointment_book(patient=patient, slot_id=slot.pk)


def _status(appointment):
    appointment.refresh_from_db()
    return appointment.status


def test_booking_with_a_doctor_who_approves_is_pending(pending, slot):
    assert pending.status == "pending"
    slot.refresh_from_db()
    assert slot.booked_count == 1


@pytest.mark.parametrize("who", ["doctor", "admin_user"])
def test_the_doctor_or_an_admin_confirms_a_pending_appointment(auth_client, pending, who, request):
    user = request.getfixturevalue(who)
    response = auth_client(getattr(user, "user", user)).post(appointment_url("confirm", pending.pk))
    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["status"]) == (pending.pk, "confirmed")
    assert _status(pending) == "confirmed"


def test_confirming_a_confirmed_appointment_is_an_invalid_state(auth_client, doctor, pending):
    services.appointment_confirm(appointment_id=pending.pk)
    _error(auth_client(doctor.user).post(appointment_url("confirm", pending.pk)), 409, "INVALID_STATE")
    assert _status(pending) == "confirmed"


def test_patient_cannot_confirm_their_appointment(auth_client, patient, pending):
    _error(auth_client(patient.user).post(appointment_url("confirm", pending.pk)), 403, "PERMISSION_DENIED")
    assert _status(pending) == "pending"


def test_other_doctor_cannot_confirm_a_doctors_appointment(auth_client, other_doctor, pending):
    _error(auth_client(other_doctor.user).post(appointment_url("confirm", pending.pk)), 404, "NOT_FOUND")
    assert _status(pending) == "pending"


def test_anonymous_cannot_confirm(api_client, pending):
    _error(api_client.post(appointment_url("confirm", pending.pk)), 401, "NOT_AUTHENTICATED")
    assert _status(pending) == "pending"


def test_confirming_an_unknown_appointment_is_not_found(auth_client, admin_user):
    _error(auth_client(admin_user).post(appointment_url("confirm", MISSING)), 404, "NOT_FOUND")


@pytest.mark.parametrize("who", ["doctor", "admin_user"])
def test_the_doctor_or_an_admin_declines_and_the_place_returns(auth_client, pending, slot, who, request):
    user = request.getfixturevalue(who)
    response = auth_client(getattr(user, "user", user)).post(appointment_url("decline", pending.pk),
                                                             {"reason": "Away that morning; please rebook."})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["cancelled_reason"]) == ("cancelled", "Away that morning; please rebook.")
    assert body["cancelled_at"]
    pending.refresh_from_db()
    slot.refresh_from_db()
    assert (pending.status, pending.cancelled_by_id, slot.booked_count) == ("cancelled", getattr(user, "user", user).pk,
                                                                            0)


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 2001}, {"reason": 7}])
def test_decline_needs_a_reason_for_the_patient(auth_client, doctor, pending, body):
    response = _error(auth_client(doctor.user).post(appointment_url("decline", pending.pk), body),
                      400, "VALIDATION_ERROR")
    assert set(response["errors"]) == {"reason"}
    assert _status(pending) == "pending"


def test_declining_a_confirmed_appointment_is_an_invalid_state(auth_client, doctor, pending):
    services.appointment_confirm(appointment_id=pending.pk)
    _error(auth_client(doctor.user).post(appointment_url("decline", pending.pk), {"reason": "No"}),
           409, "INVALID_STATE")
    assert _status(pending) == "confirmed"


def test_patient_cannot_decline_their_appointment(auth_client, patient, pending):
    _error(auth_client(patient.user).post(appointment_url("decline", pending.pk), {"reason": "No"}),
           403, "PERMISSION_DENIED")
    assert _status(pending) == "pending"


def test_other_doctor_cannot_decline_a_doctors_appointment(auth_client, other_doctor, pending):
    _error(auth_client(other_doctor.user).post(appointment_url("decline", pending.pk), {"reason": "No"}),
           404, "NOT_FOUND")
    assert _status(pending) == "pending"


def test_anonymous_cannot_decline(api_client, pending):
    _error(api_client.post(appointment_url("decline", pending.pk), {"reason": "No"}), 401, "NOT_AUTHENTICATED")
    assert _status(pending) == "pending"


# --- GET /appointments/{id}/ics ----------------------------------------------------------------


@pytest.fixture
def appointment(patient, slot):
    return services.appointment_book(patient=patient, slot_id=slot.pk, reason="Chest pain on exertion")


def _assert_json_error(response, status, code):
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    return _error(response, status, code)


@pytest.mark.parametrize("who", ["patient", "doctor", "admin_user"])
def test_patient_doctor_and_admin_get_the_calendar_file(auth_client, appointment, who, request):
    user = request.getfixturevalue(who)
    response = auth_client(getattr(user, "user", user)).get(appointment_url("ics", appointment.pk))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="appointment-{appointment.pk}.ics"'
    assert response["Cache-Control"] == "no-store"
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert f"UID:appointment-{appointment.pk}@healthsvc" in text
    # In the clinic's zone now (with its VTIMEZONE), the same instant.
    local = appointment.start.astimezone(appointment.clinic.tzinfo)
    assert f"DTSTART;TZID={appointment.clinic.timezone}:{local:%Y%m%dT%H%M%S}" in text
    assert "Chest pain" not in text  # medical information stays out of calendars


def test_the_calendar_file_is_served_to_a_client_asking_for_it(auth_client, patient, appointment):
    response = auth_client(patient.user).get(appointment_url("ics", appointment.pk), HTTP_ACCEPT="text/calendar")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")


def test_other_patient_cannot_get_the_calendar_file(auth_client, other_patient, appointment):
    _assert_json_error(auth_client(other_patient.user).get(appointment_url("ics", appointment.pk)), 404, "NOT_FOUND")


def test_other_doctor_cannot_get_the_calendar_file(auth_client, other_doctor, appointment):
    _assert_json_error(auth_client(other_doctor.user).get(appointment_url("ics", appointment.pk)), 404, "NOT_FOUND")


def test_anonymous_cannot_get_the_calendar_file(api_client, appointment):
    _assert_json_error(api_client.get(appointment_url("ics", appointment.pk)), 401, "NOT_AUTHENTICATED")


def test_calendar_errors_are_json_even_when_the_client_accepts_only_calendars(auth_client, other_patient, appointment):
    response = auth_client(other_patient.user).get(appointment_url("ics", MISSING), HTTP_ACCEPT="text/calendar")
    _assert_json_error(response, 404, "NOT_FOUND")


def test_asking_for_the_calendar_file_as_json_is_not_acceptable(auth_client, patient, appointment):
    response = auth_client(patient.user).get(appointment_url("ics", appointment.pk), HTTP_ACCEPT="application/json")
    _assert_json_error(response, 406, "NOT_ACCEPTABLE")



def test_options_on_the_calendar_file_answers_json(auth_client, patient, appointment):
    # Found by the fuzzer: OPTIONS' description went to the calendar renderer (a 500).
    response = auth_client(patient.user).options(appointment_url("ics", appointment.pk))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json()["name"]
