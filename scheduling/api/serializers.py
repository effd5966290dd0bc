"""Shapes of the slot, appointment and schedule API. Input serializers only
validate shape; the services decide and write (they alone touch booked_count
and status)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from clinics.models import Clinic, Doctor
from healthsvc.api.fields import (
    MAX_ID,
    AwareDateTimeField,
    IdRelatedField,
    IsoDateField,
    LocalDateTimeField,
    WallTimeField,
)
from healthsvc.api.serializers import InputSerializer
from healthsvc.forms import model_max_length
from scheduling import selectors
from scheduling.models import MAX_SLOT_MINUTES, MIN_SLOT_MINUTES, Appointment, Leave, WaitlistEntry
from scheduling.services.lifecycle import OUTCOME_STATUSES
from scheduling.services.slots import MAX_CAPACITY


class AtLeastOneFieldSchema(OpenApiSerializerExtension):
    """The document says what a `validate()` requiring one of the fields says:
    `anyOf` one `required` per field. Subclasses name their `target_class`."""

    target_class = None

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["anyOf"] = [{"required": [name]} for name in self.target.fields]
        return schema


def _at_least_one(attrs: dict, names: str) -> dict:
    if not attrs:
        raise serializers.ValidationError(f"Give {names}.")
    return attrs


# Who reads an appointment's clinical note and internal cancellation note (a
# patient gets null); `note_for_patient` and `cancelled_reason` are for everyone.
NOTE_READERS = frozenset({User.Role.DOCTOR, User.Role.ADMIN})


# --- slots ----------------------------------------------------------------------


class SlotOutputSerializer(serializers.Serializer):
    """A bookable time of one doctor at one clinic, holding up to `capacity` patients."""

    id = serializers.IntegerField(read_only=True)
    doctor_id = serializers.IntegerField(read_only=True)
    clinic_id = serializers.IntegerField(read_only=True)
    slot_datetime = serializers.DateTimeField(source="start", read_only=True, help_text="Start, in UTC.")
    duration_minutes = serializers.IntegerField(read_only=True)
    capacity = serializers.IntegerField(read_only=True)
    booked_count = serializers.IntegerField(read_only=True)
    is_booked = serializers.BooleanField(
        source="is_full", read_only=True,
        help_text="No place left: every one booked or held for a patient offered it from the waitlist.",
    )
    available_spots = serializers.IntegerField(read_only=True)
    is_active = serializers.BooleanField(read_only=True, help_text="false: closed; it cannot be booked.")
    slot_datetime_local = LocalDateTimeField(
        source="start", zone="clinic.tzinfo", help_text="The same start in the clinic's time zone, with its offset."
    )


def _utc_iso(value: datetime) -> str:
    """As DRF's DateTimeField writes an instant: ISO 8601 in UTC with "Z"."""
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def slot_row_data(row: dict) -> dict:
    """SlotOutputSerializer's answer, built straight from a slot_rows() dict: a
    list of 42 slots costs a seventh of the serializer's time (a test holds
    the two to the same output)."""
    start = row["start"]
    return {
        "id": row["id"], "doctor_id": row["doctor_id"], "clinic_id": row["clinic_id"],
        "slot_datetime": _utc_iso(start), "duration_minutes": row["duration_minutes"],
        "capacity": row["capacity"], "booked_count": row["booked_count"],
        "is_booked": row["booked_count"] + row["held_count"] >= row["capacity"],
        "available_spots": max(row["capacity"] - row["booked_count"] - row["held_count"], 0),
        "is_active": row["is_active"],
        "slot_datetime_local": start.astimezone(ZoneInfo(row["clinic__timezone"])).isoformat(),
    }


class SlotCreateInputSerializer(InputSerializer):
    """A new slot. `duration_minutes` 5..480 (default 30), `capacity` 1..100 (default 1)."""

    doctor_id = IdRelatedField(source="doctor", queryset=Doctor.objects.all())
    clinic_id = IdRelatedField(
        source="clinic", queryset=Clinic.objects.all(), required=False,
        help_text="Defaults to the doctor's clinic.",
    )
    slot_datetime = AwareDateTimeField(source="start", help_text="ISO 8601 with a UTC offset; in the future.")
    duration_minutes = serializers.IntegerField(min_value=MIN_SLOT_MINUTES, max_value=MAX_SLOT_MINUTES, default=30)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY, default=1)

    def validate_slot_datetime(self, value):
        try:  # the slot's end must be a representable time too
            value + timedelta(minutes=MAX_SLOT_MINUTES)
        except OverflowError:
            raise serializers.ValidationError("Datetime value out of range.") from None
        return value


