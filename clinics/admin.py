from django import forms
from django.conf import settings
from django.contrib import admin

from clinics.models import BookingPolicy, Clinic, Doctor
from healthsvc.admin_widgets import SafeAutocompleteMixin
from healthsvc.timezones import zone_choices

POLICY_FIELDS = tuple(BookingPolicy.__dataclass_fields__)


class SoftDeleteAdmin(admin.ModelAdmin):
    """Rows other rows depend on are deactivated, never deleted."""

    actions = ["deactivate", "reactivate"]

    @admin.action(description="Deactivate selected (soft delete)", permissions=["change"])
    def deactivate(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=False)} deactivated.")

    @admin.action(description="Reactivate selected", permissions=["change"])
    def reactivate(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=True)} reactivated.")

    def has_delete_permission(self, request, obj=None):
        return False


class ClinicAdminForm(forms.ModelForm):
    """The zone from the IANA database's own names (no aliases, no typos), and
    each policy field saying what the server's default is."""

    timezone = forms.ChoiceField(
        choices=zone_choices, initial="UTC", help_text=Clinic._meta.get_field("timezone").help_text
    )

    class Meta:
        model = Clinic
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in POLICY_FIELDS:
            field, default = self.fields[name], settings.BOOKING_POLICY[name]
            plain = "Empty: the server's default."
            if plain in field.help_text:
                field.help_text = field.help_text.replace(plain, f"Empty: the server's default, now {default}.")
            else:
                field.help_text = f"{field.help_text} The server's default is now {default}."


@admin.register(Clinic)
class ClinicAdmin(SoftDeleteAdmin):
    form = ClinicAdminForm
    list_display = ("name", "city", "state", "timezone", "phone", "is_active")
    list_filter = ("is_active", "city", "timezone")
    search_fields = ("name", "city", "address", "zip_code")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "address", "city", "state", "zip_code", "phone", "email", "is_active")}),
        ("Time zone and location", {"fields": ("timezone", "latitude", "longitude")}),
        ("Booking policy", {
            "fields": POLICY_FIELDS,
            "description": "The rules this clinic's patients meet when they book, cancel or move a visit "
                           "online. Staff and doctors are exempt. Leave a field empty to use the server's default.",
        }),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )


@admin.register(Doctor)
class DoctorAdmin(SafeAutocompleteMixin, SoftDeleteAdmin):
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
