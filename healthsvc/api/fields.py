import re
from datetime import date, datetime, time
from operator import attrgetter

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_ID = 2**63 - 1  # bigint / SQLite INTEGER

# "HH:MM", 24-hour: the OpenAPI pattern and the parser are the same expression.
WALL_TIME_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
_WALL_TIME = re.compile(WALL_TIME_PATTERN[1:-1])
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime that must carry its UTC offset; output in UTC with Z."""

    default_error_messages = {"naive": "Give the time with a UTC offset (e.g. 2030-03-01T10:00:00+05:30 or Z)."}

    def enforce_timezone(self, value):
        if timezone.is_naive(value) and getattr(self, "_parsing", False):
            self.fail("naive")
        return super().enforce_timezone(value)

    def to_internal_value(self, data):
        self._parsing = True
        try:
            return super().to_internal_value(data)
        finally:
            self._parsing = False


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """The integer id of an existing row, from 1 to the bigint maximum, as the
    OpenAPI document says (ApiAutoSchema); anything else is a 400."""

    default_error_messages = {"range": f"Ids are whole numbers from 1 to {MAX_ID}."}

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool) and not 1 <= data <= MAX_ID:
            self.fail("range")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "pattern": WALL_TIME_PATTERN, "example": "09:30"})
class WallTimeField(serializers.Field):
    """A wall-clock time of day as "HH:MM" (24-hour), in and out. Seconds are
    refused rather than dropped: a schedule counts in whole minutes."""

    default_error_messages = {"invalid": "Give the time as HH:MM, 24-hour (e.g. 09:30)."}

    def to_internal_value(self, data) -> time:
        if not isinstance(data, str) or not _WALL_TIME.fullmatch(data):
            self.fail("invalid")
        return time(int(data[:2]), int(data[3:]))

    def to_representation(self, value: time) -> str:
        return value.strftime("%H:%M")


class IsoDateField(serializers.DateField):
    """A calendar date as YYYY-MM-DD only (Python also reads 20300301 and
    2030-W09-5 as dates; the OpenAPI `date` format does not). The first and the
    last day of the calendar are refused: not every zone has them whole."""

    default_error_messages = {
        "shape": "Give the date as YYYY-MM-DD.",
        "range": "The date is out of range.",
    }

    def to_internal_value(self, value) -> date:
        if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
            self.fail("shape")
        day = super().to_internal_value(value)
        if not date.min < day < date.max:
            self.fail("range")
        return day


@extend_schema_field(OpenApiTypes.DATETIME)
class LocalDateTimeField(serializers.Field):
    """An instant (read-only) in the wall-clock time of a zone the object names,
    with that zone's UTC offset: `2030-03-01T10:00:00+05:30`. `zone` is the
    attribute path of the tzinfo on the object, e.g. "clinic.tzinfo"."""

    def __init__(self, *, zone: str, **kwargs):
        self.zone = attrgetter(zone)
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        return None if value is None else value.astimezone(self.zone(instance))

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()
