"""Time zones: which IANA names a clinic may use, and wall-clock times turned
into instants without tripping over daylight-saving changes.

The names a clinic may have are a fixed list shipped with the code,
healthsvc/data/timezones.txt: the canonical zones of the pinned `tzdata`
package (the IANA database as published for Python) when the list was made,
not the host's: the host's zoneinfo directory also holds `localtime` and
`posixrules` (its own zone under another name), the `Factory` placeholder and
the backward-compatible aliases (`Asia/Calcutta`, `US/Eastern`), and it
differs from one machine to the next. A new tzdata release changes the API's
accepted names only when the file is regenerated (zone_names_from_tzdata).
"""

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from importlib import resources
from pathlib import Path

DEFAULT_ZONE = "UTC"
ZONE_LIST = Path(__file__).resolve().parent / "data" / "timezones.txt"


@cache
def _tzdata_lines() -> tuple[str, ...]:
    text = resources.files("tzdata").joinpath("zoneinfo", "tzdata.zi").read_text(encoding="utf-8")
    return tuple(text.splitlines())


def zone_names_from_tzdata() -> list[str]:
    """What healthsvc/data/timezones.txt lists, made from the installed tzdata:
    its `Zone` entries (not the `Link` aliases) without `Factory`, plus `UTC`,
    the name everyone uses for `Etc/UTC`. Sorted."""
    names = {line.split()[1] for line in _tzdata_lines() if line.startswith("Z ")}
    names.discard("Factory")
    return sorted(names | {DEFAULT_ZONE})


@cache
def canonical_zone_names() -> frozenset[str]:
    """The zone names a clinic may have: healthsvc/data/timezones.txt."""
    lines = ZONE_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@cache
def zone_aliases() -> dict[str, str]:
    """Backward-compatible alias -> the canonical zone it stands for
    (`Asia/Calcutta` -> `Asia/Kolkata`)."""
    links = {}
    for line in _tzdata_lines():
        if line.startswith("L "):
            _, target, alias = line.split()[:3]
            links[alias] = target
    return links


def zone_choices() -> list[tuple[str, str]]:
    """(name, name) for every canonical zone, sorted, for form selects."""
    return [(name, name) for name in sorted(canonical_zone_names())]


def wall_time_to_utc(day: date, wall: time, tz: tzinfo) -> datetime | None:
    """The instant the clocks in `tz` show `wall` on `day`, in UTC.

    None when that wall time does not exist (the clocks skip it when they go
    forward); the first of the two instants when it happens twice (the clocks
    go back), which is what `fold=0` means (PEP 495).
    """
    local = datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=tz)
    instant = local.astimezone(UTC)
    # A skipped wall time comes back from the round trip as another wall time.
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def skipped_wall_time_message(day: date, wall: time, zone: str) -> str:
    """What to tell someone who gave a wall time the clocks skip."""
    return f"{wall:%H:%M} does not exist on {day:%d %b %Y} in {zone}: the clocks go forward then. Choose another time."


def wall_time_is_repeated(day: date, wall: time, tz: tzinfo) -> bool:
    """Whether the clocks in `tz` show `wall` twice on `day` (they go back)."""
    local = datetime.combine(day, wall.replace(tzinfo=None), tzinfo=tz)
    return local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()


def local_day_bounds(moment: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The [start, end) of the local calendar day holding `moment` in `tz` (DST-safe)."""
    return local_date_bounds(moment.astimezone(tz).date(), tz)


def local_date_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The [start, end) of the calendar day `day` in `tz`, in UTC: from its first
    moment to the next day's, however long DST makes it (23, 24 or 25 hours).

    In UTC because Python compares and subtracts two datetimes of the same
    tzinfo by their wall times: 00:00 to 00:00 across a DST change would be
    24 hours to it, and a repeated hour would compare wrongly."""
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
    return start, end
