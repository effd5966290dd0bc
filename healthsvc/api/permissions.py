"""Small, named permission classes. Ownership is enforced by each view's
queryset scoping (selectors), so a caller cannot even find others' rows."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


def _role(request) -> str | None:
    user = request.user
    return getattr(user, "role", None) if user and user.is_authenticated else None


class IsAdmin(BasePermission):
    message = "Only clinic admins may do this."

    def has_permission(self, request, view):
        return _role(request) == "admin"


class IsPatient(BasePermission):
    message = "Only patients may do this."

    def has_permission(self, request, view):
        return _role(request) == "patient" and hasattr(request.user, "patient")


class IsDoctor(BasePermission):
    message = "Only doctors may do this."

    def has_permission(self, request, view):
        return _role(request) == "doctor"


class IsPatientOrAdmin(BasePermission):
    message = "Only the patient or an admin may do this."

    def has_permission(self, request, view):
        return IsAdmin().has_permission(request, view) or IsPatient().has_permission(request, view)


class IsDoctorOrAdmin(BasePermission):
    message = "Only doctors and admins may do this."

    def has_permission(self, request, view):
        return _role(request) in {"doctor", "admin"}


class ReadOnlyOrAdmin(BasePermission):
    """Anyone may read; only admins may write."""

    message = "Only clinic admins may change this."

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or _role(request) == "admin"
