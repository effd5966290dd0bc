from datetime import UTC, timedelta

from django.contrib.postgres.fields import RangeOperators
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from healthsvc.db import PostgresExclusionConstraint, TsTzRange
from healthsvc.models import TimeStampedModel

MIN_SLOT_MINUTES = 5
MAX_SLOT_MINUTES = 480

# A slot with a place neither booked nor held: written once, so the free-slot
# queries and the partial index scheduling_slot_free_idx say the same thing.
HAS_FREE_PLACE = Q(booked_count__lt=F("capacity") - F("held_count"))


class AppointmentSlot(TimeStampedModel):
    """A bookable time of one doctor at one clinic, holding up to `capacity` patients.

    `booked_count` is the number of its appointments that are not cancelled
    (a completed or no-show visit still used its place). Only the booking
    services write it; the check constraints keep it within 0..capacity
    whatever Python does.

    `held_count` is the number of its places held for a patient offered them
    from the waitlist (services/waitlist.py): nobody else can book a held
    place, and the constraint counts it with the booked ones against capacity.
    """

    doctor = models.ForeignKey("clinics.Doctor", on_delete=models.PROTECT, related_name="slots")
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="slots")
    start = models.DateTimeField(help_text="Stored in UTC; shown in the clinic's time zone.")
    end = models.DateTimeField(editable=False)
    duration_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(MIN_SLOT_MINUTES), MaxValueValidator(MAX_SLOT_MINUTES)]
    )
    capacity = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(100)])
    booked_count = models.PositiveSmallIntegerField(default=0, editable=False)
    # db_default too: raw inserts (bench/seed.py, generation's INSERT ... SELECT) may leave it out.
    held_count = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booked_count__gte=0) & Q(held_count__gte=0)
                & Q(booked_count__lte=F("capacity") - F("held_count")),
                name="scheduling_slot_booked_within_capacity",
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="scheduling_slot_capacity_positive"),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=MIN_SLOT_MINUTES, duration_minutes__lte=MAX_SLOT_MINUTES),
                name="scheduling_slot_duration_range",
            ),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="scheduling_slot_end_after_start"),
            models.UniqueConstraint(
                fields=["doctor", "start"], condition=Q(is_active=True),
                name="scheduling_slot_unique_doctor_start",
            ),
            PostgresExclusionConstraint(
                name="scheduling_slot_no_overlap",
                expressions=[("doctor", RangeOperators.EQUAL), (TsTzRange("start", "end"), RangeOperators.OVERLAPS)],
                condition=Q(is_active=True),
            ),
        ]
        indexes = [
            # "A doctor's free slots in a date range" is served by the unique
            # (doctor, start) index above; these serve clinic and global lists.
            models.Index(fields=["clinic", "start"], condition=Q(is_active=True), name="scheduling_slot_clinic_idx"),
            models.Index(fields=["start"], condition=Q(is_active=True), name="scheduling_slot_start_idx"),
            # A doctor's free slots in time order, answered from the index alone
            # (selectors.slot_rows reads only these columns).
            models.Index(
                fields=["doctor", "start"], condition=Q(is_active=True) & HAS_FREE_PLACE,
                include=["id", "end", "clinic", "duration_minutes", "capacity", "booked_count", "held_count",
                         "is_active"],
                name="scheduling_slot_free_idx",
            ),
        ]

    def __str__(self):
        local = timezone.localtime(self.start, self.clinic.tzinfo)
        return f"{self.doctor} · {local:%Y-%m-%d %H:%M} {self.clinic.timezone}"

    def _set_end(self) -> None:
        # In UTC: Python adds minutes to a datetime of a zone by wall time, so
        # 01:30 plus an hour on a day the clocks go back would last two.
        if self.start is not None and timezone.is_aware(self.start) and self.duration_minutes:
            self.start = self.start.astimezone(UTC)
            self.end = self.start + timedelta(minutes=self.duration_minutes)

    def save(self, *args, **kwargs):
        self._set_end()
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self._set_end()
        if self.capacity is not None and self.capacity < self.booked_count + self.held_count:
            held = f" and {self.held_count} held for the waitlist" if self.held_count else ""
            raise ValidationError({"capacity": f"{self.booked_count} places are already booked{held}."})

    @property
    def available_spots(self) -> int:
        return max(self.capacity - self.booked_count - self.held_count, 0)

    @property
    def is_full(self) -> bool:
        """No place left to book: every one booked or held for a waiting patient."""
        return self.booked_count + self.held_count >= self.capacity

    @property
    def is_past(self) -> bool:
        return self.start <= timezone.now()


