"""Query parameters of the clinic and doctor lists.

The FilterSets parse and validate (a bad value is a 400 VALIDATION_ERROR via
DjangoFilterBackend); the selectors own the queries they apply.
"""

import math

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from clinics.models import Clinic, Doctor
from clinics.selectors import clinic_annotate_distance, clinic_filter, doctor_filter

# Half the Earth's circumference: no two points are farther apart, so a larger
# radius can only be a mistake.
MAX_RADIUS_KM = 20_016
MAX_ID = 2**63 - 1


class LatLngField(forms.Field):
    """``"lat,lng"`` in decimal degrees -> ``(lat, lng)`` floats, range-checked."""

    default_error_messages = {
        "invalid": "Give near as 'lat,lng' in decimal degrees, e.g. 18.5204,73.8567.",
        "latitude": "Latitude must be between -90 and 90.",
        "longitude": "Longitude must be between -180 and 180.",
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        parts = str(value).split(",")
        try:
            lat, lng = (float(part) for part in parts) if len(parts) == 2 else (math.nan, math.nan)
        except ValueError:
            lat = lng = math.nan
        if not (math.isfinite(lat) and math.isfinite(lng)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if not -90 <= lat <= 90:
            raise forms.ValidationError(self.error_messages["latitude"], code="latitude")
        if not -180 <= lng <= 180:
            raise forms.ValidationError(self.error_messages["longitude"], code="longitude")
        return lat, lng


@extend_schema_field(OpenApiTypes.STR)
class NearFilter(filters.Filter):
    field_class = LatLngField


@extend_schema_field(OpenApiTypes.DOUBLE)
class FloatFilter(filters.Filter):
    field_class = forms.FloatField


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(filters.Filter):
    field_class = forms.IntegerField


class ClinicListFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        if data.get("radius_km") is not None and not data.get("near"):
            self.add_error("radius_km", "radius_km needs near=lat,lng.")
        return data


class ClinicListFilterSet(filters.FilterSet):
    city = filters.CharFilter(label="City (exact, any case)")
    search = filters.CharFilter(label="Text in the name, city or address")
    near = NearFilter(label="lat,lng: only clinics with coordinates, nearest first, with distance_km")
    radius_km = FloatFilter(
        min_value=0, max_value=MAX_RADIUS_KM,
        label=f"With near: only clinics within this many km (0..{MAX_RADIUS_KM})",
    )

    class Meta:
        model = Clinic
        fields: list[str] = []
        form = ClinicListFilterForm

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        clinics = clinic_filter(queryset, city=data.get("city"), search=data.get("search"))
        if data.get("near"):
            lat, lng = data["near"]
            clinics = clinic_annotate_distance(clinics, lat=lat, lng=lng, radius_km=data.get("radius_km"))
        return clinics


class DoctorListFilterSet(filters.FilterSet):
    specialty = filters.CharFilter(label="Specialty (exact, any case)")
    clinic_id = IntegerFilter(min_value=1, max_value=MAX_ID, label="Clinic id")
    city = filters.CharFilter(label="The clinic's city (exact, any case)")
    search = filters.CharFilter(label="Text in the doctor's name, specialty or clinic name")

    class Meta:
        model = Doctor
        fields: list[str] = []

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return doctor_filter(
            queryset, specialty=data.get("specialty"), clinic_id=data.get("clinic_id"),
            city=data.get("city"), search=data.get("search"),
        )
