"""Patients' waitlist pages: join a doctor's day from the doctor's page, see
their entries, accept an offered place, leave. The same services as the API;
a refusal becomes a message."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from accounts.decorators import patient_required
from clinics import selectors as clinic_selectors
from healthsvc.exceptions import ApplicationError, NotFoundError
from scheduling import selectors
from scheduling.services.booking import appointment_book_offer
from scheduling.services.waitlist import waitlist_join as join, waitlist_leave as leave

from .common import local_label


def _entry_or_404(user, entry_id: int):
    try:
        return selectors.waitlist_entry_get_for_user(user=user, entry_id=entry_id)
    except NotFoundError:
        raise Http404("Waitlist entry not found.") from None


@patient_required
def waitlist_list(request):
    """The patient's entries, newest first: an offered one with Accept, an open one with Leave."""
    entries = selectors.waitlist_entry_list_for_user(user=request.user).order_by("-date", "-created_at", "-id")[:100]
    for entry in entries:
        if entry.offered_slot_id:
            entry.offered_label = local_label(entry.offered_slot.start, entry.doctor.clinic)
    return render(request, "scheduling/waitlist_list.html", {"entries": entries})


@require_POST
@patient_required
def waitlist_join(request, doctor_id: int):
    try:
        doctor = clinic_selectors.doctor_get(doctor_id=doctor_id)
    except NotFoundError:
        raise Http404("Doctor not found.") from None
    day = parse_date(request.POST.get("date") or "") if len(request.POST.get("date") or "") == 10 else None
    if day is None:
        messages.error(request, "Choose a day to wait for.")
        return redirect("scheduling:doctor-detail", doctor.pk)
    try:
        join(patient=request.user.patient, doctor=doctor, day=day)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("scheduling:doctor-detail", doctor.pk)
    messages.success(request, f"You are on Dr. {doctor.user.name}'s waitlist for {day:%A %d %B}; "
                              "we will email you when a place frees.")
    return redirect("scheduling:waitlist")


@require_POST
@patient_required
def waitlist_accept(request, entry_id: int):
    entry = _entry_or_404(request.user, entry_id)
    try:
        appointment = appointment_book_offer(entry_id=entry.pk, patient=request.user.patient, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("scheduling:waitlist")
    messages.success(request, "Booked: the place is yours.")
    return redirect("scheduling:appointment-detail", appointment.pk)


@require_POST
@patient_required
def waitlist_leave(request, entry_id: int):
    entry = _entry_or_404(request.user, entry_id)
    try:
        leave(entry_id=entry.pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "You left the waitlist.")
    return redirect("scheduling:waitlist")
