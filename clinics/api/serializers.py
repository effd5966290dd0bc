"""Shapes of the clinics and doctors API (contract: shared/docs/API.md).

Input serializers validate shape only; the services decide. Names are unique
at module level, because drf-spectacular names schema components after them.
"""

import zoneinfo
from decimal import Decimal

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from clinics.models import Clinic, Doctor
from healthsvc.api.fields import MAX_ID
from healthsvc.api.serializers import InputSerializer


class CoordinateField(serializers.FloatField):
    """Decimal degrees in and out as a JSON number; stored to 6 places (~0.1 m)."""

    def to_internal_value(self, data):
        return Decimal(str(round(super().to_internal_value(data), 6)))


# --- Clinics -----------------------------------------------------------------


class ClinicOutputSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(allow_blank=True, read_only=True, help_text='"" when the clinic has none.')
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)

    class Meta:
        model = Clinic
        fields = [
            "id", "name", "address", "phone", "email", "city", "state", "zip_code", "timezone",
            "latitude", "longitude", "is_active",
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
    name = serializers.CharField(max_length=200)
    address = serializers.CharField(max_length=300)
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=100, required=False, allow_blank=True)
    zip_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    timezone = serializers.ChoiceField(
        choices=sorted(zoneinfo.available_timezones()), required=False,
        help_text="IANA time zone name, e.g. Asia/Kolkata (default UTC). Slots display in it.",
    )
    latitude = CoordinateField(min_value=-90, max_value=90, required=False, allow_null=True)
    longitude = CoordinateField(min_value=-180, max_value=180, required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)


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
            "experience_years", "max_patients_per_day", "clinic_id", "is_active",
        ]
        read_only_fields = fields


class DoctorCreateInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)
    specialty = serializers.CharField(max_length=100)
    license_number = serializers.CharField(max_length=64)
    qualifications = serializers.CharField(required=False, allow_blank=True)
    experience_years = serializers.IntegerField(min_value=0, max_value=80, required=False)
    max_patients_per_day = serializers.IntegerField(min_value=1, max_value=500, required=False)
    clinic_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class DoctorUpdateInputSerializer(InputSerializer):
    """What an admin may change (PUT needs the first four)."""

    name = serializers.CharField(max_length=150)
    specialty = serializers.CharField(max_length=100)
    license_number = serializers.CharField(max_length=64)
    clinic_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    qualifications = serializers.CharField(required=False, allow_blank=True)
    experience_years = serializers.IntegerField(min_value=0, max_value=80, required=False)
    max_patients_per_day = serializers.IntegerField(min_value=1, max_value=500, required=False)
    is_active = serializers.BooleanField(required=False)


class DoctorSelfUpdateInputSerializer(InputSerializer):
    """What a doctor may change on their own profile (PUT needs both)."""

    qualifications = serializers.CharField(allow_blank=True)
    experience_years = serializers.IntegerField(min_value=0, max_value=80)
