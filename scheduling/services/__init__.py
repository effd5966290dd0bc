"""Every write to slots, schedules, appointments and the waitlist. The admin,
the API, the portal and management commands call these; nothing else writes
`booked_count`, `held_count` or `status` (lifecycle.py is the state machine,
places.py the place counter, waitlist.py the offers and their holds)."""

from .availability import (  # noqa: F401
    GenerationResult,
    availability_rule_create,
    availability_rule_delete,
    availability_rule_update,
    slots_generate,
    slots_generate_ahead,
)
from .booking import appointment_book, appointment_book_offer, appointment_reschedule  # noqa: F401
from .idempotency import (  # noqa: F401
    IdempotentResponse,
    idempotency_key_run,
    idempotency_keys_purge_expired,
)
from .leaves import LeaveCancellation, leave_cancel_appointments, leave_create, leave_delete  # noqa: F401
from .lifecycle import (  # noqa: F401
    OUTCOME_STATUSES,
    appointment_cancel,
    appointment_confirm,
    appointment_decline,
    appointment_set_outcome,
)
from .patients import PatientDeactivation, patient_deactivate  # noqa: F401
from .reminders import reminders_queue  # noqa: F401
from .slots import (  # noqa: F401
    slot_create,
    slot_deactivate,
    slot_start_at,
    slot_update,
    slots_close_day,
    slots_reopen_day,
)
from .waitlist import (  # noqa: F401
    waitlist_expire_offers,
    waitlist_join,
    waitlist_leave,
    waitlist_offer_freed,
)
