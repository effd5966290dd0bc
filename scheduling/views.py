"""Portal pages for booking (patients) and for running the day (doctors).

Each view parses a form, calls the same booking services as the API and
renders; a domain error becomes a message (messages framework) and nothing is
half-done, because each service is one transaction. Ownership comes from the
selectors: an appointment the user may not see is a 404, whoever it belongs to.
"""

from datetime import date, datetime, time, timedelta
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.cache import never_cache

from accounts.decorators import doctor_required, patient_required
from healthsvc.exceptions import ApplicationError
from scheduling import selectors, services
from scheduling.exceptions import (
    AppointmentNotFoundError,
    SlotFullError,
    SlotNotFoundError,
    SlotUnavailableError,
    SlotValidationError,
)
from scheduling.forms import BookForm, CancelForm, DayForm, OutcomeForm, RescheduleForm, SlotCreateForm, WeekForm
from scheduling.ics import appointment_to_ics
from scheduling.models import Appointment
from scheduling.services.booking import OUTCOME_STATUSES

ACTIVE = Appointment.ACTIVE_STATUSES
OTHER_TIMES = 8
PAST_PER_PAGE = 20
UPCOMING_DAYS = 14
SLOTS_SHOWN = 60
# slot_create's error fields -> the portal form's fields (None: the whole form).
SLOT_FORM_FIELDS = {"slot_datetime": None, "duration_minutes": "duration_minutes", "capacity": "capacity"}


# --- helpers shared by the pages --------------------------------------------


def local_label(moment: datetime, clinic) -> str:
    """`Tue 2 Dec 2025, 09:30 IST` in the clinic's zone."""
    return date_format(timezone.localtime(moment, clinic.tzinfo), "D j M Y, H:i T")


def _midnight(day: date, tz) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _appointment_or_404(user, appointment_id: int) -> Appointment:
    try:
        return selectors.appointment_get_for_user(user=user, appointment_id=appointment_id)
    except AppointmentNotFoundError:
        raise Http404("Appointment not found.") from None


def week_context(request, *, doctor, exclude_slot_id: int | None = None) -> dict:
    """The doctor's free slots over one Monday-to-Sunday week of the clinic's
    calendar (`?week=` any day of it; never before this week)."""
    tz = doctor.clinic.tzinfo
    today = timezone.localdate(timezone=tz)
    form = WeekForm(request.GET)
    asked = (form.cleaned_data["week"] if form.is_valid() else None) or today
    first = max(_monday(asked), _monday(today))
    start, end = _midnight(first, tz), _midnight(first + timedelta(days=7), tz)
    slots = selectors.slot_list_bookable(doctor_id=doctor.pk, start=start, end=end)
    later = selectors.slot_list_bookable(doctor_id=doctor.pk, start=end)
    if exclude_slot_id is not None:
        slots, later = slots.exclude(pk=exclude_slot_id), later.exclude(pk=exclude_slot_id)
    days = [{"date": first + timedelta(days=i), "slots": []} for i in range(7)]
    for slot in slots:
        days[(timezone.localtime(slot.start, tz).date() - first).days]["slots"].append(slot)
    has_slots = any(day["slots"] for day in days)
    return {
        "days": days, "has_slots": has_slots, "today": today, "week_start": first,
        "week_end": first + timedelta(days=6), "next_week": first + timedelta(days=7),
        "prev_week": first - timedelta(days=7) if first > _monday(today) else None,
        "next_free": None if has_slots else later.first(),
        "clinic_tz": doctor.clinic.timezone, "tz_abbr": start.tzname(),
    }


def _refusal(exc: ApplicationError, slot, *, outcome: str) -> str:
    when = local_label(slot.start, slot.clinic)
    if isinstance(exc, SlotFullError):
        return f"Sorry, the last place at {when} was just taken by someone else. {outcome} Please choose another time."
    if isinstance(exc, SlotUnavailableError):
        return f"{when} can no longer be booked. {outcome} Please choose another time."
    return f"{exc.message} {outcome}"


# --- patients: booking ------------------------------------------------------


def _render_book(request, slot, form, *, status=200):
    other_times = selectors.slot_list_bookable(doctor_id=slot.doctor_id).exclude(pk=slot.pk)[:OTHER_TIMES]
    context = {"slot": slot, "doctor": slot.doctor, "clinic": slot.clinic, "form": form, "other_times": other_times}
    return render(request, "scheduling/appointment_book.html", context, status=status)


