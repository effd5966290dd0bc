"""Reminders in the admin, read-only: which visits were reminded and when,
and the ones still unsent (a reminder given up after REMINDER_MAX_QUEUES
queueings stays here, unsent, beside its failed tasks under Tasks)."""

from django.contrib import admin

from scheduling.models import Reminder


class SentFilter(admin.SimpleListFilter):
    title = "sent"
    parameter_name = "sent"

    def lookups(self, request, model_admin):
        return [("yes", "Sent"), ("no", "Not sent")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(sent_at__isnull=self.value() == "no")
        return queryset


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("id", "appointment", "start", "queued_at", "queue_count", "sent_at")
    list_filter = (SentFilter, "appointment__clinic")
    list_select_related = ("appointment",)
    search_fields = ("appointment__id",)
    date_hierarchy = "start"
    ordering = ("-start", "-id")
    readonly_fields = ("appointment", "start", "sequence", "batch", "created_at", "queued_at", "queue_count",
                       "sent_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what was sent is what makes a reminder go out once
