"""The emails that tell a patient (and the doctor) what happened to a visit.

One notice is one (event, recipient) pair in NOTICES, with its templates
templates/emails/appointment_<event>_<recipient>_{subject.txt,body.txt,body.html}
(the bodies extend _appointment_base_body.*). A new notice (the 24-hour
reminder is one: send_reminders queues it, reminder_send sends it) is one
more row, its three small templates and one tasks.notify() call.

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
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from audit.services import audit_record
from scheduling.ics import appointment_to_ics
from scheduling.models import Appointment, Reminder, WaitlistEntry

logger = logging.getLogger(__name__)

PATIENT, DOCTOR = "patient", "doctor"


class Event:
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    REMINDER = "reminder"  # not an event: send_reminders queues it, REMINDER_HOURS_BEFORE ahead


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
    (Event.RESCHEDULED, DOCTOR): Notice(with_invitation=False),
    (Event.REMINDER, PATIENT): Notice(with_invitation=True),
}


def recipients_for(event: str, *, by: User | None) -> list[str]:
    """Who hears of the event: the patient always (their calendar must
    follow); the doctor of a new booking, a move or a cancellation, unless the
    doctor did it."""
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


def _address_lines(clinic) -> list[str]:
    place = " ".join(part for part in (clinic.city, clinic.state, clinic.zip_code) if part)
    return [line for line in (clinic.address, place) if line]


def _context(appointment: Appointment, recipient: str) -> dict:
    clinic, doctor = appointment.clinic, appointment.doctor
    local = timezone.localtime(appointment.start, clinic.tzinfo)
    local_end = timezone.localtime(appointment.end, clinic.tzinfo)
    path = (reverse("scheduling:appointment-detail", args=[appointment.pk]) if recipient == PATIENT
            else reverse("scheduling:doctor-appointment", args=[appointment.pk]))
    patient = appointment.patient
    user = patient.contact_user if recipient == PATIENT else doctor.user
    return {
        "recipient_name": user.name,
        "appointment_id": appointment.pk,
        "status": appointment.status,
        "status_label": appointment.get_status_display().lower(),
        "doctor_name": doctor.user.name,
        "specialty": doctor.specialty,
        "patient_name": patient.name_with_guardian,
        # A dependent's visit, mailed to the guardian: whom it is for.
        "visit_for": patient.display_name if patient.is_dependent else "",
        # 'Friday 1 March 2030, 10:00–10:45 IST (Asia/Kolkata)': the zone named twice over.
        "when": f"{date_format(local, 'l j F Y, H:i')}–{date_format(local_end, 'H:i')} "
                f"{local.tzname()} ({clinic.timezone})",
        "when_short": f"{date_format(local, 'D j M Y, H:i')} {local.tzname()}",
        "clinic_name": clinic.name,
        "clinic_address_lines": _address_lines(clinic),
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
    user = appointment.patient.contact_user if recipient == PATIENT else appointment.doctor.user
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


def _out_of_date(appointment: Appointment, *, event: str, recipient: str, sequence: int) -> bool:
    """Whether a later change has made this notice stale. Any change does for
    the patient's mails, since each one carries the invitation of its version
    and the later change's own mail carries the current one. The doctor's
    news of a new booking stays news while the visit is on: approved by the
    clinic or moved before the worker ran, it is still a visit they have
    not heard of (told from the appointment as it is now)."""
    if appointment.sequence == sequence:
        return False
    return not (event == Event.BOOKED and recipient == DOCTOR and appointment.is_active)


def appointment_notice_send(*, appointment_id: int, event: str, recipient: str, sequence: int) -> bool:
    """Build and send one notice, from the appointment as it is now. False
    (nothing sent) when the appointment has changed since the event so that
    the notice no longer tells the truth (_out_of_date). SMTP errors
    propagate (tasks retries)."""
    appointment = (Appointment.objects.select_related("patient__user", "patient__guardian__user", "doctor__user", "clinic", "cancelled_by")
                   .filter(pk=appointment_id).first())
    if appointment is None or _out_of_date(appointment, event=event, recipient=recipient, sequence=sequence):
        logger.info("Notice %s/%s of appointment %s is out of date; not sent.", event, recipient, appointment_id)
        return False
    appointment_message(appointment, event=event, recipient=recipient).send()
    audit_record("notify", obj=appointment, detail={"event": event, "recipient": recipient})
    return True


def _reminder_out_of_date(appointment: Appointment, reminder: Reminder) -> str:
    """Why the reminder must not go out now, or "" if it still tells the truth."""
    if not appointment.is_active:
        return f"the visit is {appointment.status}"
    if appointment.start != reminder.start:
        return "the visit was moved"
    if not appointment.patient.wants_reminders:
        return "the patient wants no reminders"
    if appointment.start <= timezone.now():
        return "the visit has begun"
    return ""


def reminder_send(*, reminder_id: int) -> bool:
    """Send one queued reminder, once. False when nothing was sent.

    The reminder's row is locked (SELECT ... FOR UPDATE; on SQLite BEGIN
    IMMEDIATE takes the write lock) and `sent_at` set in the same
    transaction, after the mail server accepted the mail. So a second task
    for the same row, run concurrently or as a retry, waits for the first and
    then finds it sent; a send that fails (or a worker that dies before the
    commit) leaves it unsent, and the retry sends it. The one duplicate left
    is a worker that dies between the server's acceptance and the commit, a
    few milliseconds: we prefer that to a reminder lost for good.

    A reminder that no longer tells the truth (the visit cancelled, moved,
    begun, or the patient opted out since it was queued) is deleted, not
    sent: the record is of what was sent, and a visit moved back to that
    time, or a patient who opts in again, can be reminded then. Only the
    reminder's row is locked while the mail goes out, never the
    appointment's: a slow mail server holds up no booking."""
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().filter(pk=reminder_id, sent_at__isnull=True).first()
        if reminder is None:
            logger.info("Reminder %s was sent already (or dropped); not sent again.", reminder_id)
            return False
        appointment = (Appointment.objects.select_related("patient__user", "patient__guardian__user", "doctor__user", "clinic")
                       .get(pk=reminder.appointment_id))
        if why := _reminder_out_of_date(appointment, reminder):
            logger.info("Reminder %s of appointment %s dropped: %s.", reminder_id, appointment.pk, why)
            reminder.delete()
            return False
        appointment_message(appointment, event=Event.REMINDER, recipient=PATIENT).send()
        Reminder.objects.filter(pk=reminder.pk).update(sent_at=timezone.now())
        audit_record("notify", obj=appointment, detail={"event": Event.REMINDER, "recipient": PATIENT})
    return True


WAITLIST_OFFER = "waitlist_offer"


def waitlist_offer_message(entry: WaitlistEntry) -> EmailMultiAlternatives:
    """The mail offering the held place: the doctor, the time, the clinic and
    its address, until when it is held, and the link to accept it in the portal; no health data."""
    slot, doctor, user = entry.offered_slot, entry.doctor, entry.patient.contact_user
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
        "clinic_address_lines": _address_lines(clinic),
        "clinic_phone": clinic.phone,
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
    entry = (WaitlistEntry.objects.select_related("patient__user", "patient__guardian__user", "doctor__user", "offered_slot__clinic")
             .filter(pk=entry_id, status=WaitlistEntry.Status.OFFERED, offered_slot_id=slot_id).first())
    if entry is None:
        logger.info("Waitlist offer of entry %s is out of date; not sent.", entry_id)
        return False
    waitlist_offer_message(entry).send()
    audit_record("notify", obj=entry, detail={"event": WAITLIST_OFFER, "recipient": PATIENT})
    return True
