"""Form fields shared by the portal and the admin."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone

# A calendar page or a booking form has no use for dates further off; a date
# near the ends of Python's calendar would overflow once turned into a time
# in some zone (9999-12-31 23:00 in New York is year 10000 in UTC).
YEARS_BACK = 100
YEARS_AHEAD = 10


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
