"""Cross-intent checks: errors that block loading and the quality findings of `validate --strict`."""

from __future__ import annotations

from collections.abc import Mapping

from bot.content.model import (
    MIN_EXAMPLES,
    PHONE_FRIENDLY_CHARS,
    SYSTEM_RESPONSES,
    Content,
    Intent,
)
from bot.errors import ContentProblem
from bot.nlu.normalise import Normaliser
from bot.referrals.card import REFERRAL_RESPONSES


def duplicate_examples(
    intents: Mapping[str, Mapping[str, Intent]], synonyms: Mapping[str, Mapping[str, str]]
) -> list[ContentProblem]:
    """The same example (after normalising) under two intents makes matching a coin toss."""
    problems: list[ContentProblem] = []
    for locale, table in intents.items():
        normalise = Normaliser(synonyms.get(locale, {}))
        owner: dict[str, tuple[str, str, int]] = {}
        for intent in table.values():
            lines = intent.example_lines or (intent.source.line,) * len(intent.examples)
            for example, line in zip(intent.examples, lines, strict=False):
                key = normalise(example)
                first = owner.get(key)
                if first is None:
                    owner[key] = (intent.id, intent.source.file, line)
                elif first[0] != intent.id:
                    problems.append(
                        ContentProblem(
                            intent.source.file,
                            line,
                            f"example {example!r} of '{intent.id}' is also an example of '{first[0]}'",
                            f"keep it under one intent (the other is at {first[1]}:{first[2]})",
                        )
                    )
    return problems


def quality_findings(content: Content) -> list[ContentProblem]:
    """Things that load fine but make the bot worse; reported by `peerline validate --strict`."""
    found: list[ContentProblem] = []

    def warn(file: str, line: int | None, message: str, hint: str) -> None:
        found.append(ContentProblem(file, line, message, hint, severity="warning"))

    for locale in content.locales.values():
        used = {intent.response for intent in locale.intents.values()} | set(SYSTEM_RESPONSES)
        used |= set(REFERRAL_RESPONSES)
        for intent in locale.intents.values():
            if len(intent.examples) < MIN_EXAMPLES:
                warn(
                    intent.source.file,
                    intent.source.line,
                    f"intent '{intent.id}' has {len(intent.examples)} examples",
                    f"write at least {MIN_EXAMPLES} varied ones: typos, slang, short and long",
                )
            for follow in intent.follow_ups:
                if follow.intent == intent.id:
                    warn(
                        intent.source.file,
                        intent.source.line,
                        f"intent '{intent.id}' has a follow-up back to itself",
                        "point the button at a next step instead",
                    )
        for response in locale.responses.values():
            lines = response.variant_lines or (response.source.line,) * len(response.variants)
            for text, line in zip(response.variants, lines, strict=False):
                if len(text) > PHONE_FRIENDLY_CHARS:
                    warn(
                        response.source.file,
                        line,
                        f"response '{response.id}' has a variant of {len(text)} characters",
                        f"keep it under {PHONE_FRIENDLY_CHARS} so it reads well on a phone",
                    )
            if response.id not in used:
                warn(
                    response.source.file,
                    response.source.line,
                    f"response '{response.id}' is not used by any intent",
                    "point an intent at it or remove it",
                )
    return found
