"""Redis going away mid-conversation: a private redis-server is stopped and restarted under the real bot.

The bot must keep answering from the engine without memory (crisis replies always), log the outage once,
and pick its memory up again on its own when Redis is back, with no restart. The shared Redis on 6379 is
never touched: each test runs its own redis-server on a free loopback port.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.brain import Brain
from bot.events import Command, TextMessage
from bot.handoff.record import Handoff
from tests.fake_telegram import free_port
from tests.redis_support import PrivateRedis
from tests.telegram_harness import ALICE, GROUP, RunningBot, StartBot, bot_factory, eventually
from tests.test_handoff_e2e import SAM, Clock, Desk

OVERDOSE_NOW = "my friend is not breathing and wont wake up"


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path, free_port())
    await server.start()
    try:
        yield server
    finally:
        server.stop()


async def ask(bot: RunningBot, text: str) -> list[str]:
    """Send one message as ALICE and return the replies it got (replies come in order, per chat)."""
    before = len(bot.tg.sent_texts(ALICE))
    await bot.tg.send_text(ALICE, text)
    return (await bot.texts(ALICE, before + 1))[before:]


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().split()[0] == f"event={name}"]


async def test_redis_stopped_and_restarted_mid_conversation_bot_answers_throughout_and_remembers_again(
    brain: Brain,
    private_redis: PrivateRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    async with bot_factory(brain) as start:
        # Retry the store on every message (the default waits 5 s), so recovery shows at the next message.
        bot = await start(redis_url=private_redis.url, store_retry_seconds=0)

        async def sessions_stored() -> bool:
            # A new connection each time: the server it checks is restarted in between.
            async with Redis.from_url(private_redis.url) as client:
                return bool([k async for k in client.scan_iter(match=f"{bot.prefix}:*:session")])

        simulate = bot.simulate()
        uk_resources = (simulate(Command("region", "uk")), simulate(Command("resources")))[1]
        us_resources = [bot.expected(Command("resources"))]
        assert uk_resources != us_resources

        # Remembered: the region chosen in one message shapes the next answer.
        await ask(bot, "/region uk")
        assert await ask(bot, "/resources") == uk_resources
        assert await sessions_stored()

        private_redis.stop()
        # Answered without memory: the region is forgotten at once, crisis replies are unchanged.
        assert await ask(bot, "/region uk") == [bot.expected(Command("region", "uk"))]
        assert await ask(bot, "/resources") == us_resources
        assert await ask(bot, OVERDOSE_NOW) == [bot.expected(TextMessage(OVERDOSE_NOW))]
        assert await ask(bot, "where can i get narcan") == [
            bot.expected(TextMessage("where can i get narcan"))
        ]
        assert len(events(caplog, "store_unavailable")) == 1, "the outage is logged once, not per message"
        assert events(caplog, "store_recovered") == []

        await private_redis.start()  # same port, empty (nothing was persisted)
        await ask(bot, "/region uk")
        assert await ask(bot, "/resources") == uk_resources
        await eventually(sessions_stored)
        assert len(events(caplog, "store_unavailable")) == 1
        assert len(events(caplog, "store_recovered")) == 1


async def claimed_handoff(
    start: StartBot, private_redis: PrivateRedis, store_retry_seconds: float
) -> tuple[RunningBot, Desk]:
    """A bot on the private Redis with a supporters' group, where Sam has claimed Alice's conversation."""
    clock = Clock()
    bot = await start(
        redis_url=private_redis.url,
        clock=clock,
        store_retry_seconds=store_retry_seconds,
        SUPPORTERS_CHAT_ID=str(GROUP),
        SUPPORTER_IDS=str(SAM),
    )
    bot.tg.register_chat(GROUP, "supergroup", title="Peer supporters", is_forum=True)
    desk = Desk(bot, clock)
    await desk.claimed()
    return bot, desk


async def test_person_in_a_handoff_gets_crisis_replies_while_redis_is_down(
    brain: Brain, private_redis: PrivateRedis
) -> None:
    async with bot_factory(brain) as start:
        bot, desk = await claimed_handoff(start, private_redis, store_retry_seconds=0)
        # While claimed, a message goes to the supporter, not the engine.
        copies = len(desk.copies_to(GROUP))
        await desk.alice_says("are you still there")
        await bot.tg.wait_for(lambda: len(desk.copies_to(GROUP)) > copies, description="the relay")

        private_redis.stop()
        assert await ask(bot, OVERDOSE_NOW) == [bot.expected(TextMessage(OVERDOSE_NOW))]
        # Without Redis the handoff can't be read, so ordinary messages get the engine's answers.
        narcan = "where can i get narcan"
        assert await ask(bot, narcan) == [bot.expected(TextMessage(narcan))]


async def test_black_holed_redis_crisis_reply_comes_without_asking_the_handoff_queue(
    brain: Brain, private_redis: PrivateRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with bot_factory(brain) as start:
        # A long retry window: once the session load has timed out, the store counts as down throughout.
        bot, desk = await claimed_handoff(start, private_redis, store_retry_seconds=600)
        asked: list[str] = []
        get = desk.desk.queue.get

        async def counted_get(user: str) -> Handoff | None:
            asked.append(user)
            return await get(user)

        monkeypatch.setattr(desk.desk.queue, "get", counted_get)
        private_redis.black_hole()
        try:
            crisis = bot.expected(TextMessage(OVERDOSE_NOW))
            for sent in (1, 2):  # the message that finds Redis down, and one inside the outage window
                await bot.tg.send_text(ALICE, OVERDOSE_NOW)
                await bot.tg.wait_for(
                    lambda n=sent: bot.tg.sent_texts(ALICE).count(crisis) >= n,
                    30,
                    description=f"crisis reply {sent}",
                )
            # The session load timed out; the handoff queue (same Redis) was not asked to time out again.
            assert asked == []
        finally:
            private_redis.thaw()
