"""Shapes of the slot and appointment API. Input serializers only validate
shape; the services decide and write (they alone touch booked_count and status)."""

from datetime import timedelta

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinics.models import Clinic, Doctor
from healthsvc.api.fields import MAX_ID, AwareDateTimeField, IdRelatedField
from healthsvc.api.serializers import InputSerializer
from scheduling.models import MAX_SLOT_MINUTES, MIN_SLOT_MINUTES, Appointment
from scheduling.services.lifecycle import OUTCOME_STATUSES
from scheduling.services.slots import MAX_CAPACITY


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
    is_booked = serializers.BooleanField(source="is_full", read_only=True, help_text="booked_count >= capacity")
    available_spots = serializers.IntegerField(read_only=True)


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


# --- appointments ---------------------------------------------------------------


class AppointmentOutputSerializer(serializers.Serializer):
    """One patient's place on a slot."""

    id = serializers.IntegerField(read_only=True)
    patient_id = serializers.IntegerField(read_only=True)
    doctor_id = serializers.IntegerField(read_only=True)
    clinic_id = serializers.IntegerField(read_only=True)
    slot_id = serializers.IntegerField(read_only=True)
    slot_datetime = serializers.DateTimeField(source="start", read_only=True, help_text="Start, in UTC.")
    status = serializers.ChoiceField(choices=Appointment.Status.choices, read_only=True)
    reason_for_visit = serializers.CharField(read_only=True)
    notes = serializers.CharField(read_only=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_reason = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class AppointmentBookInputSerializer(InputSerializer):
    """The slot to book; the doctor and clinic come from the slot."""

    slot_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    reason_for_visit = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    patient_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False,
        help_text="Required when an admin books on behalf of a patient; a patient books for themselves.",
    )


class AppointmentCancelInputSerializer(InputSerializer):
    """Why the appointment is cancelled (optional)."""

    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class AppointmentRescheduleInputSerializer(InputSerializer):
    """The slot to move the appointment to."""

    slot_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The slot to move to.")


@extend_schema_field({"type": "string", "enum": list(OUTCOME_STATUSES)})
class OutcomeStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=[(s.value, s.label) for s in OUTCOME_STATUSES], **kwargs)


class AppointmentOutcomeInputSerializer(InputSerializer):
    """How the visit went and the doctor's notes; at least one of the two."""

    status = OutcomeStatusField(required=False, help_text="completed or no_show, once the visit has started.")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give a status, notes, or both.")
        return attrs


class AppointmentOutcomeInputSchema(OpenApiSerializerExtension):
    """The document says what validate() says: at least one of the two."""

    target_class = AppointmentOutcomeInputSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["anyOf"] = [{"required": ["status"]}, {"required": ["notes"]}]
        return schema
