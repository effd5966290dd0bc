"""The audit trail in the admin, read-only: searchable by patient, by user
and by date (admins only: it says who looked at whom). And the mixin that
makes the admin pages of patient data record their reads and changes."""

from django.contrib import admin

from .models import AuditEvent
from .services import audit_list, audit_record


class AuditedAdminMixin:
    """A change page shown is a read of its object; a list shown is a list;
    a change saved through the form (PatientAdmin) is an update with the
    names of the fields changed. Appointment changes go through the booking
    services, which record them themselves (`audit_saves = False`)."""

    audit_saves = True

    @property
    def _object_type(self) -> str:
        return self.model._meta.concrete_model._meta.model_name  # a proxy's rows are its model's

    def _patient_of(self, object_id):
        if self._object_type == "patient":
            return object_id
        return self.model._default_manager.filter(pk=object_id).values_list("patient_id", flat=True).first()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200 and str(object_id).isdigit():
            audit_record("read", object_type=self._object_type, object_id=object_id,
                         patient_id=self._patient_of(object_id))
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:  # not for a redirect (an action done) or an error page
            audit_list(self._object_type, count=len(changelist.result_list))
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if self.audit_saves:
            audit_record("update" if change else "create", obj=obj, detail={"fields": sorted(form.changed_data)})


class ActorRoleFilter(admin.SimpleListFilter):
    title = "actor role"
    parameter_name = "actor_role"

    def lookups(self, request, model_admin):
        return [("patient", "Patient"), ("doctor", "Doctor"), ("admin", "Admin"), ("-", "Nobody (system)")]

    def queryset(self, request, queryset):
        if self.value() == "-":
            return queryset.filter(actor__isnull=True)
        return queryset.filter(actor_role=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("id", "at", "actor", "actor_role", "action", "object_type", "object_id", "patient",
                    "entry_point", "ip", "request_id")
    list_filter = ("action", "entry_point", ActorRoleFilter, "object_type")
    list_select_related = ("actor", "patient__user")
    # Patient and user by name or email, or by their number ("=" exact); a request id.
    search_fields = ("patient__user__name", "patient__name", "patient__user__email", "=patient__id", "actor__name", "actor__email",
                     "=actor__id", "=object_id", "=request_id")
    date_hierarchy = "at"
    show_full_result_count = False  # a count of millions of rows on every page is not worth its time
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