@patient_required
def appointment_book(request, slot_id: int):
    """Confirm a time with the reason for the visit; POST books it."""
    try:
        slot = selectors.slot_get(slot_id=slot_id, include_inactive=True)
    except SlotNotFoundError:
        raise Http404("Slot not found.") from None
    form = BookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.appointment_book(
                patient=request.user.patient, slot_id=slot.pk,
                reason=form.cleaned_data["reason_for_visit"], booked_by=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, _refusal(exc, slot, outcome="Nothing was booked."))
            return _render_book(request, slot, None, status=409)
        messages.success(request, f"Booked: Dr. {slot.doctor.user.name}, {local_label(slot.start, slot.clinic)}.")
        return redirect("scheduling:appointment-detail", appointment.pk)
    if not selectors.slot_list_bookable(doctor_id=slot.doctor_id).filter(pk=slot.pk).exists():
        when = local_label(slot.start, slot.clinic)
        messages.warning(request, f"{when} is no longer free. Please choose another time.")
        return _render_book(request, slot, None)
    return _render_book(request, slot, form)


# --- patients: my appointments ----------------------------------------------


@patient_required
def appointment_list(request):
    """Upcoming appointments, then past and cancelled ones (paginated)."""
    page = Paginator(selectors.appointment_list_past(user=request.user), PAST_PER_PAGE).get_page(request.GET.get("page"))
    upcoming = selectors.appointment_list_upcoming(user=request.user)
    return render(request, "scheduling/appointment_list.html", {"upcoming": upcoming, "past": page})


@patient_required
def appointment_detail(request, appointment_id: int):
    appointment = _appointment_or_404(request.user, appointment_id)
    return render(request, "scheduling/appointment_detail.html",
                  {"appointment": appointment, "changeable": appointment.is_changeable})


def _not_changeable(appointment: Appointment, consequence: str) -> str:
    if appointment.is_active:
        return f"This visit has already started; {consequence}."
    return f"This appointment is {appointment.get_status_display().lower()}; {consequence}."


