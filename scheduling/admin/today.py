"""Today's appointments: the staff dashboard, clinic by clinic, each in its
own local day, with the outcome actions (through the booking core)."""

from django.contrib import admin
from django.db.models import Count, Q

from scheduling import services
from scheduling.models import Appointment, TodayAppointment

from .appointments import AppointmentAdmin
from .common import clinic_clock, local_days_in_each_clinic


@admin.register(TodayAppointment)
class TodayAppointmentAdmin(AppointmentAdmin):
    """Today's appointments clinic by clinic, with a per-clinic summary; the
    actions (confirm, decline, completed, no-show, cancel) go through the core."""

    change_list_template = "admin/scheduling/todayappointment/change_list.html"
    list_display = ("local_time", "clinic", "doctor_name", "patient_name", "status_label", "reason")
    list_display_links = ("local_time",)
    list_filter = ("clinic", "status", "doctor__specialty")
    ordering = ("clinic__name", "start", "id")
    list_per_page = 200
    actions = ["confirm_appointments", "decline_appointments", "mark_completed", "mark_no_show",
               "cancel_appointments"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(local_days_in_each_clinic(first=0, days=1))

    def get_urls(self):
        # The booking form and the day board belong to the Appointment admin.
        return admin.ModelAdmin.get_urls(self)

    def has_add_permission(self, request):
        return False

    @admin.display(description="Time (clinic)", ordering="start")
    def local_time(self, obj):
        return clinic_clock(obj.start, obj.clinic)

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
                pending=Count("id", filter=Q(status=Appointment.Status.PENDING)),
                completed=Count("id", filter=Q(status=Appointment.Status.COMPLETED)),
                no_show=Count("id", filter=Q(status=Appointment.Status.NO_SHOW)),
                cancelled=Count("id", filter=Q(status=Appointment.Status.CANCELLED)),
            )
        )
        return super().changelist_view(request, {**(extra_context or {}), "per_clinic": per_clinic})

    def _set_outcome(self, request, queryset, status: str) -> None:
        label = Appointment.Status(status).label.lower()
        self._each(
            request, queryset,
            lambda pk: services.appointment_set_outcome(appointment_id=pk, status=status, by=request.user),
            done_text=f"{{}} appointment(s) marked {label}.", refused_text="Not changed:",
        )

    @admin.action(description="Mark selected as completed", permissions=["change"])
    def mark_completed(self, request, queryset):
        self._set_outcome(request, queryset, Appointment.Status.COMPLETED)

    @admin.action(description="Mark selected as no-show", permissions=["change"])
    def mark_no_show(self, request, queryset):
        self._set_outcome(request, queryset, Appointment.Status.NO_SHOW)
