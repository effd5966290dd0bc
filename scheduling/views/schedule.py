"""Doctors' pages for running their schedule: the weekly rules ("My week") and
the slots they make, the private calendar feed of their visits, every upcoming slot (close, reopen, change capacity,
close a whole day), one-off slots, and time off with the visits inside it.

All writes go through the same services as the API and the admin.
"""

from datetime import timedelta
from itertools import groupby

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.decorators import doctor_required
from clinics.services import doctor_calendar_feed_rotate
from healthsvc.exceptions import ApplicationError, NotFoundError
from healthsvc.forms import add_service_errors, messages_text
from healthsvc.timezones import local_date_bounds
from scheduling import selectors, services
from scheduling.feeds import doctor_feed_url
from scheduling.forms import (
    DayActionForm,
    DayForm,
    DoctorCancelForm,
    GenerateForm,
    LeaveForm,
    RuleForm,
    SlotChangeForm,
    SlotCreateForm,
)
from scheduling.services.availability import slot_times
from scheduling.services.leaves import leave_bounds

from .common import local_label, monday

SLOTS_PER_PAGE = 50
DEFAULT_GENERATE_DAYS = 28
# Service error fields -> the portal forms' fields (None: the whole form; others keep their names).
SLOT_FORM_FIELDS = {"slot_datetime": None}
RULE_FORM_FIELDS = {"clinic_id": None}
LEAVE_FORM_FIELDS = {"start": "first_day", "end": "last_day"}


def _not_found_to_404(call):
    try:
        return call()
    except NotFoundError:
        raise Http404() from None


def _back(request, default: str) -> str:
    """The page a form came from (`next`, a path on this site), else `default`."""
    target = request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# --- My week: the weekly rules ----------------------------------------------------------


def _week_preview(doctor, rules) -> list[dict]:
    """Next week as the rules make it, day by day (wall times of the clinic)."""
    tz = doctor.clinic.tzinfo
    first = monday(timezone.localdate(timezone=tz)) + timedelta(days=7)
    made = slot_times(rules, date_from=first, date_to=first + timedelta(days=6), tz=tz)
    by_day = {day: list(group) for day, group in groupby(made, key=lambda s: s.start.astimezone(tz).date())}
    return [
        {"date": first + timedelta(days=i),
         "times": [timezone.localtime(s.start, tz).time() for s in by_day.get(first + timedelta(days=i), [])]}
        for i in range(7)
    ]


@doctor_required
def my_week(request):
    """The weekly rules, the week they make, a form to add one and one to make slots."""
    doctor = request.user.doctor
    form = RuleForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.availability_rule_create(doctor=doctor, **form.cleaned_data)
        except ApplicationError as exc:
            add_service_errors(form, exc, RULE_FORM_FIELDS)
            status = exc.status
        else:
            messages.success(request, f"Added {rule}. Make slots from your rules below.")
            return redirect("scheduling:my-week")
    rules = list(selectors.availability_rule_list(doctor=doctor))
    today = timezone.localdate(timezone=doctor.clinic.tzinfo)
    generate = GenerateForm(initial={"date_from": today, "date_to": today + timedelta(days=DEFAULT_GENERATE_DAYS - 1)})
    context = {
        "doctor": doctor, "form": form, "rules": rules, "preview": _week_preview(doctor, rules),
        "generate_form": generate, "clinic_tz": doctor.clinic.timezone,
    }
    return render(request, "scheduling/my_week.html", context, status=status)


