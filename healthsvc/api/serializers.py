from collections.abc import Mapping

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from healthsvc.exceptions import ERROR_STATUS, ErrorCode

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

    detail = serializers.CharField(help_text="What went wrong, for a person to read.")
    error_code = serializers.ChoiceField(
        choices=ErrorCode.choices,
        help_text="What went wrong, for a program: one of the codes below. Each code always comes with the same "
        "HTTP status; each operation's error responses say which codes it answers with.",
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="With VALIDATION_ERROR: the messages for each field of the input (`non_field_errors` for the whole).",
    )


# Each status's codes when an operation names none of its own (409 always names them).
DEFAULT_CODES: dict[int, list[ErrorCode]] = {
    400: [ErrorCode.VALIDATION_ERROR],
    401: [ErrorCode.NOT_AUTHENTICATED, ErrorCode.TOKEN_INVALID],
    403: [ErrorCode.PERMISSION_DENIED],
    404: [ErrorCode.NOT_FOUND],
    405: [ErrorCode.METHOD_NOT_ALLOWED],
    406: [ErrorCode.NOT_ACCEPTABLE],
    412: [ErrorCode.PRECONDITION_FAILED],
    413: [ErrorCode.PAYLOAD_TOO_LARGE],
    414: [ErrorCode.URI_TOO_LONG],
    415: [ErrorCode.UNSUPPORTED_MEDIA_TYPE],
    422: [ErrorCode.IDEMPOTENCY_KEY_REUSED],
    429: [ErrorCode.RATE_LIMITED],
    500: [ErrorCode.SERVER_ERROR],
    503: [ErrorCode.SERVICE_UNAVAILABLE],
}


def error_text(status: int, codes=None) -> str:
    """The description of an error response: the codes it may carry, and when."""
    codes = [ErrorCode(code) for code in (codes or DEFAULT_CODES.get(status, []))]
    wrong = [code for code in codes if ERROR_STATUS[code] != status]
    if wrong:
        raise ValueError(f"{', '.join(wrong)} are not answered with {status}")
    if not codes:
        return "Refused (see error_code)."
    return "; ".join(f"`{code}`: {code.label}" for code in codes) + "."


def error_responses(*statuses: int, codes=None, texts: dict[int, str] | None = None) -> dict:
    """`extend_schema(responses=...)` entries documenting the error envelope.

    `codes` names the error codes the operation answers with: each goes to its
    own status (ERROR_STATUS), so error_responses(401, 409, codes=["EMAIL_TAKEN"])
    says 409 is EMAIL_TAKEN and 401 keeps the usual codes. A status named only by
    a code (409 here) need not be listed in `statuses`. `texts` adds a sentence
    of the operation's own to a status's description."""
    by_status: dict[int, list[ErrorCode]] = {}
    for code in codes or ():
        by_status.setdefault(ERROR_STATUS[ErrorCode(code)], []).append(ErrorCode(code))
    out = {}
    for status in sorted({*statuses, *by_status}):
        description = error_text(status, by_status.get(status))
        if texts and status in texts:
            description = f"{texts[status]} {description}"
        out[status] = OpenApiResponse(ErrorSerializer, description=description)
    return out
