"""Content plus the matchers built from it: one immutable unit, swapped whole on reload."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from bot.content.loader import default_content_root, load_content
from bot.content.model import Content, frozen_map
from bot.errors import ContentError, ContentProblem
from bot.nlu.embedding import shared_encoder
from bot.nlu.language import locale_markers
from bot.nlu.matcher import Matcher, MatchSettings
from bot.referrals.card import REFERRAL_RESPONSES
from bot.referrals.loader import load_directory
from bot.referrals.model import Directory
from bot.substances.advice import MixingAdvisor
from bot.substances.loader import load_guide
from bot.substances.model import MixingGuide


@dataclass(frozen=True)
class Brain:
    """Everything the engine reads; a message uses one Brain from start to end."""

    content: Content
    matchers: Mapping[str, Matcher]
    directory: Directory = field(default_factory=Directory)
    mixing: MixingAdvisor | None = None  # None: no substances table, mixing questions get the generic answer

    @classmethod
    def build(
        cls,
        content: Content,
        settings: MatchSettings | None = None,
        directory: Directory | None = None,
        guide: MixingGuide | None = None,
        semantic: bool = True,
    ) -> Brain:
        encoder = shared_encoder() if semantic else None
        matchers = {
            code: Matcher(
                locale.intents.values(),
                locale.synonyms,
                settings,
                locale.stopwords,
                encoder,
                locale.look_alikes,
            )
            for code, locale in content.locales.items()
        }
        return cls(
            content, frozen_map(matchers), directory or Directory(), MixingAdvisor(guide) if guide else None
        )

    @cached_property
    def language_markers(self) -> dict[str, frozenset[str]]:
        """Words only one locale uses, per locale: computed once per content, not per message."""
        locales = self.content.locales
        return locale_markers({code: loc.stopwords | loc.markers for code, loc in locales.items()})

    @classmethod
    def load(cls, root: Path | None = None, settings: MatchSettings | None = None) -> Brain:
        """Load, validate and index content, services and substances; `ContentError` lists every problem."""
        root = (root or default_content_root()).resolve()
        problems: list[ContentProblem] = []
        content: Content | None = None
        try:
            content = load_content(root)
        except ContentError as exc:
            problems.extend(exc.problems)
        directory, found = load_directory(root, content.regions if content else None)
        problems.extend(found)
        if content is not None and directory.services:
            problems.extend(missing_referral_responses(content))
        # Substances are checked even when other content is broken, so one run reports everything.
        guide, guide_problems = load_guide(root)
        problems.extend(guide_problems)
        if content is None or any(p.severity == "error" for p in problems):
            raise ContentError(problems)
        return cls.build(content, settings, directory, guide)

    def matcher(self, locale: str | None) -> Matcher:
        return self.matchers.get(locale or "", self.matchers[self.content.default_locale])


def missing_referral_responses(content: Content) -> list[ContentProblem]:
    """With services listed, the default locale needs every referral text (other locales fall back to it)."""
    code = content.default_locale
    known = content.locales[code].responses
    return [
        ContentProblem(
            f"responses/{code}",
            None,
            f"referral response '{name}' is missing",
            f"add '{name}:' to responses/{code}/referrals.yml (needed because services/ lists services)",
        )
        for name in REFERRAL_RESPONSES
        if name not in known
    ]
