"""Portal pages for accounts: register, log in and out, password reset, profile.

Thin: parse the form, call accounts.services, render. A domain error becomes
a form error; success is reported with the messages framework.
"""

import time

from django.contrib import messages
from django.contrib.auth import get_user_model, login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts import services, two_factor
from accounts.decorators import keeps_form_when_signed_out, patient_required
from accounts.exceptions import EmailTakenError, PatientNotFoundError, WeakPasswordError
from accounts.forms import DependentForm, LoginForm, OtpCodeForm, ProfileForm, RegisterForm
from accounts.middleware import session_verified
from accounts.models import User
from accounts.selectors import dependent_get, dependent_list
from accounts.templatetags import profile_prompt
from audit.selectors import audit_list_for_patient
from audit.services import audit_read, audit_record
from healthsvc.api.throttling import (
    LoginRateThrottle,
    PasswordResetMailThrottle,
    PasswordResetRateThrottle,
    RegisterRateThrottle,
)

# The login waiting for its second factor: {user id, backend, when, next}.
PENDING_LOGIN = "_login_pending_otp"
PENDING_SECONDS = 5 * 60
PENDING_ATTEMPTS = 5


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return None


def retry_words(seconds: float | None) -> str:
    """`in 45 seconds` (under a minute and a half), else `in 15 minutes` (rounded up): when to try again."""
    seconds = max(1, int(seconds or 60))
    if seconds < 90:
        return f"in {seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"in {minutes} minutes"


def _throttled(request, throttle_class) -> int | None:
    """The seconds to wait when this client sent too many attempts: the same
    per-IP budget as the API's login and register endpoints, so neither is a way around the other."""
    throttle = throttle_class()
    if throttle.allow_request(request, None):
        return None
    return max(1, int(throttle.wait() or 60))


def _refuse_throttled(request, render_page, wait: int):
    """The form page again (`render_page()`: what was typed kept, passwords
    never), 429 with Retry-After, saying when to retry."""
    messages.error(request, f"Too many attempts. Nothing was sent. "
                            f"Please try again {retry_words(wait)}; what you typed is kept below.")
    response = render_page()
    response.status_code = 429
    response["Retry-After"] = str(wait)
    return response


def _typed(request, *names) -> dict:
    """What the visitor typed into these fields (never a password), to fill the form again."""
    return {name: request.POST.get(name, "")[:500] for name in names}


def _home_for(user) -> str:
    if user.role == User.Role.DOCTOR:
        return reverse("scheduling:doctor-day")
    return reverse("scheduling:home")


PROFILE_PROMPT = ("Please complete your medical profile: your doctor sees it before the visit. "
                  "You can do it later from “My profile”.")


@sensitive_post_parameters("password1", "password2")
def register(request):
    """A new patient account; the patient is logged in at once."""
    if request.user.is_authenticated:
        return redirect(_home_for(request.user))
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and (wait := _throttled(request, RegisterRateThrottle)):
        context = {"form": RegisterForm(initial=_typed(request, "name", "email", "mobile_no")),
                   "next": _safe_next(request)}
        return _refuse_throttled(request, lambda: render(request, "accounts/register.html", context), wait)
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
            login(request, user, backend="accounts.backends.AccountBackend")
            messages.success(request, f"Welcome, {user.name}. Your account is ready.")
            if target := _safe_next(request):  # on the way to a booking: that first
                return redirect(target)
            messages.info(request, PROFILE_PROMPT)
            return redirect("accounts:profile")
    return render(request, "accounts/register.html", {"form": form, "next": _safe_next(request)})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return _home_for(self.request.user)

    def post(self, request, *args, **kwargs):
        if wait := _throttled(request, LoginRateThrottle):
            form = self.authentication_form(request, initial=_typed(request, "username"))
            return _refuse_throttled(request, lambda: self.render_to_response(self.get_context_data(form=form)), wait)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.otp_enabled(user):
            # The password was right; the session is not logged in until the code is.
            self.request.session[PENDING_LOGIN] = {
                "user_id": user.pk, "backend": user.backend, "at": int(time.time()), "attempts": 0,
                "next": self.get_redirect_url(), "hash": user.get_session_auth_hash(),
            }
            return redirect("accounts:login-verify")
        response = super().form_valid(form)
        if two_factor.otp_mandatory(user):
            messages.info(self.request, "Staff accounts need two-factor authentication. Set it up to continue.")
            return redirect("accounts:two-factor")
        messages.success(self.request, f"You are logged in as {user.name}.")
        return response


