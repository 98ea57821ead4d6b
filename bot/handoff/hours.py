"""When peer supporters are on shift: weekly opening hours in one time zone.

The format admins write: `mon-fri 09:00-21:00; sat,sun 12:00-18:00` (ranges may pass midnight,
e.g. `fri 20:00-02:00`); an empty value means always open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
MINUTES_PER_WEEK = 7 * 24 * 60


@dataclass(frozen=True)
class OpeningHours:
    """Weekly shifts as minute intervals from Monday 00:00 local time; empty means always open."""

    intervals: tuple[tuple[int, int], ...]
    zone: ZoneInfo

    @classmethod
    def parse(cls, spec: str, zone: str = "UTC") -> OpeningHours:
        try:
            tz = ZoneInfo(zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"unknown time zone '{zone}'; use an IANA name such as Europe/London") from exc
        intervals: list[tuple[int, int]] = []
        for part in filter(None, (p.strip() for p in spec.split(";"))):
            days_text, _, hours_text = part.partition(" ")
            match = _RANGE_RE.match(hours_text.strip())
            if not match:
                raise ConfigError(
                    f"opening hours '{part}': write days then HH:MM-HH:MM, e.g. mon-fri 09:00-17:00"
                )
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
                raise ConfigError(f"opening hours '{part}': {hours_text.strip()} is not a time of day")
            start, end = h1 * 60 + m1, h2 * 60 + m2
            length = (end - start) % (24 * 60) or 24 * 60
            for day in _days(days_text, part):
                begin = day * 24 * 60 + start
                intervals.append((begin, begin + length))
        return cls(tuple(sorted(intervals)), tz)

    @property
    def always_open(self) -> bool:
        return not self.intervals

    def is_open(self, now: datetime) -> bool:
        if self.always_open:
            return True
        minute = _week_minute(now.astimezone(self.zone))
        return any(s <= m < e for s, e in self.intervals for m in (minute, minute + MINUTES_PER_WEEK))

    def next_opening(self, now: datetime) -> datetime | None:
        """When the next shift starts (in the configured zone); None if open now or always open."""
        if self.is_open(now):
            return None
        local = now.astimezone(self.zone).replace(second=0, microsecond=0)
        minute = _week_minute(local)
        waits = [(s - minute) % MINUTES_PER_WEEK for s, _ in self.intervals]
        return local + timedelta(minutes=min(waits))


def _days(text: str, part: str) -> list[int]:
    days: list[int] = []
    for chunk in text.lower().split(","):
        first, _, last = chunk.strip().partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ConfigError(f"opening hours '{part}': days are {', '.join(DAYS)} (e.g. mon-fri or sat,sun)")
        a, b = DAYS.index(first), DAYS.index(last or first)
        days.extend(DAYS.index(DAYS[(a + i) % 7]) for i in range((b - a) % 7 + 1))
    return days


def _week_minute(local: datetime) -> int:
    return local.weekday() * 24 * 60 + local.hour * 60 + local.minute


def describe(moment: datetime) -> str:
    """ "Monday 09:00 (Europe/London)", for telling a person when supporters are back."""
    return f"{moment.strftime('%A %H:%M')} ({moment.tzinfo})"
