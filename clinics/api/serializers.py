"""Shapes of the clinics and doctors API (contract: shared/docs/API.md).

Input serializers validate shape only; the services decide. Names are unique
at module level, because drf-spectacular names schema components after them.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from accounts.models import User
from clinics.models import (
    MAX_ACTIVE_BOOKINGS,
    MAX_CANCELLATION_WINDOW_MINUTES,
    MAX_HORIZON_DAYS,
    MAX_NOTICE_MINUTES,
    Clinic,
    Doctor,
    validate_timezone,
)
from healthsvc.api.fields import MAX_ID
from healthsvc.api.serializers import InputSerializer
from healthsvc.forms import model_max_length

POLICY_FIELDS = ["min_notice_minutes", "booking_horizon_days", "cancellation_window_minutes",
                 "max_active_bookings_per_patient"]


class CoordinateField(serializers.FloatField):
    """Decimal degrees in and out as a JSON number; stored to 6 places (~0.1 m)."""

    def to_internal_value(self, data):
        return Decimal(str(round(super().to_internal_value(data), 6)))


# --- Clinics -----------------------------------------------------------------


class TimeZoneField(serializers.CharField):
    """A canonical IANA zone name of the shipped list (healthsvc/data/timezones.txt,
    healthsvc.timezones): not the host's `localtime`, nor an alias such as
    Asia/Calcutta (whose refusal names the zone to use). A plain string in the
    OpenAPI document, not an enum of some 350 names a client would have to ship."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", Clinic._meta.get_field("timezone").max_length)
        kwargs.setdefault("trim_whitespace", False)  # "Asia/Kolkata " is no zone name
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            validate_timezone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return value


class ClinicOutputSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(allow_blank=True, read_only=True, help_text='"" when the clinic has none.')
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)

    class Meta:
        model = Clinic
        fields = [
            "id", "name", "address", "phone", "email", "city", "state", "zip_code", "timezone",
            "latitude", "longitude", "is_active", *POLICY_FIELDS,
        ]
        read_only_fields = fields


class ClinicNearOutputSerializer(ClinicOutputSerializer):
    """A clinic in the list; with `?near=` it also has `distance_km`."""

    distance_km = serializers.SerializerMethodField(
        help_text="Great-circle distance from `near`, in km; only when the list was asked with `near`."
    )

    class Meta(ClinicOutputSerializer.Meta):
        fields = [*ClinicOutputSerializer.Meta.fields, "distance_km"]
        read_only_fields = fields

    def get_distance_km(self, clinic) -> float:
        return round(clinic.distance_km, 3)


class ClinicInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=model_max_length(Clinic, "name"))
    address = serializers.CharField(max_length=model_max_length(Clinic, "address"))
    city = serializers.CharField(max_length=model_max_length(Clinic, "city"))
    state = serializers.CharField(max_length=model_max_length(Clinic, "state"), required=False, allow_blank=True)
    zip_code = serializers.CharField(max_length=model_max_length(Clinic, "zip_code"), required=False,
                                     allow_blank=True)
    phone = serializers.CharField(max_length=model_max_length(Clinic, "phone"), required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    timezone = TimeZoneField(
        required=False,
        help_text=(
            "Canonical IANA time zone name, e.g. `Asia/Kolkata` (default `UTC`); slots display in it. The names "
            "accepted are the `Zone` entries of the IANA time zone database release 2026f (tzdata 2026.6), plus "
            "`UTC`: the list ships with the server as healthsvc/data/timezones.txt. Aliases (`Asia/Calcutta`, "
            "`US/Eastern`) and host names such as `localtime` are refused with 400 VALIDATION_ERROR, the message "
            "naming the canonical zone where there is one."
        ),
    )
    latitude = CoordinateField(min_value=-90, max_value=90, required=False, allow_null=True)
    longitude = CoordinateField(min_value=-180, max_value=180, required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    # The booking policy its patients meet; null: the server's default.
    min_notice_minutes = serializers.IntegerField(
        min_value=0, max_value=MAX_NOTICE_MINUTES, required=False, allow_null=True,
        help_text="No booking less than this many minutes ahead. null: the server's default.",
    )
    booking_horizon_days = serializers.IntegerField(
        min_value=1, max_value=MAX_HORIZON_DAYS, required=False, allow_null=True,
        help_text="No booking more than this many days ahead. null: the server's default.",
    )
    cancellation_window_minutes = serializers.IntegerField(
        min_value=0, max_value=MAX_CANCELLATION_WINDOW_MINUTES, required=False, allow_null=True,
        help_text="Patients cannot cancel or move a visit less than this many minutes before it (staff and "
                  "the doctor can). null: the server's default.",
    )
    max_active_bookings_per_patient = serializers.IntegerField(
        min_value=1, max_value=MAX_ACTIVE_BOOKINGS, required=False, allow_null=True,
        help_text="How many future visits at this clinic one patient may hold. null: the server's default.",
    )


class ClinicNearOutputSchema(OpenApiSerializerExtension):
    """The clinic list answers ClinicNearOutput items with `?near=` and
    ClinicOutput items without it: `distance_km` is documented, not required."""

    target_class = ClinicNearOutputSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["required"] = [name for name in schema.get("required", []) if name != "distance_km"]
        return schema


# --- Doctors -----------------------------------------------------------------


class DoctorOutputSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField(source="user.name")
    email = serializers.EmailField(source="user.email")
    clinic_id = serializers.IntegerField()

    class Meta:
        model = Doctor
        fields = [
            "id", "user_id", "name", "email", "specialty", "license_number", "qualifications",
            "experience_years", "max_patients_per_day", "clinic_id", "is_active", "requires_approval",
        ]
        read_only_fields = fields


class DoctorProfileInputSerializer(InputSerializer):
    # A doctor's profile as an admin creates it, for a new login or an existing one.
    specialty = serializers.CharField(max_length=model_max_length(Doctor, "specialty"))
    license_number = serializers.CharField(max_length=model_max_length(Doctor, "license_number"))
    qualifications = serializers.CharField(required=False, allow_blank=True)
    experience_years = serializers.IntegerField(min_value=0, max_value=80, required=False)
    max_patients_per_day = serializers.IntegerField(min_value=1, max_value=500, required=False)
    clinic_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class DoctorCreateInputSerializer(DoctorProfileInputSerializer):
    """A new doctor with their login."""

    name = serializers.CharField(max_length=model_max_length(User, "name"))
    email = serializers.EmailField(max_length=model_max_length(User, "email"))
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)


class DoctorProfileCreateInputSerializer(DoctorProfileInputSerializer):
    """A Doctor profile for an existing self-registered doctor account, which it also verifies."""

    user_id = serializers.IntegerField(min_value=1, max_value=MAX_ID,
                                       help_text="The self-registered doctor account (role `doctor`).")


class DoctorUpdateInputSerializer(InputSerializer):
    """What an admin may change (PUT needs the first four)."""

    name = serializers.CharField(max_length=model_max_length(User, "name"))
    specialty = serializers.CharField(max_length=model_max_length(Doctor, "specialty"))
    license_number = serializers.CharField(max_length=model_max_length(Doctor, "license_number"))
    clinic_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    qualifications = serializers.CharField(required=False, allow_blank=True)
    experience_years = serializers.IntegerField(min_value=0, max_value=80, required=False)
    max_patients_per_day = serializers.IntegerField(min_value=1, max_value=500, required=False)
    is_active = serializers.BooleanField(required=False)
    requires_approval = serializers.BooleanField(
        required=False, help_text="New bookings start pending until the doctor or staff confirm them.",
    )


class DoctorSelfUpdateInputSerializer(InputSerializer):
    """What a doctor may change on their own profile (PUT needs both)."""

    qualifications = serializers.CharField(allow_blank=True)
    experience_years = serializers.IntegerField(min_value=0, max_value=80)
