"""Content plus the matchers built from it: one immutable unit, swapped whole on reload."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.content.loader import load_content
from bot.content.model import Content, frozen_map
from bot.nlu.matcher import Matcher, MatchSettings


@dataclass(frozen=True)
class Brain:
    """Everything the engine reads; a message uses one Brain from start to end."""

    content: Content
    matchers: Mapping[str, Matcher]

    @classmethod
    def build(cls, content: Content, settings: MatchSettings | None = None) -> Brain:
        matchers = {
            code: Matcher(locale.intents.values(), locale.synonyms, settings, locale.stopwords)
            for code, locale in content.locales.items()
        }
        return cls(content, frozen_map(matchers))

    @classmethod
    def load(cls, root: Path | None = None, settings: MatchSettings | None = None) -> Brain:
        """Load, validate and index content; raises `ContentError` with every problem."""
        return cls.build(load_content(root), settings)

    def matcher(self, locale: str | None) -> Matcher:
        return self.matchers.get(locale or "", self.matchers[self.content.default_locale])
