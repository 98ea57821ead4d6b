"""Weekly opening hours in one time zone, for supporters' shifts and for services alike.

One model (`WeeklyHours`: per weekday, `TimeRange`s of local wall-clock time), one reader of ranges
(`parse_day`: ``"09:00-17:00, 18:00-02:00"``, ``closed`` or ``24h``), and the two ways admins write a
week, both read by it:

- a line, as in `PEERLINE_SUPPORT_HOURS`: ``mon-fri 09:00-21:00; sat,sun 12:00-18:00`` (`parse_week`);
- a mapping, as in a service's ``hours:`` (``mon: "09:00-17:00, 18:00-02:00"``), one `parse_day` per day.

A range whose end is at or before its start closes after midnight (``fri 20:00-02:00``); ``24:00`` is
only an end (the midnight that ends the day); ``24:30`` or ``09:60`` are refused with `HoursError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOSED_WORDS = frozenset({"closed", "-", ""})
ALL_DAY_WORDS = frozenset({"24h", "24 hours", "open 24 hours"})
_RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class HoursError(ConfigError):
    """Opening hours could not be read; the message says what is wrong and how to write them."""


@dataclass(frozen=True)
class TimeRange:
    """One opening on one weekday; `end` at or before `start` means it closes after midnight."""

    start: time
    end: time  # 24:00 is stored as time(0), which the rule above reads as "at midnight"

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


ALL_DAY = TimeRange(time(0), time(0))


@dataclass(frozen=True)
class OpenStatus:
    """Open now (and until when), or closed (and when it next opens); times are aware, in the zone."""

    open_now: bool
    closes: datetime | None = None
    next_opening: datetime | None = None


@dataclass(frozen=True)
class WeeklyHours:
    """Opening ranges per weekday (0 = Monday) in one time zone; an empty day is closed."""

    zone: ZoneInfo
    days: tuple[tuple[TimeRange, ...], ...]  # seven entries

    @classmethod
    def always(cls, zone: ZoneInfo | None = None) -> WeeklyHours:
        """Open around the clock, every day."""
        return cls(zone or ZoneInfo("UTC"), ((ALL_DAY,),) * 7)

    @property
    def always_open(self) -> bool:
        return all(ALL_DAY in day for day in self.days)

    def status(self, now: datetime) -> OpenStatus:
        """Whether open at `now` (timezone-aware), looking back one day for ranges past midnight."""
        local = now.astimezone(self.zone)
        today = local.date()
        for offset in (-1, 0):
            for start, end in self._spans(today + timedelta(days=offset)):
                if start <= local < end:
                    return OpenStatus(True, closes=end)
        for offset in range(8):
            upcoming = [s for s, _ in self._spans(today + timedelta(days=offset)) if s > local]
            if upcoming:
                return OpenStatus(False, next_opening=min(upcoming))
        return OpenStatus(False)

    def is_open(self, now: datetime) -> bool:
        return self.status(now).open_now

    def next_opening(self, now: datetime) -> datetime | None:
        """When the next opening starts (aware, in the zone); None if open now or never open."""
        return self.status(now).next_opening

    def _spans(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The day's openings as wall-clock spans in the zone; one past midnight ends on the next day."""
        for span in self.days[day.weekday()]:
            ends_on = day + timedelta(days=1) if span.crosses_midnight else day
            yield datetime.combine(day, span.start, self.zone), datetime.combine(ends_on, span.end, self.zone)


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or HoursError saying how to name one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HoursError(f"unknown time zone '{name}'; use an IANA name such as Europe/London") from exc


def parse_day(text: str) -> tuple[TimeRange, ...]:
    """`"09:00-12:00, 13:00-17:00"` -> ranges; `closed` -> (); `24h` -> all day; HoursError otherwise."""
    cleaned = text.strip().lower()
    if cleaned in CLOSED_WORDS:
        return ()
    if cleaned in ALL_DAY_WORDS:
        return (ALL_DAY,)
    ranges: list[TimeRange] = []
    for part in (p.strip() for p in cleaned.split(",")):
        match = _RANGE_RE.match(part)
        if not match:
            raise HoursError(f"{part!r} is not a range like 09:00-17:00 (HH:MM-HH:MM)")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if (h1, m1) == (24, 0):
            raise HoursError(f"{part!r} starts at 24:00; write 00:00 on the next day")
        ranges.append(TimeRange(_clock(h1, m1, part), _clock(h2, m2, part)))
    return tuple(ranges)


def parse_week(spec: str, zone: str = "UTC") -> WeeklyHours:
    """``"mon-fri 09:00-21:00; sat,sun 12:00-18:00"`` in `zone`; an empty spec means always open."""
    tz = time_zone(zone or "UTC")
    if not spec.strip():
        return WeeklyHours.always(tz)
    days: list[list[TimeRange]] = [[] for _ in WEEKDAYS]
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        days_text, _, hours_text = part.partition(" ")
        try:
            ranges = parse_day(hours_text) if hours_text.strip() else None
        except HoursError as exc:
            raise HoursError(f"opening hours '{part}': {exc}") from exc
        if not ranges:
            raise HoursError(f"opening hours '{part}': write days then HH:MM-HH:MM, e.g. mon-fri 09:00-17:00")
        for day in _days(days_text, part):
            days[day].extend(ranges)
    return WeeklyHours(tz, tuple(tuple(day) for day in days))


def _clock(hour: int, minute: int, part: str) -> time:
    if (hour, minute) == (24, 0):
        return time(0)  # 24:00 is the midnight that ends the day
    if hour > 23 or minute > 59:
        raise HoursError(f"{part!r}: {hour:02d}:{minute:02d} is not a time of day (00:00 to 24:00)")
    return time(hour, minute)


def _days(text: str, part: str) -> list[int]:
    days: list[int] = []
    for chunk in text.lower().split(","):
        first, _, last = chunk.strip().partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise HoursError(
                f"opening hours '{part}': days are {', '.join(WEEKDAYS)} (e.g. mon-fri or sat,sun)"
            )
        a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        days.extend((a + i) % 7 for i in range((b - a) % 7 + 1))
    return days


def describe(moment: datetime) -> str:
    """ "Monday 09:00 (Europe/London)", for telling a person when supporters are back."""
    return f"{moment.strftime('%A %H:%M')} ({moment.tzinfo})"
