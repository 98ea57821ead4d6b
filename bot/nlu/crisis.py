"""Crisis detection in layers: word-bounded patterns, fuzzy examples, then guards against look-alikes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.content.model import Intent


@dataclass(frozen=True)
class CrisisSignal:
    """Why a message was taken as a crisis."""

    intent: str
    reason: str  # "pattern" or "example"
    score: float


_ESCAPES = re.compile(r"\\[a-zA-Z]")  # \b, \d, \w ... are not letters of a word
_WORDS = re.compile(r"[^\W\d_]{2,}")


def spelled_words(patterns: Iterable[str]) -> frozenset[str]:
    """The plain words regular expressions spell out ("\\bkill myself" -> kill, myself)."""
    return frozenset(w for p in patterns for w in _WORDS.findall(_ESCAPES.sub(" ", p)))


def without_captures(pattern: str) -> str:
    """The same expression with plain groups made non-capturing: "(a|b)" -> "(?:a|b)".

    Captures are never read here, and saving them at every position makes a long alternation of crisis
    patterns several times slower. A pattern with back-references is returned unchanged.
    """
    if re.compile(pattern).groups == 0 or re.search(r"\\[1-9]|\(\?P=", pattern):
        return pattern
    out: list[str] = []
    escaped = in_class = False
    for n, ch in enumerate(pattern):
        out.append(ch)
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]" or pattern[n - 1] == "["
        elif ch == "[":
            in_class = True
        elif ch == "(" and not pattern.startswith("?", n + 1):
            out.append("?:")
    return "".join(out)


def _compile(patterns: Iterable[str]) -> re.Pattern[str] | None:
    patterns = list(patterns)
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{without_captures(p)})" for p in patterns))


@dataclass(frozen=True)
class _CrisisRule:
    intent: str
    patterns: re.Pattern[str] | None
    guards: re.Pattern[str] | None
    urgent: re.Pattern[str] | None

    def guarded(self, texts: tuple[str, ...]) -> bool:
        """A guard (figurative or informational phrasing) vetoes, unless an urgent phrase overrides it."""
        if self.guards is None or not any(self.guards.search(t) for t in texts):
            return False
        return self.urgent is None or not any(self.urgent.search(t) for t in texts)


class CrisisDetector:
    """Decides whether a message is about a crisis happening now; it runs before anything else."""

    def __init__(self, intents: Iterable[Intent], example_threshold: float) -> None:
        intents = [i for i in intents if i.crisis]
        self._rules = [
            _CrisisRule(i.id, _compile(i.patterns), _compile(i.guards), _compile(i.urgent)) for i in intents
        ]
        self._threshold = example_threshold
        self.intent_ids: frozenset[str] = frozenset(rule.intent for rule in self._rules)
        # Words the patterns spell, so an elongated "killll" is read back as "kill" (see collapse_elongation).
        self.words = spelled_words(p for i in intents for p in (*i.patterns, *i.urgent))

    def by_pattern(self, texts: tuple[str, ...]) -> CrisisSignal | None:
        """Layer one: explicit phrases, checked on the text before and after synonyms."""
        for rule in self._rules:
            if rule.patterns and any(rule.patterns.search(t) for t in texts) and not rule.guarded(texts):
                return CrisisSignal(rule.intent, "pattern", 100.0)
        return None

    def by_example(
        self,
        texts: tuple[str, ...],
        similarity: dict[str, float],
        scores: dict[str, float],
        best_other: float,
    ) -> CrisisSignal | None:
        """Layer two: close, word for word, to a crisis example, and ranked above every other intent."""
        best: CrisisSignal | None = None
        for rule in self._rules:
            score = similarity.get(rule.intent, 0.0)
            if score < self._threshold or scores.get(rule.intent, 0.0) <= best_other or rule.guarded(texts):
                continue
            if best is None or score > best.score:
                best = CrisisSignal(rule.intent, "example", score)
        return best

    def vetoed(self, texts: tuple[str, ...]) -> frozenset[str]:
        """Crisis intents whose guards fire: they must not win by fuzzy score either."""
        return frozenset(rule.intent for rule in self._rules if rule.guarded(texts))
