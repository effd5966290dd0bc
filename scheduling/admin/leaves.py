"""Doctors' leaves in the admin: added in the clinic's calendar, listed and
shown in its time, never edited (delete and add again), removed through the
leave services; the visits inside a leave are cancelled through the core."""

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from healthsvc.admin_widgets import SafeAutocompleteMixin
from healthsvc.forms import CalendarDateField
from scheduling import selectors, services
from scheduling.exceptions import LeaveNotFoundError, ScheduleValidationError
from scheduling.models import Leave
from scheduling.services.leaves import leave_bounds

from .appointments import status_text
from .common import (
    REPEATED_TIME_HELP,
    ClinicDayFilter,
    ClinicTimeColumns,
    ReasonForm,
    ServiceErrorsOnFormMixin,
    add_service_error,
    clinic_time,
    date_input,
    report,
    time_input,
)


class LeaveDayFilter(ClinicDayFilter):
    """Leaves covering any part of those days of their doctor's clinic."""

    zone_field = "doctor__clinic__timezone"
    overlapping = True


class LeaveAddForm(forms.ModelForm):
    """A leave as staff think of it: days of the doctor's clinic's calendar,
    optionally from a time on the first day until a time on the last."""

    first_day = CalendarDateField(label="First day (clinic time)", widget=date_input())
    last_day = CalendarDateField(label="Last day (clinic time)", required=False, widget=date_input(),
                               help_text="Empty: the first day.")
    from_time = forms.TimeField(required=False, widget=time_input(),
                                help_text=f"Empty: from the start of the first day. {REPEATED_TIME_HELP}")
    until_time = forms.TimeField(required=False, widget=time_input(),
                                 help_text="Empty: until the end of the last day.")
    service_fields = {"start": "first_day", "end": "last_day"}

    class Meta:
        model = Leave
        fields = ("doctor", "first_day", "last_day", "from_time", "until_time", "reason")
        help_texts = {"doctor": "The days and times are on the doctor's clinic's clocks."}

    def clean(self):
        cleaned = super().clean()
        doctor, first_day, last_day = cleaned.get("doctor"), cleaned.get("first_day"), cleaned.get("last_day")
        if last_day and first_day and last_day < first_day:
            self.add_error("last_day", "The last day cannot be before the first day.")
        elif doctor and first_day and not self.errors:
            try:
                cleaned["start"], cleaned["end"] = leave_bounds(
                    tz=doctor.clinic.tzinfo, first_day=first_day, last_day=last_day,
                    from_time=cleaned.get("from_time"), until_time=cleaned.get("until_time"),
                )
            except ScheduleValidationError as exc:
                add_service_error(self, exc)
        return cleaned


@admin.register(Leave)
class LeaveAdmin(ClinicTimeColumns, SafeAutocompleteMixin, ServiceErrorsOnFormMixin, admin.ModelAdmin):
    form = LeaveAddForm
    list_display = ("doctor_name", "clinic_name", "local_start", "local_end", "reason", "active_inside")
    list_filter = (LeaveDayFilter, "doctor__clinic")
    search_fields = ("doctor__user__name", "reason")
    ordering = ("-start",)
    autocomplete_fields = ("doctor",)
    actions = ["cancel_visits_inside"]
    view_fields = ("doctor", "local_start", "local_end", "reason", "created_by", "local_created",
                   "appointments_inside")

    def get_queryset(self, request):
        return selectors.leave_list_with_active_counts()

    @staticmethod
    def clinic_of(obj):
        return obj.doctor.clinic


    @admin.display(description="Clinic", ordering="doctor__clinic__name")
    def clinic_name(self, obj):
        return obj.doctor.clinic.name




    @admin.display(description="Active appointments inside", ordering="active_inside")
    def active_inside(self, obj):
        return obj.active_inside

    @admin.display(description="Active appointments inside")
    def appointments_inside(self, obj):
        rows = selectors.leave_appointments(leave=obj)
        if not rows:
            return "None: no patient is booked inside this leave."
        items = format_html_join("", '<li><a href="{}">#{}</a> {} · {} · {}</li>', (
            (reverse("admin:scheduling_appointment_change", args=[a.pk]), a.pk, clinic_time(a.start, a.clinic),
             a.patient.name_with_guardian, status_text(a))
            for a in rows
        ))
        return format_html(
            "<ul>{}</ul><p>They stay booked until someone cancels them: select this leave in the list and "
            "use “Cancel the visits inside selected leaves…”.</p>", items,
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = LeaveAddForm if obj is None else forms.ModelForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return self.view_fields if obj is not None else LeaveAddForm.Meta.fields

    def get_readonly_fields(self, request, obj=None):
        return self.view_fields if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        # A leave's times are not edited: delete it and add another.
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = services.leave_create(doctor=data["doctor"], start=data["start"], end=data["end"],
                                      reason=data["reason"], by=request.user)
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
        obj._state.adding = False

    def delete_model(self, request, obj):
        services.leave_delete(leave_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for leave_id in queryset.values_list("pk", flat=True):
            try:
                services.leave_delete(leave_id=leave_id)
            except LeaveNotFoundError:
                continue  # someone else removed it meanwhile

    def has_cancel_visits_permission(self, request) -> bool:
        """Cancelling visits changes appointments (a leave itself is never changed)."""
        return request.user.has_perm("scheduling.change_appointment")

    @admin.action(description="Cancel the visits inside selected leaves…", permissions=["cancel_visits"])
    def cancel_visits_inside(self, request, queryset):
        form = ReasonForm(request.POST if "confirm" in request.POST else None)
        leaves = list(queryset)
        inside = [a for leave in leaves for a in selectors.leave_appointments(leave=leave)]
        if not (form.is_bound and form.is_valid()):
            return self._cancel_page(request, form, leaves, inside)
        results = [services.leave_cancel_appointments(leave=leave, by=request.user,
                                                      reason=form.cleaned_data["reason"]) for leave in leaves]
        refused = [f"#{a.pk}: {exc.message}" for result in results for a, exc in result.refused]
        report(self, request, done_text=f"{sum(len(r.cancelled) for r in results)} appointment(s) cancelled.",
               refused=refused, refused_text="Not cancelled:")
        return None

    def _cancel_page(self, request, form, leaves, inside):
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
            "title": "Cancel the visits inside these leaves", "action": "cancel_visits_inside",
            "intro": (f"{len(inside)} active appointment(s) lie inside the {len(leaves)} selected leave(s); "
                      "they will be cancelled and the patients shown the reason:"),
            "items": [f"#{a.pk} · {a.patient.name_with_guardian} with Dr. {a.doctor.user.name} · "
                      f"{clinic_time(a.start, a.clinic)} · {status_text(a)}" for a in inside],
            "submit": "Cancel these visits", "selected": [leave.pk for leave in leaves],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/scheduling/action_form.html", context)
