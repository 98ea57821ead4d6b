"""Read substances/lexicon.yml and substances/combinations.yml into one validated `MixingGuide`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.content.loader import ID_RE
from bot.content.model import SourceRef, frozen_map
from bot.content.yamlfile import LineDict, LineList, read_yaml, unknown_keys
from bot.errors import ContentProblem
from bot.nlu.normalise import basic_normalise
from bot.substances.model import (
    NOTE_LOCALES,
    RISK_LEVELS,
    SAFE_WORDS,
    Alias,
    Combination,
    Cues,
    Lexicon,
    MixingGuide,
    Substance,
    SubstanceClass,
)

FOLDER = "substances"
LEXICON_FILE = "lexicon.yml"
COMBINATIONS_FILE = "combinations.yml"
# One- and two-letter names ("k", "x", "g") are everyday letters far more often than drugs.
MIN_NAME_CHARS = 3
# Six notes of this length still fit one Telegram message with the advice around them.
NOTE_MAX_CHARS = 450
SUBSTANCE_KEYS = {"id", "class", "names", "exact", "ambiguous", *NOTE_LOCALES}
ROW_KEYS = {"pair", "risk", "note", "source"}
CUE_KEYS = ("together", "weak", "apart", "not_after", "not_before")
# Words a note about two depressants must contain in each language: the overdose risk and the antidote.
DEPRESSANT_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("overdose", "naloxone"),
    "es": ("sobredosis", "naloxona"),
}


class _GuideReader:
    """Collects problems while turning the two YAML files into substance objects."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[ContentProblem] = []

    def problem(self, file: str, line: int | None, message: str, hint: str = "") -> None:
        self.problems.append(ContentProblem(file, line, message, hint))

    def read(self, name: str, top: tuple[str, ...]) -> tuple[str, LineDict] | None:
        file = f"{FOLDER}/{name}"
        path = self.root / FOLDER / name
        if not path.exists():
            self.problem(
                file,
                None,
                "file is missing",
                f"create {file} (see docs/content-reference.md: Mixing substances)",
            )
            return None
        data = read_yaml(path, file, self.problems)
        if not isinstance(data, LineDict):
            if data is not None or not any(p.file == file for p in self.problems):
                self.problem(file, 1, "expected a mapping at the top", "start with " + ", ".join(top))
            return None
        for key, key_line, hint in unknown_keys(data, top):
            self.problem(file, key_line, f"unknown top-level key '{key}'", hint)
        return file, data

    def texts(self, file: str, owner: LineDict, key: str) -> list[tuple[str, int]]:
        value = owner.get(key)
        if value is None:
            return []
        if not isinstance(value, LineList):
            self.problem(
                file, owner.line_of(key), f"'{key}' must be a list", "write [one, two] or '- ' lines"
            )
            return []
        items: list[tuple[str, int]] = []
        for index, item in enumerate(value):
            if not isinstance(item, str | int) or isinstance(item, bool) or not str(item).strip():
                self.problem(file, value.line_of(index), f"item {index + 1} of '{key}' must be text")
                continue
            items.append((str(item).strip(), value.line_of(index)))
        return items

    def localised(self, file: str, owner: LineDict, what: str, line: int) -> dict[str, str]:
        """Text in every note language, e.g. 'en: opioids' and 'es: opioides'."""
        found: dict[str, str] = {}
        for locale in NOTE_LOCALES:
            value = owner.get(locale)
            if not isinstance(value, str) or not value.strip():
                self.problem(
                    file,
                    owner.line_of(locale) if locale in owner else line,
                    f"{what} has no '{locale}' text",
                    f"add '{locale}:' with the text in that language",
                )
                continue
            found[locale] = " ".join(value.split())
        return found

    # -- lexicon -------------------------------------------------------------------------

    def classes(self, file: str, data: LineDict) -> dict[str, SubstanceClass]:
        raw = data.get("classes")
        if not isinstance(raw, LineDict):
            self.problem(
                file, data.line_of("classes"), "'classes' must be a mapping", "write 'opioid: {...}'"
            )
            return {}
        found: dict[str, SubstanceClass] = {}
        for class_id, body in raw.items():
            line = raw.line_of(class_id)
            if not ID_RE.match(class_id) or not isinstance(body, LineDict):
                self.problem(
                    file, line, f"class {class_id!r} needs a lowercase id and a mapping",
                    "write 'opioid: {depressant: true, en: opioids, es: opioides}'",
                )  # fmt: skip
                continue
            depressant = body.get("depressant")
            if not isinstance(depressant, bool):
                self.problem(
                    file, body.line_of("depressant"), f"class '{class_id}': depressant must be true or false",
                    "true when it slows breathing (opioids, benzodiazepines, alcohol, GHB, ...)",
                )  # fmt: skip
                depressant = False
            names = self.localised(file, body, f"class '{class_id}'", line)
            found[class_id] = SubstanceClass(class_id, depressant, frozen_map(names), SourceRef(file, line))
        return found

    def lexicon(self) -> Lexicon | None:
        doc = self.read(LEXICON_FILE, ("classes", "substances", "cues", "never"))
        if doc is None:
            return None
        file, data = doc
        classes = self.classes(file, data)
        substances: dict[str, Substance] = {}
        aliases: dict[str, Alias] = {}
        owners: dict[str, tuple[str, int]] = {}
        body = data.get("substances")
        if not isinstance(body, LineList):
            self.problem(
                file, data.line_of("substances"), "'substances' must be a list", "start each with '- id:'"
            )
            body = LineList()
        for index, raw in enumerate(body):
            line = body.line_of(index)
            substance = self.substance(file, raw, line, classes)
            if substance is None:
                continue
            if substance.id in substances:
                where = substances[substance.id].source
                self.problem(
                    file, line, f"duplicate substance id '{substance.id}'", f"it is already at {where}"
                )
                continue
            substances[substance.id] = substance
            assert isinstance(raw, LineDict)
            for alias, alias_line in self.names_of(file, raw, substance):
                owner = owners.get(alias.text)
                if owner is not None and owner[0] != substance.id:
                    self.problem(
                        file,
                        alias_line,
                        f"name '{alias.text}' belongs to both '{owner[0]}' and '{substance.id}'",
                        f"keep it under one substance (the other is at {file}:{owner[1]})",
                    )
                    continue
                if owner is None:
                    owners[alias.text] = (substance.id, alias_line)
                    aliases[alias.text] = alias
        never = frozenset(basic_normalise(word) for word, _ in self.texts(file, data, "never"))
        return Lexicon(
            frozen_map(classes), frozen_map(substances), frozen_map(aliases), self.cues(file, data), never
        )

    def substance(
        self, file: str, raw: Any, line: int, classes: dict[str, SubstanceClass]
    ) -> Substance | None:
        if not isinstance(raw, LineDict):
            self.problem(file, line, "each substance must be a mapping", "start it with '- id: ...'")
            return None
        substance_id = raw.get("id")
        if not isinstance(substance_id, str) or not ID_RE.match(substance_id):
            self.problem(
                file, raw.line_of("id"), f"invalid substance id {substance_id!r}", "use a-z, 0-9 and _"
            )
            return None
        for key, key_line, hint in unknown_keys(raw, SUBSTANCE_KEYS):
            self.problem(file, key_line, f"unknown key '{key}' in substance '{substance_id}'", hint)
        class_id = raw.get("class")
        if class_id not in classes:
            self.problem(
                file, raw.line_of("class"), f"substance '{substance_id}' has unknown class {class_id!r}",
                "use one of: " + ", ".join(sorted(classes)),
            )  # fmt: skip
            return None
        names = self.localised(file, raw, f"substance '{substance_id}'", raw.line)
        if len(names) != len(NOTE_LOCALES):
            return None
        return Substance(substance_id, str(class_id), frozen_map(names), SourceRef(file, raw.line))

    def names_of(self, file: str, raw: LineDict, substance: Substance) -> list[tuple[Alias, int]]:
        """Display names and 'names' allow typos; 'exact' and 'ambiguous' names must be written as is."""
        # The strictest listing of a name wins: an ambiguous display name ("crack") stays ambiguous.
        listed = [(n, line, False, True) for n, line in self.texts(file, raw, "ambiguous")]
        listed += [(n, line, False, False) for n, line in self.texts(file, raw, "exact")]
        listed += [(n, raw.line_of(loc), True, False) for loc, n in substance.names.items()]
        listed += [(n, line, True, False) for n, line in self.texts(file, raw, "names")]
        found: dict[str, tuple[Alias, int]] = {}
        for name, line, fuzzy, ambiguous in listed:
            text = basic_normalise(name)
            if len(text.replace(" ", "")) < MIN_NAME_CHARS:
                self.problem(
                    file, line, f"name {name!r} of '{substance.id}' is too short",
                    f"names need {MIN_NAME_CHARS}+ letters; one or two letters match everyday text",
                )  # fmt: skip
                continue
            found.setdefault(text, (Alias(text, substance.id, fuzzy, ambiguous), line))
        return list(found.values())

    def cues(self, file: str, data: LineDict) -> Cues:
        raw = data.get("cues")
        if not isinstance(raw, LineDict):
            self.problem(
                file, data.line_of("cues"), "'cues' must be a mapping", "add: " + ", ".join(CUE_KEYS)
            )
            raw = LineDict()
            raw.key_lines = {}
        for key, key_line, hint in unknown_keys(raw, CUE_KEYS):
            self.problem(file, key_line, f"unknown cue list '{key}'", hint)
        lists = {
            key: frozenset(basic_normalise(text) for text, _ in self.texts(file, raw, key))
            for key in CUE_KEYS
        }
        if not lists["together"]:
            self.problem(
                file, raw.line, "no 'together' cues", "list words like mix, with, together, con, mezclar"
            )  # fmt: skip
        return Cues(**lists)

    # -- combinations --------------------------------------------------------------------

    def levels(self, file: str, data: LineDict) -> dict[str, dict[str, str]]:
        raw = data.get("levels")
        if not isinstance(raw, LineDict):
            self.problem(file, data.line_of("levels"), "'levels' must map each risk level to labels")
            return {}
        found: dict[str, dict[str, str]] = {}
        for level, body in raw.items():
            line = raw.line_of(level)
            if level not in RISK_LEVELS:
                self.problem(file, line, f"unknown risk level '{level}'", "use: " + ", ".join(RISK_LEVELS))
                continue
            if not isinstance(body, LineDict):
                self.problem(file, line, f"level '{level}' needs labels", "write '{en: ..., es: ...}'")
                continue
            labels = self.localised(file, body, f"level '{level}'", line)
            self.not_safe(file, labels, body, f"the label of '{level}'")
            found[level] = labels
        for level in RISK_LEVELS:
            if level not in found and level not in raw:
                self.problem(
                    file,
                    raw.line,
                    f"risk level '{level}' has no label",
                    f"add '{level}: {{en: ..., es: ...}}'",
                )
        return found

    def not_safe(self, file: str, texts: dict[str, str], owner: LineDict, what: str) -> None:
        for locale, text in texts.items():
            found = SAFE_WORDS[locale].search(text) if locale in SAFE_WORDS else None
            if found:
                self.problem(
                    file, owner.line_of(locale), f"{what} calls a combination '{found.group(0)}' ({locale})",
                    "no mix is risk-free: say what the risk is and how to lower it",
                )  # fmt: skip

    def combinations(
        self, lexicon: Lexicon
    ) -> tuple[dict[frozenset[str], Combination], dict[str, dict[str, str]]]:
        doc = self.read(COMBINATIONS_FILE, ("levels", "combinations"))
        if doc is None:
            return {}, {}
        file, data = doc
        levels = self.levels(file, data)
        body = data.get("combinations")
        if not isinstance(body, LineList):
            self.problem(
                file,
                data.line_of("combinations"),
                "'combinations' must be a list",
                "start rows with '- pair:'",
            )
            return {}, levels
        table: dict[frozenset[str], Combination] = {}
        for index, raw in enumerate(body):
            row = self.row(file, raw, body.line_of(index), lexicon)
            if row is None:
                continue
            key = frozenset(row.pair)
            if key in table:
                self.problem(
                    file, row.source.line, f"pair {' + '.join(row.pair)} is listed twice",
                    f"keep one row (the other is at {table[key].source})",
                )  # fmt: skip
                continue
            table[key] = row
        return table, levels

    def row(self, file: str, raw: Any, line: int, lexicon: Lexicon) -> Combination | None:
        if not isinstance(raw, LineDict):
            self.problem(file, line, "each combination must be a mapping", "start it with '- pair: [a, b]'")
            return None
        for key, key_line, hint in unknown_keys(raw, ROW_KEYS):
            self.problem(file, key_line, f"unknown key '{key}' in a combination", hint)
        pair = raw.get("pair")
        if not isinstance(pair, LineList) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            self.problem(
                file,
                raw.line_of("pair"),
                "'pair' must name two substances or classes",
                "write 'pair: [opioid, alcohol]'",
            )
            return None
        ok = True
        for name in pair:
            if name not in lexicon.substances and name not in lexicon.classes:
                self.problem(
                    file, raw.line_of("pair"), f"unknown substance or class '{name}'",
                    f"use an id or class from {FOLDER}/{LEXICON_FILE}",
                )  # fmt: skip
                ok = False
        risk = raw.get("risk")
        if risk not in RISK_LEVELS:
            self.problem(
                file, raw.line_of("risk"), f"unknown risk level {risk!r}", "use: " + ", ".join(RISK_LEVELS)
            )
            ok = False
        citation = raw.get("source")
        if not isinstance(citation, str) or not citation.strip():
            self.problem(
                file, raw.line_of("source") if "source" in raw else raw.line, "combination has no 'source'",
                "cite a public body, e.g. 'source: FDA Drug Safety Communication, 2016'",
            )  # fmt: skip
            ok = False
        note = raw.get("note")
        if not isinstance(note, LineDict):
            self.problem(
                file,
                raw.line_of("note") if "note" in raw else raw.line,
                "combination has no 'note'",
                "add 'note:' with en: and es:",
            )
            return None
        notes = self.localised(file, note, "the note", note.line)
        self.not_safe(file, notes, note, "the note")
        for locale, text in notes.items():
            if len(text) > NOTE_MAX_CHARS:
                self.problem(
                    file,
                    note.line_of(locale),
                    f"the {locale} note has {len(text)} characters",
                    f"keep it under {NOTE_MAX_CHARS}",
                )
        if ok and all(self.depressant(lexicon, name) for name in pair):
            for locale, words in DEPRESSANT_WORDS.items():
                missing = [w for w in words if w not in basic_normalise(notes.get(locale, ""))]
                if locale in notes and missing:
                    self.problem(
                        file,
                        note.line_of(locale),
                        f"a depressant combination's {locale} note must mention {' and '.join(missing)}",
                        "say plainly that it raises overdose risk; point to naloxone and never using alone",
                    )
        if not ok or not isinstance(citation, str) or len(notes) != len(NOTE_LOCALES):
            return None
        return Combination(
            (pair[0], pair[1]), str(risk), frozen_map(notes), citation.strip(), SourceRef(file, raw.line)
        )

    @staticmethod
    def depressant(lexicon: Lexicon, name: str) -> bool:
        if name in lexicon.substances:
            return lexicon.depressant(name)
        return lexicon.classes[name].depressant


def load_guide(root: Path) -> tuple[MixingGuide | None, list[ContentProblem]]:
    """Load and validate the substances folder; the guide is None when anything is wrong or there is no
    folder (a deployment without it gives the generic mixing answer)."""
    if not (root / "substances").is_dir():
        return None, []
    reader = _GuideReader(root)
    lexicon = reader.lexicon()
    if lexicon is None:
        return None, reader.problems
    table, levels = reader.combinations(lexicon)
    if reader.problems:
        return None, reader.problems
    return MixingGuide(
        lexicon, frozen_map(table), frozen_map({k: frozen_map(v) for k, v in levels.items()})
    ), []
