"""Find substance names in a message (typos and slang included) and tell whether they are taken together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.nlu.normalise import basic_normalise
from bot.substances.model import Alias, Cues, Lexicon

# Shorter words are exact-only: "coke", "bupe" and "meth" sit one typo away from everyday words.
FUZZY_MIN_CHARS = 5
# One typo up to this length, two beyond it ("buprenorfine", "benzodiazapine").
ONE_TYPO_MAX_CHARS = 8
# Symbols that join two names: "coke + molly", "xanax & methadone".
JOINING_SYMBOLS = ("+", "&")


@dataclass(frozen=True)
class Mention:
    """A substance named in a message, with the words that named it."""

    substance: str
    start: int
    words: str


def _contains(words: list[str], phrases: frozenset[str]) -> bool:
    padded = f" {' '.join(words)} "
    return any(f" {phrase} " in padded for phrase in phrases)


class Recogniser:
    """Looks substance names up exactly, then with typo tolerance for long enough words."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.longest = max((len(a.split()) for a in lexicon.aliases), default=0)

    @cached_property
    def _fuzzy_pool(self) -> Mapping[tuple[str, int], list[str]]:
        """Typo-tolerant names grouped by first letter and word count (typos rarely hit the first letter)."""
        pool: dict[tuple[str, int], list[str]] = {}
        for text, alias in self.lexicon.aliases.items():
            if alias.fuzzy and len(text) >= FUZZY_MIN_CHARS:
                pool.setdefault((text[0], len(text.split())), []).append(text)
        return pool

    def _lookup(self, phrase: str, size: int) -> Alias | None:
        alias = self.lexicon.aliases.get(phrase)
        if alias is not None or len(phrase) < FUZZY_MIN_CHARS or phrase in self.lexicon.never:
            return alias
        choices = self._fuzzy_pool.get((phrase[0], size))
        if not choices:
            return None
        limit = 1 if len(phrase) <= ONE_TYPO_MAX_CHARS else 2
        best = process.extractOne(phrase, choices, scorer=OSA.distance, score_cutoff=limit)
        return self.lexicon.aliases[best[0]] if best else None

    def mentions(self, text: str) -> tuple[Mention, ...]:
        """Every substance named, in order; the longest name wins ("crystal meth" over "crystal")."""
        words = basic_normalise(text).split()
        found: list[Mention] = []
        i = 0
        while i < len(words):
            for size in range(min(self.longest, len(words) - i), 0, -1):
                phrase = " ".join(words[i : i + size])
                alias = self._lookup(phrase, size)
                if alias is None:
                    continue
                if not (alias.ambiguous and self._ordinary(words, i, size)):
                    found.append(Mention(alias.substance, i, phrase))
                i += size
                break
            else:
                i += 1
        return tuple(found)

    def _ordinary(self, words: list[str], start: int, size: int) -> bool:
        """An everyday-word name used as that word: "at the bars", "drink water"."""
        cues = self.lexicon.cues
        before = words[start - 1] if start > 0 else ""
        after = words[start + size] if start + size < len(words) else ""
        return before in cues.not_after or after in cues.not_before

    def substances(self, text: str) -> tuple[str, ...]:
        """Distinct substance ids in the order they were first named."""
        return tuple(dict.fromkeys(m.substance for m in self.mentions(text)))


def about_taking_together(text: str, cues: Cues) -> bool:
    """ "xanax with methadone", "drink on subs": yes; "methadone or suboxone, which is better": no."""
    words = basic_normalise(text).split()
    if _contains(words, cues.together):
        return True
    weak = _contains(words, cues.weak) or any(symbol in text for symbol in JOINING_SYMBOLS)
    return weak and not _contains(words, cues.apart)