class Appointment(TimeStampedModel):
    """One patient's place on a slot. Never deleted: cancelled ones stay as history.

    `start`/`end` are copied from the slot so the database can refuse two
    overlapping active appointments of one patient (PostgreSQL exclusion).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"

    # Statuses that can still be cancelled or moved (and may not overlap).
    ACTIVE_STATUSES = (Status.PENDING, Status.CONFIRMED)
    # Statuses that used a place on the slot and in the doctor's day: a
    # completed or no-show visit did too. booked_count counts these.
    PLACE_HOLDING_STATUSES = (Status.PENDING, Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW)
    # Which status may follow which, and who changes it: services/lifecycle.py.

    # Each foreign key leads a composite index below, so none needs its own.
    patient = models.ForeignKey(
        "accounts.Patient", on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    doctor = models.ForeignKey("clinics.Doctor", on_delete=models.PROTECT, related_name="appointments", db_index=False)
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="appointments", db_index=False)
    slot = models.ForeignKey(
        AppointmentSlot, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    start = models.DateTimeField(editable=False)
    end = models.DateTimeField(editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONFIRMED)
    reason_for_visit = models.TextField(blank=True, max_length=2000)
    # Two notes, because two readers: the clinical note stays with the doctor
    # and staff (the API gives a patient null), the other is written for the patient.
    notes = models.TextField(blank=True, max_length=5000, help_text="Clinical note: the doctor and staff only.")
    note_for_patient = models.TextField(blank=True, max_length=5000, help_text="Written for the patient to read.")
    booked_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.TextField(blank=True, max_length=2000, help_text="Shown to the patient.")
    cancelled_internal_note = models.TextField(
        blank=True, max_length=2000, help_text="Why it was cancelled, for the doctor and staff only."
    )
    cancelled_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # When the outcome (completed / no-show) was first recorded: it may be
    # corrected (completed <-> no_show) for 7 days after that (services/lifecycle.py).
    outcome_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The calendar invitation's SEQUENCE (RFC 5545 3.8.7.4): one more on every
    # change the patient's calendar must follow (confirmed, moved, cancelled),
    # so it updates the event instead of adding a second one.
    sequence = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "slot"], condition=Q(status__in=["pending", "confirmed"]),
                name="scheduling_appointment_one_active_per_patient_slot",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "confirmed", "cancelled", "completed", "no_show"]),
                name="scheduling_appointment_status_valid",
            ),
            models.CheckConstraint(
                condition=(Q(status="cancelled") & Q(cancelled_at__isnull=False))
                | (~Q(status="cancelled") & Q(cancelled_at__isnull=True)),
                name="scheduling_appointment_cancelled_at_iff_cancelled",
            ),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="scheduling_appointment_end_after_start"),
            PostgresExclusionConstraint(
                name="scheduling_appointment_no_patient_overlap",
                expressions=[("patient", RangeOperators.EQUAL), (TsTzRange("start", "end"), RangeOperators.OVERLAPS)],
                condition=Q(status__in=["pending", "confirmed"]),
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "start"], name="scheduling_appt_patient_idx"),
            models.Index(fields=["doctor", "start"], name="scheduling_appt_doctor_idx"),
            models.Index(fields=["clinic", "start"], name="scheduling_appt_clinic_idx"),
            models.Index(fields=["slot", "status"], name="scheduling_appt_slot_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def holds_place(self) -> bool:
        return self.status in self.PLACE_HOLDING_STATUSES

    @property
    def is_changeable(self) -> bool:
        """Whether the patient may still cancel or move it: active and not yet begun."""
        return self.is_active and self.start > timezone.now()


class AvailabilityRule(TimeStampedModel):
    """A doctor's weekly hours at a clinic, in the clinic's wall-clock time: every
    `weekday` from `start_time` to `end_time`, slots of `slot_minutes` for
    `capacity` patients each, none inside the optional break. Slots are made
    from rules by services/availability.py; changing or removing a rule leaves
    the slots already made as they are."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    doctor = models.ForeignKey("clinics.Doctor", on_delete=models.CASCADE, related_name="availability_rules")
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="availability_rules")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField(help_text="Clinic's local time.")
    end_time = models.TimeField(help_text="Clinic's local time; the last slot ends by then.")
    slot_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(MIN_SLOT_MINUTES), MaxValueValidator(MAX_SLOT_MINUTES)]
    )
    capacity = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(100)])
    break_start = models.TimeField(null=True, blank=True)
    break_end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["doctor", "weekday", "start_time", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="scheduling_rule_weekday_range"),
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="scheduling_rule_end_after_start"),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=MIN_SLOT_MINUTES, slot_minutes__lte=MAX_SLOT_MINUTES),
                name="scheduling_rule_slot_minutes_range",
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1, capacity__lte=100), name="scheduling_rule_capacity_range"),
            models.CheckConstraint(
                condition=Q(break_start__isnull=True, break_end__isnull=True)
                | Q(break_start__gte=F("start_time"), break_end__gt=F("break_start"), break_end__lte=F("end_time")),
                name="scheduling_rule_break_inside_hours",
            ),
        ]
        indexes = [models.Index(fields=["doctor", "weekday"], name="scheduling_rule_doctor_idx")]

    def __str__(self):
        hours = f"{self.start_time:%H:%M}–{self.end_time:%H:%M}"
        return f"{self.get_weekday_display()} {hours}, {self.slot_minutes} min"

    def clean(self):
        super().clean()
        errors = {}
        for name in ("start_time", "end_time", "break_start", "break_end"):
            value = getattr(self, name)
            if value is not None and (value.second or value.microsecond):
                errors[name] = "Give the time in hours and minutes."
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            errors["end_time"] = "The end must be after the start (on the same day)."
        if (self.break_start is None) != (self.break_end is None):
            errors["break_end" if self.break_end is None else "break_start"] = "Give both ends of the break, or neither."
        elif self.break_start and self.break_end and self.start_time and self.end_time:
            if self.break_end <= self.break_start:
                errors["break_end"] = "The break must end after it starts."
            elif self.break_start < self.start_time or self.break_end > self.end_time:
                errors["break_start"] = "The break must lie within the working hours."
        if errors:
            raise ValidationError(errors)

    @property
    def has_break(self) -> bool:
        return self.break_start is not None and self.break_end is not None


