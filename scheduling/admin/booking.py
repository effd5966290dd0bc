"""Booking on behalf of a patient: find the patient by name, email or phone
(the admin's autocomplete over PatientAdmin.search_fields), then the doctor
and a day of their clinic's calendar, pick one of that day's free times and
book it through the booking core, as staff (exempt from the booking policy)."""

import json

from django import forms
from django.contrib import messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import Patient
from audit.services import audit_list
from clinics.models import Doctor
from healthsvc.admin_widgets import SafeAutocompleteSelect
from healthsvc.exceptions import ApplicationError
from healthsvc.forms import CalendarDateField
from healthsvc.timezones import local_date_bounds
from scheduling import selectors, services
from scheduling.exceptions import SlotNotFoundError
from scheduling.models import Appointment, AppointmentSlot

from .common import add_service_error, autocomplete, clinic_clock, clinic_time, date_input


def patient_label(patient: Patient) -> str:
    """Enough to tell two patients of one name apart."""
    user = patient.contact_user
    return " · ".join(part for part in (patient.name_with_guardian, user.email, user.mobile_no) if part)


class PatientAutocompleteJsonView(AutocompleteJsonView):
    """The admin's autocomplete answer, each patient labelled with name, email
    and phone (the model's __str__ is the name alone)."""

    def get_queryset(self):
        return super().get_queryset().select_related("user", "guardian__user")

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if response.status_code == 200:  # staff looked patients up: names, emails, phones shown
            audit_list("patient", count=len(json.loads(response.content)["results"]))
        return response

    def serialize_result(self, obj, to_field_name):
        return {"id": str(getattr(obj, to_field_name)), "text": patient_label(obj)}


class PatientAutocompleteSelect(SafeAutocompleteSelect):
    def get_url(self):
        return reverse(f"{self.admin_site.name}:scheduling_appointment_book_patients")


class PatientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return patient_label(obj)


class AppointmentBookForm(forms.Form):
    """The patient, the doctor and a day; then one of that day's free times
    (its choices are set by the view) and the reason."""

    patient = PatientChoiceField(
        queryset=Patient.objects.select_related("user"), required=False,
        help_text="Type part of the patient's name, email or phone number.",
    )
    doctor = forms.ModelChoiceField(queryset=Doctor.objects.select_related("user", "clinic"))
    day = CalendarDateField(
        label="Day (clinic time)", required=False, widget=date_input(),
        help_text="A day of the doctor's clinic's calendar. Empty: today there.",
    )
    slot = forms.IntegerField(label="Free time", required=False, widget=forms.RadioSelect)
    reason_for_visit = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)
    service_fields = {"SLOT_FULL": "slot", "SLOT_UNAVAILABLE": "slot", "NOT_FOUND": "slot"}

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        autocomplete(self.fields["patient"], Appointment._meta.get_field("patient"), admin_site,
                     PatientAutocompleteSelect)
        autocomplete(self.fields["doctor"], Appointment._meta.get_field("doctor"), admin_site)

    def clean(self):
        cleaned = super().clean()
        doctor = cleaned.get("doctor")
        if doctor is not None and cleaned.get("day") is None:
            cleaned["day"] = timezone.localdate(timezone=doctor.clinic.tzinfo)
            self.data = self.data.copy()
            self.data[self.add_prefix("day")] = f"{cleaned['day']:%Y-%m-%d}"
        return cleaned

    def offer(self, slots: list[AppointmentSlot]) -> None:
        """The free times to choose from, on the clinic's clocks."""
        self.fields["slot"].widget.choices = [
            (slot.pk, f"{clinic_clock(slot.start, slot.clinic)} · {slot.duration_minutes} min · "
                      f"{slot.available_spots} of {slot.capacity} free")
            for slot in slots
        ]


def free_slots(doctor: Doctor, day) -> list[AppointmentSlot]:
    """The doctor's bookable slots starting on that local day of their clinic."""
    return list(selectors.slot_list_bookable_on_day(doctor=doctor, day=day))


def _is_doctors_slot(slot_id: int, doctor: Doctor) -> bool:
    try:
        return selectors.slot_get(slot_id=slot_id, include_inactive=True).doctor_id == doctor.pk
    except SlotNotFoundError:
        return False


def _book(request, form: AppointmentBookForm) -> Appointment | None:
    """Book the chosen time, or put what is missing or refused on the form."""
    data = form.cleaned_data
    patient, slot_id, doctor = data.get("patient"), data.get("slot"), data["doctor"]
    if patient is None:
        form.add_error("patient", "Choose the patient.")
    if slot_id is None or not _is_doctors_slot(slot_id, doctor):
        form.add_error("slot", "Choose one of the free times.")
    if form.errors:
        return None
    try:
        return services.appointment_book(
            patient=patient, slot_id=slot_id, reason=data["reason_for_visit"], booked_by=request.user
        )
    except ApplicationError as exc:
        add_service_error(form, exc)
        return None


def _booked_message(appointment: Appointment) -> str:
    text = (f"Booked appointment #{appointment.pk}: {appointment.patient.name_with_guardian} with "
            f"Dr. {appointment.doctor.user.name} on {clinic_time(appointment.start, appointment.clinic)}.")
    if appointment.status == Appointment.Status.PENDING:
        text += " It is pending: the doctor requires approval; confirm it from the appointment list."
    return text


def _free_times_context(form: AppointmentBookForm) -> dict:
    """Offer the chosen day's free times; when there are none, say when the
    doctor's next free time is."""
    doctor, day = form.cleaned_data["doctor"], form.cleaned_data["day"]
    slots = free_slots(doctor, day)
    form.offer(slots)
    context = {"slots": slots, "day": day, "clinic": doctor.clinic}
    if not slots:
        _, day_end = local_date_bounds(day, doctor.clinic.tzinfo)
        next_free = selectors.slot_list_bookable(doctor_id=doctor.pk, start=day_end).first()
        if next_free is not None:
            context["next_free_label"] = clinic_time(next_free.start, next_free.clinic)
            next_day = timezone.localtime(next_free.start, next_free.clinic.tzinfo).date()
            patient = form.cleaned_data.get("patient")
            context["next_free_url"] = "?" + urlencode(
                {"patient": patient.pk if patient else "", "doctor": doctor.pk, "day": f"{next_day:%Y-%m-%d}"}
            )
    return context


def book_view(model_admin, request):
    """GET (?patient= chooses the patient; with ?doctor=&day= too, that day's
    free times are shown) and the form's two buttons: "Show free times"
    re-renders it with the day's free times, "Book" books the chosen one."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else (request.GET if "doctor" in request.GET else None)
    form = AppointmentBookForm(data, initial=request.GET.dict(), admin_site=model_admin.admin_site)
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "form": form,
               "title": "Book an appointment for a patient"}
    if form.is_bound and form.is_valid():
        if "book" in request.POST and (appointment := _book(request, form)) is not None:
            model_admin.log_addition(request, appointment, [{"added": {}}])
            model_admin.message_user(request, _booked_message(appointment), messages.SUCCESS)
            return redirect(f"{model_admin.admin_site.name}:scheduling_appointment_change", appointment.pk)
        context.update(_free_times_context(form))
    return TemplateResponse(request, "admin/scheduling/appointment/book.html", context)
