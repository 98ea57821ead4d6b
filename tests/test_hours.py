"""One weekly-hours model for supporters' shifts and services: both ways of writing a week, one reader."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.errors import ConfigError
from bot.hours import ALL_DAY, HoursError, TimeRange, WeeklyHours, describe, parse_day, parse_week

LONDON = ZoneInfo("Europe/London")


def test_a_shift_line_and_a_day_mapping_give_the_same_model() -> None:
    line = parse_week("mon-fri 09:00-17:00, 18:00-02:00; sat 12:00-16:00", "Europe/London")
    days = [parse_day("09:00-17:00, 18:00-02:00")] * 5 + [parse_day("12:00-16:00"), parse_day("closed")]
    assert line == WeeklyHours(LONDON, tuple(days))


@pytest.mark.parametrize("impossible", ["24:30-24:59", "09:00-24:30", "23:60-23:59", "25:00-26:00"])
def test_impossible_times_are_refused_in_both_forms_with_the_time_named(impossible: str) -> None:
    with pytest.raises(HoursError, match="is not a time of day"):
        parse_day(impossible)
    with pytest.raises(HoursError, match="is not a time of day"):
        parse_week(f"mon {impossible}")


def test_hours_errors_are_configuration_errors() -> None:
    assert issubclass(HoursError, ConfigError)


def test_24_00_ends_a_day_but_cannot_start_one() -> None:
    assert parse_day("18:00-24:00") == (TimeRange(time(18), time(0)),)
    with pytest.raises(HoursError, match="write 00:00 on the next day"):
        parse_day("24:00-02:00")


def test_overnight_ranges_stay_open_past_midnight_in_both_forms() -> None:
    friday_late = datetime(2024, 6, 8, 1, 30, tzinfo=LONDON)  # Saturday 01:30
    for hours in (
        parse_week("fri 20:00-02:00", "Europe/London"),
        WeeklyHours(LONDON, ((),) * 4 + (parse_day("20:00-02:00"),) + ((),) * 2),
    ):
        assert hours.is_open(friday_late)
        assert hours.status(friday_late).closes == datetime(2024, 6, 8, 2, 0, tzinfo=LONDON)
        assert not hours.is_open(datetime(2024, 6, 8, 2, 0, tzinfo=LONDON))


def test_next_opening_is_aware_in_the_hours_own_zone() -> None:
    hours = parse_week("mon 09:00-17:00", "Europe/London")
    opening = hours.next_opening(datetime(2024, 6, 9, 12, 0, tzinfo=UTC))  # Sunday
    assert opening == datetime(2024, 6, 10, 9, 0, tzinfo=LONDON) and opening.tzinfo is LONDON
    assert describe(opening) == "Monday 09:00 (Europe/London)"


def test_always_open_and_all_day_words() -> None:
    assert WeeklyHours.always().always_open and parse_week("").always_open
    assert parse_day("24h") == (ALL_DAY,)
    assert parse_week("mon-sun 00:00-24:00").always_open
    assert not parse_week("mon-sat 00:00-24:00").always_open