class SlotUpdateInputSerializer(InputSerializer):
    """A slot's new capacity (never below its booked places), or closing or
    reopening it; at least one of the two."""

    capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY, required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="false closes the slot (refused while it holds active appointments); "
                                  "true reopens a closed one that has not begun.",
    )

    def validate(self, attrs):
        return _at_least_one(attrs, "capacity, is_active, or both")


class SlotUpdateInputSchema(AtLeastOneFieldSchema):
    target_class = SlotUpdateInputSerializer


# --- appointments ---------------------------------------------------------------


class AppointmentDoctorOutputSerializer(serializers.Serializer):
    """Who the visit is with: the doctor's public card."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)
    specialty = serializers.CharField(read_only=True)


class AppointmentClinicOutputSerializer(serializers.Serializer):
    """Where the visit is: the clinic's public address and its time zone."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    address = serializers.CharField(read_only=True)
    city = serializers.CharField(read_only=True)
    timezone = serializers.CharField(read_only=True, help_text="The clinic's IANA zone, e.g. Asia/Kolkata.")


class AppointmentOutputSerializer(serializers.Serializer):
    """One patient's place on a slot, with the doctor and the clinic it is
    with (the selectors and services load both with the appointment)."""

    id = serializers.IntegerField(read_only=True)
    patient_id = serializers.IntegerField(read_only=True)
    doctor_id = serializers.IntegerField(read_only=True)
    clinic_id = serializers.IntegerField(read_only=True)
    slot_id = serializers.IntegerField(read_only=True)
    slot_datetime = serializers.DateTimeField(source="start", read_only=True, help_text="Start, in UTC.")
    slot_datetime_local = LocalDateTimeField(
        source="start", zone="clinic.tzinfo", help_text="The same start in the clinic's time zone, with its offset."
    )
    status = serializers.ChoiceField(choices=Appointment.Status.choices, read_only=True)
    reason_for_visit = serializers.CharField(read_only=True)
    notes = serializers.SerializerMethodField(
        help_text="The doctor's clinical note: the doctor and staff see it, a patient gets null."
    )
    note_for_patient = serializers.CharField(read_only=True, help_text="Written by the doctor for the patient to read.")
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_reason = serializers.CharField(read_only=True, help_text="Why it was cancelled; shown to the patient.")
    cancelled_internal_note = serializers.SerializerMethodField(
        help_text="The cancel's internal_note: the doctor and staff see it, a patient gets null."
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    doctor = AppointmentDoctorOutputSerializer(read_only=True)
    clinic = AppointmentClinicOutputSerializer(read_only=True)

    def _for_note_readers(self, value: str) -> str | None:
        # Shown only when the caller (context["viewer"]) is a doctor or staff:
        # a serializer used without saying who asks shows nobody the notes.
        viewer = self.context.get("viewer")
        return value if viewer is not None and viewer.role in NOTE_READERS else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_notes(self, appointment) -> str | None:
        return self._for_note_readers(appointment.notes)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_cancelled_internal_note(self, appointment) -> str | None:
        return self._for_note_readers(appointment.cancelled_internal_note)


class AppointmentBookInputSerializer(InputSerializer):
    """The slot to book; the doctor and clinic come from the slot."""

    slot_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    reason_for_visit = serializers.CharField(required=False, allow_blank=True, default="",
                                             max_length=model_max_length(Appointment, "reason_for_visit"))
    patient_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False,
        help_text="Required when an admin books on behalf of a patient; a patient books for themselves.",
    )


class AppointmentCancelInputSerializer(InputSerializer):
    """Why the appointment is cancelled (optional): a reason for the patient,
    and an internal note for the doctor and staff (not from a patient)."""

    reason = serializers.CharField(required=False, allow_blank=True, default="", help_text="Shown to the patient.",
                                   max_length=model_max_length(Appointment, "cancelled_reason"))
    internal_note = serializers.CharField(
        required=False, allow_blank=True, max_length=model_max_length(Appointment, "cancelled_internal_note"),
        default="",
        help_text="Only the doctor and staff see it; a patient sending one gets 403.",
    )


class AppointmentDeclineInputSerializer(InputSerializer):
    """Why the pending booking is turned down; shown to the patient."""

    reason = serializers.CharField(max_length=model_max_length(Appointment, "cancelled_reason"),
                                   help_text="Shown to the patient.")


class AppointmentRescheduleInputSerializer(InputSerializer):
    """The slot to move the appointment to."""

    slot_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The slot to move to.")


