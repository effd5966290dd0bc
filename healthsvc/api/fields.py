from django.utils import timezone
from rest_framework import serializers

MAX_ID = 2**63 - 1  # bigint / SQLite INTEGER


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime that must carry its UTC offset; output in UTC with Z."""

    default_error_messages = {"naive": "Give the time with a UTC offset (e.g. 2030-03-01T10:00:00+05:30 or Z)."}

    def enforce_timezone(self, value):
        if timezone.is_naive(value) and getattr(self, "_parsing", False):
            self.fail("naive")
        return super().enforce_timezone(value)

    def to_internal_value(self, value):
        self._parsing = True
        try:
            return super().to_internal_value(value)
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
