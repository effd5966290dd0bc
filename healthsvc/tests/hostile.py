"""Hostile inputs for the property suites (Hypothesis), and what every refusal must leave.

Each endpoint under test is described by a body the server accepts (the
suites check that, so a refusal is the mutation's doing) and, per field, a
strategy of values that field must refuse. An example is that body with one
hostile change: a field's value, a cross-field rule broken (end before
start), or the whole request made hostile (invalid UTF-8, NaN, duplicate
keys, deep nesting, a top-level array, another content type). Every
strategy here draws only values the contract refuses, so no example may be
accepted, and each carries the status and error code it must get.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import mail
from hypothesis import strategies as st

from accounts.models import Patient, TokenFamily, User
from clinics.models import Clinic, Doctor
from healthsvc.api.fields import MAX_ID
from healthsvc.api.parsers import MAX_DEPTH
from healthsvc.exceptions import ErrorCode
from scheduling.models import (
    Appointment,
    AppointmentSlot,
    AvailabilityRule,
    IdempotencyKey,
    Leave,
    Reminder,
    WaitlistEntry,
)

# Every error code the server sends (the contract's and its extensions), defined
# once in healthsvc.exceptions.ErrorCode.
KNOWN_CODES = {code.value for code in ErrorCode}

BAD_REQUEST = (400, "VALIDATION_ERROR")
UNSUPPORTED = (415, "UNSUPPORTED_MEDIA_TYPE")
TOO_LARGE = (413, "PAYLOAD_TOO_LARGE")
NOT_A_FORM = (400, "not a form")  # what a portal view may answer as a 4xx page, or as no submission

# --- what nothing may change ----------------------------------------------------------

SNAPSHOT_MODELS = [User, Patient, TokenFamily, Clinic, Doctor, AppointmentSlot, Appointment, AvailabilityRule, Leave,
                   IdempotencyKey, WaitlistEntry, Reminder]


def db_snapshot() -> dict:
    """Row counts of every table a request in scope can write, every slot's
    booked_count and held_count, every row of those tables whole (an update
    leaves the count alone), and the mails sent."""
    snapshot = {"mails": len(mail.outbox)}
    for model in SNAPSHOT_MODELS:
        rows = list(model.objects.order_by("pk").values())
        snapshot[f"{model._meta.label} count"] = len(rows)
        snapshot[model._meta.label] = rows
    snapshot["slot places"] = [(s["id"], s["booked_count"], s["held_count"]) for s in snapshot["scheduling.AppointmentSlot"]]
    return snapshot


def assert_unchanged(before: dict, what: str) -> None:
    """The database (db_snapshot) is as it was before the request `what`."""
    after = db_snapshot()
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert not changed, f"{what} changed {changed}"


def assert_envelope(response, expected: tuple[int, str]) -> dict:
    """The contract's error envelope, with the expected status and a known code."""
    status, code = expected
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) <= {"detail", "error_code", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert body["error_code"] in KNOWN_CODES and body["error_code"] == code, body
    if "errors" in body:
        assert isinstance(body["errors"], dict) and body["errors"], body
        assert all(isinstance(m, list) and all(isinstance(s, str) for s in m) for m in body["errors"].values()), body
    return body


# --- JSON values a field must refuse --------------------------------------------------


class Raw(str):
    """JSON text put into a body as it is: NaN, 1e999, nesting deeper than json.dumps goes."""


def encode_json(value) -> bytes:
    """`value` as JSON (ASCII, so a lone surrogate travels as its \\u escape), Raw parts verbatim."""
    raws = []

    def hide(item):
        if isinstance(item, Raw):
            raws.append(str(item))
            return f"\x00raw{len(raws) - 1}\x00"
        if isinstance(item, dict):
            return {k: hide(v) for k, v in item.items()}
        if isinstance(item, list):
            return [hide(v) for v in item]
        return item

    text = json.dumps(hide(value))
    for i, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x00raw{i}\x00"), raw)
    return text.encode()


short_text = st.text(max_size=12)
beyond_64_bits = st.one_of(
    st.integers(min_value=2**63, max_value=2**64 + 10), st.integers(min_value=64, max_value=4000).map(lambda b: 2**b),
    st.integers(min_value=64, max_value=4000).map(lambda b: -(2**b)),
)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
non_finite = st.sampled_from([Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e999"), Raw("-1e999"),
                              Raw("1E400"), Raw("-0.0e-99999")])
too_deep = st.integers(min_value=MAX_DEPTH + 1, max_value=5000).flatmap(
    lambda depth: st.sampled_from([Raw("[" * depth + "]" * depth), Raw('{"a":' * depth + "1" + "}" * depth)])
)
containers = st.one_of(st.lists(st.integers(), max_size=3), st.dictionaries(short_text, st.integers(), max_size=2))


def _with(char_strategy):
    return st.builds(lambda a, c, b: a + c + b, short_text, char_strategy, short_text)


with_nul = _with(st.just("\x00"))
with_lone_surrogate = _with(st.integers(min_value=0xD800, max_value=0xDFFF).map(chr))


def too_long(max_length: int):
    """Strings past max_length, in characters of one to four UTF-8 bytes; now
    and then past the body limit itself (a 413)."""
    chars = st.sampled_from(["x", "\u00e9", "\u6f22", "\U0001f600"])
    over_field = st.tuples(chars, st.integers(min_value=max_length + 1, max_value=max_length + 5000))
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    over_body = st.tuples(st.just("x"), st.integers(min_value=limit + 1, max_value=limit + limit // 2))
    return st.one_of(over_field, over_body).map(lambda pair: pair[0] * pair[1])


def not_strings(nullable: bool = False):
    values = [st.integers(), beyond_64_bits, finite_floats, non_finite, st.booleans(), containers, too_deep]
    return st.one_of(*values) if nullable else st.one_of(st.none(), *values)


def bad_ints(lo: int, hi: int, nullable: bool = False):
    """Integers outside lo..hi, numbers past 64 bits, floats (5.0 too: JSON integers only), other types."""
    values = [st.integers(max_value=lo - 1), st.integers(min_value=hi + 1), beyond_64_bits, finite_floats,
              non_finite, st.booleans(), short_text, st.integers().map(str), containers, too_deep]
    return st.one_of(*values) if nullable else st.one_of(st.none(), *values)


bad_ids = bad_ints(1, MAX_ID)


def bad_text(max_length: int, *, blank_ok: bool = True):
    values = [not_strings(), with_nul, with_lone_surrogate, too_long(max_length)]
    if not blank_ok:
        values.append(st.sampled_from(["", " ", "\t\n  "]))
    return st.one_of(*values)


def bad_choice(choices, nullable: bool = False):
    valid = set(choices)
    return st.one_of(
        not_strings(nullable), short_text.filter(lambda s: s not in valid),
        st.sampled_from(sorted(valid)).map(str.upper).filter(lambda s: s not in valid),
        st.sampled_from(sorted(valid)).flatmap(lambda c: st.sampled_from([c + "\x00", " " + c + "x", c + "\ud800"])),
    )


bad_bools = st.one_of(st.none(), st.integers(), st.sampled_from(["true", "false", "1", "0", "yes", ""]),
                      finite_floats, containers, too_deep)

# ISO 8601 without an offset (the contract's 400), impossible dates and times,
# offsets past a day, dates alone, other shapes.
naive_datetimes = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).flatmap(
    lambda d: st.sampled_from([d.isoformat(), d.isoformat(sep=" "), d.strftime("%Y-%m-%dT%H:%M"), d.date().isoformat()])
)
impossible_datetimes = st.sampled_from([
    "2030-02-30T10:00:00Z", "2030-13-01T10:00:00Z", "2030-01-01T24:01:00Z", "2030-01-01T10:60:00Z",
    "2030-01-01T10:00:00+24:00", "2030-01-01T10:00:00+99:99", "0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z",
    "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2030-01-01T10:00:00ZZ", "2030-01-01T10:00:00 Z",
    "now", "tomorrow", "1893456000", "", " ",
])


def bad_aware_datetimes(nullable: bool = False):
    return st.one_of(naive_datetimes, impossible_datetimes, with_nul, with_lone_surrogate, too_long(64),
                     not_strings(nullable).filter(lambda v: not isinstance(v, str)))


bad_dates = st.one_of(
    st.sampled_from(["20300301", "2030-W09-5", "2030-060", "2030-13-01", "2030-02-30", "2030-1-1", "0001-01-01",
                     "9999-12-31", "2030-01-01T00:00:00Z", "2030-01-01 ", "+2030-01-01", "", "today"]),
    with_nul, with_lone_surrogate, too_long(10), not_strings().filter(lambda v: v is not None),
)
WALL_TIME = re.compile("([01][0-9]|2[0-3]):[0-5][0-9]")
bad_wall_times = st.one_of(
    st.sampled_from(["24:00", "9:30", "09:30:00", "09:60", "0930", "09.30", "-1:00", "٠٩:٣٠", "09:30\n", ""]),
    short_text.filter(lambda s: not WALL_TIME.fullmatch(s)), with_nul, with_lone_surrogate, too_long(5),
    not_strings(nullable=True),
)

# --- whole requests -----------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """One request: its Content-Type, its body, the answer it must get, and what it is (for reports)."""

    content_type: str
    body: bytes
    expected: tuple[int, str]
    what: str

    def send(self, client, method: str, url: str):
        return client.generic(method, url, self.body, content_type=self.content_type)


def _expected_for(body: bytes, expected):
    return TOO_LARGE if len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE else expected


def json_request(body, what: str, expected=BAD_REQUEST) -> Hostile:
    data = encode_json(body)
    return Hostile("application/json", data, _expected_for(data, expected), what)


INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\x28", b"\xc0\xaf",
                b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xf4\x90\x80\x80", b"\x80"]


@st.composite
def whole_request_hostile(draw, valid: dict) -> Hostile:
    """`valid` sent in a hostile way: each one a 400 or a 415 whatever the fields say."""
    data = encode_json(valid)
    kind = draw(st.sampled_from(["utf8", "duplicate", "top", "nan", "deep", "content_type", "charset"]))
    if kind == "utf8":
        # Inside a string value where there is one, else anywhere.
        quotes = [m.end() for m in re.finditer(rb':\s*"', data)] or list(range(len(data) + 1))
        at = draw(st.sampled_from(quotes))
        bad = draw(st.sampled_from(INVALID_UTF8))
        return Hostile("application/json", data[:at] + bad + data[at:], BAD_REQUEST, f"invalid UTF-8 {bad!r}")
    if kind == "duplicate":
        key = draw(st.sampled_from(sorted(valid)))
        again = draw(st.sampled_from([valid[key], None, "x"]))
        pairs = [(k, v) for k, v in valid.items()]
        at = draw(st.integers(min_value=0, max_value=len(pairs)))
        pairs.insert(at, (key, again))
        text = "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}"
        return Hostile("application/json", text.encode(), BAD_REQUEST, f"duplicate key {key}")
    if kind == "top":
        top = draw(st.sampled_from([[valid], [], Raw("null"), Raw("true"), 5, "x", Raw('"' + "x" * 10 + '"')]))
        return json_request(top, f"top-level {top!r:.40}")
    if kind == "nan":
        key = draw(st.sampled_from(sorted(valid)))
        return json_request({**valid, key: draw(non_finite)}, f"non-finite number in {key}")
    if kind == "deep":
        key = draw(st.sampled_from(sorted(valid)))
        return json_request({**valid, key: draw(too_deep)}, f"nesting in {key}")
    if kind == "charset":
        # The body in an encoding that is not UTF-8, saying so: the server reads
        # JSON as UTF-8 whatever the charset (RFC 8259), and these bytes are not.
        charset = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp500", "utf-16", ""]))
        declared = charset or draw(st.sampled_from(["utf-16", "utf-32"]))
        body = data.decode().encode(charset or declared)
        return Hostile(f"application/json; charset={declared}", body, BAD_REQUEST, f"body in {declared}")
    return draw(other_content_types(valid))


@st.composite
def other_content_types(draw, valid: dict) -> Hostile:
    flat = {k: "" if v is None else v for k, v in valid.items()}
    form = urlencode(flat).encode()
    boundary = "hostile" + draw(st.sampled_from(["", "0", "--x"]))
    multipart = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in flat.items()
    ) + f"--{boundary}--\r\n".encode()
    xml = ("<request>" + "".join(f"<{k}>{v}</{k}>" for k, v in flat.items()) + "</request>").encode()
    data = encode_json(valid)
    content_type, body = draw(st.sampled_from([
        ("application/x-www-form-urlencoded", form), (f"multipart/form-data; boundary={boundary}", multipart),
        ("multipart/form-data", multipart), ("text/plain", data), ("text/plain; charset=utf-8", data),
        ("application/xml", xml), ("text/xml", xml), ("", data), ("application/octet-stream", data),
        ("application/jsonx", data), ("application/json-patch+json", data), ("*/*", data), ("application/*", data),
        ("json", data), ("text/html", data),
    ]))
    return Hostile(content_type, body, UNSUPPORTED, f"Content-Type {content_type!r}")


@dataclass
class Endpoint:
    """An API operation as one actor calls it, with a body it accepts and, per
    field, the values that field refuses. `cross` are bodies (each a whole
    valid body with a rule between fields broken) and what they must get."""

    method: str
    url: str
    valid: dict
    fields: dict = field(default_factory=dict)
    cross: list = field(default_factory=list)
    empty_is_valid: bool = False

    def hostile(self) -> st.SearchStrategy[Hostile]:
        options = [whole_request_hostile(self.valid)]
        if self.fields:
            options.append(self._field_hostile())
        if self.cross:
            options.append(st.sampled_from(self.cross).map(
                lambda c: json_request(c[0], f"cross-field {c[0]}", c[1] if len(c) > 1 else BAD_REQUEST)))
        if not self.empty_is_valid:
            options.append(st.sampled_from([b"", b"{}"]).map(
                lambda b: Hostile("application/json", b, BAD_REQUEST, f"empty body {b!r}")))
        return st.one_of(*options)

    def _field_hostile(self):
        def mutate(name):
            return self.fields[name].map(lambda value: json_request({**self.valid, name: value}, f"{name}={value!r:.60}"))

        return st.sampled_from(sorted(self.fields)).flatmap(mutate)

    def send_valid(self, client):
        return client.generic(self.method, self.url, json.dumps(self.valid), content_type="application/json")

    def assert_refuses(self, client, hostile: Hostile) -> None:
        """The hostile request gets a 4xx with the envelope and writes nothing."""
        before = db_snapshot()
        response = hostile.send(client, self.method, self.url)
        assert_envelope(response, hostile.expected)
        assert_unchanged(before, hostile.what)


def future_utc(days: int, hour: int = 10) -> datetime:
    from django.utils import timezone

    base = timezone.now().replace(minute=0, second=0, microsecond=0)
    return base.replace(hour=hour) + timedelta(days=days)


def iso_z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- the portal's forms ------------------------------------------------------------------
# Form fields arrive as text: a value here is a str or raw bytes (percent-encoded
# as they are, so invalid UTF-8 reaches Django, which decodes it to U+FFFD).
# Invalid UTF-8 is drawn only for fields with a shape (dates, times, numbers,
# choices): in free text U+FFFD is a character like any other.


def form_text_bad(max_length: int, *, blank_ok: bool = True):
    values = [with_nul, st.integers(min_value=max_length + 1, max_value=max_length + 3000).map(lambda n: "y" * n)]
    if not blank_ok:
        values.append(st.sampled_from(["", " ", "\t\r\n "]))
    return st.one_of(*values)


invalid_utf8_value = st.builds(lambda a, bad, b: a.encode() + bad + b.encode(), st.sampled_from(["", "1", "09:"]),
                               st.sampled_from(INVALID_UTF8), st.sampled_from(["", "0", "2030-01-01"]))


def form_int_bad(lo: int, hi: int):
    return st.one_of(
        st.integers(max_value=lo - 1).map(str), st.integers(min_value=hi + 1).map(str), beyond_64_bits.map(str),
        st.sampled_from(["1.5", "1e3", "NaN", "inf", "-", "0x10", "abc", "1_0", "\x001", "١٠٠٠"]),
        invalid_utf8_value, with_nul,
    )


def form_choice_bad(choices):
    valid = {str(c) for c in choices}
    return st.one_of(short_text.filter(lambda s: s.strip() not in valid), with_nul, invalid_utf8_value,
                     beyond_64_bits.map(str))


form_date_bad = st.one_of(
    st.sampled_from(["2030-02-30", "2030-13-01", "tomorrow", "0001-01-01", "9999-12-31", "31/12/2030",
                     "2030-01-01T10:00", "\x002030-01-01", "1" * 30]),
    invalid_utf8_value, with_nul,
)
form_time_bad = st.one_of(
    st.sampled_from(["24:00", "9:3", "09:30:00", "09:60", "0930", "noon", "-1:00", "09:30\x00", "25:61"]),
    invalid_utf8_value, with_nul,
)


def form_encode(data: dict) -> bytes:
    parts = []
    for key, value in data.items():
        raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
        parts.append(f"{key}=".encode() + b"".join(b"%%%02X" % byte for byte in raw))
    return b"&".join(parts)


@dataclass
class FormEndpoint:
    """A portal form as its user posts it: `valid` is accepted (a redirect), and
    each field's strategy draws values it refuses. `refuses_by_redirect`: the
    view answers a refused form with a redirect and an error message rather
    than the page re-rendered with the form's errors."""

    url: str
    valid: dict
    fields: dict
    refuses_by_redirect: bool = False

    def hostile(self) -> st.SearchStrategy[Hostile]:
        def field_hostile(name):
            return self.fields[name].map(lambda value: Hostile(
                "application/x-www-form-urlencoded", form_encode({**self.valid, name: value}), BAD_REQUEST,
                f"{name}={value!r:.60}"))

        by_field = st.sampled_from(sorted(self.fields)).flatmap(field_hostile)
        # Not a form: the view sees an empty POST, which no form here accepts.
        not_a_form = st.sampled_from([
            ("application/json", encode_json(self.valid)), ("text/plain", form_encode(self.valid)),
            ("application/xml", b"<form/>"), ("", form_encode(self.valid)),
            ("multipart/form-data; boundary=zz", b"--zz\r\n\r\n--zz--\r\n"),
            ("multipart/form-data", form_encode(self.valid)),
        ]).map(lambda pair: Hostile(pair[0], pair[1], NOT_A_FORM, f"Content-Type {pair[0]!r}"))
        return st.one_of(by_field, not_a_form)

    def assert_accepts_valid(self, client) -> None:
        """The valid form is taken: a redirect, and something was written."""
        before = db_snapshot()
        response = client.generic("POST", self.url, form_encode(self.valid),
                                  content_type="application/x-www-form-urlencoded")
        assert response.status_code == 302, response.content[:2000]
        assert db_snapshot() != before

    def assert_refuses(self, client, hostile: Hostile) -> None:
        """The hostile post is refused (never a 500) and writes nothing."""
        clear_flash_messages(client)
        before = db_snapshot()
        response = hostile.send(client, "POST", self.url)
        assert_form_refused(response, self, hostile)
        assert_unchanged(before, hostile.what)


def assert_form_refused(response, endpoint: FormEndpoint, hostile: Hostile):
    """A 4xx page, or the page again with the form's errors (200), or, where the
    view works so, a redirect carrying an error message; never a 500 (the test
    client raises a view's exception)."""
    assert response.status_code != 500, hostile.what
    from django.contrib import messages
    from django.contrib.messages import get_messages

    if 400 <= response.status_code < 500:
        return
    if hostile.expected == NOT_A_FORM and not endpoint.refuses_by_redirect and response.status_code == 200:
        # The view reads an empty POST as no submission, and shows the form.
        assert not response.context["form"].is_bound
        return
    if endpoint.refuses_by_redirect:
        assert response.status_code == 302, response.status_code
        levels = [m.level for m in get_messages(response.wsgi_request)]
        assert messages.ERROR in levels, levels
        return
    assert response.status_code == 200, response.status_code
    assert response.context["form"].errors, "the page came back without the form's errors"


def clear_flash_messages(client):
    """Drop the session's queued messages, so each example's answer is its own."""
    session = client.session
    if session.pop("_messages", None) is not None:
        session.save()
