"""The admin site, open only to staff whose session passed a second factor."""

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.middleware import session_verified


class StaffAdminSite(admin.AdminSite):
    """Django's admin site with two changes. Access needs an active staff user
    whose session was verified with a one-time code (accounts.middleware.
    OTPMiddleware). And there is one login page for everyone, the
    portal's: it has the lockout, the rate limit and the second step, so the
    admin's own password form, which had none of them, is not served."""

    site_header = "healthsvc administration"
    site_title = "healthsvc admin"

    def has_permission(self, request):
        return super().has_permission(request) and session_verified(request.user)

    def login(self, request, extra_context=None):
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
            target = reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated and request.user.is_staff and not session_verified(request.user):
            return redirect(f"{reverse('accounts:two-factor')}?{urlencode({'next': target})}")
        if self.has_permission(request):
            return redirect(target)
        return redirect_to_login(target, login_url=reverse("accounts:login"))

