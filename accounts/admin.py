from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Count

from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import tokens, two_factor
from accounts.models import Patient, TokenFamily, User
from audit.admin import AuditedAdminMixin
from healthsvc.admin_widgets import SafeAutocompleteMixin


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "role")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = ("email", "name", "role", "is_verified", "is_active", "is_staff", "created_at")
    list_filter = ("role", "is_verified", "is_active", "is_staff")
    search_fields = ("email", "name", "mobile_no")
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "mobile_no", "role", "is_verified")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "role", "password1", "password2")}),
    )
    actions = ["verify_users", "log_out_everywhere", "reset_two_factor"]

    @admin.action(description="Verify selected users (doctors may then open slots)", permissions=["change"])
    def verify_users(self, request, queryset):
        updated = queryset.filter(is_verified=False).update(is_verified=True)
        self.message_user(request, f"{updated} user(s) verified.")

    @admin.action(description="Log selected users out everywhere (every session and token ends)",
                  permissions=["change"])
    def log_out_everywhere(self, request, queryset):
        user_ids = list(queryset.values_list("pk", flat=True))
        for user_id in user_ids:
            tokens.user_tokens_revoke(user_id, TokenFamily.EndReason.STAFF)
        self.message_user(request, f"{len(user_ids)} user(s) logged out everywhere.")

    @admin.action(description="Reset two-factor (the user sets it up again at next login)", permissions=["change"])
    def reset_two_factor(self, request, queryset):
        users = list(queryset)
        for user in users:
            two_factor.otp_disable(user)
            tokens.user_tokens_revoke(user.pk, TokenFamily.EndReason.STAFF)
        self.message_user(request, f"Two-factor reset for {len(users)} user(s).")

    def has_delete_permission(self, request, obj=None):
        # Accounts hold medical history: deactivate them instead.
        return False


@admin.register(Patient)
class PatientAdmin(AuditedAdminMixin, SafeAutocompleteMixin, admin.ModelAdmin):
    list_display = ("name", "email", "date_of_birth", "blood_group", "created_at")
    list_select_related = ("user", "guardian__user")
    list_filter = ("blood_group",)
    search_fields = ("user__name", "name", "user__email", "user__mobile_no")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user", "guardian")
    readonly_fields = ("created_at", "updated_at")

    @admin.display(ordering="user__name")
    def name(self, obj):
        return obj.name_with_guardian

    @admin.display(ordering="user__email")
    def email(self, obj):
        return obj.contact_user.email

    def has_delete_permission(self, request, obj=None):
        return False


# django-otp's own admin screens show device secrets and recovery codes in
# clear: an admin could copy another user's second factor. Staff reset a
# lost device with the user action above instead.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(TokenFamily)
class TokenFamilyAdmin(admin.ModelAdmin):
    """API sign-ins: who, since when, until when, how they ended. Nothing here
    can be used as a token (only jti prefixes and hashes are stored)."""

    list_display = ("id", "user", "created_at", "expires_at", "ended_at", "end_reason", "refreshes")
    list_filter = ("end_reason",)
    list_select_related = ("user",)
    search_fields = ("user__email",)
    date_hierarchy = "created_at"
    readonly_fields = ("user", "created_at", "expires_at", "ended_at", "end_reason")
    actions = ["end_families"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(token_count=Count("tokens"))

    @admin.display(description="tokens issued", ordering="token_count")
    def refreshes(self, obj):
        return obj.token_count

    @admin.action(description="End selected sign-ins", permissions=["change"])
    def end_families(self, request, queryset):
        families = list(queryset.filter(ended_at__isnull=True))
        for family in families:
            tokens.family_end(family, TokenFamily.EndReason.STAFF)
        self.message_user(request, f"{len(families)} sign-in(s) ended.")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
