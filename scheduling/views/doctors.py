"""Doctors' pages for running the day: the day's visits and load, one visit
(outcome, the clinical note and the note for the patient), approving pending
bookings and cancelling a visit."""

from datetime import date, timedelta
from itertools import groupby

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.decorators import doctor_required
from accounts.selectors import patient_is_readable
from audit.services import audit_list, audit_record
from healthsvc.exceptions import ApplicationError
from healthsvc.timezones import local_date_bounds
from scheduling import selectors, services
from scheduling.forms import DayForm, DeclineForm, DoctorCancelForm, OutcomeForm
from scheduling.models import Appointment
from scheduling.services.lifecycle import OUTCOME_STATUSES

from .common import appointment_or_404, local_label

UPCOMING_DAYS = 14


def _by_local_day(appointments, tz) -> list[dict]:
    days = []
    for day, group in groupby(appointments, key=lambda a: timezone.localtime(a.start, tz).date()):
        items = list(group)
        days.append({"date": day, "appointments": items, "load": sum(a.holds_place for a in items)})
    return days


def day_url(appointment: Appointment) -> str:
    day = timezone.localtime(appointment.start, appointment.clinic.tzinfo).date()
    return f"{reverse('scheduling:doctor-day')}?date={day:%Y-%m-%d}"


@doctor_required
def doctor_day(request):
    """One day's appointments (today by default) with the load against the
    daily maximum and the places still free, the bookings waiting for
    approval, then the coming two weeks."""
    doctor = request.user.doctor
    tz = doctor.clinic.tzinfo
    today = timezone.localdate(timezone=tz)
    form = DayForm(request.GET or None)
    day = (form.cleaned_data["date"] if form.is_valid() else None) or today
    if not form.is_bound:
        form = DayForm(initial={"date": day})
    schedule = selectors.doctor_day_schedule(doctor=doctor, day=day)
    _, horizon = local_date_bounds(day + timedelta(days=UPCOMING_DAYS), tz)
    upcoming = selectors.appointment_list_active_between(user=request.user, start=schedule.end, end=horizon)
    pending = selectors.appointment_list_awaiting_approval(user=request.user)
    # The page lists patients' names and reasons for visit: a read of each (one row for the page).
    audit_list("appointment", count=len(schedule.appointments) + len(upcoming) + len(pending))
    context = {
        "doctor": doctor, "form": form, "day": day, "today": today, "schedule": schedule,
        "appointments": schedule.appointments, "load": schedule.booked,
        "prev_day": day - timedelta(days=1), "next_day": day + timedelta(days=1),
        "upcoming_days": _by_local_day(upcoming, tz), "upcoming_span": UPCOMING_DAYS, "pending": pending,
        "clinic_tz": doctor.clinic.timezone, "tz_abbr": timezone.localtime(schedule.start, tz).tzname(),
        "now": timezone.now(),
    }
    return render(request, "scheduling/doctor_day.html", context)


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _visit_context(request, appointment: Appointment, form: OutcomeForm) -> dict:
    """The visit page's context. The patient's medical summary is there only
    while the doctor may read the patient (a current or recent visit, the
    same rule as GET /api/v1/patients/{id}): an old or cancelled visit's page
    shows the visit, not the patient's allergies."""
    today = timezone.localdate(timezone=appointment.clinic.tzinfo)
    readable = patient_is_readable(user=request.user, patient_id=appointment.patient_id)
    if readable:  # the page shows the patient's medical summary
        audit_record("read", object_type="patient", object_id=appointment.patient_id,
                     patient_id=appointment.patient_id)
    return {
        "appointment": appointment, "form": form, "patient_readable": readable,
        "age": _age(appointment.patient.date_of_birth, today) if readable else None,
        "access_days": settings.DOCTOR_PATIENT_ACCESS_DAYS,
        "cancel_form": DoctorCancelForm() if appointment.is_changeable else None,
        "decline_form": DeclineForm() if appointment.status == Appointment.Status.PENDING else None,
    }


@doctor_required
def doctor_appointment(request, appointment_id: int):
    """A visit: the patient's medical summary, the outcome and the notes."""
    appointment = appointment_or_404(request, appointment_id)
    initial = {"status": appointment.status if appointment.status in OUTCOME_STATUSES else "",
               "notes": appointment.notes, "note_for_patient": appointment.note_for_patient}
    form = OutcomeForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_set_outcome(
                appointment_id=appointment.pk, status=form.cleaned_data["status"] or None,
                notes=form.cleaned_data["notes"], note_for_patient=form.cleaned_data["note_for_patient"],
                by=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(request, f"Saved the visit of {appointment.patient.display_name}.")
            return redirect(day_url(appointment))
    return render(request, "scheduling/doctor_appointment.html", _visit_context(request, appointment, form),
                  status=status)


@require_POST
@doctor_required
def doctor_appointment_confirm(request, appointment_id: int):
    """Accept a pending booking."""
    appointment = appointment_or_404(request, appointment_id)
    try:
        services.appointment_confirm(appointment_id=appointment.pk, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        when = local_label(appointment.start, appointment.clinic)
        messages.success(request, f"Confirmed {appointment.patient.display_name}, {when}.")
    if request.POST.get("next") == "visit":
        return redirect("scheduling:doctor-appointment", appointment.pk)
    return redirect(day_url(appointment))


def _cancel_or_decline(request, appointment_id: int, *, decline: bool):
    appointment = appointment_or_404(request, appointment_id)
    form = (DeclineForm if decline else DoctorCancelForm)(request.POST)
    if not form.is_valid():
        limit = form.fields["reason"].max_length
        messages.error(request, f"Please give the patient a reason, of at most {limit} characters.")
        return redirect("scheduling:doctor-appointment", appointment.pk)
    service = services.appointment_decline if decline else services.appointment_cancel
    # A decline carries the reason only; a cancel may add a note for the doctor and staff.
    extra = {} if decline else {"internal_note": form.cleaned_data["internal_note"]}
    try:
        service(appointment_id=appointment.pk, by=request.user, reason=form.cleaned_data["reason"], **extra)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("scheduling:doctor-appointment", appointment.pk)
    verb = "Declined" if decline else "Cancelled"
    when = local_label(appointment.start, appointment.clinic)
    messages.success(request, f"{verb} the visit of {appointment.patient.display_name}, {when}; the place is free again.")
    return redirect(day_url(appointment))


@require_POST
@doctor_required
def doctor_appointment_decline(request, appointment_id: int):
    """Turn down a pending booking with a reason for the patient."""
    return _cancel_or_decline(request, appointment_id, decline=True)


@require_POST
@doctor_required
def doctor_appointment_cancel(request, appointment_id: int):
    """Cancel a visit with a reason for the patient (the doctor is not held to
    the patients' cancellation window)."""
    return _cancel_or_decline(request, appointment_id, decline=False)
