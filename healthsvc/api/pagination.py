import re

from django.core.paginator import Page, Paginator
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination

_POSITIVE_INT = re.compile(r"[0-9]+")
# No list holds 2**62 rows; an OFFSET past 2**63 is not even an integer to SQLite or PostgreSQL.
_NO_ROWS_BEYOND = 2**62


def _positive_int(request, name: str) -> int | None:
    """The query parameter `name` as an integer >= 1, None when absent; a 400
    (VALIDATION_ERROR) for anything else, so a typo is not silently ignored."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not _POSITIVE_INT.fullmatch(raw) or int(raw) < 1:
        raise ValidationError({name: ["Give a whole number of 1 or more."]})
    return int(raw)


class StandardPagination(PageNumberPagination):
    """``?page=`` (from 1) and ``?page_size=`` (default 20, at most 100: a larger
    size is served as 100). Anything but a whole number >= 1 in either is a 400;
    a page past the last is a 404, as in DRF.

    The page is read with one row more than it shows. When that row is not
    there, this is the last page and `count` is known without asking; only a
    page with more after it costs a `COUNT(*)` of the filtered rows (Django's
    Paginator counts first, on every page)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()  # "?page=last" is not a number

    def get_page_number(self, request, paginator):
        return _positive_int(request, self.page_query_param) or 1

    def get_page_size(self, request):
        size = _positive_int(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        number = self.get_page_number(request, None)
        offset = (number - 1) * size
        if offset + size >= _NO_ROWS_BEYOND:  # past any table; the database's integers end there
            message = "That page contains no results"
            raise NotFound(self.invalid_page_message.format(page_number=number, message=message))
        rows = list(queryset[offset:offset + size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if not rows and number > 1:
            message = "That page contains no results"
            raise NotFound(self.invalid_page_message.format(page_number=number, message=message))
        paginator = Paginator(queryset, size)
        # Paginator.count is a cached_property: setting it spares the query.
        if not more:
            paginator.count = offset + len(rows)
        else:
            paginator.count = len(queryset) if isinstance(queryset, list) else queryset.count()
        self.page = Page(rows, number, paginator)
        return rows

    def get_paginated_response_schema(self, schema):
        # The page drf-spectacular wraps around an operation's example result:
        # one result, so the only page (DRF's own example says 123 results, with
        # URLs of another host).
        page = super().get_paginated_response_schema(schema)
        page["properties"]["count"]["example"] = 1
        page["properties"]["next"]["example"] = None
        page["properties"]["previous"]["example"] = None
        page["required"] = ["count", "next", "previous", "results"]  # next and previous are null, never absent
        return page

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param, "required": False, "in": "query",
                "description": "Page number, from 1. A page past the last is a 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param, "required": False, "in": "query",
                "description": f"Results per page: default {self.page_size}, at most {self.max_page_size} "
                               f"(a larger size is served as {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
