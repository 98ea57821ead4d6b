"""Read intents, responses, synonyms and regions from YAML into one validated `Content`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bot.content.checks import crisis_response_problems, duplicate_examples
from bot.content.html import check_html
from bot.content.model import (
    CRISIS_RESPONSES,
    KNOWN_PLACEHOLDERS,
    LABELS,
    MIXING_RESPONSES,
    REGION_PLACEHOLDERS,
    SHORT_REPLY_KINDS,
    SYSTEM_RESPONSES,
    Content,
    FollowUp,
    Intent,
    Locale,
    Region,
    Response,
    SourceRef,
    frozen_map,
)
from bot.content.placeholders import PLACEHOLDER_RE
from bot.content.translations import locale_problems
from bot.content.yamlfile import LineDict, LineList, is_bare_number, read_yaml, unknown_keys
from bot.errors import ContentError, ContentProblem
from bot.nlu.normalise import basic_normalise
from bot.referrals.model import SERVICE_KINDS

ID_RE = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
INTENT_KEYS = {
    "id", "title", "response", "examples", "keywords", "patterns", "guards", "urgent",
    "crisis", "check_in", "priority", "follow_ups", "services",
}  # fmt: skip
DEFAULT_LOCALE = "en"


def default_content_root() -> Path:
    """The folder holding intents/, responses/ and resources/ (the repository by default)."""
    here = Path.cwd()
    if (here / "intents").is_dir() and (here / "responses").is_dir():
        return here
    return Path(__file__).resolve().parents[2]


def placeholders_in(text: str) -> list[str]:
    """Names used as {placeholder} in a response (doubled braces are literal)."""
    return [m.group(1) for m in PLACEHOLDER_RE.finditer(text) if m.group(1) is not None]


class _Reader:
    """Collects problems while turning raw YAML into content objects."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[ContentProblem] = []
        self.labels: dict[str, dict[str, str]] = {}
        self.label_files: dict[str, tuple[str, int]] = {}
        self.markers: dict[str, frozenset[str]] = {}
        self.look_alikes: dict[str, tuple[str, ...]] = {}

    def problem(self, file: str, line: int | None, message: str, hint: str = "") -> None:
        self.problems.append(ContentProblem(file, line, message, hint))

    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def files(self, folder: str) -> list[Path]:
        base = self.root / folder
        if not base.is_dir():
            self.problem(folder, None, "folder is missing", f"create {folder}/ with YAML files")
            return []
        return sorted(p for p in base.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())

    def document(self, path: Path, key: str, optional: tuple[str, ...] = ()) -> tuple[str, str, Any] | None:
        """Read a file of the shape {locale: xx, <key>: ...}; returns (file, locale, whole mapping)."""
        file = self.display(path)
        data = read_yaml(path, file, self.problems)
        if data is None:
            if not any(p.file == file for p in self.problems):
                self.problem(file, None, "file is empty", f"add 'locale:' and '{key}:'")
            return None
        if not isinstance(data, LineDict):
            self.problem(file, 1, "expected a mapping at the top", f"start with 'locale:' and '{key}:'")
            return None
        allowed = {"locale", key, *optional}
        for name, key_line, hint in unknown_keys(data, allowed):
            self.problem(file, key_line, f"unknown top-level key '{name}'", hint)
        locale = data.get("locale")
        if not isinstance(locale, str) or not re.fullmatch(r"[a-z]{2}", locale):
            self.problem(
                file,
                data.line_of("locale"),
                "missing or invalid 'locale'",
                "write a two-letter language code, e.g. 'locale: en'",
            )
            return None
        folder_locale = path.parent.name
        if re.fullmatch(r"[a-z]{2}", folder_locale) and folder_locale != locale:
            self.problem(
                file,
                data.line_of("locale"),
                f"locale '{locale}' does not match its folder '{folder_locale}'",
                f"set 'locale: {folder_locale}' or move the file",
            )
        if key not in data:
            self.problem(file, data.line, f"missing '{key}:'", f"add a '{key}:' section")
            return None
        return file, locale, data

    def strings(
        self,
        file: str,
        owner: LineDict,
        key: str,
        *,
        required: bool = False,
        check: Callable[[str, int], None] | None = None,
    ) -> tuple[tuple[str, ...], tuple[int, ...]]:
        value = owner.get(key)
        if value is None:
            if required:
                self.problem(file, owner.line, f"missing '{key}'", f"add a '{key}:' list")
            return (), ()
        if not isinstance(value, LineList):
            self.problem(file, owner.line_of(key), f"'{key}' must be a list", "write one item per '- ' line")
            return (), ()
        items: list[str] = []
        lines: list[int] = []
        for index, item in enumerate(value):
            line = value.line_of(index)
            if not isinstance(item, str) or not item.strip():
                self.problem(
                    file,
                    line,
                    f"item {index + 1} of '{key}' must be non-empty text",
                    "quote it if it looks like a number, yes/no or null",
                )
                continue
            if check:
                check(item, line)
            items.append(item.strip())
            lines.append(line)
        return tuple(items), tuple(lines)

    def pattern_check(self, file: str) -> Callable[[str, int], None]:
        def check(pattern: str, line: int) -> None:
            try:
                re.compile(pattern)
            except re.error as exc:
                self.problem(
                    file,
                    line,
                    f"invalid pattern {pattern!r}: {exc}",
                    "patterns are Python regular expressions; escape ( ) [ ] with \\",
                )

        return check

    def intent(self, file: str, locale: str, raw: Any, line: int) -> Intent | None:
        if not isinstance(raw, LineDict):
            self.problem(file, line, "each intent must be a mapping", "start it with '- id: ...'")
            return None
        for name, key_line, hint in unknown_keys(raw, INTENT_KEYS):
            self.problem(file, key_line, f"unknown key '{name}' in an intent", hint)
        intent_id = raw.get("id")
        if not isinstance(intent_id, str) or not ID_RE.match(intent_id):
            self.problem(
                file,
                raw.line_of("id"),
                f"invalid intent id {intent_id!r}",
                "use lowercase letters, digits and _ (e.g. 'safer_use')",
            )
            return None
        title = raw.get("title", intent_id.replace("_", " ").capitalize())
        if not isinstance(title, str) or not title.strip():
            self.problem(file, raw.line_of("title"), f"intent '{intent_id}': title must be text")
            title = intent_id
        response = raw.get("response", intent_id)
        if not isinstance(response, str):
            self.problem(file, raw.line_of("response"), f"intent '{intent_id}': response must be an id")
            response = intent_id
        crisis = raw.get("crisis", False)
        if not isinstance(crisis, bool):
            self.problem(file, raw.line_of("crisis"), f"intent '{intent_id}': crisis must be true or false")
            crisis = False
        check_in = raw.get("check_in", False)
        if not isinstance(check_in, bool) or (check_in and crisis):
            self.problem(
                file,
                raw.line_of("check_in"),
                f"intent '{intent_id}': check_in must be true or false, and not beside 'crisis: true'",
                "a check-in intent holds statements of possible risk; crisis intents hold emergencies",
            )
            check_in = False
        priority = raw.get("priority", 0)
        if not isinstance(priority, int) or isinstance(priority, bool):
            self.problem(
                file,
                raw.line_of("priority"),
                f"intent '{intent_id}': priority must be a whole number",
            )
            priority = 0
        examples, example_lines = self.strings(file, raw, "examples", required=True)
        if not examples and "examples" in raw:
            self.problem(
                file,
                raw.line_of("examples"),
                f"intent '{intent_id}' has no examples",
                "add example messages people would send",
            )
        keywords, _ = self.strings(file, raw, "keywords")
        patterns, _ = self.strings(file, raw, "patterns", check=self.pattern_check(file))
        guards, _ = self.strings(file, raw, "guards", check=self.pattern_check(file))
        urgent, _ = self.strings(file, raw, "urgent", check=self.pattern_check(file))
        if (guards or urgent) and not crisis:
            self.problem(
                file,
                raw.line_of("guards" if guards else "urgent"),
                f"intent '{intent_id}': guards and urgent only apply to crisis intents",
                "remove them or set 'crisis: true'",
            )
        services, _ = self.strings(file, raw, "services")
        for kind in services:
            if kind not in SERVICE_KINDS:
                self.problem(
                    file,
                    raw.line_of("services"),
                    f"intent '{intent_id}': unknown service kind '{kind}'",
                    "known kinds: " + ", ".join(SERVICE_KINDS),
                )
        return Intent(
            id=intent_id,
            title=title.strip(),
            response=response,
            locale=locale,
            examples=examples,
            example_lines=example_lines,
            source=SourceRef(file, raw.line),
            keywords=keywords,
            patterns=patterns,
            guards=guards,
            urgent=urgent,
            crisis=crisis,
            check_in=check_in,
            priority=priority,
            follow_ups=self.follow_ups(file, intent_id, raw),
            services=tuple(k for k in services if k in SERVICE_KINDS),
            key_lines=frozen_map(raw.key_lines),
        )

    def follow_ups(self, file: str, intent_id: str, raw: LineDict) -> tuple[FollowUp, ...]:
        value = raw.get("follow_ups")
        if value is None:
            return ()
        if not isinstance(value, LineList):
            self.problem(
                file,
                raw.line_of("follow_ups"),
                f"intent '{intent_id}': follow_ups must be a list",
                "write items like '- {label: \"Naloxone\", intent: naloxone}'",
            )
            return ()
        result = []
        for index, item in enumerate(value):
            line = value.line_of(index)
            if (
                not isinstance(item, LineDict)
                or not isinstance(item.get("label"), str)
                or not isinstance(item.get("intent"), str)
            ):
                self.problem(
                    file,
                    line,
                    f"intent '{intent_id}': follow-up {index + 1} needs a label and an intent",
                    "write '- {label: \"Naloxone\", intent: naloxone}'",
                )
                continue
            result.append(FollowUp(item["label"].strip(), item["intent"].strip()))
        return tuple(result)

    def intents(self) -> dict[str, dict[str, Intent]]:
        by_locale: dict[str, dict[str, Intent]] = {}
        for path in self.files("intents"):
            if path.stem == "synonyms":
                continue
            doc = self.document(path, "intents", optional=("look_alikes",))
            if doc is None:
                continue
            file, locale, data = doc
            if "look_alikes" in data:
                found, _ = self.strings(file, data, "look_alikes")
                self.look_alikes[locale] = (*self.look_alikes.get(locale, ()), *found)
            body = data["intents"]
            if not isinstance(body, LineList):
                self.problem(file, None, "'intents' must be a list", "start each intent with '- id: ...'")
                continue
            seen = by_locale.setdefault(locale, {})
            for index, raw in enumerate(body):
                intent = self.intent(file, locale, raw, body.line_of(index))
                if intent is None:
                    continue
                if intent.id in seen:
                    self.problem(
                        file,
                        intent.source.line,
                        f"duplicate intent id '{intent.id}'",
                        f"it is already defined at {seen[intent.id].source}",
                    )
                    continue
                seen[intent.id] = intent
        return by_locale

    def responses(self) -> dict[str, dict[str, Response]]:
        by_locale: dict[str, dict[str, Response]] = {}
        for path in self.files("responses"):
            doc = self.document(path, "responses", optional=("labels",))
            if doc is None:
                continue
            file, locale, data = doc
            if "labels" in data:
                self.read_labels(file, locale, data)
            body = data["responses"]
            if not isinstance(body, LineDict):
                self.problem(
                    file,
                    None,
                    "'responses' must be a mapping of id to text",
                    "write 'naloxone:' followed by '- |' and the text",
                )
                continue
            seen = by_locale.setdefault(locale, {})
            for response_id, value in body.items():
                line = body.line_of(response_id)
                if not ID_RE.match(response_id):
                    self.problem(
                        file,
                        line,
                        f"invalid response id {response_id!r}",
                        "use lowercase letters, digits and _",
                    )
                    continue
                if response_id in seen:
                    self.problem(
                        file,
                        line,
                        f"duplicate response id '{response_id}'",
                        f"it is already defined at {seen[response_id].source}",
                    )
                    continue
                variants, lines = self.variants(file, response_id, value, line)
                if variants:
                    seen[response_id] = Response(response_id, locale, variants, SourceRef(file, line), lines)
        return by_locale

    def read_labels(self, file: str, locale: str, data: LineDict) -> None:
        """Button labels the engine shows (yes, no, the language's own name...), per locale."""
        raw = data["labels"]
        if not isinstance(raw, LineDict):
            self.problem(
                file, data.line_of("labels"), "'labels' must map names to text", "write 'yes: \"Yes\"'"
            )
            return
        table = self.labels.setdefault(locale, {})
        for name, value in raw.items():
            line = raw.line_of(name)
            if name not in LABELS:
                self.problem(file, line, f"unknown label '{name}'", "known: " + ", ".join(LABELS))
            elif not isinstance(value, str) or not value.strip():
                self.problem(file, line, f"label '{name}' must be text", f"write '{name}: \"...\"'")
            elif name in table:
                self.problem(file, line, f"label '{name}' is defined twice for locale '{locale}'")
            else:
                table[name] = value.strip()
                self.label_files[locale] = (file, data.line_of("labels"))

    def variants(
        self, file: str, response_id: str, value: Any, line: int
    ) -> tuple[tuple[str, ...], tuple[int, ...]]:
        raw_items: list[tuple[Any, int]]
        if isinstance(value, str):
            raw_items = [(value, line)]
        elif isinstance(value, LineList):
            raw_items = [(item, value.line_of(i)) for i, item in enumerate(value)]
        else:
            self.problem(
                file,
                line,
                f"response '{response_id}' must be text or a list of variants",
                "write '- |' and the text on the following lines",
            )
            return (), ()
        texts: list[str] = []
        lines: list[int] = []
        for item, item_line in raw_items:
            if not isinstance(item, str) or not item.strip():
                self.problem(file, item_line, f"response '{response_id}': a variant is empty or not text")
                continue
            text = item.strip()
            for name in placeholders_in(text):
                if name not in KNOWN_PLACEHOLDERS:
                    self.problem(
                        file,
                        item_line,
                        f"response '{response_id}': unknown placeholder {{{name}}}",
                        "known: " + ", ".join("{" + p + "}" for p in sorted(KNOWN_PLACEHOLDERS)),
                    )
            for message in check_html(text):
                self.problem(
                    file,
                    item_line,
                    f"response '{response_id}': {message}",
                    "Telegram accepts <b> <i> <u> <s> <a href> <code> <pre> <blockquote>; "
                    "write & < > as &amp; &lt; &gt;",
                )
            texts.append(text)
            lines.append(item_line)
        return tuple(texts), tuple(lines)

    def synonyms(
        self,
    ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, frozenset[str]]], dict[str, frozenset[str]]]:
        """Synonyms, short replies and stop words per locale, from intents/<locale>/synonyms.yml."""
        by_locale: dict[str, dict[str, str]] = {}
        replies: dict[str, dict[str, frozenset[str]]] = {}
        stopwords: dict[str, frozenset[str]] = {}
        for path in sorted((self.root / "intents").glob("*/synonyms.y*ml")):
            doc = self.document(path, "synonyms", optional=("replies", "stopwords", "markers"))
            if doc is None:
                continue
            file, locale, data = doc
            replies[locale] = self.short_replies(file, data)
            words, _ = self.strings(file, data, "stopwords")
            stopwords[locale] = frozenset(basic_normalise(w) for w in words)
            markers, _ = self.strings(file, data, "markers")
            self.markers[locale] = frozenset(basic_normalise(w) for w in markers)
            body = data["synonyms"]
            if not isinstance(body, LineDict):
                self.problem(
                    file,
                    None,
                    "'synonyms' must map a word to a list of variants",
                    "write 'naloxone: [narcan, narcn]'",
                )
                continue
            table = by_locale.setdefault(locale, {})
            for canonical, variants in body.items():
                line = body.line_of(canonical)
                if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                    self.problem(
                        file,
                        line,
                        f"synonyms of '{canonical}' must be a list of text",
                        f"write '{canonical}: [variant one, variant two]'",
                    )
                    continue
                for variant in variants:
                    key = " ".join(variant.lower().split())
                    if not key or key == canonical:
                        continue
                    if key in table and table[key] != canonical:
                        self.problem(
                            file,
                            line,
                            f"'{key}' is a synonym of both '{table[key]}' and '{canonical}'",
                            "a variant can only stand for one word",
                        )
                        continue
                    table[key] = canonical
        return by_locale, replies, stopwords

    def short_replies(self, file: str, data: LineDict) -> dict[str, frozenset[str]]:
        """Words that answer the bot's own question: yes, no, tell me more."""
        raw = data.get("replies")
        if raw is None:
            return {}
        if not isinstance(raw, LineDict):
            self.problem(
                file,
                data.line_of("replies"),
                "'replies' must map yes/no/more to lists",
                "write 'yes: [yes, yeah, sure]'",
            )
            return {}
        result: dict[str, frozenset[str]] = {}
        for kind in raw:
            if kind not in SHORT_REPLY_KINDS:
                self.problem(
                    file,
                    raw.line_of(kind),
                    f"unknown reply kind '{kind}'",
                    "use one of: " + ", ".join(SHORT_REPLY_KINDS),
                )
                continue
            words, _ = self.strings(file, raw, kind)
            result[kind] = frozenset(basic_normalise(w) for w in words)
        return result

    def regions(self) -> tuple[dict[str, Region], str]:
        path = self.root / "resources" / "regions.yml"
        file = self.display(path)
        if not path.exists():
            self.problem(file, None, "resources file is missing", "create resources/regions.yml")
            return {}, ""
        data = read_yaml(path, file, self.problems)
        if not isinstance(data, LineDict) or not isinstance(data.get("regions"), LineDict):
            if data is not None:
                self.problem(file, 1, "expected 'default:' and a 'regions:' mapping")
            return {}, ""
        regions: dict[str, Region] = {}
        table: LineDict = data["regions"]
        for code, raw in table.items():
            line = table.line_of(code)
            if not isinstance(raw, LineDict):
                self.problem(file, line, f"region '{code}' must be a mapping of names to text")
                continue
            translations: dict[str, dict[str, str]] = {}
            own: list[str] = []
            for key, value in raw.items():
                if re.fullmatch(r"[a-z]{2}", key) and isinstance(value, LineDict):
                    where = f"region '{code}', locale '{key}'"
                    translations[key] = self.region_values(file, value, value, where)
                else:
                    own.append(key)
            values = self.region_values(file, raw, own, f"region '{code}'")
            for name in REGION_PLACEHOLDERS:
                key = "name" if name == "region_name" else name
                if name not in values and key not in raw:  # a present but invalid value is reported above
                    self.problem(
                        file,
                        raw.line,
                        f"region '{code}' is missing '{key}'",
                        "every region needs every resource, so no reply has a gap",
                    )
            regions[code] = Region(
                code,
                frozen_map(values),
                SourceRef(file, line),
                frozen_map({k: frozen_map(v) for k, v in translations.items()}),
            )
        default = data.get("default")
        if not isinstance(default, str) or default not in regions:
            self.problem(
                file,
                data.line_of("default"),
                f"default region {default!r} is not defined",
                "set 'default:' to one of: " + ", ".join(sorted(regions)),
            )
            default = next(iter(regions), "")
        return regions, default

    def region_values(self, file: str, raw: LineDict, keys: Iterable[str], where: str) -> dict[str, str]:
        """The region values under `keys` by placeholder name; unknown keys and bad values are reported.

        Used for a region's own values and for its values in one locale (`es: {name: Estados Unidos}`),
        where missing keys fall back to the region's own.
        """
        values: dict[str, str] = {}
        for key in keys:
            name = "region_name" if key == "name" else key
            if name not in REGION_PLACEHOLDERS:
                self.problem(
                    file,
                    raw.line_of(key),
                    f"{where}: unknown key '{key}'",
                    "known: name, " + ", ".join(REGION_PLACEHOLDERS[1:]),
                )
                continue
            text = self.region_text(file, raw, key, where)
            if text is not None:
                values[name] = text
        return values

    def region_text(self, file: str, raw: LineDict, key: str, where: str) -> str | None:
        """A region value, which must be quoted text: unquoted, 000 loads as 0 and 911 as a number."""
        value = raw[key]
        if is_bare_number(value):
            written = raw.as_written(key)
            self.problem(
                file,
                raw.line_of(key),
                f"{where}: '{key}' is an unquoted number, so YAML reads {written} as the number {value!r}",
                f"quote it: '{written}' (numbers people dial must be text)",
            )
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(file, raw.line_of(key), f"{where}: '{key}' must be text", 'quote it, e.g. "911"')
            return None
        return value.strip()

    def cross_check(
        self, intents: dict[str, dict[str, Intent]], responses: dict[str, dict[str, Response]]
    ) -> None:
        for locale, table in intents.items():
            known = responses.get(locale, {})
            if not any(intent.crisis for intent in table.values()):
                self.problem(
                    "intents/" + locale,
                    None,
                    f"locale '{locale}' has no crisis intent",
                    "crisis detection needs at least one intent with 'crisis: true'",
                )
            for intent in table.values():
                if intent.response not in known:
                    self.problem(
                        intent.source.file,
                        intent.line_of("response"),
                        f"intent '{intent.id}' uses unknown response '{intent.response}'",
                        f"add '{intent.response}:' to a file in responses/{locale}/",
                    )
                for follow in intent.follow_ups:
                    if follow.intent not in table:
                        self.problem(
                            intent.source.file,
                            intent.line_of("follow_ups"),
                            f"intent '{intent.id}' has a follow-up to unknown intent '{follow.intent}'",
                            "use an intent id defined in intents/" + locale,
                        )
            for name in SYSTEM_RESPONSES:
                if name not in known:
                    self.problem(
                        "responses/" + locale,
                        None,
                        f"system response '{name}' is missing",
                        f"add '{name}:' to responses/{locale}/{_system_file(name)}",
                    )
        for locale in responses:
            if locale not in intents:
                self.problem("responses/" + locale, None, f"responses for locale '{locale}' have no intents")


