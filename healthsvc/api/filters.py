"""Form fields for typed query parameters that accept exactly what the OpenAPI
document says: an integer is ASCII digits, a number a JSON-style number, a
boolean `true` or `false`. Django's own fields are laxer (" 7 ", "7.0", "1_000",
Arabic-Indic digits; "yes" or any unknown word read as "not given"), so a
client's typo came back as an unfiltered 200 instead of a 400.

A parameter that is present but empty (`?doctor_id=`) is a 400 too: it has no
value of the documented type. Absent parameters are simply not applied.
"""

import math
import re

from django import forms

INTEGER = re.compile(r"-?[0-9]+")
NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
EMPTY_MESSAGE = "Give a value, or leave the parameter out."


class _PresentMeansValue:
    def clean(self, value):
        if value == "":
            raise forms.ValidationError(EMPTY_MESSAGE, code="empty")
        return super().clean(value)


class IntegerQueryField(_PresentMeansValue, forms.IntegerField):
    def to_python(self, value):
        if value in (None, ""):
            return None
        if not INTEGER.fullmatch(str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(value)


class NumberQueryField(_PresentMeansValue, forms.FloatField):
    def to_python(self, value):
        if value in (None, ""):
            return None
        if not NUMBER.fullmatch(str(value)) or not math.isfinite(float(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return float(value)


class BooleanQueryField(_PresentMeansValue, forms.Field):
    default_error_messages = {"invalid": "Give true or false."}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value not in ("true", "false"):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return value == "true"


class ChoiceQueryField(_PresentMeansValue, forms.ChoiceField):
    pass


class RegexQueryField(_PresentMeansValue, forms.Field):
    """A string that must match `regex` in full (`fullmatch`)."""

    def __init__(self, *, regex: re.Pattern, message: str, **kwargs):
        self.regex, self.message = regex, message
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return None
        if not self.regex.fullmatch(str(value)):
            raise forms.ValidationError(self.message, code="invalid")
        return str(value)
