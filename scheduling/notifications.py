"""The emails that tell a patient (and the doctor) what happened to a visit.

One notice is one (event, recipient) pair in NOTICES, with its templates
templates/emails/appointment_<event>_<recipient>_{subject.txt,body.txt,body.html}
(the bodies extend _appointment_base_body.*). A new notice (the 24-hour
reminder, say) is one more row, its three small templates and one
tasks.notify() call.

One more notice stands apart, because it is about a waitlist entry rather
than an appointment: `waitlist_offer` (templates/emails/waitlist_offer_*),
the place held for the first waiting patient, with the link to accept it.

A mail says who, when (in the clinic's zone, the zone named) and where, and
links to the appointment in the portal. It never carries health data: not
the reason for the visit, not the clinical note or the note for the patient,
not a staff member's internal note on a cancellation; only
`cancelled_reason`, which was written for the patient to read. Every mail to
the patient carries the current calendar invitation (scheduling.ics), so a
calendar that imported one follows the changes.
"""

import logging
from dataclasses import dataclass
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from scheduling.ics import appointment_to_ics
from scheduling.models import Appointment, WaitlistEntry

logger = logging.getLogger(__name__)

PATIENT, DOCTOR = "patient", "doctor"


class Event:
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"


@dataclass(frozen=True)
class Notice:
    with_invitation: bool  # the patient's calendar must follow: every mail to them carries it


# (event, recipient) -> its notice; the templates are found by the pair.
NOTICES: dict[tuple[str, str], Notice] = {
    (Event.BOOKED, PATIENT): Notice(with_invitation=True),
    (Event.BOOKED, DOCTOR): Notice(with_invitation=False),
    (Event.CONFIRMED, PATIENT): Notice(with_invitation=True),
    (Event.DECLINED, PATIENT): Notice(with_invitation=True),
    (Event.CANCELLED, PATIENT): Notice(with_invitation=True),
    (Event.CANCELLED, DOCTOR): Notice(with_invitation=False),
    (Event.RESCHEDULED, PATIENT): Notice(with_invitation=True),
}


def recipients_for(event: str, *, by: User | None) -> list[str]:
    """Who hears of the event: the patient always (their calendar must
    follow); the doctor of a new booking or a cancellation, unless the doctor
    did it."""
    doctor_too = by is None or by.role != User.Role.DOCTOR
    return [recipient for (notice_event, recipient) in NOTICES
            if notice_event == event and (recipient == PATIENT or doctor_too)]


def _cancelled_by(appointment: Appointment, recipient: str) -> str:
    """Who cancelled, in the recipient's words: the patient, the doctor, the clinic."""
    by = appointment.cancelled_by
    if by is not None and by.role == User.Role.PATIENT:
        return "you" if recipient == PATIENT else "the patient"
    if by is not None and by.role == User.Role.DOCTOR and by.pk == appointment.doctor.user_id:
        return f"Dr. {appointment.doctor.user.name}" if recipient == PATIENT else "you"
    return "the clinic"


def _context(appointment: Appointment, recipient: str) -> dict:
    clinic, doctor = appointment.clinic, appointment.doctor
    local = timezone.localtime(appointment.start, clinic.tzinfo)
    local_end = timezone.localtime(appointment.end, clinic.tzinfo)
    place = " ".join(part for part in (clinic.city, clinic.state, clinic.zip_code) if part)
    path = (reverse("scheduling:appointment-detail", args=[appointment.pk]) if recipient == PATIENT
            else reverse("scheduling:doctor-appointment", args=[appointment.pk]))
    user = appointment.patient.user if recipient == PATIENT else doctor.user
    return {
        "recipient_name": user.name,
        "appointment_id": appointment.pk,
        "status": appointment.status,
        "status_label": appointment.get_status_display().lower(),
        "doctor_name": doctor.user.name,
        "specialty": doctor.specialty,
        "patient_name": appointment.patient.user.name,
        # 'Friday 1 March 2030, 10:00–10:45 IST (Asia/Kolkata)': the zone named twice over.
        "when": f"{date_format(local, 'l j F Y, H:i')}–{date_format(local_end, 'H:i')} "
                f"{local.tzname()} ({clinic.timezone})",
        "when_short": f"{date_format(local, 'D j M Y, H:i')} {local.tzname()}",
        "clinic_name": clinic.name,
        "clinic_address_lines": [line for line in (clinic.address, place) if line],
        "clinic_phone": clinic.phone,
        "url": f"{settings.SITE_URL}{path}",
        "cancelled_by": _cancelled_by(appointment, recipient) if appointment.cancelled_at else "",
        "cancelled_reason": appointment.cancelled_reason,  # written for the patient; never the internal note
    }


