"""Finding services for a place a person typed (city or postcode) or shared (a location)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from bot.referrals.model import Directory, Service

EARTH_RADIUS_KM = 6371.0088
NEARBY_KM = 80.0  # further than this is not "near me", however few services there are
CITY_MATCH_FLOOR = 85.0
MIN_PLACE_CHARS = 2


@dataclass(frozen=True)
class Found:
    """A service that fits, with its distance when the person shared a location."""

    service: Service
    distance_km: float | None = None


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    # Rounding can push h a hair past 1 for antipodal points, which asin refuses.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def near_location(
    directory: Directory, kinds: frozenset[str], latitude: float, longitude: float
) -> list[Found]:
    """Services offering one of `kinds` within NEARBY_KM, nearest first; none for a place not on Earth."""
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return []  # only a forged update carries these (NaN fails the comparison too)
    found = []
    for service in directory.services:
        if service.coordinates is None or not service.offers(kinds):
            continue
        distance = haversine_km((latitude, longitude), service.coordinates)
        if distance <= NEARBY_KM:
            found.append(Found(service, distance))
    return sorted(found, key=lambda f: (f.distance_km, f.service.name))


def _compact(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


_UK_FULL_RE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$")


def _areas_of(text: str) -> tuple[str, str]:
    """(the whole postcode, its area): "M1 4BT" -> ("M14BT", "M1"); "97205" -> ("97205", "")."""
    words = text.split()
    full = _compact(text)
    if len(words) > 1:
        return full, _compact(words[0])
    uk = _UK_FULL_RE.match(full)
    return full, uk.group(1) if uk else ""


def postcode_matches(directory: Directory, kinds: frozenset[str], text: str) -> list[Found]:
    """Services whose postcode area the typed postcode falls in, most specific area first.

    Areas with letters are outward codes and must match whole ("M1 4BT" is in "M1", "M14" is not);
    all-digit areas are prefixes, as ZIP areas are ("97205" is in "972").
    """
    full, outward = _areas_of(text)
    if not any(c.isdigit() for c in full):
        return []
    scored: list[tuple[int, Found]] = []
    for service in directory.services:
        if not service.offers(kinds):
            continue
        best = 0
        for area in map(_compact, service.postcodes):
            if area in (full, outward) or (area.isdigit() and full.isdigit() and full.startswith(area)):
                best = max(best, len(area))
        if best:
            scored.append((best, Found(service)))
    scored.sort(key=lambda pair: (-pair[0], pair[1].service.name))
    return [found for _, found in scored]


def city_matches(directory: Directory, kinds: frozenset[str], text: str) -> list[Found]:
    """Services in the city the text names, allowing typos ("Portlnd", "manchster")."""
    cities = sorted({s.city for s in directory.services})
    query = utils.default_process(text)
    if len(query) < MIN_PLACE_CHARS or not cities:
        return []
    best = process.extractOne(
        query, cities, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=CITY_MATCH_FLOOR
    )
    if best is None:
        return []
    city = best[0]
    return sorted(
        (Found(s) for s in directory.services if s.city == city and s.offers(kinds)),
        key=lambda f: f.service.name,
    )


def knows_place(directory: Directory, text: str) -> bool:
    """Whether the text names a city or postcode area of the directory (whatever the kinds)."""
    return bool(postcode_matches(directory, frozenset(), text) or city_matches(directory, frozenset(), text))


def at_place(directory: Directory, kinds: frozenset[str], text: str) -> list[Found]:
    """Services for a typed place: a postcode if it looks like one and matches, else a city."""
    return postcode_matches(directory, kinds, text) or city_matches(directory, kinds, text)
