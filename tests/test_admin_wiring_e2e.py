"""Issue #5 wired into the running bot: statistics, unmatched messages and reloads, end to end.

The real PTB Application against FakeTelegram and a real Redis, built by `build_application` and run by
`serve` exactly as `peerline run` does (no admin pieces registered by hand).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.events import TextMessage
from bot.session import Session
from bot.state.reload_bus import ReloadBus
from bot.telegram.application import BUS_KEY, DESK_KEY, ENGINE_KEY, RELOADER_KEY, USAGE_KEY
from bot.telegram.dialogue import fell_back
from bot.usage import UsageStats
from bot.usage.scrub import scrub
from bot.usage.stats import DayStats
from bot.usage.unmatched import UnmatchedLog
from tests.minimal_content import write_minimal_content
from tests.telegram_harness import (
    ALICE,
    BOB,
    GROUP,
    RunningBot,
    StartBot,
    bot_factory,
    button_data,
    eventually,
)
from tests.test_handoff_e2e import ROBIN, SAM, Clock, Desk

MATCHED = "how do i use naloxone"
NONSENSE = "blorp zingle quux, call me on 555-123-4567 or mail me at someone@example.org"
CRISIS = "my friend is not breathing"


@pytest.fixture
async def start_bot(brain: Brain) -> AsyncIterator[StartBot]:
    async with bot_factory(brain) as start:
        yield start


async def start_desk(start_bot: StartBot, **env: str) -> Desk:
    clock = Clock()
    bot = await start_bot(clock=clock, SUPPORTERS_CHAT_ID=str(GROUP), SUPPORTER_IDS=f"{SAM},{ROBIN}", **env)
    bot.tg.register_chat(GROUP, "supergroup", title="Peer supporters", is_forum=True)
    return Desk(bot, clock)


async def today(bot: RunningBot) -> DayStats:
    return (await UsageStats(bot.redis, bot.prefix).read(1))[-1]


def test_the_scripted_messages_mean_what_the_tests_assume(brain: Brain) -> None:
    from bot.engine import Engine

    engine = Engine(brain)
    assert engine.handle(TextMessage(MATCHED), Session()).intent == "naloxone"
    assert fell_back(Session(), engine.handle(TextMessage(NONSENSE), Session()))
    crisis = engine.handle(TextMessage(CRISIS), Session())
    assert crisis.intent == "crisis_overdose" and crisis.replies[0].crisis


async def test_statistics_count_a_whole_conversation_through_telegram(start_bot: StartBot) -> None:
    desk = await start_desk(start_bot)
    for text in (MATCHED, NONSENSE, CRISIS):
        await desk.alice_says(text)
    await desk.alice_texts(3)
    await desk.in_group(SAM, "/alias Sam")
    await desk.group_reply("People will see you as <b>Sam</b>")
    topic = await desk.ask_for_human()  # "/human", then "yes"
    desk.clock.now += 95  # she waits 95 seconds for a supporter
    assert await desk.press(SAM, topic) == "You have this conversation. Write in its topic to reply."
    sent = len(desk.tg.calls_to("sendMessage", ALICE))
    await desk.alice_says("/end")
    await desk.alice_texts(sent + 1)  # the end, with the feedback question
    [ended] = [c for c in desk.tg.calls_to("sendMessage", ALICE) if "fb:y" in button_data(c)]
    await desk.tg.press_button(ALICE, "fb:y", int(ended.result["message_id"]))

    async def feedback_counted() -> bool:
        return (await UsageStats(desk.bot.redis, desk.bot.prefix).read(1))[-1].feedback_helpful == 1

    await eventually(feedback_counted)
    [day] = await UsageStats(desk.bot.redis, desk.bot.prefix).read(1)
    assert day.messages == 7  # three messages, /human, yes, /end, the feedback press (not the group's)
    assert day.intents["naloxone"] == 1 and day.intents["crisis_overdose"] == 1
    assert day.fallbacks == 1 and day.crisis == 1
    assert (day.handoffs_requested, day.handoffs_claimed, day.median_wait) == (1, 1, 95.0)
    assert (day.feedback_helpful, day.feedback_unhelpful) == (1, 0)


async def test_only_the_answer_to_the_feedback_question_is_counted(start_bot: StartBot) -> None:
    desk = await start_desk(start_bot)
    await desk.alice_says(MATCHED)
    [answer] = await desk.bot.replies(ALICE)
    await desk.tg.press_button(ALICE, "fb:y", int(answer.result["message_id"]))  # forged: nothing was asked
    await desk.bot.replies(ALICE, 2)  # its "thank you" first, or it lands among the handoff's replies
    await desk.claimed()
    sent = len(desk.tg.calls_to("sendMessage", ALICE))
    await desk.alice_says("/end")
    await desk.alice_texts(sent + 1)
    [ended] = [c for c in desk.tg.calls_to("sendMessage", ALICE) if "fb:n" in button_data(c)]
    for _ in range(3):  # the answer, then the same button pressed again
        await desk.tg.press_button(ALICE, "fb:n", int(ended.result["message_id"]))
    await desk.tg.wait_for_calls("answerCallbackQuery", count=4)
    usage = desk.bot.app.bot_data[USAGE_KEY]
    assert isinstance(usage, UsageStats)

    async def all_thanked() -> bool:
        return sum("Thank" in t for t in desk.tg.sent_texts(ALICE)) >= 4

    await eventually(all_thanked)
    [day] = await usage.read(1)  # this process's pending counts included
    assert (day.feedback_helpful, day.feedback_unhelpful) == (0, 1)


async def test_counts_still_waiting_to_be_written_reach_redis_when_the_bot_stops(
    start_bot: StartBot,
) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, MATCHED)
    await bot.texts(ALICE, 1)
    assert bot.halt is not None
    await bot.halt()
    day = await today(bot)
    assert day.messages == 1 and day.intents == {"naloxone": 1}


async def test_unmatched_log_keeps_only_the_scrubbed_fallback_and_only_when_enabled(
    start_bot: StartBot,
) -> None:
    kept = await start_bot(PEERLINE_KEEP_UNMATCHED="on")
    off = await start_bot()
    for bot in (kept, off):
        for text in (MATCHED, NONSENSE, CRISIS):
            await bot.tg.send_text(ALICE, text)
        await bot.replies(ALICE, 3)

    async def counted(bot: RunningBot) -> bool:
        return (await UsageStats(bot.redis, bot.prefix).read(1))[-1].messages == 3

    for bot in (kept, off):
        await eventually(lambda bot=bot: counted(bot))  # type: ignore[misc]
    assert await UnmatchedLog(kept.redis, kept.prefix).read() == [scrub(NONSENSE)]
    assert "555" not in scrub(NONSENSE) and "example.org" not in scrub(NONSENSE)
    assert await UnmatchedLog(off.redis, off.prefix).read() == []
    assert not [k for k in await off.redis_keys() if ":unmatched:" in k]
    # Nothing kept links the text to a person: no key or value holds the user key or alias.
    stored = await kept.stored()
    for key, value in stored.items():
        if ":unmatched:" in key:
            assert kept.user_key(ALICE) not in value and str(ALICE) not in value


async def test_admin_reload_in_the_supporters_group_reaches_the_dialogue_and_the_desk(
    start_bot: StartBot, tmp_path: Path
) -> None:
    root = write_minimal_content(tmp_path / "content")
    desk = await start_desk(start_bot, ADMIN_IDS=str(ROBIN), content_root=root)
    app = desk.bot.app
    shipped = app.bot_data[ENGINE_KEY].brain.content.version
    await desk.in_group(ROBIN, "/reload")
    report = await desk.group_reply("Reloaded. content")
    new = app.bot_data[RELOADER_KEY].version
    assert new != shipped and f"{shipped} -> {new}" in report.params["text"]
    # The desk and the Dialogue share the engine whose Brain was swapped.
    assert app.bot_data[DESK_KEY].engine is app.bot_data[ENGINE_KEY]
    assert app.bot_data[DESK_KEY].engine.brain.content.version == new
    await desk.tg.send_text(BOB, CRISIS)
    [crisis] = await desk.bot.texts(BOB)
    assert crisis.startswith("crisis_overdose")  # the minimal content's reply, not the shipped one


async def test_a_reload_on_one_process_reaches_another_sharing_redis(
    start_bot: StartBot, tmp_path: Path
) -> None:
    root = write_minimal_content(tmp_path / "content")
    prefix = f"pltest-{secrets.token_hex(6)}"
    first = await start_bot(ADMIN_IDS=str(ALICE), PEERLINE_REDIS_PREFIX=prefix, content_root=root)
    second = await start_bot(PEERLINE_REDIS_PREFIX=prefix, content_root=root)
    for bot in (first, second):
        bus = bot.app.bot_data[BUS_KEY]
        assert isinstance(bus, ReloadBus)
        await asyncio.wait_for(bus.subscribed.wait(), 5)
    await first.tg.send_text(ALICE, "/reload")
    [report] = await first.texts(ALICE)
    assert report.startswith("Reloaded. content")
    version = first.app.bot_data[RELOADER_KEY].version

    async def second_reloaded() -> bool:
        return bool(second.app.bot_data[ENGINE_KEY].brain.content.version == version)

    await eventually(second_reloaded)
    await second.tg.send_text(BOB, CRISIS)
    [crisis] = await second.texts(BOB)
    assert crisis.startswith("crisis_overdose")

    async def agree() -> bool:
        rows = await first.app.bot_data[BUS_KEY].versions()
        return len(rows) == 2 and {r.version for r in rows} == {version}

    await eventually(agree)
    await first.tg.send_text(ALICE, "/version")
    _, answer = await first.texts(ALICE, 2)
    assert answer.startswith(f"Content version {version} here; all agree.")
