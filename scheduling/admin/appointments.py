"""Appointments in the admin: listed and shown in their clinic's time, booked
on a patient's behalf, confirmed, declined and cancelled, always through the
booking core (lifecycle.py is the only writer of a status)."""

from django.contrib import admin
from django.contrib.admin import helpers
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from audit.admin import AuditedAdminMixin

from scheduling import services
from scheduling.models import Appointment

from . import board, booking
from .common import (
    CancelReasonForm,
    ClinicDayFilter,
    ClinicTimeColumns,
    ReasonForm,
    ServiceErrorsOnFormMixin,
    apply_each,
    clinic_time,
    report,
)


class AwaitingApprovalFilter(admin.SimpleListFilter):
    title = "approval"
    parameter_name = "approval"

    def lookups(self, request, model_admin):
        return [("awaiting", "Awaiting approval"), ("required", "Doctor requires approval")]

    def queryset(self, request, queryset):
        if self.value() == "awaiting":
            return queryset.filter(status=Appointment.Status.PENDING)
        if self.value() == "required":
            return queryset.filter(doctor__requires_approval=True)
        return None


def status_text(appointment: Appointment) -> str:
    if appointment.status == Appointment.Status.PENDING:
        return "Pending: awaiting approval"
    return appointment.get_status_display()


def reason_page(model_admin, request, queryset, *, form, action: str, title: str, intro: str, submit: str):
    """The intermediate page of an action that needs a reason for the patient."""
    rows = queryset.select_related("patient__user", "patient__guardian__user", "doctor__user", "clinic")
    context = {
        **model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "form": form,
        "title": title, "intro": intro, "submit": submit, "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME, "selected": [a.pk for a in rows],
        "items": [f"#{a.pk} · {a.patient.name_with_guardian} with Dr. {a.doctor.user.name} at {a.clinic.name} · "
                  f"{clinic_time(a.start, a.clinic)} · {status_text(a)}" for a in rows],
    }
    return TemplateResponse(request, "admin/scheduling/action_form.html", context)


@admin.register(Appointment)
class AppointmentAdmin(AuditedAdminMixin, ClinicTimeColumns, ServiceErrorsOnFormMixin, admin.ModelAdmin):
    audit_saves = False  # the notes go through appointment_set_outcome, which records them
    change_list_template = "admin/scheduling/appointment/change_list.html"
    list_display = ("id", "patient_name", "doctor_name", "clinic", "local_start", "status_label", "local_created")
    list_select_related = ("patient__user", "patient__guardian__user", "doctor__user", "clinic")
    list_filter = (ClinicDayFilter, "status", AwaitingApprovalFilter, "clinic", "doctor__specialty")
    search_fields = ("patient__user__name", "patient__name", "patient__user__email", "doctor__user__name", "=id")
    ordering = ("-start",)
    fields = (
        "patient", "doctor", "clinic", "slot", "local_start", "local_end", "status_label", "reason_for_visit",
        "notes", "note_for_patient", "booked_by", "local_cancelled_at", "cancelled_reason", "cancelled_internal_note",
        "cancelled_by", "local_created", "local_updated",
    )
    # The two notes are editable; each field's help text says who reads it.
    readonly_fields = tuple(f for f in fields if f not in {"notes", "note_for_patient"})
    actions = ["confirm_appointments", "decline_appointments", "cancel_appointments"]

    @admin.display(description="Patient", ordering="patient__user__name")
    def patient_name(self, obj):
        return obj.patient.name_with_guardian




    @admin.display(description="Cancelled at (clinic time)")
    def local_cancelled_at(self, obj):
        return clinic_time(obj.cancelled_at, obj.clinic)



    @admin.display(description="Status", ordering="status")
    def status_label(self, obj):
        return status_text(obj)

    def get_urls(self):
        site = self.admin_site
        patients = booking.PatientAutocompleteJsonView.as_view(admin_site=site)
        return [
            path("book/", site.admin_view(self.book_view), name="scheduling_appointment_book"),
            path("book/patients/", site.admin_view(patients), name="scheduling_appointment_book_patients"),
            path("board/", site.admin_view(self.board_view), name="scheduling_appointment_board"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:scheduling_appointment_book")

    def book_view(self, request):
        return booking.book_view(self, request)

    def board_view(self, request):
        return board.board_view(self, request)

    def save_model(self, request, obj, form, change):
        # Only the notes are editable here; they go through the core like an outcome.
        services.appointment_set_outcome(appointment_id=obj.pk, notes=form.cleaned_data["notes"],
                                         note_for_patient=form.cleaned_data["note_for_patient"], by=request.user)

    def _each(self, request, queryset, act, *, done_text: str, refused_text: str) -> None:
        done, refused = apply_each(((f"#{pk}", pk) for pk in queryset.values_list("pk", flat=True)), act)
        report(self, request, done_text=done_text.format(done), refused=refused, refused_text=refused_text)

    @admin.action(description="Confirm selected pending appointments", permissions=["change"])
    def confirm_appointments(self, request, queryset):
        self._each(request, queryset, lambda pk: services.appointment_confirm(appointment_id=pk, by=request.user),
                   done_text="{} appointment(s) confirmed.", refused_text="Not confirmed:")

    @admin.action(description="Decline selected pending appointments…", permissions=["change"])
    def decline_appointments(self, request, queryset):
        form = ReasonForm(request.POST if "confirm" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return reason_page(
                self, request, queryset, form=form, action="decline_appointments", title="Decline appointments",
                intro="These pending bookings will be turned down (cancelled) and their places given back:",
                submit="Decline these appointments",
            )
        reason = form.cleaned_data["reason"]
        self._each(request, queryset,
                   lambda pk: services.appointment_decline(appointment_id=pk, by=request.user, reason=reason),
                   done_text="{} appointment(s) declined.", refused_text="Not declined:")
        return None

    @admin.action(description="Cancel selected appointments…", permissions=["change"])
    def cancel_appointments(self, request, queryset):
        form = CancelReasonForm(request.POST if "confirm" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return reason_page(
                self, request, queryset, form=form, action="cancel_appointments", title="Cancel appointments",
                intro="These appointments will be cancelled and their places given back to the slots:",
                submit="Cancel these appointments",
            )
        reason, note = form.cleaned_data["reason"], form.cleaned_data["internal_note"]
        self._each(request, queryset,
                   lambda pk: services.appointment_cancel(appointment_id=pk, by=request.user, reason=reason,
                                                          internal_note=note),
                   done_text="{} appointment(s) cancelled.", refused_text="Not cancelled:")
        return None

    def has_delete_permission(self, request, obj=None):
        return False
