"""Representations besides JSON, for the few endpoints that answer in another
format. Their errors are still the JSON envelope (views.JsonErrorsMixin)."""

from rest_framework.renderers import BaseRenderer


class CalendarRenderer(BaseRenderer):
    """An iCalendar (RFC 5545) file, already written as text by the view."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return b"" if data is None else data.encode(self.charset)