def _system_file(response_id: str) -> str:
    if response_id in MIXING_RESPONSES:
        return "mixing.yml"
    return "crisis.yml" if response_id in CRISIS_RESPONSES else "system.yml"


def content_version(root: Path, files: list[Path]) -> str:
    """A short hash of every content file, so processes can tell whether they agree."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def load_content(root: Path | None = None) -> Content:
    """Load and validate everything; raise `ContentError` listing every problem found."""
    root = (root or default_content_root()).resolve()
    reader = _Reader(root)
    intents = reader.intents()
    responses = reader.responses()
    synonyms, replies, stopwords = reader.synonyms()
    regions, default_region = reader.regions()
    if not any(p.message.startswith("YAML syntax") for p in reader.problems):
        # A file that did not parse would make every reference into it look broken.
        reader.cross_check(intents, responses)
        reader.problems.extend(duplicate_examples(intents, synonyms))
        reader.problems.extend(crisis_response_problems(intents, responses))
        default = DEFAULT_LOCALE if DEFAULT_LOCALE in intents else min(intents, default="")
        reader.problems.extend(
            locale_problems(default, intents, responses, reader.labels, reader.label_files, regions)
        )
    if not intents and not any(p.severity == "error" for p in reader.problems):
        reader.problem("intents", None, "no intents found", "add YAML files under intents/<locale>/")
    if any(p.severity == "error" for p in reader.problems):
        raise ContentError(reader.problems)
    locales = {
        code: Locale(
            code,
            frozen_map(table),
            frozen_map(responses.get(code, {})),
            frozen_map(synonyms.get(code, {})),
            frozen_map(replies.get(code, {})),
            stopwords.get(code, frozenset()),
            frozen_map(reader.labels.get(code, {})),
            reader.markers.get(code, frozenset()),
            reader.look_alikes.get(code, ()),
        )
        for code, table in intents.items()
    }
    files = [
        p
        for folder in ("intents", "responses", "resources", "services", "substances")
        for p in sorted((root / folder).rglob("*.y*ml"))
    ]
    default_locale = DEFAULT_LOCALE if DEFAULT_LOCALE in locales else sorted(locales)[0]
    return Content(
        locales=frozen_map(locales),
        regions=frozen_map(regions),
        default_region=default_region,
        default_locale=default_locale,
        version=content_version(root, files),
        files=tuple(str(p.relative_to(root)) for p in files),
    )
