"""The Telegram adapter's region hint end to end: a first message from an es-MX or es-ES account gets that
country's numbers without /region (real PTB Application, FakeTelegram, real Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.brain import Brain
from bot.content.html import escape
from tests.telegram_harness import ALICE, BOB, StartBot, bot_factory


@pytest.fixture
async def start_bot(brain: Brain) -> AsyncIterator[StartBot]:
    async with bot_factory(brain) as start:
        yield start


def numbers(brain: Brain, region: str) -> tuple[str, str]:
    values = brain.content.region(region).in_locale("es").values
    return escape(values["emergency_number"]), escape(values["crisis_line"])


@pytest.mark.parametrize(("language_code", "region"), [("es-MX", "mx"), ("es-ES", "es")])
async def test_first_crisis_message_from_a_country_tagged_account_gets_that_countrys_numbers(
    start_bot: StartBot, brain: Brain, language_code: str, region: str
) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, "mi amigo no respira y no despierta", language_code=language_code)
    [crisis] = await bot.texts(ALICE)
    emergency, crisis_line = numbers(brain, region)
    assert f"Llama al {emergency} ahora" in crisis and crisis_line in crisis


async def test_a_bare_language_code_keeps_the_default_region(start_bot: StartBot, brain: Brain) -> None:
    bot = await start_bot()
    await bot.tg.send_text(BOB, "mi amigo no respira y no despierta", language_code="es")
    [crisis] = await bot.texts(BOB)
    emergency, crisis_line = numbers(brain, brain.content.default_region)
    assert f"Llama al {emergency} ahora" in crisis and crisis_line in crisis
