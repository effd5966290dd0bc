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
from django.utils import timezone
from django.views.decorators.cache import never_cache

from accounts.decorators import keeps_form_when_signed_out, patient_required
from accounts.models import User
from accounts.selectors import dependent_list
from accounts.services import form_draft_take
from audit.services import audit_list, audit_read
from healthsvc.exceptions import ApplicationError
from scheduling import selectors, services
from scheduling.exceptions import (
    AlreadyBookedError,
    BookingTooSoonError,
    CancellationWindowPassedError,
    SlotNotFoundError,
)
from scheduling.forms import BookForm, CancelForm, RescheduleForm
from scheduling.ics import appointment_to_ics, check_calendar_offered
from scheduling.models import Appointment
from scheduling.services.lifecycle import changeable_refusal
from scheduling.services.policy import booking_refusal, change_deadline, change_refusal

from .common import appointment_or_404, local_label, refusal_text, week_context

OTHER_TIMES = 8
PAST_PER_PAGE = 20


def _render_book(request, slot, form, *, patient=None, held=None, status=200):
    """The booking page: the form (`form`), the patient's own appointment on
    this time (`held`), or the refusal with other times (neither); after a
    refusal, the other times move the patient's next visit with this doctor
    (if they have one) rather than add one."""
    move_from = None
    if form is None and held is None and patient is not None:
        move_from = selectors.appointment_get_next_with_doctor(patient=patient, doctor_id=slot.doctor_id)
    other_times = selectors.slot_list_open_to_patients(doctor_id=slot.doctor_id).exclude(pk=slot.pk)
    if move_from is not None:
        other_times = other_times.exclude(pk=move_from.slot_id)
    context = {"slot": slot, "doctor": slot.doctor, "clinic": slot.clinic, "form": form, "held": held,
               "move_from": move_from, "other_times": other_times[:OTHER_TIMES] if held is None else []}
    return render(request, "scheduling/appointment_book.html", context, status=status)


def _render_held(request, slot, held, *, again: bool):
    """"This is your appointment": the time the patient already holds, with its
    link; after Back and a second submit, "You already booked this"."""
    if again:
        messages.info(request, "You already booked this. Nothing more was booked; your appointment is below.")
    else:
        audit_read(held)
    return _render_book(request, slot, None, held=held)


def _same_day_question(slot, same_day: list[Appointment]) -> str | None:
    """The question before a second visit with the doctor that local day, if one is held."""
    if not same_day:
        return None
    times = " and ".join(f"{timezone.localtime(a.start, slot.clinic.tzinfo):%H:%M}" for a in same_day)
    return f"You already see Dr. {slot.doctor.user.name} on that day at {times} — book another?"


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


def _for_whom(request) -> tuple:
    """The account holder, their family members, and whom this request's visit
    is for: the family member chosen in the POSTed form, else the holder."""
    holder = request.user.patient
    dependents = list(dependent_list(guardian=holder))
    chosen = holder
    if request.method == "POST" and dependents:
        wanted = request.POST.get("patient", "")
        chosen = next((d for d in dependents if str(d.pk) == wanted), holder)
    return holder, dependents, chosen


def _visit_for(appointment: Appointment) -> str:
    """`, for Maya Shah` when the visit is a family member's."""
    return f", for {appointment.patient.display_name}" if appointment.patient.is_dependent else ""


def _book(request, slot, patient, form):
    """POST with a valid form: book through the core; a refusal is the page again (409)."""
    try:
        appointment = services.appointment_book(
            patient=patient, slot_id=slot.pk, reason=form.cleaned_data["reason_for_visit"], booked_by=request.user,
        )
    except AlreadyBookedError:  # a second tab booked it a moment ago
        held = selectors.appointment_get_active_on_slot(patient=patient, slot_id=slot.pk)
        if held is not None:
            return _render_held(request, slot, held, again=True)
        raise
    except ApplicationError as exc:
        messages.error(request, refusal_text(exc, slot, outcome="Nothing was booked."))
        return _render_book(request, slot, None, patient=patient, status=409)
    booked = f"Dr. {slot.doctor.user.name}, {local_label(slot.start, slot.clinic)}{_visit_for(appointment)}"
    if appointment.status == Appointment.Status.PENDING:
        messages.success(request, f"Requested: {booked}. The place is held for you until the doctor confirms.")
    else:
        messages.success(request, f"Booked: {booked}.")
    return redirect("scheduling:appointment-detail", appointment.pk)


def _restored_reason(request) -> dict:
    """The reason typed before the idle logout, given back once to the same user."""
    draft = form_draft_take(user=request.user, page=request.path)
    if not draft or not draft.get("reason_for_visit"):
        return {}
    messages.info(request, "Your reason for the visit is filled in again. Nothing was booked yet: check it and book.")
    return {"reason_for_visit": draft["reason_for_visit"]}


@keeps_form_when_signed_out(
    fields=("reason_for_visit",),
    message="You were signed out; sign in and your booking is still here. Nothing was booked yet.",
)
@patient_required
def appointment_book(request, slot_id: int):
    """Confirm a time with the reason for the visit (and, with family members,
    whom it is for); POST books it. A time the patient already holds is shown
    as theirs (an account with family members may still book it for one of
    them); a second visit with the same doctor that day needs a tick first."""
    try:
        slot = selectors.slot_get(slot_id=slot_id, include_inactive=True)
    except SlotNotFoundError:
        raise Http404("Slot not found.") from None
    holder, dependents, patient = _for_whom(request)
    held = selectors.appointment_get_active_on_slot(patient=patient, slot_id=slot.pk)
    if held is not None and (request.method == "POST" or not dependents):
        return _render_held(request, slot, held, again=request.method == "POST")
    if held is not None:
        messages.info(request, "You already hold this time (see My appointments); you may book it for a family member.")
    question = _same_day_question(slot, selectors.appointment_list_same_doctor_day(patient=patient, slot=slot))
    for_whom = {"patient": holder, "dependents": dependents, "same_day_question": question}
    form = BookForm(request.POST or None, **for_whom)
    if request.method == "POST" and form.is_valid():
        return _book(request, slot, patient, form)
    if not selectors.slot_list_bookable(doctor_id=slot.doctor_id).filter(pk=slot.pk).exists():
        when = local_label(slot.start, slot.clinic)
        messages.warning(request, f"{when} is no longer free. Please choose another time.")
        return _render_book(request, slot, None, patient=patient)
    if (reason := _not_bookable_online(slot)) is not None:
        messages.warning(request, reason)
        return _render_book(request, slot, None, patient=patient)
    if request.method == "GET" and (restored := _restored_reason(request)):
        form = BookForm(initial=restored, **for_whom)
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


@keeps_form_when_signed_out(
    fields=("reason",), message="You were signed out; sign in and your reason is still here. Nothing was cancelled yet.",
)
@patient_required
def appointment_cancel(request, appointment_id: int):
    """A confirmation page with the reason; POST cancels through the core."""
    appointment = appointment_or_404(request, appointment_id)
    if (refusal := _change_refusal(appointment, "it cannot be cancelled here")) is not None:
        messages.info(request, refusal)
        return redirect("scheduling:appointment-detail", appointment.pk)
    draft = form_draft_take(user=request.user, page=request.path) if request.method == "GET" else None
    form = CancelForm(request.POST or None, initial={"reason": (draft or {}).get("reason", "")})
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
