"""How well each intent's examples stand apart from other intents, measured leave-one-out with the matcher.

Each example is matched like a message with itself taken out of the index; its margin is its own intent's
score minus the best other intent's. A small or negative margin means a person writing something like that
example may get another intent's answer: the intent is at risk of confusion. Crisis examples that their
intent's patterns catch are counted apart: patterns answer them before any score is compared.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bot.nlu.matcher import HeldOutScore, Matcher


@dataclass(frozen=True)
class IntentSeparation:
    """One intent's leave-one-out margins, summarised."""

    intent: str
    examples: int
    by_pattern: int  # crisis examples caught by their intent's patterns (not in the margins)
    min_margin: float
    median_margin: float
    nearest: str | None  # the other intent its examples come closest to most often
    at_risk: int  # examples whose margin is below the matcher's confidence margin
    worst_example: str

    def as_json(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "examples": self.examples,
            "caught_by_pattern": self.by_pattern,
            "min_margin": round(self.min_margin, 1),
            "median_margin": round(self.median_margin, 1),
            "nearest": self.nearest,
            "at_risk": self.at_risk,
            "worst_example": self.worst_example,
        }


def caught_by_pattern(matcher: Matcher, score: HeldOutScore) -> bool:
    """A crisis example its own patterns catch never reaches fuzzy matching."""
    signal = matcher.crisis.by_pattern(matcher.prepare(score.example))
    return signal is not None and signal.intent == score.intent


def misleading_examples(matcher: Matcher) -> list[HeldOutScore]:
    """Examples another intent matches better than their own, well enough to answer or offer it."""
    return [
        s
        for s in matcher.held_out_scores()
        if s.margin < 0 and s.nearest_score >= matcher.settings.confirm and not caught_by_pattern(matcher, s)
    ]


def intent_separation(matcher: Matcher) -> list[IntentSeparation]:
    """Intents with examples not caught by patterns, worst separated (lowest median margin) first."""
    by_intent: dict[str, list[HeldOutScore]] = {}
    for score in matcher.held_out_scores():
        by_intent.setdefault(score.intent, []).append(score)
    rows = []
    for intent, every in by_intent.items():
        scores = [s for s in every if not caught_by_pattern(matcher, s)]
        if not scores:
            continue
        margins = [s.margin for s in scores]
        nearest = Counter(s.nearest for s in scores if s.nearest).most_common(1)
        worst = min(scores, key=lambda s: s.margin)
        rows.append(
            IntentSeparation(
                intent=intent,
                examples=len(every),
                by_pattern=len(every) - len(scores),
                min_margin=min(margins),
                median_margin=statistics.median(margins),
                nearest=nearest[0][0] if nearest else None,
                at_risk=sum(1 for m in margins if m < matcher.settings.margin),
                worst_example=worst.example,
            )
        )
    return sorted(rows, key=lambda r: (r.median_margin, r.min_margin, r.intent))


def format_separation(locale: str, rows: list[IntentSeparation]) -> str:
    """A table for the terminal, worst first."""
    lines = [
        f"locale {locale}: leave-one-out margin = own score - best other intent's score",
        f"{'intent':<22} {'n':>4} {'pattern':>7} {'min':>7} {'median':>7} {'at risk':>8}  nearest other",
    ]
    for r in rows:
        lines.append(
            f"{r.intent:<22} {r.examples:>4} {r.by_pattern:>7} {r.min_margin:>7.1f}"
            f" {r.median_margin:>7.1f} {r.at_risk:>8}"
            f"  {r.nearest or '-'}"
        )
    return "\n".join(lines)
