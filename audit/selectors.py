"""Reading the audit trail."""

from django.db.models import QuerySet

from .models import AuditEvent


def audit_list_for_patient(*, patient_id: int, self_user_id: int | None) -> QuerySet[AuditEvent]:
    """Who read or changed the patient's record, latest first: every row on
    the patient by someone other than the patient themselves (`self_user_id`)
    and other than the system (commands, tasks). Uses the (patient, -id) index."""
    rows = AuditEvent.objects.filter(patient_id=patient_id, actor__isnull=False).select_related("actor")
    if self_user_id is not None:
        rows = rows.exclude(actor_id=self_user_id)
    return rows.order_by("-id")
