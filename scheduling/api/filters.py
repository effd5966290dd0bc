"""Query-string filters of the slot and appointment lists.

`date_from` / `date_to` take either an ISO date, read as that whole UTC day, or
an ISO 8601 datetime with its UTC offset (a naive datetime is a 400). A bound
beyond the calendar's ends (9999-12-31 as date_to covers up to year 10000)
reaches as far as a datetime can: it leaves nothing out, it is not an error.
"""

import re
from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field

from healthsvc.api.fields import MAX_ID
from healthsvc.api.filters import BooleanQueryField, ChoiceQueryField, IntegerQueryField
from scheduling.models import Appointment, AppointmentSlot
from scheduling.selectors import slot_list_bookable

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
        "empty": "Give a value, or leave the parameter out.",
    }

    def to_python(self, value) -> date | datetime | None:
        if value is None:
            return None
        if value == "":
            raise forms.ValidationError(self.error_messages["empty"], code="empty")
        text = _SPACE_FOR_PLUS.sub(r"\1+\2", str(value).strip())
        try:
            parsed = parse_date(text) if _DATE.fullmatch(text) else parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if isinstance(parsed, datetime) and timezone.is_naive(parsed):
            raise forms.ValidationError(self.error_messages["naive"], code="naive")
        return parsed


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def _in_utc(value: datetime) -> datetime:
    """`value` in UTC; an instant before or after what datetime can hold becomes its first or last."""
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:30 is in year 0 in UTC
        return _EARLIEST if value.year == 1 else _LATEST


def lower_bound(value: date | datetime | None) -> datetime | None:
    """The first moment `value` covers: a date's 00:00 UTC, or the datetime itself (in UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _in_utc(value)
    return datetime.combine(value, time.min, tzinfo=UTC)


def upper_bound(value: date | datetime | None) -> datetime | None:
    """The exclusive end `value` stands for: 00:00 UTC after a date, or the datetime itself
    (in UTC). The day after 9999-12-31 is past datetime's range: its last moment stands in."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _in_utc(value)
    if value == date.max:
        return _LATEST
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

    field_class = IntegerQueryField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class TrueFalseFilter(django_filters.BooleanFilter):
    """`true` or `false`, nothing else (django-filter reads an unknown word as "not given")."""

    field_class = BooleanQueryField


class StrictChoiceFilter(django_filters.Filter):
    """One of `choices`; present but empty is a 400, not "no filter"."""

    field_class = ChoiceQueryField


# What each kind of filter is, in the OpenAPI document (drf-spectacular cannot
# infer these filters' types).
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# A date (that whole UTC day) or an RFC 3339 datetime, which always carries its offset.
WHEN_SCHEMA = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}


def _documented(filter_: django_filters.Filter, schema: dict) -> django_filters.Filter:
    """Tell the OpenAPI document the filter's schema and show its help text (an
    override per instance)."""
    return extend_schema_field({**schema, "description": filter_.extra["help_text"]})(filter_)


class SlotFilterSet(django_filters.FilterSet):
    """Parses the slot list's query string; `slot_list_bookable` builds the query."""

    doctor_id = _documented(IdFilter(help_text="Only this doctor's slots."), ID_SCHEMA)
    clinic_id = _documented(IdFilter(help_text="Only slots at this clinic."), ID_SCHEMA)
    specialty = django_filters.CharFilter(help_text="The doctor's specialty, exact match in any case.")
    date_from = _documented(StartsFromFilter(help_text=DATE_FROM_HELP), WHEN_SCHEMA)
    date_to = _documented(StartsBeforeFilter(help_text=DATE_TO_HELP), WHEN_SCHEMA)
    available = _documented(
        TrueFalseFilter(help_text="true (default): only slots with a free place; false: full slots too."),
        {"type": "boolean"},
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

    status = _documented(
        StrictChoiceFilter(choices=Appointment.Status.choices, help_text="Only this status."),
        {"type": "string", "enum": Appointment.Status.values},
    )
    date_from = _documented(StartsFromFilter(help_text=DATE_FROM_HELP.replace("Slots", "Appointments")), WHEN_SCHEMA)
    date_to = _documented(StartsBeforeFilter(help_text=DATE_TO_HELP.replace("Slots", "Appointments")), WHEN_SCHEMA)
    doctor_id = _documented(IdFilter(help_text="Only this doctor's appointments."), ID_SCHEMA)
    patient_id = _documented(IdFilter(help_text="Only this patient's appointments."), ID_SCHEMA)

    class Meta:
        model = Appointment
        fields: list[str] = []
