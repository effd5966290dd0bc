"""The doctor admin with the schedule on it: clinics.admin.DoctorAdmin (which
must not know about scheduling) plus whether bookings need approval, the
weekly availability rules (saved through the availability services), a
"Generate slots…" action and links to the doctor's leaves, slots and day."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import models
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from clinics.admin import DoctorAdmin
from clinics.models import Doctor
from healthsvc.exceptions import ApplicationError
from healthsvc.forms import CalendarDateField
from scheduling import services
from scheduling.exceptions import DoctorNotVerifiedError
from scheduling.models import AvailabilityRule
from scheduling.services.availability import overlap_refusal

from .common import ServiceErrorsOnFormMixin, date_input, time_input

RULE_INPUT_FIELDS = ("weekday", "start_time", "end_time", "break_start", "break_end", "slot_minutes", "capacity")
GENERATE_DAYS = 28


class AvailabilityRuleFormSet(forms.BaseInlineFormSet):
    """The checks availability_rule_create/update make across rules, done on
    the forms (the single-rule ones run in each form's model validation), so
    a refusal is shown on the row it concerns and nothing is half-saved."""

    def clean(self):
        super().clean()
        kept = [f for f in self.forms
                if f.is_valid() and not self._should_delete_form(f) and (f.instance.pk or f.has_changed())]
        doctor = self.instance
        for index, form in enumerate(kept):
            rule = form.instance
            if rule.pk and form.has_changed() and rule.clinic_id != doctor.clinic_id:
                form.add_error(None, "This rule is for another clinic; delete it and add a new one.")
                continue
            if (refusal := overlap_refusal(rule, [other.instance for other in kept[:index]])) is not None:
                form.add_error("start_time", refusal.message)


class AvailabilityRuleInline(admin.TabularInline):
    model = AvailabilityRule
    formset = AvailabilityRuleFormSet
    fields = (*RULE_INPUT_FIELDS, "clinic")
    readonly_fields = ("clinic",)
    extra = 1
    formfield_overrides = {models.TimeField: {"widget": time_input()}}
    verbose_name = "weekly hours rule"
    verbose_name_plural = "weekly hours (clinic time): “Generate slots…” makes slots from these"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("clinic")


class SlotGenerateForm(forms.Form):
    date_from = CalendarDateField(required=False, widget=date_input(),
                                help_text="Empty: today in each doctor's clinic.")
    date_to = CalendarDateField(required=False, widget=date_input(),
                              help_text=f"Empty: {GENERATE_DAYS - 1} days after the first day.")


def _rules_save(formset, doctor: Doctor) -> None:
    """Apply the inline's rows through the services: deletions first, then
    changes, then new rules (so hours moved between rules do not clash)."""
    deleted = [f for f in formset.deleted_forms if f.instance.pk]
    for form in deleted:
        services.availability_rule_delete(rule_id=form.instance.pk)
    formset.deleted_objects = [f.instance for f in deleted]
    formset.changed_objects, formset.new_objects = [], []
    for form in formset.forms:
        if form in formset.deleted_forms or not form.has_changed():
            continue
        values = {name: form.cleaned_data[name] for name in RULE_INPUT_FIELDS}
        if form.instance.pk:
            changed = [name for name in form.changed_data if name in values]
            rule = services.availability_rule_update(rule_id=form.instance.pk, **{n: values[n] for n in changed})
            formset.changed_objects.append((rule, changed))
        else:
            formset.new_objects.append(services.availability_rule_create(doctor=doctor, **values))


admin.site.unregister(Doctor)


@admin.register(Doctor)
class DoctorScheduleAdmin(ServiceErrorsOnFormMixin, DoctorAdmin):
    list_display = ("name", "specialty", "clinic", "license_number", "max_patients_per_day", "verified",
                    "requires_approval", "is_active", "schedule_links")
    list_filter = (*DoctorAdmin.list_filter, "requires_approval")
    inlines = [AvailabilityRuleInline]
    actions = [*DoctorAdmin.actions, "generate_slots"]
    fieldsets = (
        (None, {"fields": ("user", "clinic", "specialty", "license_number", "qualifications", "experience_years",
                           "is_active")}),
        ("Bookings", {"fields": ("max_patients_per_day", "requires_approval", "schedule_links")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = (*DoctorAdmin.readonly_fields, "schedule_links")

    @admin.display(description="Schedule")
    def schedule_links(self, obj):
        if obj.pk is None:
            return "—"
        doctor = urlencode({"doctor__id__exact": obj.pk})
        return format_html(
            '<a href="{}?{}">Leaves</a> · <a href="{}?doctor={}">Add a leave</a> · <a href="{}?{}">Slots</a> · '
            '<a href="{}?{}">Day board</a>',
            reverse("admin:scheduling_leave_changelist"), doctor, reverse("admin:scheduling_leave_add"), obj.pk,
            reverse("admin:scheduling_appointmentslot_changelist"), doctor,
            reverse("admin:scheduling_appointment_board"), urlencode({"clinic": obj.clinic_id, "doctor": obj.pk}),
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is AvailabilityRule:
            _rules_save(formset, form.instance)
        else:
            super().save_formset(request, form, formset, change)

    def has_generate_slots_permission(self, request) -> bool:
        """Generating opens slots: the staff member may add slots."""
        return request.user.has_perm("scheduling.add_appointmentslot")

    @admin.action(description="Generate slots…", permissions=["generate_slots"])
    def generate_slots(self, request, queryset):
        doctors = list(queryset.select_related("user", "clinic").order_by("user__name"))
        form = SlotGenerateForm(request.POST if "confirm" in request.POST else None,
                                initial=self._generate_initial(doctors))
        if not (form.is_bound and form.is_valid()):
            return self._generate_page(request, form, doctors)
        for doctor in doctors:
            self._generate_one(request, doctor, form.cleaned_data["date_from"], form.cleaned_data["date_to"])
        return None

    def _generate_one(self, request, doctor: Doctor, date_from, date_to) -> None:
        """Generate one doctor's slots (a transaction of their own) and say how it went."""
        date_from = date_from or timezone.localdate(timezone=doctor.clinic.tzinfo)
        date_to = date_to or date_from + timedelta(days=GENERATE_DAYS - 1)
        span = f"Dr. {doctor.user.name}, {date_from:%Y-%m-%d} to {date_to:%Y-%m-%d} ({doctor.clinic.timezone})"
        try:
            result = services.slots_generate(doctor=doctor, date_from=date_from, date_to=date_to)
        except DoctorNotVerifiedError:
            self.message_user(request, f"{span}: not generated: the doctor's account is not verified yet.",
                              messages.WARNING)
        except ApplicationError as exc:
            self.message_user(request, f"{span}: not generated: {exc.message}", messages.WARNING)
        else:
            self.message_user(request, f"{span}: {result.created} slot(s) created, {result.skipped} skipped.",
                              messages.SUCCESS)

    @staticmethod
    def _generate_initial(doctors) -> dict:
        """Today .. today+27 when the selected doctors' clinics share today's date."""
        todays = {timezone.localdate(timezone=d.clinic.tzinfo) for d in doctors}
        if len(todays) != 1:
            return {}
        today = todays.pop()
        return {"date_from": today, "date_to": today + timedelta(days=GENERATE_DAYS - 1)}

    def _generate_page(self, request, form, doctors):
        items = []
        for d in doctors:
            today = timezone.localdate(timezone=d.clinic.tzinfo)
            items.append(f"Dr. {d.user.name} at {d.clinic.name}: today there is {today:%Y-%m-%d} "
                         f"({d.clinic.timezone})")
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
            "title": "Generate slots from the weekly hours", "action": "generate_slots", "items": items,
            "intro": "Slots are made from each doctor's weekly hours for the local days given (both included); "
                     "times that already have a slot, fall in a leave or have passed are skipped:",
            "submit": "Generate slots", "selected": [d.pk for d in doctors],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/scheduling/action_form.html", context)
