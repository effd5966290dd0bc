"""Clinic time zones: only canonical IANA names, whatever the host has, and
wall-clock times turned into instants across DST changes."""

import importlib
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from clinics.models import validate_timezone
from healthsvc.timezones import (
    canonical_zone_names,
    local_date_bounds,
    wall_time_is_repeated,
    wall_time_to_utc,
    zone_aliases,
)


@pytest.mark.parametrize("name", ["Asia/Kolkata", "Europe/London", "America/New_York", "UTC", "Etc/UTC"])
def test_canonical_zones_are_accepted(name):
    validate_timezone(name)


@pytest.mark.parametrize("name", ["localtime", "posixrules", "Factory", "/etc/localtime", "", "Mars/Olympus",
                                  "asia/kolkata", "Asia/Kolkata "])
def test_names_that_are_no_zone_of_the_database_are_refused(name):
    with pytest.raises(ValidationError):
        validate_timezone(name)


def test_an_alias_is_refused_with_the_name_to_use():
    with pytest.raises(ValidationError, match="Use 'Asia/Kolkata'"):
        validate_timezone("Asia/Calcutta")
    assert zone_aliases()["US/Eastern"] == "America/New_York"


def test_the_list_comes_from_the_pinned_database_not_the_host():
    names = canonical_zone_names()
    assert "localtime" not in names and "posixrules" not in names and "Asia/Calcutta" not in names
    assert 300 < len(names) < 500


def test_the_migration_renames_aliases_and_leaves_the_rest(db):
    from clinics.models import Clinic
    from clinics.tests.factories import ClinicFactory

    migration = importlib.import_module("clinics.migrations.0003_canonical_timezones")
    old, odd, fine = (ClinicFactory(timezone=name) for name in ("Asia/Calcutta", "localtime", "Europe/London"))

    class Apps:
        @staticmethod
        def get_model(app, model):
            return Clinic

    migration.to_canonical(Apps, None)
    for clinic in (old, odd, fine):
        clinic.refresh_from_db()
    assert (old.timezone, odd.timezone, fine.timezone) == ("Asia/Kolkata", "localtime", "Europe/London")


NEW_YORK = ZoneInfo("America/New_York")


def test_a_skipped_wall_time_has_no_instant():
    assert wall_time_to_utc(date(2030, 3, 10), time(2, 30), NEW_YORK) is None
    assert wall_time_to_utc(date(2030, 3, 10), time(3, 0), NEW_YORK) == datetime(2030, 3, 10, 7, tzinfo=UTC)


def test_a_repeated_wall_time_is_its_first_occurrence():
    assert wall_time_is_repeated(date(2030, 11, 3), time(1, 30), NEW_YORK)
    assert not wall_time_is_repeated(date(2030, 11, 3), time(2, 30), NEW_YORK)
    assert wall_time_to_utc(date(2030, 11, 3), time(1, 30), NEW_YORK) == datetime(2030, 11, 3, 5, 30, tzinfo=UTC)


def test_a_local_day_lasts_as_long_as_dst_makes_it():
    hours = {day: (lambda b: (b[1] - b[0]).total_seconds() / 3600)(local_date_bounds(day, NEW_YORK))
             for day in (date(2030, 3, 10), date(2030, 6, 1), date(2030, 11, 3))}
    assert hours == {date(2030, 3, 10): 23, date(2030, 6, 1): 24, date(2030, 11, 3): 25}
