"""Who may open a portal page. Ownership of a row is the selectors' job
(appointment_get_for_user and friends); these only check the role."""

from functools import wraps

from django.contrib import messages
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


# The hidden field a kept form carries ({% form_draft_field %}, accounts.templatetags.form_drafts).
DRAFT_FIELD = "draft_token"
SIGNED_OUT_MESSAGE = "You were signed out, so nothing was sent yet. Sign in and what you typed is still here."


def keeps_form_when_signed_out(*, fields: tuple[str, ...], message: str = SIGNED_OUT_MESSAGE):
    """For a form page that needs a login: a POST that arrives after the
    session ended (the idle logout) but carries the page's signed draft token
    keeps `fields` as typed, server-side for the user the token names
    (accounts.services.form_draft_save), and goes to the login page with
    next= this page, which gives them back to that user only. Never list a
    password. Goes outside patient_required / login_required."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST" and not request.user.is_authenticated:
                from accounts import services  # noqa: PLC0415 (services import the models)

                owner = services.form_draft_owner(token=request.POST.get(DRAFT_FIELD, ""), page=request.path)
                if owner is not None and services.form_draft_save(
                    user_id=owner, page=request.path, data={name: request.POST.get(name, "") for name in fields},
                ):
                    messages.info(request, message)
                    return redirect_to_login(request.path)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