@doctor_required
def rule_edit(request, rule_id: int):
    doctor = request.user.doctor
    rule = _not_found_to_404(lambda: selectors.availability_rule_get(rule_id=rule_id, doctor=doctor))
    form = RuleForm.for_rule(rule, request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.availability_rule_update(rule_id=rule.pk, **form.cleaned_data)
        except ApplicationError as exc:
            add_service_errors(form, exc, RULE_FORM_FIELDS)
            status = exc.status
        else:
            messages.success(request, f"Saved {rule}. Slots already made keep their times.")
            return redirect("scheduling:my-week")
    return render(request, "scheduling/rule_edit.html", {"form": form, "rule": rule, "clinic_tz": doctor.clinic.timezone},
                  status=status)


@require_POST
@doctor_required
def rule_delete(request, rule_id: int):
    doctor = request.user.doctor
    rule = _not_found_to_404(lambda: selectors.availability_rule_get(rule_id=rule_id, doctor=doctor))
    services.availability_rule_delete(rule_id=rule.pk)
    messages.success(request, f"Removed {rule}. The slots it made stay; close them on the Slots page if needed.")
    return redirect("scheduling:my-week")


@require_POST
@doctor_required
def slots_generate(request):
    """Make slots from the rules for a range of days."""
    doctor = request.user.doctor
    form = GenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, messages_text(form.errors))
        return redirect("scheduling:my-week")
    try:
        result = services.slots_generate(doctor=doctor, **form.cleaned_data)
    except ApplicationError as exc:
        messages.error(request, messages_text(exc.extra.get("errors", {})) or exc.message)
        return redirect("scheduling:my-week")
    data = form.cleaned_data
    span = f"{data['date_from']:%d %b} to {data['date_to']:%d %b %Y}"
    messages.success(request, f"Made {result.created} new slot(s) from {span}; {result.skipped} time(s) skipped "
                              "(already there, closed, on leave or past).")
    return redirect(f"{reverse('scheduling:slot-list')}?date={data['date_from']:%Y-%m-%d}")


# --- Slots: every upcoming slot ---------------------------------------------------------------


def _group_by_day(slots, tz) -> list[dict]:
    return [
        {"date": day, "slots": list(group)}
        for day, group in groupby(slots, key=lambda s: timezone.localtime(s.start, tz).date())
    ]


@doctor_required
def slot_list(request):
    """Every slot that has not ended (from `?date=` on), paginated and grouped
    by day, with a form to open a one-off slot; POST opens it."""
    doctor = request.user.doctor
    tz = doctor.clinic.tzinfo
    form = SlotCreateForm(request.POST or None, initial={"date": timezone.localdate(timezone=tz) + timedelta(days=1)})
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            start = services.slot_start_at(clinic=doctor.clinic, day=data["date"], wall=data["start_time"])
            slot = services.slot_create(
                doctor=doctor, start=start, duration_minutes=data["duration_minutes"], capacity=data["capacity"]
            )
        except ApplicationError as exc:
            add_service_errors(form, exc, SLOT_FORM_FIELDS)
            status = exc.status
        else:
            messages.success(request, f"Opened a slot on {local_label(slot.start, slot.clinic)}.")
            return redirect("scheduling:slot-list")
    day_form = DayForm(request.GET or None)
    since = day_form.cleaned_data["date"] if day_form.is_valid() and day_form.cleaned_data["date"] else None
    slots = selectors.slot_list_for_doctor(doctor=doctor, start=local_date_bounds(since, tz)[0] if since else None)
    page = Paginator(slots, SLOTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "doctor": doctor, "form": form, "page": page, "days": _group_by_day(page.object_list, tz),
        "clinic_tz": doctor.clinic.timezone, "now": timezone.now(), "since": since,
    }
    return render(request, "scheduling/slot_list.html", context, status=status)


@require_POST
@doctor_required
def slot_change(request, slot_id: int):
    """Change one of the doctor's slots: capacity, close or reopen."""
    doctor = request.user.doctor
    slot = _not_found_to_404(lambda: selectors.slot_get_for_doctor(doctor=doctor, slot_id=slot_id))
    form = SlotChangeForm(request.POST)
    back = _back(request, reverse("scheduling:slot-list"))
    if not form.is_valid():
        messages.error(request, messages_text(form.errors))
        return redirect(back)
    data = form.cleaned_data
    is_active = {"close": False, "reopen": True}.get(data["action"])
    try:
        services.slot_update(slot_id=slot.pk, capacity=data["capacity"], is_active=is_active)
    except ApplicationError as exc:
        messages.error(request, f"{local_label(slot.start, slot.clinic)}: {exc.message}")
    else:
        done = {"close": "Closed", "reopen": "Reopened"}.get(data["action"], "Changed")
        messages.success(request, f"{done} the slot of {local_label(slot.start, slot.clinic)}.")
    return redirect(back)


