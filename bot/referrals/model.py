"""Frozen directory objects: services, their weekly hours, and the directory the engine searches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

from bot.content.model import SourceRef

# The kinds of service a directory may list; intents name the ones they can refer to.
SERVICE_KINDS: tuple[str, ...] = (
    "naloxone",
    "syringe_services",
    "drug_checking",
    "testing",
    "buprenorphine",
    "methadone",
    "detox",
    "treatment",
    "mental_health",
    "peer_support",
    "housing",
    "food",
)
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ACCESS_KINDS: tuple[str, ...] = ("walk_in", "appointment", "both")


@dataclass(frozen=True)
class TimeRange:
    """One opening on one weekday; `end` at or before `start` means it closes after midnight."""

    start: time
    end: time  # 24:00 is stored as time(0), which the rule above reads as "at midnight"

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True)
class WeeklyHours:
    """Opening ranges per weekday (0 = Monday) in the service's own time zone."""

    zone: ZoneInfo
    days: tuple[tuple[TimeRange, ...], ...]  # seven entries; an empty one means closed that day


@dataclass(frozen=True)
class Service:
    """One place a person can go to, as the admins wrote it."""

    name: str
    kinds: tuple[str, ...]
    region: str
    city: str
    address: str
    source: SourceRef
    postcodes: tuple[str, ...] = ()
    coordinates: tuple[float, float] | None = None
    hours: WeeklyHours | None = None
    phone: str = ""
    website: str = ""
    languages: tuple[str, ...] = ()
    access: str = ""
    cost: str = ""
    note: str = ""

    def offers(self, kinds: frozenset[str]) -> bool:
        return not kinds or bool(kinds.intersection(self.kinds))


@dataclass(frozen=True)
class Directory:
    """Every service the organisation lists; empty when the content root has no services/ folder."""

    services: tuple[Service, ...] = ()
    files: tuple[str, ...] = field(default=())

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(kind for service in self.services for kind in service.kinds)

    def has_any(self, kinds: tuple[str, ...] | frozenset[str]) -> bool:
        return bool(self.kinds.intersection(kinds))
