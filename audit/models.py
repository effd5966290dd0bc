"""The audit trail: one append-only row per read or change of patient data
or an appointment, per denied access and per authentication event.

Rows are never updated or deleted by the application: on PostgreSQL a
trigger (django-pgtrigger) refuses UPDATE and DELETE on the table. Each row
carries `hash`, an HMAC (settings.AUDIT_HMAC_KEY) of the previous row's hash
and the row's own content, so `manage.py audit_verify` finds an edited,
deleted or inserted row (audit/chain.py). `ChainHead` holds the last hash:
every writer updates its one row, which serialises them, so no two rows
ever chain onto the same predecessor.

No health values are stored: the object's type and id, never its content
(no allergies, no reason for visit); `detail` holds field *names* and
statuses only.

The actor and the patient are foreign keys without a database constraint
and with DO_NOTHING: a record outlives the rows it names, and nothing
cascades into it.
"""

import pgtrigger
from django.conf import settings
from django.db import models


# How a patient's access log words a row: by (action, object type), else by action.
_FOR_PATIENT_BY_OBJECT = {
    ("read", "patient"): "viewed your medical profile",
    ("read", "appointment"): "viewed an appointment",
    ("list", "appointment"): "listed your appointments",
    ("update", "patient"): "changed your profile",
    ("denied", "patient"): "was refused access to your profile",
    ("denied", "appointment"): "was refused access to an appointment",
}
_FOR_PATIENT_BY_ACTION = {
    "book": "booked an appointment", "reschedule": "moved an appointment", "cancel": "cancelled an appointment",
    "confirm": "confirmed an appointment", "decline": "declined an appointment",
    "outcome": "recorded a visit's outcome or notes", "outcome_correction": "corrected a visit's outcome", "waitlist_join": "put you on a waitlist",
    "waitlist_leave": "took you off a waitlist", "create": "created your account",
}


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        READ = "read"
        LIST = "list"
        CREATE = "create"
        UPDATE = "update"
        BOOK = "book"
        RESCHEDULE = "reschedule"
        CANCEL = "cancel"
        CONFIRM = "confirm"
        DECLINE = "decline"
        OUTCOME = "outcome"
        OUTCOME_CORRECTION = "outcome_correction"
        WAITLIST_JOIN = "waitlist_join"
        WAITLIST_LEAVE = "waitlist_leave"
        WAITLIST_OFFER = "waitlist_offer"
        WAITLIST_EXPIRE = "waitlist_expire"
        NOTIFY = "notify"
        DENIED = "denied"
        LOGIN = "login"
        LOGIN_FAILED = "login_failed"
        LOCKOUT = "lockout"
        LOGOUT = "logout"
        LOGOUT_ALL = "logout_all"
        TOKEN_REUSE = "token_reuse"
        PASSWORD_CHANGE = "password_change"
        PASSWORD_RESET = "password_reset"
        OTP_ENABLE = "otp_enable"
        OTP_DISABLE = "otp_disable"
        OTP_FAILED = "otp_failed"
        OTP_RECOVERY_USED = "otp_recovery_used"
        OTP_RESET = "otp_reset"
        DEACTIVATE = "deactivate"

    class EntryPoint(models.TextChoices):
        API = "api", "API"
        PORTAL = "portal", "Portal"
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Command"
        TASK = "task", "Background task"

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              db_constraint=False, related_name="+")
    actor_role = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=24, choices=Action.choices)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey("accounts.Patient", null=True, blank=True, on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="+",
                                help_text="The patient whose record this touches, if any.")
    entry_point = models.CharField(max_length=8, choices=EntryPoint.choices)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["patient", "-id"], name="audit_event_patient_idx"),
            models.Index(fields=["actor", "-id"], name="audit_event_actor_idx"),
        ]
        triggers = [
            pgtrigger.Protect(name="audit_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"#{self.pk} {self.action} {self.object_type} {self.object_id} by {self.actor_id or 'system'}"

    @property
    def description_for_patient(self) -> str:
        """What the actor did, worded for the patient whose record it is
        ("viewed an appointment #12"): the portal's access log and the API's."""
        words = (_FOR_PATIENT_BY_OBJECT.get((self.action, self.object_type))
                 or _FOR_PATIENT_BY_ACTION.get(self.action) or self.get_action_display().lower())
        return f"{words} #{self.object_id}" if self.object_type == "appointment" and self.object_id else words


class ChainHead(models.Model):
    """The one row holding the chain's last hash (and the one before it).
    Updating it is what serialises the writers; it is not evidence itself:
    audit_verify checks it against the last event."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        triggers = [pgtrigger.Protect(name="audit_head_no_delete", operation=pgtrigger.Delete)]

    def __str__(self):
        return self.hash
