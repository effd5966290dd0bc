"""Who may sign in at all, whatever the path (portal, admin, API)."""

from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    """Django's model backend, with one more rule: a doctor whose Doctor
    profile an admin deactivated may not sign in, and an existing session of
    theirs stops working on its next request (Django asks this backend again
    for the session's user). Their tokens are revoked when the profile is
    deactivated (clinics)."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and user_may_sign_in(user)


def user_may_sign_in(user) -> bool:
    """False for a doctor with a deactivated profile. The profile is read by
    its relation name, so this app does not import `clinics`."""
    if not user.is_active:
        return False
    if user.role != "doctor":
        return True
    profile = getattr(user, "doctor", None)
    return profile is None or profile.is_active
