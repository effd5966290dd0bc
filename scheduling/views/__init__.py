"""The portal (server-rendered HTML): finding a doctor, patients' bookings,
doctors' days and schedules. Each module's views parse, call a selector or a
service, and render."""

from .doctors import (  # noqa: F401
    doctor_appointment,
    doctor_appointment_cancel,
    doctor_appointment_confirm,
    doctor_appointment_decline,
    doctor_day,
)
from .patients import (  # noqa: F401
    appointment_book,
    appointment_cancel,
    appointment_detail,
    appointment_ics,
    appointment_list,
    appointment_reschedule,
)
from .schedule import (  # noqa: F401
    calendar_feed_rotate,
    leave_delete,
    leave_detail,
    leave_list,
    my_week,
    rule_delete,
    rule_edit,
    slot_change,
    slot_day,
    slot_list,
    slots_generate,
)
from .search import doctor_detail, doctor_list, doctor_soonest, home  # noqa: F401
from .waitlist import waitlist_accept, waitlist_join, waitlist_leave, waitlist_list  # noqa: F401
