"""The waitlist in the admin: read-only lists with filters; staff remove an
entry (an offered one's held place goes to the next) through the waitlist
service, never by editing or deleting rows."""

from django.contrib import admin, messages

from healthsvc.exceptions import ApplicationError
from scheduling.models import WaitlistEntry
from scheduling.services.waitlist import waitlist_leave


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = ("id", "patient", "doctor", "date", "status", "offered_slot", "offered_until", "created_at")
    list_filter = ("status", "date", "doctor__clinic")
    list_select_related = ("patient__user", "doctor__user", "offered_slot__clinic", "offered_slot__doctor__user")
    search_fields = ("patient__user__email", "patient__user__name", "patient__name", "doctor__user__name")
    date_hierarchy = "date"
    ordering = ("date", "created_at", "id")
    readonly_fields = ("patient", "doctor", "date", "status", "offered_slot", "offered_until", "appointment",
                       "created_at", "updated_at")
    actions = ["remove_from_waitlist"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the history stays; the action below ends an open entry

    @admin.action(description="Remove from the waitlist (a held place goes to the next patient)",
                  permissions=["view"])
    def remove_from_waitlist(self, request, queryset):
        removed, refused = 0, []
        for entry in queryset.filter(status__in=WaitlistEntry.OPEN_STATUSES).order_by("pk"):
            try:
                waitlist_leave(entry_id=entry.pk)
                removed += 1
            except ApplicationError as exc:
                refused.append(f"#{entry.pk}: {exc.message}")
        self.message_user(request, f"Removed {removed} entr{'y' if removed == 1 else 'ies'}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "; ".join(refused), messages.WARNING)
