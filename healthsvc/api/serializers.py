from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The error envelope of every 4xx/5xx answer."""

    detail = serializers.CharField()
    error_code = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


def error_responses(*statuses: int) -> dict:
    """`extend_schema(responses=...)` entries documenting the error envelope."""
    text = {
        400: "Invalid input (VALIDATION_ERROR)",
        401: "Not authenticated or token invalid",
        403: "Not allowed for this role or owner (PERMISSION_DENIED)",
        404: "Not found, or not yours (NOT_FOUND)",
        409: "Refused by the booking rules",
        422: "Idempotency-Key reused with a different body",
        429: "Rate limited (RATE_LIMITED)",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=text.get(code, "Error")) for code in statuses}
