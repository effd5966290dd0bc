"""Reads for slots and appointments, with their joins and the caller's scope."""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Coalesce, ExtractHour, RowNumber
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone

from accounts.models import User
from accounts.selectors import patient_ids_in_care_of
from clinics.models import Clinic, Doctor
from clinics.search import search_terms_parse
from clinics.selectors import doctor_list
from healthsvc.timezones import local_date_bounds, local_day_bounds
from scheduling.exceptions import (
    AppointmentNotFoundError,
    AvailabilityRuleNotFoundError,
    LeaveNotFoundError,
    SlotNotFoundError,
    WaitlistEntryNotFoundError,
)
from scheduling.models import (
    HAS_FREE_PLACE,
    Appointment,
    AppointmentSlot,
    AvailabilityRule,
    Leave,
    Reminder,
    WaitlistEntry,
)


def _on_leave() -> Exists:
    """A leave of the slot's doctor overlapping the slot (the outer row)."""
    return Exists(Leave.objects.filter(
        doctor_id=OuterRef("doctor_id"), start__lt=OuterRef("end"), end__gt=OuterRef("start")
    ))


def slot_list_bookable(
    *, doctor_id: int | None = None, clinic_id: int | None = None, specialty: str | None = None,
    start: datetime | None = None, end: datetime | None = None, available: bool = True,
) -> QuerySet[AppointmentSlot]:
    """Future, active slots of active doctors at active clinics, outside the
    doctor's leaves, earliest first; with `available`, only those with a free
    place (neither booked nor held for a patient from the waitlist)."""
    slots = AppointmentSlot.objects.filter(
        is_active=True, start__gt=timezone.now(), doctor__is_active=True, clinic__is_active=True
    ).exclude(_on_leave()).select_related("clinic", "doctor__user")
    if available:
        slots = slots.filter(HAS_FREE_PLACE)
    if doctor_id is not None:
        slots = slots.filter(doctor_id=doctor_id)
    if clinic_id is not None:
        slots = slots.filter(clinic_id=clinic_id)
    if specialty:
        slots = slots.filter(doctor__specialty__iexact=specialty)
    if start is not None:
        slots = slots.filter(start__gte=start)
    if end is not None:
        slots = slots.filter(start__lt=end)
    return slots.order_by("start", "id")


# The columns of a slot the API's answer reads, with its clinic's zone: what
# slot_rows selects (all of them in the covering index scheduling_slot_free_idx).
SLOT_ROW_FIELDS = (
    "id", "doctor_id", "clinic_id", "start", "duration_minutes", "capacity", "booked_count", "held_count",
    "is_active", "clinic__timezone",
)


def slot_rows(slots: QuerySet[AppointmentSlot]) -> QuerySet:
    """The slots as dicts of SLOT_ROW_FIELDS: no model instances, no joined rows
    beyond the clinic's zone, for lists that answer with these columns only."""
    return slots.values(*SLOT_ROW_FIELDS)


def slot_list_open_to_patients(*, doctor_id: int, start: datetime | None = None) -> QuerySet[AppointmentSlot]:
    """slot_list_bookable of one doctor, only the slots a patient may book now
    under the clinic's policy (after the minimum notice, within the horizon)."""
    return slot_list_bookable(doctor_id=doctor_id, start=start).filter(open_to_patients())


def slot_list_bookable_on_day(*, doctor: Doctor, day: date) -> QuerySet[AppointmentSlot]:
    """The doctor's bookable slots starting on that local day of their clinic."""
    start, end = local_date_bounds(day, doctor.clinic.tzinfo)
    return slot_list_bookable(doctor_id=doctor.pk, start=start, end=end)


def slot_get(*, slot_id: int, include_inactive: bool = False) -> AppointmentSlot:
    """One slot with its clinic and doctor; unless `include_inactive`, only a
    live one (slot, doctor and clinic active). Raises SlotNotFoundError."""
    slots = AppointmentSlot.objects.select_related("clinic", "doctor__user")
    if not include_inactive:
        slots = slots.filter(is_active=True, doctor__is_active=True, clinic__is_active=True)
    try:
        return slots.get(pk=slot_id)
    except AppointmentSlot.DoesNotExist:
        raise SlotNotFoundError() from None