@patient_required
def appointment_cancel(request, appointment_id: int):
    """A confirmation page with the reason; POST cancels through the core."""
    appointment = _appointment_or_404(request.user, appointment_id)
    if not appointment.is_changeable:  # the core refuses it too; say so before asking why
        messages.info(request, _not_changeable(appointment, "there is nothing to cancel"))
        return redirect("scheduling:appointment-detail", appointment.pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_cancel(
                appointment_id=appointment.pk, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("scheduling:appointment-detail", appointment.pk)
        when = local_label(appointment.start, appointment.clinic)
        messages.success(request, f"Cancelled your appointment with Dr. {appointment.doctor.user.name} on {when}.")
        return redirect("scheduling:appointment-list")
    return render(request, "scheduling/appointment_cancel.html", {"appointment": appointment, "form": form})


@patient_required
def appointment_reschedule(request, appointment_id: int):
    """Pick another free time of the same doctor; POST moves the appointment."""
    appointment = _appointment_or_404(request.user, appointment_id)
    if not appointment.is_changeable:
        messages.info(request, _not_changeable(appointment, "it cannot be moved"))
        return redirect("scheduling:appointment-detail", appointment.pk)
    slots = selectors.slot_list_bookable(doctor_id=appointment.doctor_id, available=False)
    form = RescheduleForm(request.POST or None, slots=slots)
    status = 200
    if request.method == "POST" and form.is_valid():
        new_slot = form.cleaned_data["slot"]
        try:
            services.appointment_reschedule(appointment_id=appointment.pk, slot_id=new_slot.pk, by=request.user)
        except ApplicationError as exc:
            messages.error(request, _refusal(exc, new_slot, outcome="Your appointment was not changed."))
            form, status = RescheduleForm(slots=slots), 409
        else:
            messages.success(request, f"Moved to {local_label(new_slot.start, new_slot.clinic)}.")
            return redirect("scheduling:appointment-detail", appointment.pk)
    context = {"appointment": appointment, "form": form, "doctor": appointment.doctor,
               **week_context(request, doctor=appointment.doctor, exclude_slot_id=appointment.slot_id)}
    return render(request, "scheduling/appointment_reschedule.html", context, status=status)


@never_cache
@login_required
def appointment_ics(request, appointment_id: int):
    """The appointment as an .ics file, for the patient or the doctor."""
    appointment = _appointment_or_404(request.user, appointment_id)
    response = HttpResponse(appointment_to_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
    return response


# --- doctors ----------------------------------------------------------------


def _load(appointments) -> int:
    """Places used on a day, counted as the booking core counts the daily limit."""
    return sum(a.holds_place for a in appointments)


def _by_local_day(appointments, tz) -> list[dict]:
    days = []
    for day, group in groupby(appointments, key=lambda a: timezone.localtime(a.start, tz).date()):
        items = list(group)
        days.append({"date": day, "appointments": items, "load": _load(items)})
    return days


@doctor_required
def doctor_day(request):
    """One day's appointments (today by default) with the load against the
    daily maximum, then the coming two weeks."""
    doctor = request.user.doctor
    tz = doctor.clinic.tzinfo
    today = timezone.localdate(timezone=tz)
    form = DayForm(request.GET or None)
    day = (form.cleaned_data["date"] if form.is_valid() else None) or today
    if not form.is_bound:
        form = DayForm(initial={"date": day})
    start, end = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
    mine = selectors.appointment_list_for_user(user=request.user)
    appointments = list(mine.filter(start__gte=start, start__lt=end).order_by("start", "id"))
    upcoming = mine.filter(
        status__in=ACTIVE, start__gte=end, start__lt=_midnight(day + timedelta(days=UPCOMING_DAYS + 1), tz)
    ).order_by("start", "id")
    context = {
        "doctor": doctor, "form": form, "day": day, "today": today, "appointments": appointments,
        "load": _load(appointments),
        "prev_day": day - timedelta(days=1), "next_day": day + timedelta(days=1),
        "upcoming_days": _by_local_day(upcoming, tz), "upcoming_span": UPCOMING_DAYS,
        "clinic_tz": doctor.clinic.timezone, "tz_abbr": start.tzname(), "now": timezone.now(),
    }
    return render(request, "scheduling/doctor_day.html", context)


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@doctor_required
def doctor_appointment(request, appointment_id: int):
    """A visit: the patient's medical summary, the outcome and the notes."""
    appointment = _appointment_or_404(request.user, appointment_id)
    initial = {"status": appointment.status if appointment.status in OUTCOME_STATUSES else "",
               "notes": appointment.notes}
    form = OutcomeForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_set_outcome(
                appointment_id=appointment.pk, status=form.cleaned_data["status"] or None,
                notes=form.cleaned_data["notes"], by=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(request, f"Saved the visit of {appointment.patient.user.name}.")
            day = timezone.localtime(appointment.start, appointment.clinic.tzinfo).date()
            return redirect(f"{reverse('scheduling:doctor-day')}?date={day:%Y-%m-%d}")
    today = timezone.localdate(timezone=appointment.clinic.tzinfo)
    context = {"appointment": appointment, "form": form, "age": _age(appointment.patient.date_of_birth, today)}
    return render(request, "scheduling/doctor_appointment.html", context, status=status)


@doctor_required
def slot_create(request):
    """Open a slot at a date and time of the clinic's calendar."""
    doctor = request.user.doctor
    tz = doctor.clinic.tzinfo
    form = SlotCreateForm(request.POST or None, initial={"date": timezone.localdate(timezone=tz) + timedelta(days=1)})
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        start = datetime.combine(data["date"], data["start_time"], tzinfo=tz)
        try:
            slot = services.slot_create(
                doctor=doctor, start=start, duration_minutes=data["duration_minutes"], capacity=data["capacity"]
            )
        except SlotValidationError as exc:
            for field, errors in exc.extra.get("errors", {"slot_datetime": [exc.message]}).items():
                form.add_error(SLOT_FORM_FIELDS.get(field), errors)
            status = exc.status
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(request, f"Opened a slot on {local_label(slot.start, slot.clinic)}.")
            return redirect("scheduling:slot-create")
    slots = selectors.slot_list_bookable(doctor_id=doctor.pk, available=False)[:SLOTS_SHOWN]
    context = {"doctor": doctor, "form": form, "slots": slots, "clinic_tz": doctor.clinic.timezone}
    return render(request, "scheduling/slot_create.html", context, status=status)
