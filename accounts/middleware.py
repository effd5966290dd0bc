"""Portal sessions: an absolute lifetime, and two-factor before anything else for staff."""

import time
from urllib.parse import urlencode

import django_otp.middleware

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

SIGNED_IN_AT = "_signed_in_at"


@receiver(user_logged_in, dispatch_uid="accounts.session_signed_in_at")
def _stamp_session(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = int(time.time())


class SessionLifetimeMiddleware:
    """Ends a session SESSION_ABSOLUTE_SECONDS after its login, however
    active it has been (the idle timeout, SESSION_COOKIE_AGE, ends it sooner
    when unused). A session without the stamp predates it and gets one now."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _has_session(request):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            signed_in_at = request.session.get(SIGNED_IN_AT)
            if signed_in_at is None:
                request.session[SIGNED_IN_AT] = int(time.time())
            elif time.time() - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                if not request.path.startswith("/api/"):
                    messages.info(request, "For your safety you were logged out after "
                                  f"{settings.SESSION_ABSOLUTE_SECONDS // 3600} hours. Please log in again.")
                    return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """A session of an account that must use two-factor (staff, admins) but
    has not passed it (it has no device yet) may only set one up or log out:
    every other page sends it to the set-up page, and the API refuses it, so
    a password alone never reaches patient data or the admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _has_session(request):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None and user.is_authenticated
            and (user.is_staff or user.role == "admin")
            and not session_verified(user)
            and request.path not in _setup_paths()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Set up two-factor authentication first.", "error_code": "PERMISSION_DENIED"},
                    status=403,
                )
            return redirect(f"{reverse('accounts:two-factor')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


def _setup_paths() -> set[str]:
    return {reverse("accounts:two-factor"), reverse("accounts:logout"), reverse("accounts:login"),
            reverse("accounts:login-verify")}


def _has_session(request) -> bool:
    """Whether the request brings a session cookie: without one nobody is
    logged in by session (an API call with a bearer token, a first visit),
    so these middlewares have nothing to do and skip the session lookup."""
    return settings.SESSION_COOKIE_NAME in request.COOKIES


class OTPMiddleware(django_otp.middleware.OTPMiddleware):
    """django-otp's middleware (it sets `request.user.otp_device` from the
    session), without the `user.is_verified()` method it also installs: our
    User has an `is_verified` field (an admin verified the doctor), which that
    method would shadow and, on a save, corrupt. `session_verified` asks."""

    def __call__(self, request):
        if not _has_session(request):
            return self.get_response(request)
        return super().__call__(request)

    @staticmethod
    def _init_user_fields(user):
        user.otp_device = None


def session_verified(user) -> bool:
    """Whether this request's session passed a second factor."""
    return getattr(user, "otp_device", None) is not None
