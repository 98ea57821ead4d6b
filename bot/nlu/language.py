"""Which language a message is in, from the text alone: marker words and how well each locale matches.

Conservative on purpose: a switch needs several words, at least two marker words of the other language
and none of the current one, and the other language's matcher must understand the message at least as
well. "ok", "no", "si", an emoji or a single word never switch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.nlu.matcher import MatchResult
from bot.nlu.normalise import basic_normalise

MIN_WORDS = 3
MIN_MARKERS = 2
# With clear markers, the other language may understand a little less well (a shared drug name such as
# "metadona" can score about as high in English) and still win.
SCORE_SLACK = 10.0


@dataclass(frozen=True)
class LanguageProfile:
    """The words that show a message is in one locale (its stop words and markers)."""

    code: str
    words: frozenset[str]


def exclusive_markers(profiles: Mapping[str, LanguageProfile]) -> dict[str, frozenset[str]]:
    """Each locale's words that no other locale claims: "no", "me" and "a" prove nothing."""
    result: dict[str, frozenset[str]] = {}
    for code, profile in profiles.items():
        others: set[str] = set()
        for other, other_profile in profiles.items():
            if other != code:
                others |= other_profile.words
        result[code] = profile.words - others
    return result


def marker_counts(text: str, markers: Mapping[str, frozenset[str]]) -> dict[str, int]:
    """How many words of the message belong to each locale's exclusive markers."""
    words = basic_normalise(text).split()
    return {code: sum(1 for w in words if w in own) for code, own in markers.items()}


def written_in(
    text: str,
    current: str,
    markers: Mapping[str, frozenset[str]],
    results: Mapping[str, MatchResult],
) -> str | None:
    """The locale to switch to, or None to stay; `results` holds each locale's match of the text."""
    words = [w for w in basic_normalise(text).split() if any(c.isalpha() for c in w)]
    if len(words) < MIN_WORDS:
        return None
    counts = marker_counts(text, markers)
    if counts.get(current, 0) > 0:
        return None
    here = results.get(current)
    best: tuple[int, str] | None = None
    for code, count in counts.items():
        if code == current or count < MIN_MARKERS or code not in results:
            continue
        there = results[code]
        understood_there = there.intent is not None or (here is not None and here.intent is None)
        if not understood_there or (here is not None and there.score + SCORE_SLACK < here.score):
            continue
        if best is None or count > best[0]:
            best = (count, code)
    return best[1] if best else None


def language_from_code(language_code: str | None, available: frozenset[str]) -> str | None:
    """A Telegram language_code ("es-MX", "en") to one of our locales, or None."""
    language = (language_code or "").split("-")[0].split("_")[0].lower()
    return language if language in available else None


def locale_from_argument(argument: str, names: Mapping[str, str]) -> str | None:
    """`/language es`, `/language Español` or `/language spanish` to a locale code, or None."""
    wanted = basic_normalise(argument)
    if not wanted:
        return None
    aliases = {"english": "en", "ingles": "en", "spanish": "es", "espanol": "es", "castellano": "es"}
    for code, name in names.items():
        if wanted in (code, basic_normalise(name)):
            return code
    alias = aliases.get(wanted)
    return alias if alias in names else None


def locale_markers(words_by_locale: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Exclusive marker words per locale, from each locale's stop words and markers."""
    return exclusive_markers({code: LanguageProfile(code, words) for code, words in words_by_locale.items()})
