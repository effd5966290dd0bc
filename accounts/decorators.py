"""Who may open a portal page. Ownership of a row is the selectors' job
(appointment_get_for_user and friends); these only check the role."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.models import User


def patient_required(view):
    """Logged-in patients with a profile; others get 403, visitors the login page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.role != User.Role.PATIENT or not hasattr(user, "patient"):
            raise PermissionDenied("This page is for patients.")
        return view(request, *args, **kwargs)

    return wrapper


def doctor_required(view):
    """Logged-in doctors with a Doctor profile. A doctor account an admin has not
    yet set up sees a page saying so; other users get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if user.role != User.Role.DOCTOR:
            raise PermissionDenied("This page is for doctors.")
        if not hasattr(user, "doctor"):
            return render(request, "scheduling/doctor_pending.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
