"""Helpers shared by the portal pages: clinic-time labels, a doctor's week of
free times, ownership lookups and the wording of refusals."""

from datetime import date, datetime, timedelta

from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from audit.services import audit_read
from clinics.models import Clinic
from healthsvc.exceptions import ApplicationError
from healthsvc.timezones import local_date_bounds
from scheduling import selectors
from scheduling.exceptions import AppointmentNotFoundError, BookingTooSoonError, SlotFullError, SlotUnavailableError
from scheduling.forms import WeekForm
from scheduling.models import Appointment
from scheduling.services.policy import booking_refusal


def local_label(moment: datetime, clinic) -> str:
    """`Tue 2 Dec 2025, 09:30 IST` in the clinic's zone."""
    return date_format(timezone.localtime(moment, clinic.tzinfo), "D j M Y, H:i T")


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def appointment_or_404(request, appointment_id: int) -> Appointment:
    """The appointment the signed-in user may see, or 404. Shown on a page (a
    GET: the visit, its cancel and move pages, its calendar file), it is an
    audited read; a POST records its change through the service instead."""
    try:
        appointment = selectors.appointment_get_for_user(user=request.user, appointment_id=appointment_id)
    except AppointmentNotFoundError:
        raise Http404("Appointment not found.") from None
    if request.method == "GET":
        audit_read(appointment)
    return appointment


def week_context(request, *, doctor, exclude_slot_id: int | None = None) -> dict:
    """The doctor's free slots over one Monday-to-Sunday week of the clinic's
    calendar (`?week=` any day of it; never before this week). Times a patient
    may not book online yet (inside the clinic's notice, beyond its horizon)
    are shown greyed out, so nobody tries them to be refused.

    Each slot comes with what the page prints (its time, the day's label, its
    booking link), made here once rather than by template filters per slot:
    the doctor's page is the portal's most visited, and 42 slots through the
    `date` and `url` tags were half of its time."""
    tz = doctor.clinic.tzinfo
    today = timezone.localdate(timezone=tz)
    form = WeekForm(request.GET)
    asked = (form.cleaned_data["week"] if form.is_valid() else None) or today
    first = max(monday(asked), monday(today))
    start, _ = local_date_bounds(first, tz)
    _, end = local_date_bounds(first + timedelta(days=6), tz)
    slots = selectors.slot_list_bookable(doctor_id=doctor.pk, start=start, end=end).select_related(None).only(
        "id", "start", "capacity", "booked_count", "held_count", "clinic_id")
    if exclude_slot_id is not None:
        slots = slots.exclude(pk=exclude_slot_id)
    days = [{"date": first + timedelta(days=i), "slots": []} for i in range(7)]
    for day in days:
        day["label"] = date_format(day["date"], "l j F")
    clinics = {doctor.clinic_id: doctor.clinic}
    book_url = reverse("scheduling:appointment-book", args=[_URL_ID]).replace(str(_URL_ID), "{}")
    for slot in slots:
        if slot.clinic_id not in clinics:  # a slot at another clinic of the doctor's
            clinics[slot.clinic_id] = Clinic.objects.get(pk=slot.clinic_id)
        slot.clinic = clinics[slot.clinic_id]
        refusal = booking_refusal(slot)
        slot.too_soon = isinstance(refusal, BookingTooSoonError)
        slot.too_far = refusal is not None and not slot.too_soon
        local = timezone.localtime(slot.start, tz)
        slot.time_label = f"{local:%H:%M}"
        slot.book_url = book_url.format(slot.pk)
        days[(local.date() - first).days]["slots"].append(slot)
    has_slots = any(not (s.too_soon or s.too_far) for day in days for s in day["slots"])
    next_free = None
    if not has_slots:
        later = selectors.slot_list_open_to_patients(doctor_id=doctor.pk, start=end)
        next_free = (later.exclude(pk=exclude_slot_id) if exclude_slot_id is not None else later).first()
    return {
        "days": days, "has_slots": has_slots, "today": today, "week_start": first,
        "week_end": first + timedelta(days=6), "next_week": first + timedelta(days=7),
        "prev_week": first - timedelta(days=7) if first > monday(today) else None,
        "next_free": next_free,
        "clinic_tz": doctor.clinic.timezone, "tz_abbr": timezone.localtime(start, tz).tzname(),
        "policy": doctor.clinic.booking_policy,
        "last_bookable_day": timezone.localtime(doctor.clinic.booking_window()[1], tz).date() - timedelta(days=1),
    }


_URL_ID = 987654321  # stands for the slot id in the booking link, filled in per slot


def refusal_text(exc: ApplicationError, slot, *, outcome: str) -> str:
    when = local_label(slot.start, slot.clinic)
    if isinstance(exc, SlotFullError):
        return f"Sorry, the last place at {when} was just taken by someone else. {outcome} Please choose another time."
    if isinstance(exc, SlotUnavailableError):
        return f"{when} can no longer be booked. {outcome} Please choose another time."
    return f"{exc.message} {outcome}"
