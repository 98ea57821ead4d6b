"""Read services/*.yml into a validated `Directory`, collecting every problem with its file and line."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.content.model import SourceRef
from bot.content.yamlfile import LineDict, LineList, is_bare_number, read_yaml, unknown_keys
from bot.errors import ContentProblem
from bot.hours import WEEKDAYS, HoursError, WeeklyHours, parse_day
from bot.referrals.model import ACCESS_KINDS, SERVICE_KINDS, Directory, Service

SERVICE_KEYS = frozenset(
    {
        "name", "kinds", "region", "city", "postcodes", "address", "coordinates", "hours", "timezone",
        "phone", "website", "languages", "access", "cost", "note",
    }
)  # fmt: skip
FILE_KEYS = frozenset({"services", "timezone"})
# Digits that must stay exactly as written: unquoted, YAML reads 0123456 as 42798 and 02134 as 1116.
DIGIT_KEYS = frozenset({"phone", "postcodes"})
_PHONE_RE = re.compile(r"^(?:\+|\()?[0-9][0-9 ().-]*[0-9]$")
_PHONE_DIGITS = (6, 15)  # shortest local numbers to the E.164 maximum
_WEBSITE_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]+$")
_POSTCODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{0,9}$")


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class _DirectoryReader:
    """Collects problems while turning services YAML into `Service` objects."""

    def __init__(self, root: Path, regions: Collection[str] | None) -> None:
        self.root = root
        self.regions = regions
        self.problems: list[ContentProblem] = []

    def problem(self, file: str, line: int | None, message: str, hint: str = "") -> None:
        self.problems.append(ContentProblem(file, line, message, hint))

    def file(self, path: Path) -> list[Service]:
        file = str(path.relative_to(self.root))
        data = read_yaml(path, file, self.problems)
        if data is None:
            return []
        if not isinstance(data, LineDict) or not isinstance(data.get("services"), LineList):
            self.problem(
                file, 1, "expected a 'services:' list", "start the file with 'services:' and '- name: ...'"
            )
            return []
        for key, key_line, hint in unknown_keys(data, FILE_KEYS):
            self.problem(file, key_line, f"unknown top-level key '{key}'", hint)
        default_zone = data.get("timezone")
        if default_zone is not None and (not isinstance(default_zone, str) or _zone(default_zone) is None):
            self.problem(
                file,
                data.line_of("timezone"),
                f"unknown time zone {default_zone!r}",
                "use an IANA name such as 'Europe/London'",
            )
            default_zone = None
        body: LineList = data["services"]
        services = []
        for index, raw in enumerate(body):
            service = self.service(file, raw, body.line_of(index), default_zone)
            if service is not None:
                services.append(service)
        return services

    def text(self, file: str, raw: LineDict, key: str, name: str, *, required: bool = False) -> str:
        value = raw.get(key)
        if value is None:
            if required:
                self.problem(file, raw.line, f"service {name!r} is missing '{key}'", f"add '{key}:'")
            return ""
        if key in DIGIT_KEYS and is_bare_number(value):
            self.bare_number(file, raw.line_of(key), name, key, raw.as_written(key), value)
            return ""
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            self.problem(
                file, raw.line_of(key), f"service {name!r}: '{key}' must be text", 'quote it, e.g. "M1"'
            )
            return ""
        return str(value).strip()

    def texts(self, file: str, raw: LineDict, key: str, name: str) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if key in DIGIT_KEYS:
            items = list(enumerate(value)) if isinstance(value, LineList) else [(None, value)]
            bare = [(i, v) for i, v in items if is_bare_number(v)]
            for index, number in bare:
                written = raw.as_written(key) if index is None else value.as_written(index)
                self.bare_number(file, raw.line_of(key), name, key, written, number)
            if bare:
                return ()
        if isinstance(value, str | int) and not isinstance(value, bool):
            value = [value]  # one postcode or language needs no list
        if not isinstance(value, list) or not all(isinstance(v, str | int) and str(v).strip() for v in value):
            self.problem(
                file,
                raw.line_of(key),
                f"service {name!r}: '{key}' must be a list of text",
                f"write '{key}: [a, b]'",
            )
            return ()
        return tuple(str(v).strip() for v in value)

    def bare_number(self, file: str, line: int, name: str, key: str, written: str, value: object) -> None:
        self.problem(
            file,
            line,
            f"service {name!r}: '{key}' is an unquoted number, "
            f"so YAML reads {written} as the number {value!r}",
            f"quote it: '{written}'",
        )

    def service(self, file: str, raw: Any, line: int, default_zone: str | None) -> Service | None:
        if not isinstance(raw, LineDict):
            self.problem(file, line, "each service must be a mapping", "start it with '- name: ...'")
            return None
        name = self.text(file, raw, "name", "?", required=True)
        if not name:
            return None
        for key, key_line, hint in unknown_keys(raw, SERVICE_KEYS):
            self.problem(file, key_line, f"service {name!r}: unknown key '{key}'", hint)
        kinds = self.kinds(file, raw, name)
        region = self.text(file, raw, "region", name, required=True).lower()
        if region and self.regions is not None and region not in self.regions:
            self.problem(
                file,
                raw.line_of("region"),
                f"service {name!r}: unknown region '{region}'",
                "use a region code from resources/regions.yml: " + ", ".join(sorted(self.regions)),
            )
        postcodes = self.texts(file, raw, "postcodes", name)
        for code in postcodes:
            if not _POSTCODE_RE.match(code):
                self.problem(
                    file,
                    raw.line_of("postcodes"),
                    f"service {name!r}: {code!r} is not a postcode or postcode area",
                    "e.g. 'M1', '97205'",
                )
        phone = self.text(file, raw, "phone", name)
        if phone and not plausible_phone(phone):
            self.problem(
                file,
                raw.line_of("phone"),
                f"service {name!r}: {phone!r} does not look like a phone number",
                "digits with spaces, dashes or brackets, 6 to 15 digits, optionally starting with +",
            )
        website = self.text(file, raw, "website", name)
        if website and not _WEBSITE_RE.match(website):
            self.problem(
                file,
                raw.line_of("website"),
                f"service {name!r}: {website!r} is not a web address",
                "start it with https://",
            )
        access = self.text(file, raw, "access", name)
        if access and access not in ACCESS_KINDS:
            self.problem(
                file,
                raw.line_of("access"),
                f"service {name!r}: unknown access '{access}'",
                "use walk_in, appointment or both",
            )
            access = ""
        zone_name = self.text(file, raw, "timezone", name) or default_zone
        return Service(
            name=name,
            kinds=kinds,
            region=region,
            city=self.text(file, raw, "city", name, required=True),
            address=self.text(file, raw, "address", name, required=True),
            source=SourceRef(file, raw.line),
            postcodes=postcodes,
            coordinates=self.coordinates(file, raw, name),
            hours=self.hours(file, raw, name, zone_name),
            phone=phone,
            website=website,
            languages=self.texts(file, raw, "languages", name),
            access=access,
            cost=self.text(file, raw, "cost", name),
            note=self.text(file, raw, "note", name),
        )

    def kinds(self, file: str, raw: LineDict, name: str) -> tuple[str, ...]:
        value = raw.get("kinds")
        if not isinstance(value, list) or not value:
            self.problem(
                file,
                raw.line_of("kinds"),
                f"service {name!r} needs a list of 'kinds'",
                "e.g. 'kinds: [naloxone, testing]'",
            )
            return ()
        kinds = []
        for item in value:
            if item not in SERVICE_KINDS:
                self.problem(
                    file,
                    raw.line_of("kinds"),
                    f"service {name!r}: unknown kind {item!r}",
                    "known kinds: " + ", ".join(SERVICE_KINDS),
                )
            else:
                kinds.append(str(item))
        return tuple(kinds)

    def coordinates(self, file: str, raw: LineDict, name: str) -> tuple[float, float] | None:
        value = raw.get("coordinates")
        if value is None:
            return None
        line = raw.line_of("coordinates")
        hint = "write 'coordinates: [latitude, longitude]', e.g. [45.52, -122.68]"
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            self.problem(file, line, f"service {name!r}: coordinates must be two numbers", hint)
            return None
        lat, lon = float(value[0]), float(value[1])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            self.problem(
                file,
                line,
                f"service {name!r}: coordinates {lat}, {lon} are out of range",
                "latitude -90..90, longitude -180..180 " + hint[5:],
            )
            return None
        return lat, lon

    def hours(self, file: str, raw: LineDict, name: str, zone_name: str | None) -> WeeklyHours | None:
        value = raw.get("hours")
        if value is None:
            return None
        line = raw.line_of("hours")
        if not isinstance(value, LineDict):
            self.problem(
                file,
                line,
                f"service {name!r}: hours must map weekdays to times",
                "write 'mon: \"09:00-17:00\"'",
            )
            return None
        zone = _zone(zone_name) if zone_name else None
        if zone is None:
            self.problem(
                file,
                raw.line_of("timezone") if "timezone" in raw else line,
                f"service {name!r}: hours need a valid time zone, not {zone_name!r}",
                "add 'timezone: America/Chicago' (an IANA name) to the service or the top of the file",
            )
            return None
        days: list[tuple[Any, ...]] = [()] * 7
        ok = True
        for key, text in value.items():
            day_line = value.line_of(key)
            if key not in WEEKDAYS:
                self.problem(
                    file,
                    day_line,
                    f"service {name!r}: unknown weekday '{key}'",
                    "use mon tue wed thu fri sat sun",
                )
                ok = False
                continue
            if not isinstance(text, str):
                self.problem(
                    file,
                    day_line,
                    f"service {name!r}: hours for {key} must be quoted text",
                    'write "09:00-17:00" in quotes',
                )
                ok = False
                continue
            try:
                days[WEEKDAYS.index(key)] = parse_day(text)
            except HoursError as exc:
                self.problem(
                    file,
                    day_line,
                    f"service {name!r}: hours for {key}: {exc}",
                    'write "09:00-17:00", "09:00-12:00, 13:00-17:00" or closed',
                )
                ok = False
        return WeeklyHours(zone, tuple(days)) if ok else None


def plausible_phone(text: str) -> bool:
    """Digits with the usual separators, 6 to 15 of them; no letters, no extensions we could not dial."""
    digits = sum(c.isdigit() for c in text)
    return bool(_PHONE_RE.match(text)) and _PHONE_DIGITS[0] <= digits <= _PHONE_DIGITS[1]


def duplicate_names(services: list[Service]) -> list[ContentProblem]:
    """Two services with the same name in one city would be indistinguishable in a reply."""
    seen: dict[tuple[str, str], Service] = {}
    problems = []
    for service in services:
        key = (service.name.casefold(), service.city.casefold())
        first = seen.get(key)
        if first is None:
            seen[key] = service
            continue
        problems.append(
            ContentProblem(
                service.source.file,
                service.source.line,
                f"duplicate service {service.name!r} in {service.city}",
                f"it is already listed at {first.source}; merge them or give each its own name",
            )
        )
    return problems


def load_directory(
    root: Path, regions: Collection[str] | None = None
) -> tuple[Directory, list[ContentProblem]]:
    """Every service under root/services/ and the problems found; no folder means an empty directory."""
    root = root.resolve()
    folder = root / "services"
    if not folder.is_dir():
        return Directory(), []
    reader = _DirectoryReader(root, regions)
    paths = sorted(p for p in folder.glob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
    services = [service for path in paths for service in reader.file(path)]
    reader.problems.extend(duplicate_names(services))
    files = tuple(str(p.relative_to(root)) for p in paths)
    return Directory(tuple(services), files), reader.problems
