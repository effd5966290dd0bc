"""Query-string filters of the slot and appointment lists.

`date_from` / `date_to` take either an ISO date, read as that whole UTC day, or
an ISO 8601 datetime with its UTC offset (a naive datetime is a 400).
"""

import re
from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field

from scheduling.models import Appointment, AppointmentSlot
from scheduling.selectors import slot_list_bookable

MAX_ID = 2**63 - 1  # bigint / SQLite INTEGER

DATE_FROM_HELP = (
    "Slots starting at or after this moment: an ISO date (YYYY-MM-DD, from 00:00 UTC that day) "
    "or a datetime with a UTC offset (2030-03-01T10:00:00+05:30 or ...Z; URL-encode '+' as %2B)."
)
DATE_TO_HELP = (
    "Slots starting before this moment: an ISO date (YYYY-MM-DD, that whole UTC day included) "
    "or a datetime with a UTC offset (exclusive)."
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# An unencoded "+" in a query string arrives as a space: "...T10:00:00 05:30".
_SPACE_FOR_PLUS = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


class DateOrAwareDateTimeField(forms.Field):
    """An ISO date or an ISO 8601 datetime carrying its UTC offset."""

    default_error_messages = {
        "invalid": "Give a date (YYYY-MM-DD) or a datetime with a UTC offset (2030-03-01T10:00:00+05:30 or Z).",
        "naive": "Give the time with a UTC offset (e.g. 2030-03-01T10:00:00+05:30 or Z).",
        "range": "Date out of range.",
    }

    def to_python(self, value) -> date | datetime | None:
        if value in self.empty_values:
            return None
        text = _SPACE_FOR_PLUS.sub(r"\1+\2", str(value).strip())
        try:
            parsed = parse_date(text) if _DATE.fullmatch(text) else parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if isinstance(parsed, datetime) and timezone.is_naive(parsed):
            raise forms.ValidationError(self.error_messages["naive"], code="naive")
        try:  # year 1 or 9999 at the edge of the range: refuse rather than crash later
            upper_bound(parsed).astimezone(UTC)
            lower_bound(parsed).astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["range"], code="range") from None
        return parsed


def lower_bound(value: date | datetime | None) -> datetime | None:
    """The first moment `value` covers: a date's 00:00 UTC, or the datetime itself."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=UTC)


def upper_bound(value: date | datetime | None) -> datetime | None:
    """The exclusive end `value` stands for: 00:00 UTC after a date, or the datetime itself."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC)


class StartsFromFilter(django_filters.Filter):
    field_class = DateOrAwareDateTimeField

    def filter(self, qs, value):
        return qs if value is None else qs.filter(start__gte=lower_bound(value))


class StartsBeforeFilter(django_filters.Filter):
    field_class = DateOrAwareDateTimeField

    def filter(self, qs, value):
        return qs if value is None else qs.filter(start__lt=upper_bound(value))


class IdFilter(django_filters.NumberFilter):
    """A positive integer id; beyond the database's range is a 400, not a crash."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def _documented(filter_: django_filters.Filter, schema_type: str) -> django_filters.Filter:
    """Tell the OpenAPI document the filter's type and show its help text (an
    override per instance; drf-spectacular cannot infer these filters' types)."""
    return extend_schema_field({"type": schema_type, "description": filter_.extra["help_text"]})(filter_)


class SlotFilterSet(django_filters.FilterSet):
    """Parses the slot list's query string; `slot_list_bookable` builds the query."""

    doctor_id = _documented(IdFilter(help_text="Only this doctor's slots."), "integer")
    clinic_id = _documented(IdFilter(help_text="Only slots at this clinic."), "integer")
    specialty = django_filters.CharFilter(help_text="The doctor's specialty, exact match in any case.")
    date_from = _documented(StartsFromFilter(help_text=DATE_FROM_HELP), "string")
    date_to = _documented(StartsBeforeFilter(help_text=DATE_TO_HELP), "string")
    available = django_filters.BooleanFilter(
        help_text="true (default): only slots with a free place; false: full slots too."
    )

    class Meta:
        model = AppointmentSlot
        fields: list[str] = []

    def filter_queryset(self, queryset):
        # The selector owns the query (scope, joins, order); the incoming
        # queryset is its unfiltered default and is replaced, not narrowed.
        data = self.form.cleaned_data
        available = data.get("available")
        return slot_list_bookable(
            doctor_id=data.get("doctor_id"),
            clinic_id=data.get("clinic_id"),
            specialty=(data.get("specialty") or "").strip() or None,
            start=lower_bound(data.get("date_from")),
            end=upper_bound(data.get("date_to")),
            available=True if available is None else available,
        )


class AppointmentFilterSet(django_filters.FilterSet):
    """Narrows the appointments the caller may see (appointment_list_for_user)."""

    status = django_filters.ChoiceFilter(choices=Appointment.Status.choices, help_text="Only this status.")
    date_from = _documented(StartsFromFilter(help_text=DATE_FROM_HELP.replace("Slots", "Appointments")), "string")
    date_to = _documented(StartsBeforeFilter(help_text=DATE_TO_HELP.replace("Slots", "Appointments")), "string")
    doctor_id = _documented(IdFilter(help_text="Only this doctor's appointments."), "integer")
    patient_id = _documented(IdFilter(help_text="Only this patient's appointments."), "integer")

    class Meta:
        model = Appointment
        fields: list[str] = []
