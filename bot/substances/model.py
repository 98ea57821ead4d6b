"""Frozen substance objects: the lexicon of names and the table of combinations."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.content.model import SourceRef

# Most dangerous first; the order sorts replies. There is no "safe" level on purpose.
RISK_LEVELS: tuple[str, ...] = ("dangerous", "high", "caution", "low")
# Words that call a combination safe, per language; `validate` refuses them in notes and labels and
# `validate --strict` in the mixing replies. Chosen to catch the claim, not the advice around it:
#   en  "safe" as a whole word also catches "safe to" and "is it safe"; "safer" (how to lower a risk)
#       and "unsafe" are other words. "is fine" / "are fine" is the same claim in other words.
#   es  "seguro/segura(s)" catches "es seguro" and "segura de usar", but not "más seguro" (comparative,
#       like "safer") nor "seguridad"/"con seguridad" (doing something safely). "sin riesgo" and
#       "sin peligro" are the claim too; "riesgo menor, pero no cero" is not.
SAFE_WORDS: dict[str, re.Pattern[str]] = {
    "en": re.compile(r"\bsafe\b|\bharmless\b|\bno risk\b|\b(?:is|are) fine\b", re.IGNORECASE),
    "es": re.compile(
        r"(?<!m[aá]s )\bsegur[oa]s?\b|\bsin (?:ning[uú]n )?(?:riesgo|peligro)\b|\binofensiv[oa]s?\b",
        re.IGNORECASE,
    ),
}
# Every label and note is written in each of these languages.
NOTE_LOCALES: tuple[str, ...] = ("en", "es")
DEFAULT_NOTE_LOCALE = "en"


@dataclass(frozen=True)
class SubstanceClass:
    """A family of substances that share risks (opioids, benzodiazepines, ...)."""

    id: str
    depressant: bool
    names: Mapping[str, str]
    source: SourceRef


@dataclass(frozen=True)
class Substance:
    """One substance with its display names per language."""

    id: str
    class_id: str
    names: Mapping[str, str]
    source: SourceRef

    def name(self, locale: str | None) -> str:
        return self.names.get(locale or "", self.names[DEFAULT_NOTE_LOCALE])


@dataclass(frozen=True)
class Alias:
    """A normalised name that stands for a substance, and how strictly it must be written."""

    text: str
    substance: str
    fuzzy: bool  # typos allowed ("xanex" -> xanax)
    ambiguous: bool  # also an everyday word ("bars", "coke"): skipped in ordinary-word context


@dataclass(frozen=True)
class Cues:
    """Words that say a message is about taking substances together, or about choosing between them."""

    together: frozenset[str]  # "mix", "with", "con", "juntos": enough on their own
    weak: frozenset[str]  # "and", "on", "y": enough unless the message compares or switches
    apart: frozenset[str]  # "or", "instead of", "switch", "diferencia"
    not_after: frozenset[str]  # "at the bars": an ambiguous name after these is an ordinary word
    not_before: frozenset[str]  # "drink water": an ambiguous name before these is an ordinary word


@dataclass(frozen=True)
class Lexicon:
    """Every substance and every name for it."""

    classes: Mapping[str, SubstanceClass]
    substances: Mapping[str, Substance]
    aliases: Mapping[str, Alias]
    cues: Cues
    never: frozenset[str]  # everyday words that typo tolerance must leave alone

    def depressant(self, substance_id: str) -> bool:
        substance = self.substances[substance_id]
        return self.classes[substance.class_id].depressant


@dataclass(frozen=True)
class Combination:
    """One row of the table: two substances or classes, a risk level and a note per language."""

    pair: tuple[str, str]  # substance ids or class ids
    risk: str
    notes: Mapping[str, str]
    citation: str
    source: SourceRef

    def note(self, locale: str | None) -> str:
        return self.notes.get(locale or "", self.notes[DEFAULT_NOTE_LOCALE])


@dataclass(frozen=True)
class PairAdvice:
    """Two substances from one message and what the table says about them (None: no row)."""

    first: Substance
    second: Substance
    combination: Combination | None
    overdose_risk: bool  # an opioid or another drug that slows breathing: naloxone, never use alone

    @property
    def rank(self) -> int:
        if self.combination is None:
            return len(RISK_LEVELS)
        return RISK_LEVELS.index(self.combination.risk)


@dataclass(frozen=True)
class MixingAdvice:
    """What to say about a message that names substances taken together."""

    substances: tuple[Substance, ...]
    known: tuple[PairAdvice, ...]  # most dangerous first
    unknown: tuple[PairAdvice, ...]

    @property
    def overdose_risk(self) -> bool:
        return any(p.overdose_risk for p in self.known + self.unknown)


@dataclass(frozen=True)
class MixingGuide:
    """The lexicon and the combinations table, loaded and validated together."""

    lexicon: Lexicon
    combinations: Mapping[frozenset[str], Combination]
    levels: Mapping[str, Mapping[str, str]]  # risk level -> locale -> label

    def label(self, risk: str, locale: str | None) -> str:
        labels = self.levels[risk]
        return labels.get(locale or "", labels[DEFAULT_NOTE_LOCALE])

    def combination(self, first: Substance, second: Substance) -> Combination | None:
        """The most specific row: two substances, then a substance and a class, then two classes."""
        tiers = (
            [(first.id, second.id)],
            [(first.id, second.class_id), (first.class_id, second.id)],
            [(first.class_id, second.class_id)],
        )
        for tier in tiers:
            rows = [self.combinations.get(frozenset(key)) for key in tier]
            found = [row for row in rows if row is not None]
            if found:
                return min(found, key=lambda row: RISK_LEVELS.index(row.risk))
        return None
