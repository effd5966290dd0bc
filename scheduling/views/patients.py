"""Patients' pages: book a time, see, cancel and move their appointments.

Each view parses a form, calls the same booking services as the API and
renders; a refusal becomes a message and nothing is half-done, because each
service is one transaction. Ownership comes from the selectors: an
appointment the user may not see is a 404, whoever it belongs to.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.decorators import patient_required
from accounts.models import User
from accounts.selectors import dependent_list
from audit.services import audit_list
from healthsvc.exceptions import ApplicationError
from scheduling import selectors, services
from scheduling.exceptions import BookingTooSoonError, CancellationWindowPassedError, SlotNotFoundError
from scheduling.forms import BookForm, CancelForm, RescheduleForm
from scheduling.ics import appointment_to_ics, check_calendar_offered
from scheduling.models import Appointment
from scheduling.services.lifecycle import changeable_refusal
from scheduling.services.policy import booking_refusal, change_deadline, change_refusal

from .common import appointment_or_404, local_label, refusal_text, week_context

OTHER_TIMES = 8
PAST_PER_PAGE = 20


def _render_book(request, slot, form, *, status=200):
    other_times = selectors.slot_list_open_to_patients(doctor_id=slot.doctor_id).exclude(pk=slot.pk)[:OTHER_TIMES]
    context = {"slot": slot, "doctor": slot.doctor, "clinic": slot.clinic, "form": form, "other_times": other_times}
    return render(request, "scheduling/appointment_book.html", context, status=status)


def _not_bookable_online(slot) -> str | None:
    """Why a patient cannot book this free slot online (the clinic's policy), if so."""
    refusal = booking_refusal(slot)
    if refusal is None:
        return None
    when = local_label(slot.start, slot.clinic)
    if isinstance(refusal, BookingTooSoonError):
        phone = f" on {slot.clinic.phone}" if slot.clinic.phone else ""
        return f"{when} is too soon to book online. Please call the clinic{phone}, or choose a later time."
    return f"{when} is not open for booking yet. Please choose an earlier time."


def _for_whom(request) -> dict:
    """BookForm's choice of whom the visit is for: the patient or a family member."""
    patient = request.user.patient
    return {"patient": patient, "dependents": list(dependent_list(guardian=patient))}


def _visit_for(appointment: Appointment) -> str:
    """`, for Maya Shah` when the visit is a family member's."""
    return f", for {appointment.patient.display_name}" if appointment.patient.is_dependent else ""


@patient_required
def appointment_book(request, slot_id: int):
    """Confirm a time with the reason for the visit; POST books it."""
    try:
        slot = selectors.slot_get(slot_id=slot_id, include_inactive=True)
    except SlotNotFoundError:
        raise Http404("Slot not found.") from None
    form = BookForm(request.POST or None, **_for_whom(request))
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.appointment_book(
                patient=form.cleaned_data.get("patient") or request.user.patient, slot_id=slot.pk,
                reason=form.cleaned_data["reason_for_visit"], booked_by=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, refusal_text(exc, slot, outcome="Nothing was booked."))
            return _render_book(request, slot, None, status=409)
        booked = f"Dr. {slot.doctor.user.name}, {local_label(slot.start, slot.clinic)}{_visit_for(appointment)}"
        if appointment.status == Appointment.Status.PENDING:
            messages.success(request, f"Requested: {booked}. The place is held for you until the doctor confirms.")
        else:
            messages.success(request, f"Booked: {booked}.")
        return redirect("scheduling:appointment-detail", appointment.pk)
    if not selectors.slot_list_bookable(doctor_id=slot.doctor_id).filter(pk=slot.pk).exists():
        when = local_label(slot.start, slot.clinic)
        messages.warning(request, f"{when} is no longer free. Please choose another time.")
        return _render_book(request, slot, None)
    if (reason := _not_bookable_online(slot)) is not None:
        messages.warning(request, reason)
        return _render_book(request, slot, None)
    return _render_book(request, slot, form)


@patient_required
def appointment_list(request):
    """Upcoming appointments, then past and cancelled ones (paginated)."""
    page = Paginator(selectors.appointment_list_past(user=request.user), PAST_PER_PAGE).get_page(request.GET.get("page"))
    upcoming = selectors.appointment_list_upcoming(user=request.user)
    audit_list("appointment", count=len(upcoming) + len(page), patient_id=request.user.patient.pk)
    return render(request, "scheduling/appointment_list.html", {"upcoming": upcoming, "past": page})


def _change_refusal(appointment: Appointment, consequence: str) -> str | None:
    """Why the patient cannot cancel or move this appointment themselves, if so:
    the booking core's own refusal (it refuses the request too), in the
    portal's words, so the pages say it before asking anything."""
    refusal = changeable_refusal(appointment) or change_refusal(appointment)
    if refusal is None:
        return None
    if isinstance(refusal, CancellationWindowPassedError):
        phone = f" on {appointment.clinic.phone}" if appointment.clinic.phone else ""
        return f"The visit is too close to change online; {consequence}. Please call the clinic{phone}."
    if appointment.is_active:
        return f"This visit has already started; {consequence}."
    return f"This appointment is {appointment.get_status_display().lower()}; {consequence}."


@patient_required
def appointment_detail(request, appointment_id: int):
    appointment = appointment_or_404(request, appointment_id)
    context = {
        "appointment": appointment, "changeable": _change_refusal(appointment, "") is None,
        "deadline": change_deadline(appointment),
        "too_late_to_change": changeable_refusal(appointment) is None and change_refusal(appointment) is not None,
    }
    return render(request, "scheduling/appointment_detail.html", context)


@patient_required
def appointment_cancel(request, appointment_id: int):
    """A confirmation page with the reason; POST cancels through the core."""
    appointment = appointment_or_404(request, appointment_id)
    if (refusal := _change_refusal(appointment, "it cannot be cancelled here")) is not None:
        messages.info(request, refusal)
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
        whose = "the" if appointment.patient.is_dependent else "your"
        messages.success(request, f"Cancelled {whose} appointment with Dr. {appointment.doctor.user.name} on {when}"
                                  f"{_visit_for(appointment)}.")
        return redirect("scheduling:appointment-list")
    return render(request, "scheduling/appointment_cancel.html", {"appointment": appointment, "form": form})


@patient_required
def appointment_reschedule(request, appointment_id: int):
    """Pick another free time of the same doctor; POST moves the appointment."""
    appointment = appointment_or_404(request, appointment_id)
    if (refusal := _change_refusal(appointment, "it cannot be moved here")) is not None:
        messages.info(request, refusal)
        return redirect("scheduling:appointment-detail", appointment.pk)
    slots = selectors.slot_list_bookable(doctor_id=appointment.doctor_id, available=False)
    form = RescheduleForm(request.POST or None, slots=slots)
    status = 200
    if request.method == "POST" and form.is_valid():
        new_slot = form.cleaned_data["slot"]
        try:
            services.appointment_reschedule(appointment_id=appointment.pk, slot_id=new_slot.pk, by=request.user)
        except ApplicationError as exc:
            messages.error(request, refusal_text(exc, new_slot, outcome="Your appointment was not changed."))
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
    """The appointment as an .ics file, for the patient or the doctor: the
    current version of the emails' invitation. Not for a cancelled visit (its
    page offers no link): back to that page, saying why."""
    appointment = appointment_or_404(request, appointment_id)
    try:
        check_calendar_offered(appointment)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        page = "scheduling:doctor-appointment" if request.user.role == User.Role.DOCTOR else "scheduling:appointment-detail"
        return redirect(page, appointment.pk)
    response = HttpResponse(appointment_to_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
    return response
