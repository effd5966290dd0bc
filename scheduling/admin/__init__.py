"""Staff's view of the schedule, in each clinic's own time. Every change of a
slot, a rule, a leave, a place or a status goes through the scheduling
services, exactly as the API and the portal do.

    slots.py          slots, opened in clinic time
    appointments.py   appointments: list, confirm / decline / cancel
    booking.py        booking on behalf of a patient (patient search, free times)
    board.py          the day board of a clinic, doctor by doctor
    today.py          today's appointments, the staff dashboard
    doctors.py        the doctor admin with weekly hours, slot generation, links
    leaves.py         doctors' leaves and the visits inside them
    keys.py           stored answers to retried API bookings
    waitlist.py       patients waiting for a doctor's day, and their offers
    reminders.py      the reminders queued and sent (read-only)
"""

from . import appointments, doctors, keys, leaves, reminders, slots, today, waitlist  # noqa: F401
