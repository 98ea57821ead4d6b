"""Many people at once through the real Application and FakeTelegram: order per person, no one held up,
no per-person table left in the process afterwards, and no more updates in hand than the bound.

Concurrency is shown without timing: one person's sendMessage is held at the fake until the test lets it
go, and everyone else must be answered meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.brain import Brain
from bot.events import TextMessage
from bot.nlu import speller
from bot.nlu.speller import Speller
from bot.telegram.application import MAX_CONCURRENT_UPDATES, METRICS_KEY, PerChatUpdateProcessor
from bot.telegram.update_queue import GET_UPDATES_BATCH, UpdateQueue
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import RunningBot, StartBot, bot_factory, eventually

FIRST = 700_000_000_000_001
SLOW = 699_999_999_999_999
MESSAGES = (
    "where can i get naloxone",
    "how do i test for fentanyl",
    "what are signs of an overdose",
    "i feel dope sick",
    "hi",
)


@pytest.fixture
async def start_bot(brain: Brain) -> AsyncIterator[StartBot]:
    async with bot_factory(brain) as start:
        yield start


def hold_send_message(tg: FakeTelegram, chat_id: int | None) -> asyncio.Event:
    """sendMessage to `chat_id` (None: to anyone) waits at the fake until the returned event is set."""
    gate = asyncio.Event()
    send = tg._m_send_message

    async def held(params: dict[str, Any]) -> Any:
        if chat_id is None or params.get("chat_id") == chat_id:
            await gate.wait()
        return await send(params)

    tg.register_method("sendMessage", held)
    return gate


def texts(bot: RunningBot, chat_id: int) -> list[str]:
    return [str(c.params["text"]) for c in bot.tg.calls_to("sendMessage", chat_id) if c.ok]


def processor(bot: RunningBot) -> PerChatUpdateProcessor:
    found = bot.app.update_processor
    assert isinstance(found, PerChatUpdateProcessor)
    return found


async def test_interleaved_bursts_keep_each_persons_order_while_a_slow_chat_waits(
    start_bot: StartBot,
) -> None:
    bot = await start_bot()
    people = [FIRST + n for n in range(20)]
    gate = hold_send_message(bot.tg, SLOW)
    # Every person sends five messages, interleaved across people, the slow one among them.
    for round_ in range(len(MESSAGES)):
        for n, person in enumerate([SLOW, *people]):
            await bot.tg.send_text(person, MESSAGES[(round_ + n) % len(MESSAGES)])

    def others_answered() -> bool:
        return all(len(texts(bot, p)) == len(MESSAGES) for p in people)

    # Everyone else is fully answered while the slow person's first reply is still held at the fake.
    await bot.tg.wait_for(others_answered, timeout=15, description="every other person's five replies")
    assert texts(bot, SLOW) == []
    assert not gate.is_set()
    gate.set()
    await bot.replies(SLOW, len(MESSAGES), timeout=10)
    for n, person in enumerate([SLOW, *people]):
        simulate = bot.simulate()
        sent = [MESSAGES[(round_ + n) % len(MESSAGES)] for round_ in range(len(MESSAGES))]
        expected = [simulate(TextMessage(text))[0] for text in sent]
        assert texts(bot, person) == expected, f"person {n} got replies out of order"


async def test_one_persons_backlog_behind_a_slow_send_does_not_hold_up_others(start_bot: StartBot) -> None:
    bot = await start_bot()
    gate = hold_send_message(bot.tg, SLOW)
    backlog = MAX_CONCURRENT_UPDATES + 10  # more than can run at once, all waiting on one chat's lock
    for _ in range(backlog):
        await bot.tg.send_text(SLOW, "hi")
    await eventually(lambda: _true(processor(bot).chats_in_flight == 1 and len(bot.tg.injected_updates) > 0))
    await bot.tg.send_text(FIRST, "where can i get naloxone")
    await bot.replies(FIRST, 1, timeout=10)
    assert texts(bot, SLOW) == []
    gate.set()
    await eventually(lambda: _true(processor(bot).chats_in_flight == 0), timeout=15)
    assert texts(bot, SLOW)  # the backlog was answered (the flood guard quietens most of it)


async def _true(value: bool) -> bool:
    return value


async def test_many_people_leave_no_per_person_table_in_the_process(start_bot: StartBot) -> None:
    bot = await start_bot()
    people = [FIRST + n for n in range(150)]
    for n, person in enumerate(people):
        await bot.tg.send_text(person, MESSAGES[n % len(MESSAGES)])
    await bot.tg.wait_for(
        lambda: all(texts(bot, p) for p in people), timeout=20, description="a reply to everyone"
    )
    await eventually(lambda: _true(processor(bot).chats_in_flight == 0))
    app = bot.app
    assert len(app.user_data) == 0
    assert len(app.chat_data) == 0
    # PTB's own sets of ids "to be persisted": without persistence nothing would ever empty them.
    assert len(app._user_ids_to_be_updated_in_persistence) == 0
    assert len(app._chat_ids_to_be_updated_in_persistence) == 0


async def test_a_flood_holds_only_the_bound_in_the_process_and_everyone_is_answered(
    start_bot: StartBot,
) -> None:
    limit = GET_UPDATES_BATCH  # room for one batch: the poller fetches one, then waits
    bot = await start_bot(updates_in_hand=limit)
    gate = hold_send_message(bot.tg, None)  # nothing gets answered: updates stay in hand
    people = [FIRST + n for n in range(250)]
    for n, person in enumerate(people):
        await bot.tg.send_text(person, MESSAGES[n % len(MESSAGES)])
    queue = bot.app.update_queue
    assert isinstance(queue, UpdateQueue)
    # One whole batch went in; the poller now waits for room before fetching again, with nothing half-put.
    await eventually(lambda: _true(queue.in_hand == limit and queue.fetch_waiting))
    assert queue.puts_waiting == 0
    fetched = {u["update_id"] for c in bot.tg.calls_to("getUpdates") if c.ok for u in c.result}
    assert len(fetched) == limit < len(people), "the rest is left with Telegram"
    metrics = await bot.app.bot_data[METRICS_KEY].exposition()
    assert f"peerline_updates_in_hand {float(limit)}".encode() in metrics

    gate.set()

    def everyone_answered() -> bool:
        return {c.params["chat_id"] for c in bot.tg.calls_to("sendMessage") if c.ok} >= set(people)

    await bot.tg.wait_for(everyone_answered, timeout=20, description="a reply to everyone")
    assert queue.peak == limit
    await eventually(lambda: _true(queue.in_hand == 0))
    for n, person in enumerate(people[:10]):
        assert texts(bot, person) == bot.simulate()(TextMessage(MESSAGES[n % len(MESSAGES)]))


async def test_a_webhook_delivery_is_answered_only_once_there_is_room_for_its_update(
    start_bot: StartBot,
) -> None:
    bot = await start_bot(webhook=True, updates_in_hand=2)
    gate = hold_send_message(bot.tg, None)
    await bot.tg.send_text(FIRST, "hi")
    await bot.tg.send_text(FIRST + 1, "hi")
    third = asyncio.create_task(bot.tg.send_text(FIRST + 2, "hi"))
    queue = bot.app.update_queue
    assert isinstance(queue, UpdateQueue)
    await eventually(lambda: _true(queue.puts_waiting == 1))
    assert not third.done() and len(bot.tg.webhook_deliveries) == 2  # Telegram waits for the answer
    gate.set()
    await third
    assert [d.status for d in bot.tg.webhook_deliveries] == [200, 200, 200]
    await bot.tg.wait_for(
        lambda: all(texts(bot, p) for p in (FIRST, FIRST + 1, FIRST + 2)), description="all three answered"
    )


def test_spelling_cache_stays_within_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speller, "CACHE_SIZE", 50)
    fix = Speller(["naloxone", "fentanyl", "methadone", "withdrawal"])
    for n in range(500):
        fix.word("zz" + "".join(chr(ord("a") + int(d)) for d in f"{n:04d}"))
    assert 0 < len(fix._cache) <= 50
    assert fix.word("naloxne") == "naloxone"
