"""Two-factor authentication with django-otp: a TOTP authenticator app and
one-time recovery codes.

Who needs it: anyone who can use /admin/ (staff) and every admin must have a confirmed
device and pass it at every login, portal and API alike; admins and doctors
may turn it on for themselves; patients sign in with their password (the API
keeps plain JWT for patients and partner apps). Codes are checked by
django-otp, which refuses a TOTP code already used (each device remembers the
last time step it accepted) and slows down guessing per device.
"""

from base64 import b32encode

import segno
from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from audit.services import audit_record

TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def otp_may_enable(user: User) -> bool:
    """Admins, staff and doctors may set up two-factor (patients do not need it)."""
    return user.is_staff or user.role in {User.Role.ADMIN, User.Role.DOCTOR}


def otp_mandatory(user: User) -> bool:
    """Accounts that must have two-factor and may not turn it off: anyone who
    can use the admin site, and every admin (the API's most powerful role)."""
    return user.is_staff or user.role == User.Role.ADMIN


def otp_required(user: User) -> bool:
    """True when a login must pass a second factor: it is mandatory for the
    account, or the account has turned it on."""
    return otp_mandatory(user) or otp_enabled(user)


def otp_enabled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_digest(code: str) -> str:
    """What is stored for a recovery code: a keyed hash (HMAC with SECRET_KEY,
    cut to the 16 characters django-otp's column holds), never the code, so a
    database dump does not hand out second factors (ASVS 6.5.2)."""
    normalised = "".join((code or "").split()).lower()
    return salted_hmac("accounts.two_factor.recovery_code", normalised, algorithm="sha256").hexdigest()[:16]


@transaction.atomic
def otp_check(user: User, code: str):
    """The device that accepts `code` (a TOTP code, or an unused recovery code,
    which is used up), or None. As django-otp's match_token, with the devices
    locked, except that a recovery code is compared by its digest."""
    code = "".join((code or "").split())
    if not code or len(code) > 16:
        return None
    for device in devices_for_user(user, for_verify=True):
        recovery = isinstance(device, StaticDevice)
        if device.verify_token(recovery_digest(code) if recovery else code):
            if recovery:
                audit_record("otp_recovery_used", object_type="user", object_id=user.pk, actor=user)
            return device
    audit_record("otp_failed", object_type="user", object_id=user.pk, actor=user)
    return None


@transaction.atomic
def totp_setup_start(user: User) -> TOTPDevice:
    """An unconfirmed authenticator for the user (an earlier unconfirmed one is
    replaced): it counts only once a code from it is confirmed."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def totp_pending(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


@transaction.atomic
def totp_setup_confirm(user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the new authenticator with a code from it. Returns fresh
    recovery codes (shown once), or None when the code is wrong."""
    code = "".join((code or "").split())
    if device.user_id != user.pk or device.confirmed or not device.verify_token(code):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record("otp_enable", object_type="user", object_id=user.pk, actor=user)
    return recovery_codes_new(user)


@transaction.atomic
def recovery_codes_new(user: User) -> list[str]:
    """A new set of OTP_RECOVERY_CODES one-time codes; the old set stops working."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.OTP_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=recovery_digest(code)) for code in codes])
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def otp_disable(user: User) -> None:
    """Remove every device of the user (their authenticator and recovery codes)."""
    for device in devices_for_user(user, confirmed=None):
        device.delete()
    # By the user, or by staff resetting it (the request's user).
    audit_record("otp_disable", object_type="user", object_id=user.pk)


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The device's otpauth:// URI as a QR code, an SVG in a data: URI for an
    <img> (no image library; no inline markup for the CSP to weigh)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=4, border=2)


def totp_key_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))
