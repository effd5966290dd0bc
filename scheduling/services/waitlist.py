"""The waitlist: patients waiting for a place with a doctor on one local date.

When a place of that day frees (a cancellation or a decline, a reschedule
away from it, a capacity raised, new slots generated), waitlist_offer_freed
offers it to the first `waiting` entry, in the order they joined: the entry
becomes `offered` and one place of the slot is *held* for it
(AppointmentSlot.held_count, counted with booked_count against capacity by
the database's check constraint), so nobody else can book it. The patient is
emailed a link; they accept (booking.appointment_book_offer turns the hold
into their booking under the booking core's locks), leave, or let the offer
run out after settings.WAITLIST_HOLD_MINUTES, when the hold is released and
offered to the next. A place is never lost: a hold is only ever released in
the same transaction that books it or offers it on.

Locks: the waitlist entry comes last in the one order of locks.py

    appointment -> patient -> doctor(s) -> slot(s) -> waitlist entry

so every service here reads an entry without a lock, locks its slot, then
locks the entry and checks it has not changed meanwhile.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Patient
from audit.services import audit_record
from clinics.models import Doctor
from healthsvc.db import retry_on_conflict
from scheduling.exceptions import AlreadyOnWaitlistError, InvalidStateError, ScheduleValidationError
from healthsvc.timezones import local_date_bounds
from scheduling.models import HAS_FREE_PLACE, AppointmentSlot, Leave, WaitlistEntry
from scheduling.tasks import waitlist_offer_notify

from .locks import slot_get_for_update, slots_get_for_update
from .places import change_held_count
from .policy import booking_refusal

Status = WaitlistEntry.Status
# How far ahead a patient may wait (slots are generated at most 366 days ahead).
MAX_DAYS_AHEAD = 366


def hold_duration() -> timedelta:
    return timedelta(minutes=settings.WAITLIST_HOLD_MINUTES)


def _first_waiting(*, doctor_id: int, day: date) -> WaitlistEntry | None:
    """The first waiting entry of the doctor's day, locked. On PostgreSQL a
    locked row that another offer changed meanwhile drops out of a LIMIT 1
    FOR UPDATE, leaving nothing although later entries wait: ask again then."""
    waiting = WaitlistEntry.objects.filter(doctor_id=doctor_id, date=day, status=Status.WAITING)
    for _ in range(5):
        entry = waiting.select_for_update(skip_locked=False).order_by("created_at", "id").first()
        if entry is not None or not waiting.exists():
            return entry
    return None


def _offerable(slot: AppointmentSlot) -> bool:
    """Whether a patient could take a place of the slot now: open, not begun,
    inside the clinic's booking window (an offer the patient may not accept
    would only hold the place from the clinic's phone), its doctor not on
    leave over it."""
    if not slot.is_active or slot.is_past or booking_refusal(slot) is not None:
        return False
    return not Leave.objects.filter(doctor_id=slot.doctor_id, start__lt=slot.end, end__gt=slot.start).exists()


def waitlist_offer_freed(slot: AppointmentSlot) -> int:
    """Offer the free places of a slot the caller has locked to the doctor's
    waiting patients of that local day, first joined first, each place held
    for WAITLIST_HOLD_MINUTES. Called inside the transaction that freed the
    place, so the place is offered or stays free, never both. Returns how
    many offers were made."""
    if slot.is_full or not _offerable(slot):
        return 0
    day = timezone.localtime(slot.start, slot.clinic.tzinfo).date()
    offered = 0
    while not slot.is_full:
        entry = _first_waiting(doctor_id=slot.doctor_id, day=day)
        if entry is None:
            break
        change_held_count(slot, +1)
        entry.status = Status.OFFERED
        entry.offered_slot = slot
        entry.offered_until = timezone.now() + hold_duration()
        entry.save(update_fields=["status", "offered_slot", "offered_until", "updated_at"])
        waitlist_offer_notify(entry)
        audit_record("waitlist_offer", obj=entry, detail={"slot": slot.pk})
        offered += 1
    return offered


def waitlist_offer_days(*, doctor: Doctor, date_from: date, date_to: date) -> int:
    """Offer the doctor's free places on each local date from `date_from` to
    `date_to` that patients wait for (after slots were generated; the caller
    holds the doctor's lock). Each day's slots are locked together, in id order."""
    days = sorted(set(WaitlistEntry.objects.filter(
        doctor=doctor, status=Status.WAITING, date__gte=date_from, date__lte=date_to
    ).values_list("date", flat=True)))
    offered = 0
    for day in days:
        start, end = local_date_bounds(day, doctor.clinic.tzinfo)
        ids = list(AppointmentSlot.objects.filter(
            HAS_FREE_PLACE, doctor=doctor, is_active=True, start__gte=max(start, timezone.now()), start__lt=end
        ).values_list("pk", flat=True))
        if ids:
            slots = slots_get_for_update(slot_ids=ids)
            for slot in sorted(slots.values(), key=lambda s: (s.start, s.pk)):
                offered += waitlist_offer_freed(slot)
    return offered


@retry_on_conflict
@transaction.atomic
def waitlist_join(*, patient: Patient, doctor: Doctor, day: date) -> WaitlistEntry:
    """Put the patient on the doctor's waitlist for the clinic's local date
    `day` (today up to MAX_DAYS_AHEAD ahead). Raises AlreadyOnWaitlistError
    when they already wait (or hold an offer) for it, ScheduleValidationError
    for a date outside that range."""
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    if day < today:
        raise ScheduleValidationError("That date has passed.", extra={"errors": {"date": ["That date has passed."]}})
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        message = f"Give a date at most {MAX_DAYS_AHEAD} days ahead."
        raise ScheduleValidationError(message, extra={"errors": {"date": [message]}})
    if WaitlistEntry.objects.filter(patient=patient, doctor=doctor, date=day, status__in=WaitlistEntry.OPEN_STATUSES
                                    ).exists():
        raise AlreadyOnWaitlistError()
    try:
        with transaction.atomic():  # the partial unique constraint settles a race
            entry = WaitlistEntry.objects.create(patient=patient, doctor=doctor, date=day)
    except IntegrityError as exc:
        raise AlreadyOnWaitlistError() from exc
    audit_record("waitlist_join", obj=entry)
    return entry


def _locked_offer(entry_id: int) -> tuple[WaitlistEntry, AppointmentSlot | None]:
    """The entry locked, with its offered slot locked first (locks.py order);
    the entry re-read under the lock in case an offer changed it meanwhile."""
    slot_id = WaitlistEntry.objects.filter(pk=entry_id).values_list("offered_slot_id", flat=True).first()
    slot = slot_get_for_update(slot_id=slot_id) if slot_id else None
    entry = WaitlistEntry.objects.select_for_update(of=("self",)).get(pk=entry_id)
    if entry.status == Status.OFFERED and entry.offered_slot_id != slot_id:  # offered since: start again
        return _locked_offer(entry_id)
    return entry, slot


def waitlist_entry_mark_booked(entry: WaitlistEntry, appointment) -> None:
    """A locked, offered entry whose held place became `appointment` (booking.appointment_book_offer)."""
    entry.status, entry.appointment = Status.BOOKED, appointment
    entry.save(update_fields=["status", "appointment", "updated_at"])


def _release(entry: WaitlistEntry, slot: AppointmentSlot, *, status: str) -> None:
    """End a locked offer (expired or left): its held place goes to the next waiting patient."""
    change_held_count(slot, -1)
    entry.status = status
    entry.save(update_fields=["status", "updated_at"])
    waitlist_offer_freed(slot)


@retry_on_conflict
@transaction.atomic
def waitlist_leave(*, entry_id: int) -> WaitlistEntry:
    """Leave the waitlist: an offered entry's held place goes to the next.
    Raises InvalidStateError for an entry no longer waiting or offered."""
    entry, slot = _locked_offer(entry_id)
    if entry.status == Status.OFFERED:
        _release(entry, slot, status=Status.LEFT)
    elif entry.status == Status.WAITING:
        entry.status = Status.LEFT
        entry.save(update_fields=["status", "updated_at"])
    else:
        raise InvalidStateError(f"This entry is {entry.status}; there is nothing to leave.")
    audit_record("waitlist_leave", obj=entry)
    return entry


@retry_on_conflict
@transaction.atomic
def waitlist_expire_offer(*, entry_id: int, now: datetime | None = None) -> bool:
    """Expire one offer whose time has run out, releasing its place to the
    next waiting patient. False when it was accepted, left or expired meanwhile."""
    entry, slot = _locked_offer(entry_id)
    if entry.status != Status.OFFERED or entry.offered_until > (now or timezone.now()):
        return False
    _release(entry, slot, status=Status.EXPIRED)
    audit_record("waitlist_expire", obj=entry)
    return True


def waitlist_expire_offers(*, now: datetime | None = None) -> int:
    """Expire every offer past its time (one transaction each, so one slow
    slot does not hold the others). For the every-minute cron. Returns how many."""
    now = now or timezone.now()
    due = WaitlistEntry.objects.filter(status=Status.OFFERED, offered_until__lte=now).order_by("offered_until", "id")
    return sum(waitlist_expire_offer(entry_id=pk, now=now) for pk in due.values_list("pk", flat=True))