@require_POST
@doctor_required
def slot_day(request):
    """Close or reopen every slot of one day."""
    doctor = request.user.doctor
    form = DayActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a day.")
        return redirect("scheduling:slot-list")
    day, action = form.cleaned_data["date"], form.cleaned_data["action"]
    if action == "close":
        closed, kept = services.slots_close_day(doctor=doctor, day=day)
        text = f"Closed {closed} slot(s) on {day:%A %d %B}."
        if kept:
            text += f" {kept} slot(s) with booked visits stay open: cancel those visits first if you will not see them."
        messages.success(request, text)
    else:
        reopened = services.slots_reopen_day(doctor=doctor, day=day)
        messages.success(request, f"Reopened {reopened} slot(s) on {day:%A %d %B}.")
    return redirect(_back(request, f"{reverse('scheduling:slot-list')}?date={day:%Y-%m-%d}"))


# --- Time off -----------------------------------------------------------------------------------


@doctor_required
def leave_list(request):
    """Upcoming time off and a form to add some; adding shows the visits inside it."""
    doctor = request.user.doctor
    tz = doctor.clinic.tzinfo
    form = LeaveForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            start, end = leave_bounds(tz=tz, first_day=data["first_day"], last_day=data["last_day"],
                                      from_time=data["from_time"], until_time=data["until_time"])
            leave = services.leave_create(doctor=doctor, start=start, end=end, reason=data["reason"], by=request.user)
        except ApplicationError as exc:
            add_service_errors(form, exc, LEAVE_FORM_FIELDS)
            status = exc.status
        else:
            messages.success(request, "Time off saved: patients cannot book you then.")
            return redirect("scheduling:leave-detail", leave.pk)
    context = {"doctor": doctor, "form": form, "leaves": selectors.leave_list(doctor=doctor),
               "clinic_tz": doctor.clinic.timezone}
    return render(request, "scheduling/leave_list.html", context, status=status)


@doctor_required
def leave_detail(request, leave_id: int):
    """One leave and the visits booked inside it, which the doctor cancels with
    a reason for the patients (or keeps)."""
    doctor = request.user.doctor
    leave = _not_found_to_404(lambda: selectors.leave_get(leave_id=leave_id, doctor=doctor))
    form = DoctorCancelForm(request.POST or None)
    appointments = list(selectors.leave_appointments(leave=leave))
    if request.method == "POST" and form.is_valid():
        result = services.leave_cancel_appointments(leave=leave, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"Cancelled {len(result.cancelled)} visit(s); the patients see your reason.")
        if result.refused:
            messages.warning(request, "Not cancelled: " + "; ".join(
                f"{local_label(a.start, a.clinic)}: {exc.message}" for a, exc in result.refused))
        return redirect("scheduling:leave-detail", leave.pk)
    context = {"leave": leave, "appointments": appointments, "form": form, "clinic_tz": doctor.clinic.timezone}
    return render(request, "scheduling/leave_detail.html", context, status=400 if form.errors else 200)


@require_POST
@doctor_required
def leave_delete(request, leave_id: int):
    doctor = request.user.doctor
    leave = _not_found_to_404(lambda: selectors.leave_get(leave_id=leave_id, doctor=doctor))
    services.leave_delete(leave_id=leave.pk)
    messages.success(request, "Time off removed: its free slots can be booked again.")
    return redirect("scheduling:leave-list")


@require_POST
@doctor_required
def calendar_feed_rotate(request):
    """A new private calendar feed URL, shown on this answer only (only its hash
    is kept, and the answer is not cached); the previous URL stops working."""
    token = doctor_calendar_feed_rotate(doctor=request.user.doctor)
    return render(request, "scheduling/calendar_feed.html", {
        "doctor": request.user.doctor, "feed_url": doctor_feed_url(request, token),
    })
