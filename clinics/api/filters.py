"""Query parameters of the clinic and doctor lists.

The FilterSets parse and validate (a bad value is a 400 VALIDATION_ERROR via
DjangoFilterBackend); the selectors own the queries they apply.
"""

import re

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from clinics.models import Clinic, Doctor
from clinics.selectors import clinic_annotate_distance, clinic_filter, doctor_filter
from healthsvc.api.fields import MAX_ID
from healthsvc.api.filters import IntegerQueryField, NumberQueryField

# Half the Earth's circumference: no two points are farther apart, so a larger
# radius can only be a mistake.
MAX_RADIUS_KM = 20_016

# `near` is "lat,lng" in decimal degrees, each within its range, spaces allowed
# around either. The OpenAPI document publishes NEAR_PATTERN and LatLngField
# applies the same expressions, so the two cannot disagree.
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_LATITUDE = r"[+-]?(?:90(?:\.0*)?|[1-8]?[0-9](?:\.[0-9]*)?|\.[0-9]+)"
_LONGITUDE = r"[+-]?(?:180(?:\.0*)?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]*)?|\.[0-9]+)"
_SHAPE = re.compile(rf" *({_NUMBER}) *, *({_NUMBER}) *")
NEAR_PATTERN = rf"^ *{_LATITUDE} *, *{_LONGITUDE} *$"


class LatLngField(forms.Field):
    """``"lat,lng"`` in decimal degrees -> ``(lat, lng)`` floats, range-checked."""

    default_error_messages = {
        "invalid": "Give near as 'lat,lng' in decimal degrees, e.g. 18.5204,73.8567.",
        "latitude": "Latitude must be between -90 and 90.",
        "longitude": "Longitude must be between -180 and 180.",
        "empty": "Give a value, or leave the parameter out.",
    }

    def to_python(self, value):
        if value is None:
            return None
        if value == "":
            raise forms.ValidationError(self.error_messages["empty"], code="empty")
        shape = _SHAPE.fullmatch(str(value))
        if shape is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        lat, lng = shape.groups()
        if not re.fullmatch(_LATITUDE, lat):
            raise forms.ValidationError(self.error_messages["latitude"], code="latitude")
        if not re.fullmatch(_LONGITUDE, lng):
            raise forms.ValidationError(self.error_messages["longitude"], code="longitude")
        return float(lat), float(lng)


@extend_schema_field({"type": "string", "pattern": NEAR_PATTERN})
class NearFilter(filters.Filter):
    field_class = LatLngField


@extend_schema_field({"type": "number", "minimum": 0, "maximum": MAX_RADIUS_KM})
class RadiusFilter(filters.Filter):
    field_class = NumberQueryField


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.Filter):
    field_class = IntegerQueryField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class ClinicListFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        if data.get("radius_km") is not None and not data.get("near"):
            self.add_error("radius_km", "radius_km needs near=lat,lng.")
        return data


class ClinicListFilterSet(filters.FilterSet):
    city = filters.CharFilter(label="City (exact, any case)")
    search = filters.CharFilter(
        label="Free text: words in the name, city or address; a specialty or its everyday word "
              "('skin doctor') finds the clinics with such a doctor. Typos tolerated on PostgreSQL."
    )
    near = NearFilter(label="lat,lng: only clinics with coordinates, nearest first, with distance_km")
    radius_km = RadiusFilter(
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
    clinic_id = IdFilter(label="Clinic id")
    city = filters.CharFilter(label="The clinic's city (exact, any case)")
    search = filters.CharFilter(
        label="Free text as a patient says it: a name with or without 'Dr', a specialty or its everyday "
              "word ('cardiologist', 'skin doctor'), a clinic or a city ('skin doctor London'); each part "
              "narrows. Accents ignored; typos tolerated on PostgreSQL."
    )

    class Meta:
        model = Doctor
        fields: list[str] = []

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return doctor_filter(
            queryset, specialty=data.get("specialty"), clinic_id=data.get("clinic_id"),
            city=data.get("city"), search=data.get("search"),
        )
