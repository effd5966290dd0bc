"""Every write to slots and appointments. The admin, the API, the portal and
management commands call these; nothing else writes `booked_count` or `status`."""

from .booking import (  # noqa: F401
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    appointment_set_outcome,
)
from .slots import slot_create, slot_deactivate, slot_update  # noqa: F401
from .idempotency import (  # noqa: F401
    IdempotentResponse,
    idempotency_key_run,
    idempotency_keys_purge_expired,
)