def appointment_message(appointment: Appointment, *, event: str, recipient: str) -> EmailMultiAlternatives:
    """The mail of one notice, plain text and HTML, with the invitation where the notice has one."""
    notice = NOTICES[(event, recipient)]
    context = _context(appointment, recipient)
    name = f"emails/appointment_{event}_{recipient}"
    user = appointment.patient.user if recipient == PATIENT else appointment.doctor.user
    message = EmailMultiAlternatives(
        subject=" ".join(render_to_string(f"{name}_subject.txt", context).split()),  # one line, always
        body=render_to_string(f"{name}_body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((user.name, user.email))],
    )
    message.attach_alternative(render_to_string(f"{name}_body.html", context), "text/html")
    if notice.with_invitation:
        method = "CANCEL" if appointment.status == Appointment.Status.CANCELLED else "REQUEST"
        message.attach(f"appointment-{appointment.pk}.ics", appointment_to_ics(appointment),
                       f"text/calendar; method={method}; charset=utf-8")
    return message


def appointment_notice_send(*, appointment_id: int, event: str, recipient: str, sequence: int) -> bool:
    """Build and send one notice, from the appointment as it is now. False
    (nothing sent) when the appointment has changed since the event: the
    later change's own mail tells the current truth, and an older invitation
    would only confuse a calendar. SMTP errors propagate (tasks retries)."""
    appointment = (Appointment.objects.select_related("patient__user", "doctor__user", "clinic", "cancelled_by")
                   .filter(pk=appointment_id).first())
    if appointment is None or appointment.sequence != sequence:
        logger.info("Notice %s/%s of appointment %s is out of date; not sent.", event, recipient, appointment_id)
        return False
    appointment_message(appointment, event=event, recipient=recipient).send()
    return True


WAITLIST_OFFER = "waitlist_offer"


def waitlist_offer_message(entry: WaitlistEntry) -> EmailMultiAlternatives:
    """The mail offering the held place: the doctor, the time, the clinic, until
    when it is held, and the link to accept it in the portal; no health data."""
    slot, doctor, user = entry.offered_slot, entry.doctor, entry.patient.user
    clinic = slot.clinic
    local = timezone.localtime(slot.start, clinic.tzinfo)
    until = timezone.localtime(entry.offered_until, clinic.tzinfo)
    context = {
        "recipient_name": user.name,
        "doctor_name": doctor.user.name,
        "specialty": doctor.specialty,
        "when": f"{date_format(local, 'l j F Y, H:i')} {local.tzname()} ({clinic.timezone})",
        "when_short": f"{date_format(local, 'D j M Y, H:i')} {local.tzname()}",
        "until": f"{date_format(until, 'H:i')} {until.tzname()}",
        "clinic_name": clinic.name,
        "url": f"{settings.SITE_URL}{reverse('scheduling:waitlist')}",
    }
    name = f"emails/{WAITLIST_OFFER}"
    message = EmailMultiAlternatives(
        subject=" ".join(render_to_string(f"{name}_subject.txt", context).split()),
        body=render_to_string(f"{name}_body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((user.name, user.email))],
    )
    message.attach_alternative(render_to_string(f"{name}_body.html", context), "text/html")
    return message


def waitlist_offer_send(*, entry_id: int, slot_id: int) -> bool:
    """Send the offer mail if the entry still holds that offer (False, nothing
    sent, once it was accepted, left or expired)."""
    entry = (WaitlistEntry.objects.select_related("patient__user", "doctor__user", "offered_slot__clinic")
             .filter(pk=entry_id, status=WaitlistEntry.Status.OFFERED, offered_slot_id=slot_id).first())
    if entry is None:
        logger.info("Waitlist offer of entry %s is out of date; not sent.", entry_id)
        return False
    waitlist_offer_message(entry).send()
    return True
