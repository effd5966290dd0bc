"""Announcing what is to go: `@deprecated(...)` on an API view makes its
answers carry `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and a
`Link: <...>; rel="deprecation"` to the changelog, and marks its operations
`deprecated: true` in the OpenAPI document (CHANGELOG.md, "Change policy").

A deprecated field is announced the same way on each view that answers it
(`fields=` names it in the schema's description); a deprecated operation is
its view, or some of its methods (`methods=`).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from django.utils.http import http_date
from drf_spectacular.utils import extend_schema

CHANGELOG_DEPRECATIONS = "/api/changelog#deprecations"


def _timestamp(day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=timezone.utc).timestamp())


@dataclass(frozen=True)
class DeprecationNotice:
    since: date  # the day it was announced
    sunset: date | None = None  # the day it stops working
    link: str = CHANGELOG_DEPRECATIONS
    fields: tuple[str, ...] = ()

    def headers(self) -> dict[str, str]:
        headers = {"Deprecation": f"@{_timestamp(self.since)}",
                   "Link": f'<{self.link}>; rel="deprecation"; type="text/markdown"'}
        if self.sunset:
            headers["Sunset"] = http_date(_timestamp(self.sunset))
        return headers

    def describe(self) -> str:
        what = f"The field(s) {', '.join(f'`{f}`' for f in self.fields)} are" if self.fields else "This operation is"
        until = f", and stop working on {self.sunset.isoformat()}" if self.sunset else ""
        return f"**Deprecated.** {what} deprecated since {self.since.isoformat()}{until}; see {self.link}."


def deprecated(*, since: date, sunset: date | None = None, link: str = CHANGELOG_DEPRECATIONS,
               methods: Iterable[str] | None = None, fields: Iterable[str] = ()):
    """Class decorator for an APIView: its answers (to `methods`, default all,
    errors included) carry the deprecation headers."""
    notice = DeprecationNotice(since=since, sunset=sunset, link=link, fields=tuple(fields))
    chosen = {m.upper() for m in methods} if methods is not None else None

    def decorate(view_class):
        original = view_class.finalize_response

        def finalize_response(self, request, response, *args, **kwargs):
            response = original(self, request, response, *args, **kwargs)
            if chosen is None or request.method in chosen:
                for name, value in notice.headers().items():
                    if name == "Link" and response.has_header("Link"):
                        value = f"{response['Link']}, {value}"
                    response[name] = value
            return response

        view_class.finalize_response = finalize_response
        view_class.deprecation = notice
        for method in view_class.http_method_names:
            handler = view_class.__dict__.get(method)
            if handler is not None and (chosen is None or method.upper() in chosen):
                # An operation's own extend_schema keeps its other settings; the
                # field note goes into its description.
                setattr(view_class, method, extend_schema(
                    deprecated=not notice.fields, description=notice.describe())(handler))
        return view_class

    return decorate
