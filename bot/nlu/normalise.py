"""Turn whatever people type into a plain, comparable form before matching."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Mapping
from functools import lru_cache

# Longest message we read, counted before NFKC can lengthen it: a Telegram message is at most 4096
# characters, so all of it is seen (NFKC makes at most ~19 characters of one, so the output stays bounded).
MAX_CHARS = 4096
_APOSTROPHES = "'\u2019\u2018\u02bc`\u00b4"
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")  # a letter three or more times in a row
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def _char_class(ch: str) -> str:
    """Keep letters, digits and marks; every other character separates words."""
    category = unicodedata.category(ch)
    if "\u0334" <= ch <= "\u0338":
        return ""  # overlays ("s̶t̶r̶i̶k̶e̶-through" text) decorate, they do not spell: drop them everywhere
    if category[0] in "LNM":
        return ch
    if category == "Cf" or ch in _APOSTROPHES:
        return ""  # zero-width joiners, bidi marks and apostrophes vanish: "don't" -> "dont"
    return " "


_LATIN_ACCENTS = re.compile(r"(?<=[a-z])[\u0300-\u036f]+")


def strip_latin_accents(text: str) -> str:
    """ "qué" -> "que", "ñ" -> "n": people type Spanish with and without accents alike.

    The bot's one accent fold (intents, synonyms and substance names all go through it). Only marks on a-z
    go: in other scripts a mark makes another letter (Cyrillic "й" is not "и"), so those are kept.
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _LATIN_ACCENTS.sub("", decomposed))


def collapse_elongation(text: str, known: Container[str] = frozenset()) -> str:
    """Shorten letters typed three or more times: "pleeease" -> "please", and "killll" -> "kill" if known.

    A run becomes one letter, unless the word with every run at two letters is in `known` (the words the
    content uses): then "stilll", "offf" and "sleeeep" keep the double letter they are spelt with.
    """
    if not _REPEATS.search(text):
        return text
    return " ".join(_shorten(word, known) if _REPEATS.search(word) else word for word in text.split(" "))


def _shorten(word: str, known: Container[str]) -> str:
    double = _REPEATS.sub(r"\1\1", word)
    return double if double in known else _REPEATS.sub(r"\1", word)


def basic_normalise(text: str, known: Container[str] = frozenset()) -> str:
    """NFKC, case folding, no Latin accents, punctuation/emoji/controls to spaces, "pleeease" -> "please".

    `known` words guide elongated spellings back to a double letter (see `collapse_elongation`).
    """
    # Cut before NFKC, never after: "…" becomes "...", and the end of a long message must still be read.
    text = strip_latin_accents(unicodedata.normalize("NFKC", text[:MAX_CHARS]).casefold())
    text = _SPACES.sub(" ", "".join(_char_class(ch) for ch in text)).strip()
    return collapse_elongation(text, known)


class Normaliser:
    """Basic normalisation plus the admins' synonyms (narcan -> naloxone, dope sick -> withdrawal)."""

    def __init__(self, synonyms: Mapping[str, str]) -> None:
        self._synonyms = {basic_normalise(k): v for k, v in synonyms.items() if basic_normalise(k)}
        self._longest = max((len(k.split()) for k in self._synonyms), default=0)

    def apply_synonyms(self, basic: str) -> str:
        """Rewrite synonyms in basic-normalised text: whole words, longest variant first, one pass."""
        if not self._longest:
            return basic
        words = basic.split()
        out: list[str] = []
        i = 0
        while i < len(words):
            for size in range(min(self._longest, len(words) - i), 0, -1):
                canonical = self._synonyms.get(" ".join(words[i : i + size]))
                if canonical is not None:
                    out.append(canonical)
                    i += size
                    break
            else:
                out.append(words[i])
                i += 1
        return " ".join(out)

    def __call__(self, text: str) -> str:
        return self.apply_synonyms(basic_normalise(text))