def appointment_list_for_user(*, user: User) -> QuerySet[Appointment]:
    """Appointments the user may see: all for admins, their own for a patient or
    a doctor (a patient's include their dependents'), none otherwise. Newest
    slot time first is left to callers."""
    appointments = Appointment.objects.select_related(
        "patient__user", "patient__guardian__user", "doctor__user", "clinic", "slot")
    if user.role == User.Role.ADMIN:
        return appointments
    if user.role == User.Role.PATIENT and hasattr(user, "patient"):
        return appointments.filter(patient_id__in=patient_ids_in_care_of(user))
    if user.role == User.Role.DOCTOR and hasattr(user, "doctor"):
        return appointments.filter(doctor=user.doctor)
    return appointments.none()


def appointment_list_upcoming(*, user: User) -> QuerySet[Appointment]:
    """The user's active appointments that have not ended, soonest first."""
    return (
        appointment_list_for_user(user=user)
        .filter(status__in=Appointment.ACTIVE_STATUSES, end__gt=timezone.now())
        .order_by("start", "id")
    )


def appointment_list_past(*, user: User) -> QuerySet[Appointment]:
    """Everything else of the user's: ended, cancelled or closed; latest first."""
    return (
        appointment_list_for_user(user=user)
        .exclude(status__in=Appointment.ACTIVE_STATUSES, end__gt=timezone.now())
        .order_by("-start", "-id")
    )


def appointment_list_awaiting_approval(*, user: User) -> QuerySet[Appointment]:
    """The user's pending appointments whose visit has not ended, soonest first."""
    return (
        appointment_list_for_user(user=user)
        .filter(status=Appointment.Status.PENDING, end__gt=timezone.now())
        .order_by("start", "id")
    )


def appointment_list_active_between(*, user: User, start: datetime, end: datetime) -> QuerySet[Appointment]:
    """The user's active appointments starting in [start, end), soonest first."""
    return (
        appointment_list_for_user(user=user)
        .filter(status__in=Appointment.ACTIVE_STATUSES, start__gte=start, start__lt=end)
        .order_by("start", "id")
    )


FEED_DAYS = 180
FEED_MAX_EVENTS = 1000


def appointment_list_for_feed(*, doctor: Doctor, now: datetime | None = None) -> QuerySet[Appointment]:
    """The doctor's active (pending or confirmed) visits not over yet, up to
    FEED_DAYS ahead and at most FEED_MAX_EVENTS of them, soonest first, for the
    calendar feed: one query with the patient's name and the clinic, and only
    the columns the feed writes (no reason for the visit, no notes)."""
    now = now or timezone.now()
    return (
        Appointment.objects.filter(
            doctor=doctor, status__in=Appointment.ACTIVE_STATUSES,
            end__gt=now, start__lt=now + timedelta(days=FEED_DAYS),
        )
        .select_related("patient__user", "clinic")
        .only(
            "id", "start", "end", "status", "updated_at", "patient__id", "patient__name", "patient__user__id",
            "patient__user__name",
            "clinic__id", "clinic__name", "clinic__address", "clinic__city", "clinic__state", "clinic__zip_code",
        )
        .order_by("start", "id")[:FEED_MAX_EVENTS]
    )


def appointment_get_for_user(*, user: User, appointment_id: int) -> Appointment:
    """One appointment the user may see. Raises AppointmentNotFoundError whether
    it does not exist or belongs to someone else, so nothing leaks."""
    try:
        return appointment_list_for_user(user=user).get(pk=appointment_id)
    except Appointment.DoesNotExist:
        raise AppointmentNotFoundError() from None


# --- a doctor's schedule ------------------------------------------------------------


def slot_list_for_doctor(*, doctor: Doctor, start: datetime | None = None, end: datetime | None = None):
    """All the doctor's slots that have not ended (open and closed, full or
    not), earliest first, each annotated with `on_leave`; for the doctor's and
    staff's schedule pages."""
    slots = AppointmentSlot.objects.filter(doctor=doctor, end__gt=start or timezone.now())
    if end is not None:
        slots = slots.filter(start__lt=end)
    return slots.annotate(on_leave=_on_leave()).select_related("clinic").order_by("start", "id")


def slot_get_for_doctor(*, doctor: Doctor, slot_id: int) -> AppointmentSlot:
    """One of the doctor's own slots, open or closed. Raises SlotNotFoundError
    for another doctor's slot too."""
    try:
        return AppointmentSlot.objects.select_related("clinic").get(pk=slot_id, doctor=doctor)
    except AppointmentSlot.DoesNotExist:
        raise SlotNotFoundError() from None


def availability_rule_list(*, doctor: Doctor) -> QuerySet[AvailabilityRule]:
    """The doctor's weekly rules, Monday first."""
    return AvailabilityRule.objects.filter(doctor=doctor).select_related("clinic").order_by("weekday", "start_time", "id")


