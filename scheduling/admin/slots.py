"""Slots in the admin: opened in the clinic's wall-clock time, listed and shown
in it, changed (capacity, open or closed) only through the slot services."""

from django import forms
from django.contrib import admin, messages

from healthsvc.admin_widgets import SafeAutocompleteMixin
from healthsvc.forms import CalendarDateField
from healthsvc.timezones import wall_time_is_repeated
from scheduling import services
from scheduling.exceptions import SlotValidationError
from scheduling.models import AppointmentSlot

from .common import (
    REPEATED_TIME_HELP,
    ClinicDayFilter,
    ClinicTimeColumns,
    ServiceErrorsOnFormMixin,
    add_service_error,
    apply_each,
    clinic_time,
    date_input,
    report,
    time_input,
)


class SlotAddForm(forms.ModelForm):
    """A slot as staff think of it: the doctor (the slot is at their clinic)
    and a date and time on that clinic's clocks."""

    day = CalendarDateField(label="Date (clinic time)", widget=date_input())
    time = forms.TimeField(label="Time (clinic time)", widget=time_input(), help_text=REPEATED_TIME_HELP)
    # slot_create names the instant "slot_datetime"; an overlap is about the time too.
    service_fields = {"slot_datetime": "time", "start_time": "time", "clinic_id": "doctor", "SLOT_OVERLAP": "time"}

    class Meta:
        model = AppointmentSlot
        fields = ("doctor", "day", "time", "duration_minutes", "capacity")
        help_texts = {"doctor": "The slot is at the doctor's clinic, in its time zone."}

    def clean(self):
        cleaned = super().clean()
        doctor, day, wall = cleaned.get("doctor"), cleaned.get("day"), cleaned.get("time")
        if doctor and day and wall:
            try:
                cleaned["start"] = services.slot_start_at(clinic=doctor.clinic, day=day, wall=wall)
            except SlotValidationError as exc:
                add_service_error(self, exc)
        return cleaned


class SlotChangeForm(forms.ModelForm):
    service_fields = {"SLOT_HAS_BOOKINGS": "is_active", "SLOT_OVERLAP": "is_active", "SLOT_UNAVAILABLE": "is_active",
                      "CAPACITY_BELOW_BOOKED": "capacity"}

    class Meta:
        model = AppointmentSlot
        fields = ("capacity", "is_active")
        labels = {"is_active": "Open for booking"}
        help_texts = {"is_active": "Untick to close the slot (refused while it holds active appointments); "
                                   "tick to reopen it."}


@admin.register(AppointmentSlot)
class AppointmentSlotAdmin(ClinicTimeColumns, SafeAutocompleteMixin, ServiceErrorsOnFormMixin, admin.ModelAdmin):
    list_display = ("id", "doctor_name", "clinic", "local_start", "duration_minutes", "places", "is_active")
    list_select_related = ("doctor__user", "clinic")
    list_filter = (ClinicDayFilter, "is_active", "clinic", "doctor__specialty")
    search_fields = ("doctor__user__name", "clinic__name", "doctor__license_number")
    ordering = ("-start",)
    autocomplete_fields = ("doctor",)
    actions = ["deactivate_slots"]
    change_fields = (
        "doctor", "clinic", "local_start", "local_end", "duration_minutes", "capacity", "booked_count", "is_active",
        "local_created", "local_updated",
    )






    @admin.display(description="Booked / capacity")
    def places(self, obj):
        return f"{obj.booked_count} / {obj.capacity}"

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = SlotChangeForm if obj is not None else SlotAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return self.change_fields if obj is not None else SlotAddForm.Meta.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return tuple(f for f in self.change_fields if f not in SlotChangeForm.Meta.fields)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.slot_update(slot_id=obj.pk, capacity=data["capacity"], is_active=data["is_active"])
        else:
            saved = services.slot_create(
                doctor=data["doctor"], start=data["start"], duration_minutes=data["duration_minutes"],
                capacity=data["capacity"],
            )
            if wall_time_is_repeated(data["day"], data["time"], saved.clinic.tzinfo):
                self.message_user(request, (
                    f"{data['time']:%H:%M} happens twice that day in {saved.clinic.timezone}; "
                    f"the slot is at the first: {clinic_time(saved.start, saved.clinic)}."
                ), messages.WARNING)
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
        obj._state.adding = False

    @admin.action(description="Deactivate selected slots (only those without active bookings)", permissions=["change"])
    def deactivate_slots(self, request, queryset):
        ids = queryset.values_list("pk", flat=True)
        done, refused = apply_each(((f"#{pk}", pk) for pk in ids), lambda pk: services.slot_deactivate(slot_id=pk))
        report(self, request, done_text=f"{done} slot(s) deactivated.", refused=refused,
               refused_text="Not deactivated:")

    def has_delete_permission(self, request, obj=None):
        return False
