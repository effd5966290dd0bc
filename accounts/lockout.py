"""How django-axes sees a login attempt, and what a locked-out client is told.

Axes counts failed logins per (account, client address) pair and refuses
that pair for AXES_COOLOFF_TIME once AXES_FAILURE_LIMIT is reached, on every
path that calls django.contrib.auth.authenticate: the API login, the portal
login and the admin login. The account is the email as typed (lowercased), so
an unknown email is counted and locked exactly as a real one is: the answers
do not tell which emails have accounts.
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

LOCKED_MESSAGE = "Too many failed logins for this account from your network. Try again later."


def attempted_username(request, credentials) -> str:
    """The login name of an attempt: the API passes `email`, Django's login
    forms (portal and admin) `username`."""
    credentials = credentials or {}
    name = credentials.get("email") or credentials.get("username")
    if name is None and request is not None:
        name = request.POST.get("username") or request.POST.get("email")
    return (name or "").strip().lower()


def retry_after_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_response(request, original_response=None, credentials=None):
    """The answer to a locked-out attempt: the API's error envelope (429,
    RATE_LIMITED, Retry-After) under /api/, a page elsewhere."""
    if request.path.startswith("/api/"):
        if original_response is not None and original_response.status_code == 429:
            return original_response  # the view already answered with the envelope
        response = JsonResponse({"detail": LOCKED_MESSAGE, "error_code": "RATE_LIMITED"}, status=429)
    else:
        response = render(request, "accounts/locked_out.html", _locked_context(request), status=429)
    response["Retry-After"] = str(retry_after_seconds())
    return response


def _locked_context(request) -> dict:
    """The lockout page keeps the login form with the email as typed (never the
    password), so the patient only adds the password when the pause is over."""
    from django.utils.http import url_has_allowed_host_and_scheme  # noqa: PLC0415

    from accounts.forms import LoginForm  # noqa: PLC0415 (forms import the models, loaded late)

    email = (request.POST.get("username") or request.POST.get("email") or "")[:254] if request.method == "POST" else ""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = ""
    return {"minutes": retry_after_seconds() // 60, "form": LoginForm(request, initial={"username": email}),
            "next": target}
