"""A place a person sends (a shared location or a typed city) reaches neither Redis nor the logs.

The real bot runs against FakeTelegram and a real Redis, at DEBUG with the bot's own logging set-up; then
every key and value under the test prefix and every captured log record is searched for the place.
"""

from __future__ import annotations

import io
import logging

import pytest

from bot.brain import Brain
from bot.logs import configure_logging
from tests.telegram_harness import ALICE, bot_factory, button_data
from tests.test_telegram_privacy import restore_logging

__all__ = ["restore_logging"]  # the fixture, imported so pytest finds it here

LATITUDE, LONGITUDE = 41.90317, -87.67713  # near the example Chicago services
TYPED_CITY = "Manchestre"  # a typo, so it can only have come from the message


@pytest.mark.usefixtures("restore_logging")
async def test_shared_location_and_typed_city_are_not_in_redis_or_the_logs(
    brain: Brain, caplog: pytest.LogCaptureFixture
) -> None:
    output = io.StringIO()
    configure_logging("DEBUG", "text", secrets=(), stream=output)
    caplog.set_level(logging.DEBUG)
    async with bot_factory(brain) as start:
        bot = await start(PEERLINE_LOG_LEVEL="DEBUG")
        tg = bot.tg
        await tg.send_text(ALICE, "where can i get naloxone")
        [answer] = await bot.replies(ALICE, 1)
        find = next(d for d in button_data(answer) if d.startswith("p:"))
        await tg.press_button(ALICE, find, message_id=answer.result["message_id"])
        await bot.replies(ALICE, 2)
        await tg.send_location(ALICE, latitude=LATITUDE, longitude=LONGITUDE)
        *_, by_location = await bot.texts(ALICE, 3)
        await tg.press_button(ALICE, find, message_id=answer.result["message_id"])
        await bot.replies(ALICE, 4)
        await tg.send_text(ALICE, TYPED_CITY)
        *_, by_city = await bot.texts(ALICE, 5)
        stored = await bot.stored()

    # The answers really used the places, so the scan below looks for something that was there.
    assert "Example Community Wellness Center" in by_location
    assert "Example Needle and Syringe Programme" in by_city
    assert stored and any("place_notice" in value for value in stored.values())

    forbidden = {
        "latitude": f"{LATITUDE}",
        "longitude": f"{LONGITUDE}",
        "latitude, shortened": "41.903",
        "longitude, shortened": "87.677",
        "typed city": TYPED_CITY,
        "matched city": "manchester",
    }
    records = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)
    everything_stored = "\n".join(f"{key} {value}" for key, value in stored.items())
    assert "event=update" in records and "kind=location" in records
    for what, value in forbidden.items():
        assert value.lower() not in records.lower(), f"{what} in a log record"
        assert value.lower() not in output.getvalue().lower(), f"{what} in the log output"
        assert value.lower() not in everything_stored.lower(), f"{what} in Redis"