def availability_rule_get(*, rule_id: int, doctor: Doctor | None = None) -> AvailabilityRule:
    """One rule (of `doctor`, when given). Raises AvailabilityRuleNotFoundError."""
    rules = AvailabilityRule.objects.select_related("doctor__clinic", "clinic")
    if doctor is not None:
        rules = rules.filter(doctor=doctor)
    try:
        return rules.get(pk=rule_id)
    except AvailabilityRule.DoesNotExist:
        raise AvailabilityRuleNotFoundError() from None


def leave_list(*, doctor: Doctor, include_past: bool = False) -> QuerySet[Leave]:
    """The doctor's leaves, soonest first; unless `include_past`, only those not yet over."""
    leaves = Leave.objects.filter(doctor=doctor).select_related("doctor__clinic")
    if not include_past:
        leaves = leaves.filter(end__gt=timezone.now())
    return leaves.order_by("start", "id")


def leave_get(*, leave_id: int, doctor: Doctor | None = None) -> Leave:
    """One leave (of `doctor`, when given). Raises LeaveNotFoundError."""
    leaves = Leave.objects.select_related("doctor__clinic", "doctor__user")
    if doctor is not None:
        leaves = leaves.filter(doctor=doctor)
    try:
        return leaves.get(pk=leave_id)
    except Leave.DoesNotExist:
        raise LeaveNotFoundError() from None


def leave_appointments(*, leave: Leave) -> QuerySet[Appointment]:
    """The active appointments inside a leave: someone must cancel or keep them."""
    return (
        Appointment.objects.filter(
            doctor_id=leave.doctor_id, status__in=Appointment.ACTIVE_STATUSES, start__lt=leave.end, end__gt=leave.start
        )
        .select_related("patient__user", "patient__guardian__user", "doctor__user", "clinic", "slot")
        .order_by("start", "id")
    )


@dataclass(frozen=True)
class DaySchedule:
    """One local day of a doctor: the appointments (every status), the places
    they hold against the daily maximum, and the places still free to book."""

    doctor: Doctor
    date: date
    start: datetime
    end: datetime
    appointments: list[Appointment]
    booked: int
    free_places: int

    @property
    def max_patients_per_day(self) -> int:
        return self.doctor.max_patients_per_day


def doctor_day_schedules(*, doctors: list[Doctor], day: date | None = None) -> list[DaySchedule]:
    """Each doctor's day in their clinic's calendar (today there by default), in
    two queries however many doctors. `booked` counts as the booking core's
    daily limit does (completed and no-show visits used a place too);
    `free_places` is what patients can still book: the free places of that
    day's bookable slots, capped by the daily limit."""
    bounds = {}
    for doctor in doctors:
        tz = doctor.clinic.tzinfo
        local_day = day or timezone.localdate(timezone=tz)
        bounds[doctor.pk] = (local_day, *local_date_bounds(local_day, tz))
    on_their_day = Q(pk__in=[])
    for doctor_id, (_, start, end) in bounds.items():
        on_their_day |= Q(doctor_id=doctor_id, start__gte=start, start__lt=end)
    appointments: dict[int, list[Appointment]] = {doctor.pk: [] for doctor in doctors}
    for appointment in (
        Appointment.objects.filter(on_their_day)
        .select_related("patient__user", "patient__guardian__user", "doctor__user", "clinic", "slot")
        .order_by("start", "id")
    ):
        appointments[appointment.doctor_id].append(appointment)
    open_places = dict(
        slot_list_bookable().filter(on_their_day).order_by().values("doctor_id")
        .annotate(places=Sum(F("capacity") - F("booked_count") - F("held_count"))).values_list("doctor_id", "places")
    )
    schedules = []
    for doctor in doctors:
        local_day, start, end = bounds[doctor.pk]
        booked = sum(a.holds_place for a in appointments[doctor.pk])
        free = max(0, min(open_places.get(doctor.pk) or 0, doctor.max_patients_per_day - booked))
        schedules.append(DaySchedule(doctor=doctor, date=local_day, start=start, end=end,
                                     appointments=appointments[doctor.pk], booked=booked, free_places=free))
    return schedules


def doctor_day_schedule(*, doctor: Doctor, day: date | None = None) -> DaySchedule:
    """One doctor's day: doctor_day_schedules for one."""
    return doctor_day_schedules(doctors=[doctor], day=day)[0]


# Parts of the day a patient may ask for, as [from, to) hours of the clinic's clock.
PARTS_OF_DAY = {"morning": (0, 12), "afternoon": (12, 24)}


