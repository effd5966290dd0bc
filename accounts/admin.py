from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import Patient, User
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
    actions = ["verify_users"]

    @admin.action(description="Verify selected users (doctors may then open slots)", permissions=["change"])
    def verify_users(self, request, queryset):
        updated = queryset.filter(is_verified=False).update(is_verified=True)
        self.message_user(request, f"{updated} user(s) verified.")

    def has_delete_permission(self, request, obj=None):
        # Accounts hold medical history: deactivate them instead.
        return False


@admin.register(Patient)
class PatientAdmin(SafeAutocompleteMixin, admin.ModelAdmin):
    list_display = ("name", "email", "date_of_birth", "blood_group", "created_at")
    list_select_related = ("user",)
    list_filter = ("blood_group",)
    search_fields = ("user__name", "user__email", "user__mobile_no")
    date_hierarchy = "created_at"
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at", "updated_at")

    @admin.display(ordering="user__name")
    def name(self, obj):
        return obj.user.name

    @admin.display(ordering="user__email")
    def email(self, obj):
        return obj.user.email

    def has_delete_permission(self, request, obj=None):
        return False
