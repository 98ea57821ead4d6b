"""Content plus the matchers built from it: one immutable unit, swapped whole on reload."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.content.loader import default_content_root, load_content
from bot.content.model import Content, frozen_map
from bot.errors import ContentError, ContentProblem
from bot.nlu.matcher import Matcher, MatchSettings
from bot.substances.advice import MixingAdvisor
from bot.substances.loader import load_guide
from bot.substances.model import MixingGuide


@dataclass(frozen=True)
class Brain:
    """Everything the engine reads; a message uses one Brain from start to end."""

    content: Content
    matchers: Mapping[str, Matcher]
    mixing: MixingAdvisor | None = None  # None: no substances table, mixing questions get the generic answer

    @classmethod
    def build(
        cls, content: Content, settings: MatchSettings | None = None, guide: MixingGuide | None = None
    ) -> Brain:
        matchers = {
            code: Matcher(locale.intents.values(), locale.synonyms, settings, locale.stopwords)
            for code, locale in content.locales.items()
        }
        return cls(content, frozen_map(matchers), MixingAdvisor(guide) if guide else None)

    @classmethod
    def load(cls, root: Path | None = None, settings: MatchSettings | None = None) -> Brain:
        """Load, validate and index content and substances; raises `ContentError` with every problem."""
        root = (root or default_content_root()).resolve()
        problems: list[ContentProblem] = []
        content: Content | None = None
        try:
            content = load_content(root)
        except ContentError as exc:
            problems.extend(exc.problems)
        # Substances are checked even when other content is broken, so one run reports everything.
        guide, guide_problems = load_guide(root)
        problems.extend(guide_problems)
        if content is None or guide is None or any(p.severity == "error" for p in problems):
            raise ContentError(problems)
        return cls.build(content, settings, guide)

    def matcher(self, locale: str | None) -> Matcher:
        return self.matchers.get(locale or "", self.matchers[self.content.default_locale])
