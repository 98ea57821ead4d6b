"""What the engine does with the first message of a new conversation: what `match` and `eval` report.

Both commands go through the real engine (the other locale's crisis check, the check-in tier, mixing,
place searches), so what they measure is what a person would get, not what the matcher alone thinks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.engine import Engine
from bot.events import TextMessage
from bot.nlu.matcher import FALLBACK, MatchResult
from bot.nlu.risk import CRISIS
from bot.session import Session


@dataclass(frozen=True)
class Decision:
    """The engine's answer to one first message."""

    intent: str | None  # the intent answered, or offered with "did you mean"
    risk: str | None  # "crisis", "check_in" or None
    confident: bool  # answered without asking
    score: float
    response: str  # the response id sent first
    locale: str  # the locale that answered (another one when the message was clearly in it)
    match: MatchResult | None

    @property
    def crisis(self) -> bool:
        return self.risk == CRISIS

    def as_json(self) -> dict[str, Any]:
        data = self.match.as_json() if self.match else {}
        data.update(
            intent=self.intent,
            score=round(self.score, 2),
            confident=self.confident,
            crisis=self.crisis,
            risk=self.risk,
            response=self.response,
            locale=self.locale,
        )
        return data


def first_message(engine: Engine, text: str, locale: str | None = None) -> Decision:
    """Run `text` through the engine as the opening message of a session in `locale`."""
    brain = engine.brain
    code = locale or brain.content.default_locale
    outcome = engine.handle(TextMessage(text), Session(locale=code))
    answered = outcome.session.locale if outcome.session and outcome.session.locale else code
    match = outcome.match
    intents = brain.content.locale(answered).intents
    if outcome.intent is not None:
        intent = intents.get(outcome.intent)
        response = intent.response if intent else outcome.intent
        confident = True
        if outcome.risk is None and match is not None and match.intent == outcome.intent:
            confident = match.confident
        return Decision(
            outcome.intent,
            outcome.risk,
            confident,
            match.score if match else 100.0,
            response,
            answered,
            match,
        )
    if match is not None and match.intent and not match.confident:
        return Decision(match.intent, None, False, match.score, match.response, answered, match)
    return Decision(None, None, False, match.score if match else 0.0, FALLBACK, answered, match)