@extend_schema_field({"type": "string", "enum": list(OUTCOME_STATUSES)})
class OutcomeStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=[(s.value, s.label) for s in OUTCOME_STATUSES], **kwargs)


class AppointmentOutcomeInputSerializer(InputSerializer):
    """How the visit went, the doctor's clinical note and the note for the
    patient; at least one of them."""

    status = OutcomeStatusField(required=False, help_text="completed or no_show, once the visit has started.")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=model_max_length(Appointment, "notes"),
                                  help_text="Clinical note: only the doctor and staff see it.")
    note_for_patient = serializers.CharField(required=False, allow_blank=True,
                                             max_length=model_max_length(Appointment, "note_for_patient"),
                                             help_text="The patient sees this.")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give a status, notes, a note for the patient, or more than one.")
        return attrs


class AppointmentOutcomeInputSchema(AtLeastOneFieldSchema):
    target_class = AppointmentOutcomeInputSerializer


# --- weekly availability rules ------------------------------------------------------


class AvailabilityRuleOutputSerializer(serializers.Serializer):
    """A doctor's weekly hours at a clinic, in the clinic's wall-clock time."""

    id = serializers.IntegerField(read_only=True)
    doctor_id = serializers.IntegerField(read_only=True)
    clinic_id = serializers.IntegerField(read_only=True)
    weekday = serializers.IntegerField(read_only=True, help_text="0 = Monday ... 6 = Sunday.")
    start_time = WallTimeField(read_only=True)
    end_time = WallTimeField(read_only=True, help_text="The last slot ends by then.")
    slot_minutes = serializers.IntegerField(read_only=True)
    capacity = serializers.IntegerField(read_only=True, help_text="Patients per slot.")
    break_start = WallTimeField(read_only=True, allow_null=True)
    break_end = WallTimeField(read_only=True, allow_null=True)
    timezone = serializers.CharField(source="clinic.timezone", read_only=True,
                                     help_text="The clinic's IANA zone the times are in.")


class AvailabilityRuleUpdateInputSerializer(InputSerializer):
    """Changes to a weekly rule; slots already made from it keep their times.
    Times are "HH:MM" in the clinic's zone; the end is after the start, and a
    break (both ends, or neither) lies within the hours."""

    clinic_id = IdRelatedField(
        source="clinic", queryset=Clinic.objects.all(), required=False,
        help_text="The doctor's clinic (the default); another clinic is a 400.",
    )
    weekday = serializers.IntegerField(min_value=0, max_value=6, required=False, help_text="0 = Monday ... 6 = Sunday.")
    start_time = WallTimeField(required=False)
    end_time = WallTimeField(required=False, help_text="After start_time, the same day; the last slot ends by then.")
    slot_minutes = serializers.IntegerField(min_value=MIN_SLOT_MINUTES, max_value=MAX_SLOT_MINUTES, required=False)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY, required=False,
                                        help_text="Patients per slot.")
    break_start = WallTimeField(required=False, allow_null=True, help_text="null: no break.")
    break_end = WallTimeField(required=False, allow_null=True, help_text="null: no break.")


class AvailabilityRuleCreateInputSerializer(AvailabilityRuleUpdateInputSerializer):
    """A new weekly rule. Times are "HH:MM" in the clinic's zone; the end is
    after the start, and a break (both ends, or neither) lies within the hours."""

    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 = Monday ... 6 = Sunday.")
    start_time = WallTimeField()
    end_time = WallTimeField(help_text="After start_time, the same day; the last slot ends by then.")
    slot_minutes = serializers.IntegerField(min_value=MIN_SLOT_MINUTES, max_value=MAX_SLOT_MINUTES, default=30)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_CAPACITY, default=1, help_text="Patients per slot.")


class SlotGenerationInputSerializer(InputSerializer):
    """Local dates of the clinic, both included: from today up to 366 days ahead."""

    date_from = IsoDateField(help_text="First local date (YYYY-MM-DD), today or later.")
    date_to = IsoDateField(help_text="Last local date, not before date_from, at most 366 days ahead.")


class SlotGenerationOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField(read_only=True, help_text="Slots made now.")
    skipped = serializers.IntegerField(
        read_only=True, help_text="Slot times not made: there already (open or closed), overlapping one, "
                                  "inside a leave, or past.",
    )


# --- leaves -------------------------------------------------------------------------