@sensitive_post_parameters("code")
def login_verify(request):
    """The second step of a login with two-factor on: the code, then the session."""
    pending = request.session.get(PENDING_LOGIN)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING_LOGIN, None)
        if pending:
            messages.error(request, "That took too long. Please log in again.")
        return redirect("accounts:login")
    user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True).first()
    # A password change (or any revocation) since the password step voids it.
    if user is None or not constant_time_compare(user.get_session_auth_hash(), pending.get("hash", "")):
        request.session.pop(PENDING_LOGIN, None)
        return redirect("accounts:login")
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.otp_check(user, form.cleaned_data["code"])
        if device is None:
            pending["attempts"] += 1
            if pending["attempts"] >= PENDING_ATTEMPTS:
                request.session.pop(PENDING_LOGIN, None)
                messages.error(request, "Too many wrong codes. Please log in again.")
                return redirect("accounts:login")
            request.session[PENDING_LOGIN] = pending
            form.add_error("code", "That code is wrong or was already used.")
        else:
            request.session.pop(PENDING_LOGIN, None)
            login(request, user, backend=pending["backend"])
            otp_login(request, device)
            if device.name == two_factor.RECOVERY_NAME:
                left = two_factor.recovery_codes_left(user)
                messages.warning(request, f"You used a recovery code; {left} left. Make new ones if you are short.")
            messages.success(request, f"You are logged in as {user.name}.")
            target = pending.get("next")
            if not (target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                                require_https=request.is_secure())):
                target = _home_for(user)
            return redirect(target)
    return render(request, "accounts/login_verify.html", {"form": form})


