"""Frozen directory objects: services and the directory the engine searches (hours: `bot.hours`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.content.model import SourceRef
from bot.hours import WeeklyHours

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
ACCESS_KINDS: tuple[str, ...] = ("walk_in", "appointment", "both")


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
