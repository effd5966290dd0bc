"""Form fields and helpers shared by the portal and the admin."""

from collections.abc import Mapping
from datetime import date, timedelta

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils import timezone

from healthsvc.exceptions import ApplicationError

# A calendar page or a booking form has no use for dates further off; a date
# near the ends of Python's calendar would overflow once turned into a time
# in some zone (9999-12-31 23:00 in New York is year 10000 in UTC).
YEARS_BACK = 100
YEARS_AHEAD = 10


def model_char_field(model, name: str, **kwargs) -> forms.CharField:
    """A form field with the model field's length limit and validators (the
    API's serializers read the same ones): one definition of each rule, on
    the model, enforced by the server whatever the browser's maxlength says."""
    field = model._meta.get_field(name)
    kwargs.setdefault("max_length", field.max_length)
    kwargs.setdefault("required", not field.blank)
    kwargs.setdefault("validators", [v for v in field.validators if not isinstance(v, MaxLengthValidator)])
    return forms.CharField(**kwargs)


def model_max_length(model, name: str) -> int | None:
    """The model field's max_length, for a serializer or form that cannot use model_char_field."""
    return model._meta.get_field(name).max_length


class CalendarDateField(forms.DateField):
    """A date within YEARS_BACK years before and YEARS_AHEAD years after today."""

    def validate(self, value: date | None) -> None:
        super().validate(value)
        if value is None:
            return
        today = timezone.localdate()
        first, last = today - timedelta(days=365 * YEARS_BACK), today + timedelta(days=365 * YEARS_AHEAD)
        if not first <= value <= last:
            raise forms.ValidationError(
                f"Choose a date between {first:%Y-%m-%d} and {last:%Y-%m-%d}.", code="out_of_range"
            )


def add_service_errors(
    form: forms.BaseForm, exc: ApplicationError, fields: Mapping[str, str | None] | None = None
) -> None:
    """Show a service's refusal on the form that led to it: each entry of
    `exc.extra["errors"]` on a field of the form (`fields` maps the service's
    names to the form's: a missing name means the same, None the whole form),
    anything else, and a refusal without entries, above the form. `fields`
    may also name the field a refusal's code belongs to ("SLOT_FULL": "slot")."""
    fields = fields or {}
    errors = exc.extra.get("errors") or {}
    for name, messages in errors.items():
        target = fields.get(name, name)
        form.add_error(target if target in form.fields else None, messages)
    if not errors:
        target = fields.get(exc.code)
        form.add_error(target if target in form.fields else None, exc.message)


def messages_text(errors: Mapping[str, list]) -> str:
    """A form's or a refusal's messages as one sentence, for a flash message."""
    return " ".join(str(message) for messages in errors.values() for message in messages)