def _local_time_terms(zone: str, *, from_date: date | None, part_of_day: str | None) -> Q:
    """Slots of a clinic in `zone` from the start of that local date and in that part of its day."""
    tz = zoneinfo.ZoneInfo(zone)
    condition = Q()
    if from_date is not None:
        condition &= Q(start__gte=local_date_bounds(from_date, tz)[0])
    if part_of_day:
        first, last = PARTS_OF_DAY[part_of_day]
        hour = ExtractHour("start", tzinfo=tz)
        condition &= Q(GreaterThanOrEqual(hour, first)) & Q(LessThan(hour, last))
    return condition


def open_to_patients(*, from_date: date | None = None, part_of_day: str | None = None) -> Q:
    """Slots whose start lies inside their clinic's booking window for a
    patient (after the minimum notice, before the horizon's end): one term per
    distinct (zone, notice, horizon) the active clinics use, so the window is
    the booking core's own (Clinic.booking_window), in one query. With
    `from_date` and `part_of_day` ("morning", "afternoon"), only slots from
    that date on and in that part of the day, both on the clinic's clock."""
    condition = Q(pk__in=[])
    policies = Clinic.objects.filter(is_active=True).order_by().values_list(
        "timezone", "min_notice_minutes", "booking_horizon_days").distinct()
    for zone, notice, horizon in policies:
        policy = Clinic(timezone=zone, min_notice_minutes=notice, booking_horizon_days=horizon)
        earliest, latest = policy.booking_window()
        condition |= _local_time_terms(zone, from_date=from_date, part_of_day=part_of_day) & Q(
            clinic__timezone=zone, start__gte=earliest, start__lt=latest,
            **({"clinic__min_notice_minutes": notice} if notice is not None else {"clinic__min_notice_minutes__isnull": True}),
            **({"clinic__booking_horizon_days": horizon} if horizon is not None
               else {"clinic__booking_horizon_days__isnull": True}),
        )
    return condition


DOCTOR_SORTS = ("soonest", "name")


def doctor_sort_default(*, specialty: str | None = None, city: str | None = None, search: str | None = None) -> str:
    """How doctor results are sorted unless the patient says: soonest free
    time first when they chose a specialty or a city (or the text names a
    specialty), else by name."""
    if specialty or city or (search and search_terms_parse(search).specialties):
        return "soonest"
    return "name"


def doctor_list_with_next_free(
    *, sort: str = "name", from_date: date | None = None, part_of_day: str | None = None, **filters,
) -> QuerySet[Doctor]:
    """clinics.selectors.doctor_list, each doctor annotated with
    `next_free_start`: their earliest slot a patient can book now (the
    definition the slot list and booking use, inside the clinic's policy).
    With `from_date` or `part_of_day` (see open_to_patients), only such slots
    count and only doctors who have one are listed; `sort` "soonest" puts the
    earliest first (doctors with none last), "name" keeps doctor_list's order."""
    next_free = (
        slot_list_bookable().filter(open_to_patients(from_date=from_date, part_of_day=part_of_day),
                                    doctor=OuterRef("pk"))
        .order_by("start").values("start")[:1]
    )
    doctors = doctor_list(**filters).annotate(next_free_start=Subquery(next_free))
    if from_date is not None or part_of_day:
        doctors = doctors.filter(next_free_start__isnull=False)
    if sort == "soonest":
        doctors = doctors.order_by(F("next_free_start").asc(nulls_last=True), "user__name", "id")
    return doctors


@dataclass(frozen=True)
class DoctorFreeTimes:
    """A doctor and their next few free times, soonest first."""

    doctor: Doctor
    slots: list[AppointmentSlot]


SOONEST_DOCTORS = 12
SOONEST_SLOTS_PER_DOCTOR = 4


def doctor_list_soonest(
    *, specialty: str, city: str | None = None, from_date: date | None = None, part_of_day: str | None = None,
    doctors_limit: int = SOONEST_DOCTORS, slots_per_doctor: int = SOONEST_SLOTS_PER_DOCTOR,
) -> list[DoctorFreeTimes]:
    """The doctors of a specialty (in a city) who have a free time, soonest
    first, each with their next `slots_per_doctor` free times a patient may
    book: three queries (the clinics' policies, the doctors, their slots)
    however many doctors."""
    window = open_to_patients(from_date=from_date, part_of_day=part_of_day)
    first_free = slot_list_bookable().filter(window, doctor=OuterRef("pk")).order_by("start").values("start")[:1]
    doctors = list(
        doctor_list(specialty=specialty, city=city).annotate(next_free_start=Subquery(first_free))
        .filter(next_free_start__isnull=False).order_by("next_free_start", "user__name", "id")[:doctors_limit]
    )
    rank = Window(RowNumber(), partition_by=[F("doctor_id")], order_by=[F("start").asc(), F("id").asc()])
    slots: dict[int, list[AppointmentSlot]] = {doctor.pk: [] for doctor in doctors}
    for slot in (
        slot_list_bookable().filter(window, doctor_id__in=list(slots)).annotate(rank=rank)
        .filter(rank__lte=slots_per_doctor).order_by("start", "id")
    ):
        slots[slot.doctor_id].append(slot)
    return [DoctorFreeTimes(doctor=doctor, slots=slots[doctor.pk]) for doctor in doctors]


