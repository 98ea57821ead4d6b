"""Each kind of emergency, in each language, through the engine: the right reply, every region's numbers,
and no bystander steps for someone writing about themselves.

The messages (tests/data/emergency_kinds.yaml, 8 per kind and locale) were written for the replies, not
for the detector; the detector is tuned on tests/data/dev. Floors sit at the figures measured on
2026-12-02: Spanish stimulant and self-overdose messages are still often answered with a check-in (which
shows the crisis line and offers the emergency reply) rather than their own emergency reply.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.engine import Engine
from bot.events import TextMessage
from bot.session import Session

MESSAGES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "emergency_kinds.yaml").read_text(encoding="utf-8")
)["messages"]
BY_KIND: dict[tuple[str, str], list[str]] = defaultdict(list)
for item in MESSAGES:
    BY_KIND[(item["intent"], item["locale"])].append(item["text"])

# The least share of a kind's messages that must get that kind's own reply.
EXACT_FLOOR = {"en": 5 / 8, "es": 3 / 8}
# Bystander instructions that must never go to a person who says they took too much themselves.
BYSTANDER = ("recovery position", "put them", "posición de recuperación", "ponle", "ponlo", "ponla")


@pytest.mark.parametrize(("kind", "locale"), sorted(BY_KIND))
def test_each_emergency_kind_gets_its_own_reply_with_every_regions_numbers(
    engine: Engine, kind: str, locale: str
) -> None:
    texts = BY_KIND[(kind, locale)]
    exact = caught = 0
    for text in texts:
        outcome = engine.handle(TextMessage(text), Session(locale=locale))
        caught += outcome.risk is not None
        exact += outcome.intent == kind
        if outcome.intent != kind:
            continue
        for code, region in engine.brain.content.regions.items():
            regional = engine.handle(TextMessage(text), Session(locale=locale, region=code))
            reply = regional.replies[0]
            assert reply.crisis and region.in_locale(locale).values["emergency_number"] in reply.text, code
            if kind == "crisis_self_overdose":
                assert not any(phrase in reply.text.lower() for phrase in BYSTANDER), (code, reply.text)
    # At most one message of eight goes without a crisis reply or a check-in.
    assert caught >= len(texts) - 1, f"{kind} {locale}: {caught}/{len(texts)} caught"
    assert exact / len(texts) >= EXACT_FLOOR[locale], f"{kind} {locale}: {exact}/{len(texts)}"