class Leave(TimeStampedModel):
    """Time a doctor is away, from `start` to `end` (whole days or part of one).
    No slot is made inside it, and the free slots inside it cannot be booked;
    appointments already inside it stay until someone cancels them."""

    doctor = models.ForeignKey("clinics.Doctor", on_delete=models.CASCADE, related_name="leaves")
    start = models.DateTimeField(help_text="Stored in UTC; shown in the clinic's time zone.")
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True, help_text="For staff and the doctor; patients do not see it.")
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="scheduling_leave_end_after_start"),
        ]
        indexes = [models.Index(fields=["doctor", "start", "end"], name="scheduling_leave_doctor_idx")]

    def __str__(self):
        tz = self.doctor.clinic.tzinfo
        start, end = timezone.localtime(self.start, tz), timezone.localtime(self.end, tz)
        return f"{self.doctor} away {start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M} {self.doctor.clinic.timezone}"


class IdempotencyKey(models.Model):
    """The stored answer to a request sent with an `Idempotency-Key` header, so a
    client's retry gets the first answer instead of doing the work twice.

    A row is inserted in the same transaction as the work it guards, so a
    concurrent request with the same key waits on the unique index until the
    first one commits (then replays its answer) or rolls back (then proceeds).
    The response columns are filled before that commit: no other transaction
    ever sees them empty. Rows older than the TTL in services/idempotency.py
    count as absent; `purge_idempotency_keys` deletes them.
    """

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the endpoint and the canonical JSON body.")
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="scheduling_idempotencykey_unique_user_key"),
        ]

    def __str__(self):
        return f"{self.key} ({self.user_id})"


