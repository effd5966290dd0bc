"""Portal pages for accounts: register, log in and out, password reset, profile.

Thin: parse the form, call accounts.services, render. A domain error becomes
a form error; success is reported with the messages framework.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters

from accounts import services
from accounts.decorators import patient_required
from accounts.exceptions import EmailTakenError, WeakPasswordError
from accounts.forms import LoginForm, ProfileForm, RegisterForm
from accounts.models import User
from healthsvc.api.throttling import LoginRateThrottle, RegisterRateThrottle


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return None


def _throttled(request, throttle_class) -> str | None:
    """The refusal when this client sent too many attempts: the same per-IP
    budget as the API's login and register endpoints, so neither is a way around the other."""
    throttle = throttle_class()
    if throttle.allow_request(request, None):
        return None
    wait = throttle.wait()
    return f"Too many attempts. Please try again in {int(wait or 60)} seconds."


def _home_for(user) -> str:
    if user.role == User.Role.DOCTOR:
        return reverse("scheduling:doctor-day")
    return reverse("scheduling:home")


@sensitive_post_parameters("password1", "password2")
def register(request):
    """A new patient account; the patient is logged in at once."""
    if request.user.is_authenticated:
        return redirect(_home_for(request.user))
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and (refusal := _throttled(request, RegisterRateThrottle)):
        messages.error(request, refusal)
        context = {"form": RegisterForm(), "next": _safe_next(request)}
        return render(request, "accounts/register.html", context, status=429)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_register(
                name=data["name"], email=data["email"], password=data["password1"], mobile_no=data["mobile_no"],
            )
        except EmailTakenError as exc:
            form.add_error("email", exc.message)
        except WeakPasswordError as exc:
            form.add_error("password1", exc.extra.get("errors", {}).get("password") or exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.name}. Your account is ready.")
            return redirect(_safe_next(request) or reverse("scheduling:home"))
    return render(request, "accounts/register.html", {"form": form, "next": _safe_next(request)})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return _home_for(self.request.user)

    def post(self, request, *args, **kwargs):
        if refusal := _throttled(request, LoginRateThrottle):
            messages.error(request, refusal)
            return self.render_to_response(self.get_context_data(form=self.authentication_form(request)), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"You are logged in as {form.get_user().name}.")
        return response


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule): a link or an image cannot log anyone out."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "emails/password_reset_body.txt"
    html_email_template_name = "emails/password_reset_body.html"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Any logged-in user; the session stays valid (Django updates its hash)."""

    template_name = "accounts/password_change_form.html"

    def form_valid(self, form):
        messages.success(self.request, "Your password is changed.")
        return super().form_valid(form)

    def get_success_url(self):
        user = self.request.user
        return reverse("accounts:profile") if user.role == User.Role.PATIENT else _home_for(user)


@patient_required
def profile(request):
    """The patient's contact details and medical information."""
    patient = request.user.patient
    form = ProfileForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        services.patient_update(actor=request.user, patient=patient, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, "patient": patient})