def _shown_in_any_zone(value: datetime) -> datetime:
    """An instant every clinic's calendar can show (a day either side fits in a datetime)."""
    try:
        value - timedelta(days=1)
        value + timedelta(days=1)
    except OverflowError:
        raise serializers.ValidationError("Datetime value out of range.") from None
    return value


class LeaveCreateInputSerializer(InputSerializer):
    """Time off: a whole day or part of one, up to 366 days, not over yet."""

    start = AwareDateTimeField(help_text="ISO 8601 with a UTC offset.")
    end = AwareDateTimeField(help_text="ISO 8601 with a UTC offset; after start and in the future.")
    reason = serializers.CharField(
        max_length=Leave._meta.get_field("reason").max_length, required=False, allow_blank=True, default="",
        help_text="For staff and the doctor; patients do not see it.",
    )

    def validate_start(self, value):
        return _shown_in_any_zone(value)

    def validate_end(self, value):
        return _shown_in_any_zone(value)


class LeaveOutputSerializer(serializers.Serializer):
    """Time a doctor is away: no slot is made or booked inside it."""

    id = serializers.IntegerField(read_only=True)
    doctor_id = serializers.IntegerField(read_only=True)
    start = serializers.DateTimeField(read_only=True, help_text="In UTC.")
    end = serializers.DateTimeField(read_only=True, help_text="In UTC.")
    start_local = LocalDateTimeField(source="start", zone="doctor.clinic.tzinfo",
                                     help_text="The start in the clinic's time zone, with its offset.")
    end_local = LocalDateTimeField(source="end", zone="doctor.clinic.tzinfo",
                                   help_text="The end in the clinic's time zone, with its offset.")
    reason = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class LeaveCreatedOutputSerializer(LeaveOutputSerializer):
    """The new leave, and the active appointments inside it: cancel them
    (POST /appointments/{id}/cancel, with a reason for the patient) or keep them."""

    appointments = serializers.SerializerMethodField(
        help_text="Active appointments inside the leave, earliest first."
    )

    @extend_schema_field(AppointmentOutputSerializer(many=True))
    def get_appointments(self, leave) -> list:
        return AppointmentOutputSerializer(selectors.leave_appointments(leave=leave), many=True,
                                           context=self.context).data


# --- a doctor's day -----------------------------------------------------------------


class DoctorScheduleQuerySerializer(InputSerializer):
    date = IsoDateField(required=False, help_text="A local date of the clinic (YYYY-MM-DD); default: today there.")


class DoctorScheduleOutputSerializer(serializers.Serializer):
    """One local day of a doctor: the appointments (every status) and the load."""

    date = serializers.DateField(read_only=True, help_text="The local date, in the clinic's zone.")
    timezone = serializers.CharField(source="doctor.clinic.timezone", read_only=True)
    booked = serializers.IntegerField(
        read_only=True, help_text="Places the day's appointments hold (completed and no-show visits too).",
    )
    max_patients_per_day = serializers.IntegerField(read_only=True)
    free_places = serializers.IntegerField(
        read_only=True, help_text="Places patients can still book that day: free places of bookable slots, "
                                  "capped by the daily maximum.",
    )
    appointments = AppointmentOutputSerializer(many=True, read_only=True)


# --- calendar feed ------------------------------------------------------------------


class CalendarFeedOutputSerializer(serializers.Serializer):
    url = serializers.URLField(
        read_only=True,
        help_text="The doctor's private iCalendar feed; shown this once (only a hash is kept). "
                  "The previous URL stops working.",
    )


# --- the waitlist -------------------------------------------------------------------


class WaitlistEntryOutputSerializer(serializers.Serializer):
    """A patient waiting for a place with a doctor on one of the clinic's local dates."""

    id = serializers.IntegerField(read_only=True)
    patient_id = serializers.IntegerField(read_only=True)
    doctor_id = serializers.IntegerField(read_only=True)
    date = serializers.DateField(read_only=True, help_text="The clinic's local date.")
    status = serializers.ChoiceField(choices=WaitlistEntry.Status.choices, read_only=True)
    offered_slot_id = serializers.IntegerField(read_only=True, allow_null=True,
                                               help_text="The slot whose place is held, while offered.")
    offered_until = serializers.DateTimeField(read_only=True, allow_null=True,
                                              help_text="In UTC: accept before then, or the place goes on.")
    created_at = serializers.DateTimeField(read_only=True)


class WaitlistJoinInputSerializer(InputSerializer):
    """The doctor and the clinic's local date to wait for (today or later)."""

    doctor_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    date = IsoDateField(help_text="The clinic's local date (YYYY-MM-DD), today or later, at most 366 days ahead.")
