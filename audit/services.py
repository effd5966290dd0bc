"""Writing the audit trail: audit_record(), called by the services that
change patient data or appointments (in their transaction: the row commits
or rolls back with the change), by the views that read them, and by the
authentication code. One statement per row on PostgreSQL (audit/chain.py).
"""

from django.utils import timezone

from .chain import chain_append
from .context import current


def _describe(obj) -> tuple[str, str, int | None]:
    """(object type, object id, patient id) of a model instance."""
    object_type = obj._meta.model_name
    patient_id = obj.pk if object_type == "patient" else getattr(obj, "patient_id", None)
    return object_type, str(obj.pk), patient_id


def audit_record(action: str, *, obj=None, object_type: str = "", object_id: str = "", patient_id: int | None = None,
                 actor=None, detail: dict | None = None) -> None:
    """Append one audit row. `obj` (a model instance) gives the object's type
    and id and the patient it belongs to; or give them. `actor` is the user
    who did it (a service's `by=`); by default the request's user, or nobody
    (the system: a command, a task). `detail` holds names and statuses only,
    never a health value."""
    if obj is not None:
        object_type, object_id, patient_id = _describe(obj)
    context = current()
    actor = actor if actor is not None else context.user
    chain_append(
        at=timezone.now(), actor_id=actor.pk if actor else None, actor_role=getattr(actor, "role", "") or "",
        action=action, object_type=object_type, object_id=str(object_id), patient_id=patient_id,
        entry_point=context.entry_point, ip=context.ip, request_id=context.request_id, detail=detail or {},
    )


def audit_read(obj, *, actor=None) -> None:
    """A view showed this object (a patient's record, an appointment)."""
    audit_record("read", obj=obj, actor=actor)


def audit_list(object_type: str, *, count: int, patient_id: int | None = None, actor=None) -> None:
    """A view listed `count` objects of a type (one patient's, when `patient_id`)."""
    audit_record("list", object_type=object_type, patient_id=patient_id, actor=actor, detail={"count": count})