def leave_list_with_active_counts() -> QuerySet[Leave]:
    """Every leave with its doctor and clinic, annotated with `active_inside`:
    how many of the doctor's active appointments lie inside it (those
    leave_appointments lists), in one query however many leaves; for staff lists."""
    inside = (
        Appointment.objects.filter(
            doctor_id=OuterRef("doctor_id"), status__in=Appointment.ACTIVE_STATUSES,
            start__lt=OuterRef("end"), end__gt=OuterRef("start"),
        )
        .order_by().values("doctor_id").annotate(n=Count("pk")).values("n")
    )
    return Leave.objects.select_related("doctor__user", "doctor__clinic").annotate(
        active_inside=Coalesce(Subquery(inside), 0)
    )


def appointment_list_due_reminder(*, start_after: datetime, start_until: datetime) -> list[tuple[int, datetime, int]]:
    """(id, start, sequence) of the active visits in (start_after, start_until]
    whose patient wants reminders and that have none for their current start:
    one query, whatever the number of appointments."""
    reminded = Reminder.objects.filter(appointment=OuterRef("pk"), start=OuterRef("start"))
    return list(
        Appointment.objects.filter(
            status__in=Appointment.ACTIVE_STATUSES, start__gt=start_after, start__lte=start_until,
            patient__wants_reminders=True,
        )
        .filter(~Exists(reminded))
        .order_by()
        .values_list("pk", "start", "sequence")
    )


# --- the waitlist -------------------------------------------------------------------


def waitlist_entry_list_for_user(*, user: User):
    """Entries the user may see: a patient's own and their dependents', every one for an admin."""
    entries = WaitlistEntry.objects.select_related("doctor__user", "doctor__clinic", "offered_slot")
    if user.role == User.Role.ADMIN:
        return entries
    if user.role == User.Role.PATIENT and hasattr(user, "patient"):
        return entries.filter(patient_id__in=patient_ids_in_care_of(user))
    return entries.none()


def waitlist_entry_get_for_user(*, user: User, entry_id: int) -> WaitlistEntry:
    """One entry the user may see. Raises WaitlistEntryNotFoundError for
    another patient's entry too, so ids cannot be probed."""
    try:
        return waitlist_entry_list_for_user(user=user).get(pk=entry_id)
    except WaitlistEntry.DoesNotExist:
        raise WaitlistEntryNotFoundError() from None


# --- what the patient already holds, for the booking page (before they submit) -------
# The booking core (services.booking) refuses the same things under its locks,
# with the database constraints behind it; these only let the page say so first.


def appointment_get_active_on_slot(*, patient, slot_id: int) -> Appointment | None:
    """The patient's active (pending or confirmed) appointment on this slot, if any."""
    return (Appointment.objects.filter(patient=patient, slot_id=slot_id, status__in=Appointment.ACTIVE_STATUSES)
            .select_related("doctor__user", "clinic").first())


def appointment_list_same_doctor_day(*, patient, slot: AppointmentSlot) -> list[Appointment]:
    """The patient's other active appointments with the slot's doctor on the
    slot's local day (the clinic's calendar), earliest first."""
    day_start, day_end = local_day_bounds(slot.start, slot.clinic.tzinfo)
    return list(
        Appointment.objects.filter(patient=patient, doctor_id=slot.doctor_id, status__in=Appointment.ACTIVE_STATUSES,
                                   start__gte=day_start, start__lt=day_end)
        .exclude(slot_id=slot.pk).select_related("clinic").order_by("start", "id")
    )


def appointment_get_next_with_doctor(*, patient, doctor_id: int) -> Appointment | None:
    """The patient's next active appointment with this doctor that has not
    started (one they could move instead of booking another), if any."""
    return (Appointment.objects.filter(patient=patient, doctor_id=doctor_id, status__in=Appointment.ACTIVE_STATUSES,
                                       start__gt=timezone.now())
            .select_related("clinic").order_by("start", "id").first())