@login_required
@sensitive_post_parameters("code")
def two_factor_settings(request):
    """Set up, verify, renew or turn off two-factor (admins, staff, doctors).

    Changing a factor that is already on (new recovery codes, a new phone,
    turning it off) needs a verified session and a fresh code, so a stolen
    session alone cannot give itself a lasting second factor. Turning it on
    or off ends the account's other sessions and tokens: whoever held them
    must pass the new factor."""
    user = request.user
    if not two_factor.otp_may_enable(user):
        raise PermissionDenied("Two-factor authentication is for staff and doctors.")
    enabled = two_factor.otp_enabled(user)
    verified = session_verified(user)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = OtpCodeForm(request.POST or None)
    context = {"enabled": enabled, "verified": verified, "required": two_factor.otp_mandatory(user)}

    def fresh_code() -> bool:
        if form.is_valid() and two_factor.otp_check(user, form.cleaned_data["code"]) is not None:
            return True
        form.add_error("code", "Enter a current code from your app (or a recovery code) to make this change.")
        return False

    if action == "start" and (not enabled or (verified and fresh_code())):
        two_factor.totp_setup_start(user)
        return redirect("accounts:two-factor")
    if action == "confirm" and form.is_valid():
        device = two_factor.totp_pending(user)
        if device is not None and (not enabled or verified):
            codes = two_factor.totp_setup_confirm(user, device, form.cleaned_data["code"])
            if codes is not None:
                _end_other_sessions(request)
                device.refresh_from_db()
                otp_login(request, device)
                messages.success(request, "Two-factor authentication is on. Your other sessions were logged out.")
                return render(request, "accounts/recovery_codes.html", {"codes": codes})
        form.add_error("code", "That code does not match. Check the app's clock and try the newest code.")
    if action == "verify" and enabled and form.is_valid():
        device = two_factor.otp_check(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            messages.success(request, "This session is verified.")
            return redirect(_safe_next(request) or "accounts:two-factor")
        form.add_error("code", "That code is wrong or was already used.")
    if action == "recovery" and verified and fresh_code():
        return render(request, "accounts/recovery_codes.html", {"codes": two_factor.recovery_codes_new(user)})
    if action == "disable" and verified and not context["required"] and fresh_code():
        two_factor.otp_disable(user)
        _end_other_sessions(request)
        messages.success(request, "Two-factor authentication is off. Your other sessions were logged out.")
        return redirect("accounts:two-factor")
    pending = two_factor.totp_pending(user) if not enabled or verified else None
    if pending is not None:
        context.update(qr_uri=two_factor.totp_qr_data_uri(pending), key_text=two_factor.totp_key_text(pending))
    if verified:
        context["recovery_left"] = two_factor.recovery_codes_left(user)
    context.update(form=form, pending=pending, next=_safe_next(request), action=action)
    return render(request, "accounts/two_factor.html", context)


def _end_other_sessions(request) -> None:
    """Every other session and token of the user ends (their version rises);
    this one carries on with the new session hash."""
    user = request.user
    services.user_logout_everywhere(user=user)
    user.refresh_from_db(fields=["token_version"])
    update_session_auth_hash(request, user)


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule): a link or an image cannot log anyone out."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, limited twice: requests per client address (a
    429 page), and mails per account (quietly: the answer is the same whether
    a mail went, was held back or the email has no account)."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "emails/password_reset_body.txt"
    html_email_template_name = "emails/password_reset_body.html"
    subject_template_name = "emails/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")

    def post(self, request, *args, **kwargs):
        if wait := _throttled(request, PasswordResetRateThrottle):
            form = self.get_form_class()(initial=_typed(request, "email"))
            return _refuse_throttled(request, lambda: self.render_to_response(self.get_context_data(form=form)), wait)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        if not PasswordResetMailThrottle().allow_email(form.cleaned_data["email"]):
            return redirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record("password_reset", object_type="user", object_id=form.user.pk, actor=form.user)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Any logged-in user; the session stays valid (Django updates its hash)."""

    template_name = "accounts/password_change_form.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record("password_change", object_type="user", object_id=self.request.user.pk)
        messages.success(self.request, "Your password is changed.")
        return response

    def get_success_url(self):
        user = self.request.user
        return reverse("accounts:profile") if user.role == User.Role.PATIENT else _home_for(user)


PROFILE_FIELDS = ("name", "mobile_no", "date_of_birth", "blood_group", "allergies", "emergency_contact",
                  "wants_reminders")


@keeps_form_when_signed_out(
    fields=PROFILE_FIELDS, message="You were signed out; sign in and your changes are still here. Nothing was saved yet.",
)
@patient_required
def profile(request):
    """The patient's contact details and medical information."""
    patient = request.user.patient
    draft = services.form_draft_take(user=request.user, page=request.path) if request.method == "GET" else None
    if draft:
        messages.info(request, "Your changes are filled in again. Nothing was saved yet: check them and save.")
        draft["wants_reminders"] = bool(draft.get("wants_reminders"))
    form = ProfileForm(request.POST or None, instance=patient, initial=draft)
    if request.method == "POST" and form.is_valid():
        services.patient_update(actor=request.user, patient=patient, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    audit_read(patient)
    dependents = list(dependent_list(guardian=patient))
    return render(request, "accounts/profile.html", {"form": form, "patient": patient, "dependents": dependents})


@patient_required
def dependent_edit(request, dependent_id: int | None = None):
    """Add a family member (no `dependent_id`) or change one of the patient's own."""
    dependent = None
    if dependent_id is not None:
        try:
            dependent = dependent_get(guardian=request.user.patient, dependent_id=dependent_id)
        except PatientNotFoundError:
            raise Http404("Family member not found.") from None
    form = DependentForm(request.POST or None, instance=dependent)
    if request.method == "POST" and form.is_valid():
        if dependent is None:
            dependent = services.dependent_create(guardian=request.user.patient, by=request.user, **form.cleaned_data)
            messages.success(request, f"{dependent.name} is added to your family members.")
        else:
            services.dependent_update(dependent=dependent, by=request.user, **form.cleaned_data)
            messages.success(request, f"{dependent.name}'s details are saved.")
        return redirect("accounts:profile")
    if dependent is not None and request.method == "GET":
        audit_read(dependent)
    return render(request, "accounts/dependent_form.html", {"form": form, "dependent": dependent})


@patient_required
@require_POST
def profile_prompt_dismiss(request):
    """"Not now" on the notice asking for the medical profile: hidden for this session."""
    request.session[profile_prompt.DISMISSED] = True
    return redirect("scheduling:home")


ACCESS_LOG_PER_PAGE = 25


@patient_required
def access_log(request, dependent_id: int | None = None):
    """Who has looked at or changed the patient's record (or, with
    `dependent_id`, a family member's): their doctors and clinic staff (the
    account holder's own actions and the system's left out)."""
    patient = request.user.patient
    if dependent_id is not None:
        try:
            patient = dependent_get(guardian=patient, dependent_id=dependent_id)
        except PatientNotFoundError:
            raise Http404("Family member not found.") from None
    page = Paginator(audit_list_for_patient(patient_id=patient.pk, self_user_id=request.user.pk),
                     ACCESS_LOG_PER_PAGE).get_page(request.GET.get("page"))
    dependent = patient if patient.is_dependent else None
    return render(request, "accounts/access_log.html", {"page": page, "dependent": dependent})
