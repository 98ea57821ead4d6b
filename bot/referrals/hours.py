"""Opening hours: parsing "09:00-17:00, 18:00-02:00" and telling whether a service is open at a moment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.referrals.model import TimeRange, WeeklyHours

_RANGE_RE = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)$")
CLOSED_WORDS = frozenset({"closed", "-", ""})


class HoursSyntaxError(ValueError):
    """A day's hours could not be read; the message says what is wrong."""


def _clock(hour: str, minute: str) -> time:
    h, m = int(hour), int(minute)
    if h == 24 and m == 0:
        return time(0)  # 24:00 is the midnight that ends the day
    if h > 23:
        raise HoursSyntaxError(f"{hour}:{minute} is not a time of day")
    return time(h, m)


def parse_day(text: str) -> tuple[TimeRange, ...]:
    """`"09:00-12:00, 13:00-17:00"` -> ranges; `closed` -> (); raises HoursSyntaxError otherwise."""
    cleaned = text.strip().lower()
    if cleaned in CLOSED_WORDS:
        return ()
    if cleaned in ("24h", "24 hours", "open 24 hours"):
        return (TimeRange(time(0), time(0)),)
    ranges: list[TimeRange] = []
    for part in cleaned.split(","):
        match = _RANGE_RE.match(part.strip())
        if not match:
            raise HoursSyntaxError(f"{part.strip()!r} is not a range like 09:00-17:00")
        start = _clock(match.group(1), match.group(2))
        if match.group(1) == "24":
            raise HoursSyntaxError(f"{part.strip()!r} starts at 24:00; write 00:00 on the next day")
        ranges.append(TimeRange(start, _clock(match.group(3), match.group(4))))
    return tuple(ranges)


@dataclass(frozen=True)
class OpenStatus:
    """Open now (and until when), or closed (and when it next opens); times are the service's local time."""

    open_now: bool
    closes: datetime | None = None
    next_opening: datetime | None = None


def _spans(hours: WeeklyHours, day: date) -> list[tuple[datetime, datetime]]:
    """The day's openings as local wall-clock spans; one past midnight ends on the next day."""
    spans = []
    for span in hours.days[day.weekday()]:
        start = datetime.combine(day, span.start)
        end = datetime.combine(day + timedelta(days=1) if span.crosses_midnight else day, span.end)
        spans.append((start, end))
    return spans


def open_status(hours: WeeklyHours, now: datetime) -> OpenStatus:
    """Whether the service is open at `now` (timezone-aware), looking back one day for late openings."""
    local = now.astimezone(hours.zone).replace(tzinfo=None)
    today = local.date()
    for offset in (-1, 0):
        for start, end in _spans(hours, today + timedelta(days=offset)):
            if start <= local < end:
                return OpenStatus(True, closes=end)
    for offset in range(8):
        upcoming = [s for s, _ in _spans(hours, today + timedelta(days=offset)) if s > local]
        if upcoming:
            return OpenStatus(False, next_opening=min(upcoming))
    return OpenStatus(False)
