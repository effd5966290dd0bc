"""Reads for slots and appointments, with their joins and the caller's scope."""

from datetime import datetime

from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import User
from scheduling.exceptions import AppointmentNotFoundError, SlotNotFoundError
from scheduling.models import Appointment, AppointmentSlot


def slot_list_bookable(
    *, doctor_id: int | None = None, clinic_id: int | None = None, specialty: str | None = None,
    start: datetime | None = None, end: datetime | None = None, available: bool = True,
) -> QuerySet[AppointmentSlot]:
    """Future, active slots of active doctors at active clinics, earliest first;
    with `available`, only those with a free place."""
    slots = AppointmentSlot.objects.filter(
        is_active=True, start__gt=timezone.now(), doctor__is_active=True, clinic__is_active=True
    ).select_related("clinic", "doctor__user")
    if available:
        slots = slots.filter(booked_count__lt=F("capacity"))
    if doctor_id is not None:
        slots = slots.filter(doctor_id=doctor_id)
    if clinic_id is not None:
        slots = slots.filter(clinic_id=clinic_id)
    if specialty:
        slots = slots.filter(doctor__specialty__iexact=specialty)
    if start is not None:
        slots = slots.filter(start__gte=start)
    if end is not None:
        slots = slots.filter(start__lt=end)
    return slots.order_by("start", "id")


def slot_get(*, slot_id: int, include_inactive: bool = False) -> AppointmentSlot:
    """One slot with its clinic and doctor; unless `include_inactive`, only a
    live one (slot, doctor and clinic active). Raises SlotNotFoundError."""
    slots = AppointmentSlot.objects.select_related("clinic", "doctor__user")
    if not include_inactive:
        slots = slots.filter(is_active=True, doctor__is_active=True, clinic__is_active=True)
    try:
        return slots.get(pk=slot_id)
    except AppointmentSlot.DoesNotExist:
        raise SlotNotFoundError() from None


def appointment_list_for_user(*, user: User) -> QuerySet[Appointment]:
    """Appointments the user may see: all for admins, their own for a patient or
    a doctor, none otherwise. Newest slot time first is left to callers."""
    appointments = Appointment.objects.select_related("patient__user", "doctor__user", "clinic", "slot")
    if user.role == User.Role.ADMIN:
        return appointments
    if user.role == User.Role.PATIENT and hasattr(user, "patient"):
        return appointments.filter(patient=user.patient)
    if user.role == User.Role.DOCTOR and hasattr(user, "doctor"):
        return appointments.filter(doctor=user.doctor)
    return appointments.none()


def appointment_list_upcoming(*, user: User) -> QuerySet[Appointment]:
    """The user's active appointments that have not ended, soonest first."""
    return (
        appointment_list_for_user(user=user)
        .filter(status__in=Appointment.ACTIVE_STATUSES, end__gt=timezone.now())
        .order_by("start", "id")
    )


def appointment_list_past(*, user: User) -> QuerySet[Appointment]:
    """Everything else of the user's: ended, cancelled or closed; latest first."""
    return (
        appointment_list_for_user(user=user)
        .exclude(status__in=Appointment.ACTIVE_STATUSES, end__gt=timezone.now())
        .order_by("-start", "-id")
    )


def appointment_get_for_user(*, user: User, appointment_id: int) -> Appointment:
    """One appointment the user may see. Raises AppointmentNotFoundError whether
    it does not exist or belongs to someone else, so nothing leaks."""
    try:
        return appointment_list_for_user(user=user).get(pk=appointment_id)
    except Appointment.DoesNotExist:
        raise AppointmentNotFoundError() from None
