"""Spelling correction against the words the content actually uses ("methodone" -> "methadone")."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process

MIN_LENGTH = 5
CUTOFF = 82.0
CACHE_SIZE = 20_000


class Speller:
    """Corrects unknown words to the closest known one; bounded cache, so memory stays flat."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._vocabulary = sorted({w for w in vocabulary if w.isalpha()})
        self._known = frozenset(self._vocabulary)
        self._cache: dict[str, str] = {}

    def word(self, token: str) -> str:
        if len(token) < MIN_LENGTH or token in self._known or not token.isalpha():
            return token
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        found = process.extractOne(token, self._vocabulary, scorer=fuzz.ratio, score_cutoff=CUTOFF)
        # Typos rarely change the first letter; this keeps "nearly" from becoming "early".
        result = found[0] if found and found[0][0] == token[0] else token
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[token] = result
        return result

    def correct(self, text: str) -> str:
        return " ".join(self.word(token) for token in text.split())
