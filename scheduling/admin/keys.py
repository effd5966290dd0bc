"""Stored answers to retried API bookings, read-only, for support questions."""

from django.contrib import admin

from scheduling.models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "user", "response_status", "created_at")
    list_select_related = ("user",)
    search_fields = ("key", "user__email")
    date_hierarchy = "created_at"
    readonly_fields = ("user", "key", "request_hash", "response_status", "response_body", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
