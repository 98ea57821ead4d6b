"""Content plus the matchers built from it: one immutable unit, swapped whole on reload."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.loader import default_content_root, load_content
from bot.content.model import Content, frozen_map
from bot.errors import ContentError, ContentProblem
from bot.nlu.matcher import Matcher, MatchSettings
from bot.referrals.card import REFERRAL_RESPONSES
from bot.referrals.loader import load_directory
from bot.referrals.model import Directory


@dataclass(frozen=True)
class Brain:
    """Everything the engine reads; a message uses one Brain from start to end."""

    content: Content
    matchers: Mapping[str, Matcher]
    directory: Directory = field(default_factory=Directory)

    @classmethod
    def build(
        cls, content: Content, settings: MatchSettings | None = None, directory: Directory | None = None
    ) -> Brain:
        matchers = {
            code: Matcher(locale.intents.values(), locale.synonyms, settings, locale.stopwords)
            for code, locale in content.locales.items()
        }
        return cls(content, frozen_map(matchers), directory or Directory())

    @classmethod
    def load(cls, root: Path | None = None, settings: MatchSettings | None = None) -> Brain:
        """Load, validate and index content and the services directory; `ContentError` lists every problem."""
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
        if content is None or any(p.severity == "error" for p in problems):
            raise ContentError(problems)
        return cls.build(content, settings, directory)

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
