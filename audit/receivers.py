"""Authentication events from Django's and django-axes' signals, whichever
door they came through: a failed login (API, portal: both go through
django.contrib.auth.authenticate), a lockout, a portal login and logout.
The API's successful login and logout are recorded by the accounts
services themselves (they make no session, so send no signal)."""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .services import audit_record


def _user_id_for(email: str) -> str:
    """The account an attempt named, if there is one (the email itself is not kept)."""
    if not email:
        return ""
    pk = get_user_model()._default_manager.filter(email=email.strip().lower()).values_list("pk", flat=True).first()
    return str(pk) if pk else ""


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def login_failed(sender, credentials, request=None, **kwargs):
    audit_record("login_failed", object_type="user", object_id=_user_id_for(credentials.get("email", "")))


@receiver(user_locked_out, dispatch_uid="audit_lockout")
def locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    audit_record("lockout", object_type="user", object_id=_user_id_for(username or ""))


@receiver(user_logged_in, dispatch_uid="audit_portal_login")
def logged_in(sender, request, user, **kwargs):
    audit_record("login", object_type="user", object_id=user.pk, actor=user)


@receiver(user_logged_out, dispatch_uid="audit_portal_logout")
def logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record("logout", object_type="user", object_id=user.pk, actor=user)