class WaitlistEntry(TimeStampedModel):
    """A patient waiting for a place with a doctor on one of the clinic's local dates.

    Entries are offered a freed place in the order they joined (created_at,
    then id): an `offered` entry holds one place of `offered_slot` (its
    held_count) until `offered_until`; then it expires and the place goes to
    the next. services/waitlist.py is the only writer.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered"
        BOOKED = "booked", "Booked"
        EXPIRED = "expired", "Expired"
        LEFT = "left", "Left"

    # Still in the queue: one such entry per patient, doctor and date.
    OPEN_STATUSES = (Status.WAITING, Status.OFFERED)

    patient = models.ForeignKey("accounts.Patient", on_delete=models.CASCADE, related_name="waitlist_entries")
    doctor = models.ForeignKey("clinics.Doctor", on_delete=models.CASCADE, related_name="waitlist_entries",
                               db_index=False)
    date = models.DateField(help_text="The clinic's local date.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WAITING)
    offered_slot = models.ForeignKey(
        AppointmentSlot, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    offered_until = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The booking an accepted offer became.",
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "doctor", "date"], condition=Q(status__in=["waiting", "offered"]),
                name="scheduling_waitlist_one_open_per_patient_day",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "offered", "booked", "expired", "left"]),
                name="scheduling_waitlist_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(offered_slot__isnull=False, offered_until__isnull=False),
                name="scheduling_waitlist_offer_has_slot",
            ),
        ]
        indexes = [
            # The queue: the first waiting entry of a doctor's day.
            models.Index(fields=["doctor", "date", "status", "created_at"], name="scheduling_waitlist_queue_idx"),
            # Offers past their time (expire_waitlist_offers).
            models.Index(fields=["offered_until"], condition=Q(status="offered"), name="scheduling_waitlist_offer_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_status_display()} {self.date}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class TodayAppointment(Appointment):
    """Today's appointments (each clinic's own local day), for the staff
    dashboard in the admin. A proxy: no table of its own."""

    class Meta:
        proxy = True
        verbose_name = "today's appointment"
        verbose_name_plural = "today's appointments"


class Reminder(models.Model):
    """The record that a visit's reminder was queued (and, once `sent_at` is
    set, sent), so it goes out once however often `send_reminders` runs.

    One row per (appointment, start): a second command run, or a concurrent
    copy, inserts nothing; a visit moved to another time is due a new one.
    `batch` is the command run that last queued the row, so that run (and
    only it) enqueues the row's task: the rows a run inserted, or re-queued
    because their task was lost (`queued_at` an hour old, still unsent; at
    most REMINDER_MAX_QUEUES times in all, counted by `queue_count`). The
    task sets `sent_at` in the transaction that holds the row's lock while it
    sends (scheduling.notifications.reminder_send).
    """

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders",
                                    db_index=False)
    start = models.DateTimeField(help_text="The visit's start this reminder was made for.")
    sequence = models.PositiveIntegerField(help_text="The appointment's sequence when it was queued.")
    batch = models.UUIDField(editable=False, help_text="The send_reminders run that queued it.")
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(default=timezone.now)
    queue_count = models.PositiveSmallIntegerField(
        default=1, help_text="How many times its task was queued (send_reminders re-queues a lost one, a few times)."
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appointment", "start"], name="scheduling_reminder_unique_appt_start"),
        ]
        indexes = [models.Index(fields=["batch"], name="scheduling_reminder_batch_idx")]

    def __str__(self):
        return f"Reminder of #{self.appointment_id} for {self.start:%Y-%m-%d %H:%M} UTC"
