from collections.abc import Mapping

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

# What a JSON value must be for each kind of input field. DRF on its own
# coerces: 5 into "5" for a CharField, "5" and 5.0 into 5 for an IntegerField,
# "yes" into True for a BooleanField. The API contract and the OpenAPI document
# say "string", "integer", "boolean", so a value of another JSON type is a 400.
_JSON_TYPES = [
    (serializers.BooleanField, (bool,), "Must be a valid boolean."),
    (serializers.IntegerField, (int,), "A valid integer is required."),
    (serializers.PrimaryKeyRelatedField, (int,), "A valid integer is required."),
    (serializers.FloatField, (int, float), "A valid number is required."),
    (serializers.DecimalField, (int, float), "A valid number is required."),
    (serializers.CharField, (str,), "Not a valid string."),
    (serializers.ChoiceField, (str,), "Not a valid string."),
    (serializers.DateField, (str,), "Not a valid string."),
    (serializers.DateTimeField, (str,), "Not a valid string."),
    (serializers.TimeField, (str,), "Not a valid string."),
]


def _json_type_error(field: serializers.Field, value) -> str | None:
    for field_class, types, message in _JSON_TYPES:
        if isinstance(field, field_class):
            if isinstance(value, bool) and bool not in types:
                return message  # True is an int to Python, not to JSON
            return None if isinstance(value, types) else message
    return None


class InputSerializer(serializers.Serializer):
    # The base of every request-body serializer: JSON types are checked as the
    # OpenAPI document states them (see _JSON_TYPES), and a string's max_length
    # counts the characters sent, before DRF trims surrounding whitespace.
    # (A comment, not a docstring: drf-spectacular would show it on every subclass.)

    @classmethod
    def validated(cls, data, **kwargs) -> dict:
        """The validated data as a plain dict; raises DRF's ValidationError (a 400)."""
        serializer = cls(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            for field in self._writable_fields:
                value = data.get(field.field_name)
                if value is None:
                    continue  # absent, or null: the field's own required / allow_null rules answer
                message = _json_type_error(field, value)
                max_length = getattr(field, "max_length", None)
                if message is None and isinstance(value, str) and max_length and len(value) > max_length:
                    message = f"Ensure this field has no more than {max_length} characters."
                if message:
                    errors[field.field_name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class ErrorSerializer(serializers.Serializer):
    """The error envelope of every 4xx/5xx answer."""

    detail = serializers.CharField()
    error_code = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


ERROR_TEXT = {
    400: "Invalid input (VALIDATION_ERROR)",
    401: "Not authenticated or token invalid (NOT_AUTHENTICATED, TOKEN_INVALID)",
    403: "Not allowed for this role or owner (PERMISSION_DENIED)",
    404: "Not found, or not yours (NOT_FOUND)",
    409: "Refused by the booking rules",
    412: "If-Match names a version the resource no longer has; nothing was written (PRECONDITION_FAILED)",
    413: "Request body over the limit (PAYLOAD_TOO_LARGE)",
    414: "URL (path and query) over the limit (URI_TOO_LONG)",
    422: "Idempotency-Key reused with a different body",
    429: "Rate limited (RATE_LIMITED)",
}


def error_responses(*statuses: int) -> dict:
    """`extend_schema(responses=...)` entries documenting the error envelope."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_TEXT.get(code, "Error")) for code in statuses}
