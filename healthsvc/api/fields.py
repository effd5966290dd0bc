from django.utils import timezone
from rest_framework import serializers


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
