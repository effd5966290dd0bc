"""Staff's view of slots and appointments. Every change of a place or a status
goes through the booking services, exactly as the API and the portal do."""

from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.db.models import Count, Q
from django.db.models.functions import Now
from django.utils import timezone

from accounts.models import Patient
from clinics.models import Clinic
from healthsvc.exceptions import ApplicationError
from scheduling import services
from scheduling.models import Appointment, AppointmentSlot, IdempotencyKey, TodayAppointment
from healthsvc.timezones import local_day_bounds


def _local(moment, clinic) -> str:
    return f"{timezone.localtime(moment, clinic.tzinfo):%Y-%m-%d %H:%M} ({clinic.timezone})"


class ServiceErrorsAsMessagesMixin:
    """A domain error raised by a service during an admin save (a race lost
    after the form validated) becomes an error message, not a 500."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class SlotAdminForm(forms.ModelForm):
    class Meta:
        model = AppointmentSlot
        fields = ("doctor", "clinic", "start", "duration_minutes", "capacity")


@admin.register(AppointmentSlot)
class AppointmentSlotAdmin(ServiceErrorsAsMessagesMixin, admin.ModelAdmin):
    form = SlotAdminForm
    list_display = ("id", "doctor_name", "clinic", "local_start", "duration_minutes", "places", "is_active")
    list_select_related = ("doctor__user", "clinic")
    list_filter = ("is_active", "clinic", "doctor__specialty")
    search_fields = ("doctor__user__name", "clinic__name", "doctor__license_number")
    date_hierarchy = "start"
    ordering = ("-start",)
    autocomplete_fields = ("doctor", "clinic")
    actions = ["deactivate_slots"]

    @admin.display(description="Doctor", ordering="doctor__user__name")
    def doctor_name(self, obj):
        return obj.doctor.user.name

    @admin.display(description="Starts (clinic time)", ordering="start")
    def local_start(self, obj):
        return _local(obj.start, obj.clinic)

    @admin.display(description="Booked / capacity")
    def places(self, obj):
        return f"{obj.booked_count} / {obj.capacity}"

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("booked_count",)
        return ("doctor", "clinic", "start", "duration_minutes", "booked_count", "is_active", "created_at")

    def save_model(self, request, obj, form, change):
        if change:
            saved = services.slot_update(slot_id=obj.pk, capacity=form.cleaned_data["capacity"])
        else:
            data = form.cleaned_data
            saved = services.slot_create(
                doctor=data["doctor"], clinic=data["clinic"], start=data["start"],
                duration_minutes=data["duration_minutes"], capacity=data["capacity"],
            )
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})
        obj._state.adding = False

    @admin.action(description="Deactivate selected slots (only those without active bookings)")
    def deactivate_slots(self, request, queryset):
        done, refused = 0, []
        for slot_id in queryset.values_list("pk", flat=True):
            try:
                services.slot_deactivate(slot_id=slot_id)
                done += 1
            except ApplicationError as exc:
                refused.append(f"#{slot_id}: {exc.message}")
        self.message_user(request, f"{done} slot(s) deactivated.")
        if refused:
            self.message_user(request, "Not deactivated: " + "; ".join(refused), messages.WARNING)

    def has_delete_permission(self, request, obj=None):
        return False


class AppointmentBookForm(forms.Form):
    patient = forms.ModelChoiceField(queryset=Patient.objects.select_related("user").order_by("user__name"))
    slot = forms.ModelChoiceField(
        queryset=AppointmentSlot.objects.filter(is_active=True, start__gt=Now())
        .select_related("doctor__user", "clinic")
        .order_by("start"),
        widget=forms.NumberInput,
        help_text="Slot id (see Appointment slots).",
    )
    reason_for_visit = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)


class AppointmentCancelForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ("id", "patient_name", "doctor_name", "clinic", "local_start", "status", "created_at")
    list_select_related = ("patient__user", "doctor__user", "clinic")
    list_filter = ("status", "clinic", "doctor__specialty")
    search_fields = ("patient__user__name", "patient__user__email", "doctor__user__name", "=id")
    date_hierarchy = "start"
    ordering = ("-start",)
    fields = (
        "patient", "doctor", "clinic", "slot", "start", "end", "status", "reason_for_visit", "notes",
        "booked_by", "cancelled_at", "cancelled_reason", "cancelled_by", "created_at", "updated_at",
    )
    readonly_fields = tuple(f for f in fields if f != "notes")
    actions = ["cancel_appointments"]

    @admin.display(description="Patient", ordering="patient__user__name")
    def patient_name(self, obj):
        return obj.patient.user.name

    @admin.display(description="Doctor", ordering="doctor__user__name")
    def doctor_name(self, obj):
        return obj.doctor.user.name

    @admin.display(description="Starts (clinic time)", ordering="start")
    def local_start(self, obj):
        return _local(obj.start, obj.clinic)

    def get_urls(self):
        book = path("book/", self.admin_site.admin_view(self.book_view), name="scheduling_appointment_book")
        return [book, *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:scheduling_appointment_book")

    def book_view(self, request):
        """Book on behalf of a patient, through the booking core."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AppointmentBookForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                appointment = services.appointment_book(
                    patient=form.cleaned_data["patient"], slot_id=form.cleaned_data["slot"].pk,
                    reason=form.cleaned_data["reason_for_visit"], booked_by=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_addition(request, appointment, [{"added": {}}])
                self.message_user(request, f"Booked appointment #{appointment.pk}.", messages.SUCCESS)
                return redirect("admin:scheduling_appointment_change", appointment.pk)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Book an appointment for a patient"}
        return TemplateResponse(request, "admin/scheduling/appointment/book.html", context)

    @admin.action(description="Cancel selected appointments…")
    def cancel_appointments(self, request, queryset):
        form = AppointmentCancelForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            done, refused = 0, []
            for appointment_id in queryset.values_list("pk", flat=True):
                try:
                    services.appointment_cancel(
                        appointment_id=appointment_id, by=request.user, reason=form.cleaned_data["reason"]
                    )
                    done += 1
                except ApplicationError as exc:
                    refused.append(f"#{appointment_id}: {exc.message}")
            self.message_user(request, f"{done} appointment(s) cancelled.")
            if refused:
                self.message_user(request, "Not cancelled: " + "; ".join(refused), messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
            "appointments": queryset.select_related("patient__user", "doctor__user", "clinic"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME, "title": "Cancel appointments",
        }
        return TemplateResponse(request, "admin/scheduling/appointment/cancel_confirmation.html", context)

    def has_delete_permission(self, request, obj=None):
        return False


# --- Today's appointments: the staff dashboard --------------------------------


def _today_in_each_clinic() -> Q:
    """Appointments starting today in their own clinic's calendar: one
    [local midnight, next midnight) range per time zone the clinics use."""
    now = timezone.now()
    condition = Q(pk__in=[])
    for tz_name in Clinic.objects.order_by().values_list("timezone", flat=True).distinct():
        start, end = local_day_bounds(now, ZoneInfo(tz_name))
        condition |= Q(clinic__timezone=tz_name, start__gte=start, start__lt=end)
    return condition


@admin.register(TodayAppointment)
class TodayAppointmentAdmin(AppointmentAdmin):
    """Today's appointments clinic by clinic, with a per-clinic summary; the
    actions (completed, no-show, cancel) go through the booking core."""

    change_list_template = "admin/scheduling/todayappointment/change_list.html"
    list_display = ("local_time", "clinic", "doctor_name", "patient_name", "status", "reason")
    list_display_links = ("local_time",)
    list_filter = ("clinic", "status", "doctor__specialty")
    date_hierarchy = None
    ordering = ("clinic__name", "start", "id")
    list_per_page = 200
    actions = ["mark_completed", "mark_no_show", "cancel_appointments"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(_today_in_each_clinic())

    def get_urls(self):
        # The booking form belongs to the Appointment admin; only the standard views here.
        return admin.ModelAdmin.get_urls(self)

    def has_add_permission(self, request):
        return False

    @admin.display(description="Time (clinic)", ordering="start")
    def local_time(self, obj):
        local = timezone.localtime(obj.start, obj.clinic.tzinfo)
        return f"{local:%H:%M} {local.tzname()}"

    @admin.display(description="Reason")
    def reason(self, obj):
        text = obj.reason_for_visit
        return text if len(text) <= 60 else f"{text[:59]}…"

    def changelist_view(self, request, extra_context=None):
        per_clinic = (
            self.get_queryset(request).order_by("clinic__name").values("clinic__name", "clinic__timezone")
            .annotate(
                total=Count("id"),
                booked=Count("id", filter=Q(status__in=Appointment.ACTIVE_STATUSES)),
                completed=Count("id", filter=Q(status=Appointment.Status.COMPLETED)),
                no_show=Count("id", filter=Q(status=Appointment.Status.NO_SHOW)),
                cancelled=Count("id", filter=Q(status=Appointment.Status.CANCELLED)),
            )
        )
        return super().changelist_view(request, {**(extra_context or {}), "per_clinic": per_clinic})

    def _set_outcome(self, request, queryset, status: str) -> None:
        done, refused = 0, []
        for appointment_id in queryset.values_list("pk", flat=True):
            try:
                services.appointment_set_outcome(appointment_id=appointment_id, status=status, by=request.user)
                done += 1
            except ApplicationError as exc:
                refused.append(f"#{appointment_id}: {exc.message}")
        label = Appointment.Status(status).label.lower()
        self.message_user(request, f"{done} appointment(s) marked {label}.")
        if refused:
            self.message_user(request, "Not changed: " + "; ".join(refused), messages.WARNING)

    @admin.action(description="Mark selected as completed")
    def mark_completed(self, request, queryset):
        self._set_outcome(request, queryset, Appointment.Status.COMPLETED)

    @admin.action(description="Mark selected as no-show")
    def mark_no_show(self, request, queryset):
        self._set_outcome(request, queryset, Appointment.Status.NO_SHOW)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Read-only: stored answers to retried API bookings, for support questions."""

    list_display = ("key", "user", "response_status", "created_at")
    list_select_related = ("user",)
    search_fields = ("key", "user__email")
    date_hierarchy = "created_at"
    readonly_fields = ("user", "key", "request_hash", "response_status", "response_body", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
