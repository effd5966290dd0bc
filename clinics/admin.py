from django.contrib import admin

from clinics.models import Clinic, Doctor


class SoftDeleteAdmin(admin.ModelAdmin):
    """Rows other rows depend on are deactivated, never deleted."""

    actions = ["deactivate", "reactivate"]

    @admin.action(description="Deactivate selected (soft delete)")
    def deactivate(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=False)} deactivated.")

    @admin.action(description="Reactivate selected")
    def reactivate(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=True)} reactivated.")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Clinic)
class ClinicAdmin(SoftDeleteAdmin):
    list_display = ("name", "city", "state", "timezone", "phone", "is_active")
    list_filter = ("is_active", "city", "timezone")
    search_fields = ("name", "city", "address", "zip_code")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")


@admin.register(Doctor)
class DoctorAdmin(SoftDeleteAdmin):
    list_display = ("name", "specialty", "clinic", "license_number", "max_patients_per_day", "verified", "is_active")
    list_select_related = ("user", "clinic")
    list_filter = ("is_active", "specialty", "clinic", "user__is_verified")
    search_fields = ("user__name", "user__email", "license_number", "specialty")
    autocomplete_fields = ("user", "clinic")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")

    @admin.display(ordering="user__name")
    def name(self, obj):
        return obj.user.name

    @admin.display(boolean=True, ordering="user__is_verified")
    def verified(self, obj):
        return obj.user.is_verified
