"""Template filters for the portal's wording of the booking policy."""

from django import template

register = template.Library()


@register.filter
def minutes_in_words(minutes: int | None) -> str:
    """90 -> "1 hour 30 minutes", 1440 -> "1 day", 45 -> "45 minutes"."""
    if not minutes:
        return "0 minutes"
    days, rest = divmod(int(minutes), 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (mins, "minute")]
    return " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)
