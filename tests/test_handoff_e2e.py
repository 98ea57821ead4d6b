"""The handoff to peer supporters, end to end: the real PTB Application, FakeTelegram and a real Redis.

A supporters' forum group (GROUP) with supporters SAM and ROBIN; ALICE is a person asking for a human.
The desk's timers run only when a test calls `sweep`, with a clock the test moves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.brain import Brain
from bot.handoff.alias import conversation_alias
from bot.telegram.application import DESK_KEY
from bot.telegram.desk import SupportersDesk
from tests.fake_telegram import Call
from tests.telegram_harness import (
    ALICE,
    BOB,
    GROUP,
    ID_SECRET,
    RunningBot,
    StartBot,
    bot_factory,
    button_data,
    eventually,
)

SAM = 111_222_333_444
ROBIN = 222_333_444_555
STRANGER = 333_444_555_666
ALICE_NAME, ALICE_USERNAME = "Alicia Q. Private", "alicia_private_handle"
START = 1_800_000_000.0  # a fixed "now" for the desk's clock (2027-01-15 08:00 UTC)


@dataclass
class Clock:
    now: float = START

    def __call__(self) -> float:
        return self.now


@dataclass
class Desk:
    """A running bot with a supporters' group, and the steps of a handoff as one-liners."""

    bot: RunningBot
    clock: Clock
    sent_by_alice: list[int] = field(default_factory=list)

    @property
    def tg(self) -> Any:
        return self.bot.tg

    @property
    def desk(self) -> SupportersDesk:
        desk = self.bot.app.bot_data[DESK_KEY]
        assert isinstance(desk, SupportersDesk)
        return desk

    async def alice_says(self, text: str) -> None:
        update = await self.tg.send_text(
            ALICE, text, first_name=ALICE_NAME, username=ALICE_USERNAME, language_code="en"
        )
        self.sent_by_alice.append(update["message"]["message_id"])

    async def alice_texts(self, count: int) -> list[str]:
        return await self.bot.texts(ALICE, count)

    async def ask_for_human(self, position: int = 1) -> int:
        """ALICE asks, confirms, and is queued; returns the topic of her conversation."""
        before = len(self.tg.calls_to("sendMessage", ALICE))
        await self.alice_says("/human")
        await self.alice_texts(before + 1)
        await self.alice_says("yes")
        texts = await self.alice_texts(before + 2)
        assert f"number {position}" in texts[-1]
        created = (await self.tg.wait_for_calls("createForumTopic", position))[-1]
        topic = int(created.result["message_thread_id"])
        await self.tg.wait_for(lambda: self.card_call(topic) is not None, description="the card")
        return topic

    def card_call(self, topic: int) -> Call | None:
        cards = [
            c
            for c in self.tg.calls_to("sendMessage", GROUP)
            if c.ok and c.params.get("message_thread_id") == topic and "Press Claim" in str(c.params["text"])
        ]
        return cards[0] if cards else None

    def ticket(self, topic: int) -> tuple[str, int]:
        call = self.card_call(topic)
        assert call is not None
        data = button_data(call)
        return data[0].partition(":")[2], int(call.result["message_id"])

    async def press(self, supporter: int, topic: int, kind: str = "hc") -> str:
        """A supporter presses Claim (hc) or Close (hx) on the card; returns the answer they saw."""
        ticket, card = self.ticket(topic)
        answered = len(self.tg.calls_to("answerCallbackQuery"))
        await self.tg.press_button(
            supporter, f"{kind}:{ticket}", card, chat_id=GROUP, first_name="Sam Supporter"
        )
        calls = await self.tg.wait_for_calls("answerCallbackQuery", answered + 1)
        return str(calls[-1].params.get("text", ""))

    async def in_group(self, supporter: int, text: str, topic: int | None = None) -> None:
        await self.tg.send_text(
            supporter, text, chat_id=GROUP, chat_type="supergroup", message_thread_id=topic, first_name="Sam"
        )

    async def group_reply(self, containing: str) -> Call:
        return await sent_containing(self, "sendMessage", GROUP, containing)

    def copies_to(self, chat_id: int, topic: int | None = None) -> list[Call]:
        return [
            c
            for c in self.tg.calls_to("copyMessage", chat_id)
            if c.ok and (topic is None or c.params.get("message_thread_id") == topic)
        ]

    async def claimed(self, supporter: int = SAM, name: str = "Sam") -> int:
        """ALICE is queued and `supporter` (display name `name`) has claimed her conversation."""
        await self.in_group(supporter, f"/alias {name}")
        await self.group_reply(f"People will see you as <b>{name}</b>")
        topic = await self.ask_for_human()
        assert (
            await self.press(supporter, topic) == "You have this conversation. Write in its topic to reply."
        )
        texts = await self.alice_texts(len(self.tg.calls_to("sendMessage", ALICE)))
        await eventually(lambda: _has(self.bot, ALICE, f"<b>{name}</b>, a peer supporter, has joined"))
        assert texts
        return topic

    async def sweep(self, advance: float) -> None:
        self.clock.now += advance
        await self.desk.queue.redis.delete(f"{self.bot.prefix}:hq:lock:{{sweep}}")
        await self.desk.sweep(self.bot.app.bot)


async def sent_containing(desk: Desk, method: str, chat: int, text: str) -> Call:
    """Wait for a successful `method` call to `chat` whose text contains `text`; return it."""

    def matches(call: Call) -> bool:
        return (
            call.method == method
            and call.ok
            and call.params["chat_id"] == chat
            and text in call.params["text"]
        )

    return await desk.tg.wait_for(matches, description=f"{method} to {chat} containing {text!r}")


async def _has(bot: RunningBot, chat: int, text: str) -> bool:
    return any(text in str(c.params.get("text", "")) for c in bot.tg.calls_to("sendMessage", chat) if c.ok)


@pytest.fixture
async def start_desk(brain: Brain) -> AsyncIterator[Any]:
    async with bot_factory(brain) as start:

        async def make(start_bot: StartBot = start, **env: str) -> Desk:
            clock = Clock()
            settings = {
                "SUPPORTERS_CHAT_ID": str(GROUP),
                "SUPPORTER_IDS": f"{SAM},{ROBIN}",
                **env,
            }
            bot = await start_bot(clock=clock, **settings)
            bot.tg.register_chat(GROUP, "supergroup", title="Peer supporters", is_forum=True)
            return Desk(bot, clock)

        yield make


# -- the whole flow -------------------------------------------------------------------------------


async def test_whole_handoff_both_ways_with_text_photo_notes_end_and_feedback(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()

    await desk.alice_says("i relapsed last night and feel awful")
    await desk.tg.send_photo(ALICE, first_name=ALICE_NAME)
    await desk.tg.wait_for(lambda: len(desk.copies_to(GROUP, topic)) >= 2, description="2 copies")
    assert [c.params["from_chat_id"] for c in desk.copies_to(GROUP, topic)] == [ALICE, ALICE]
    # The engine did not answer the relayed messages: the supporter does.
    assert not await _has(desk.bot, ALICE, "relapse")

    await desk.in_group(SAM, "// seems low, check in about naloxone", topic)
    await desk.in_group(SAM, "Hey, I'm here. That sounds really hard.", topic)
    await desk.tg.send_photo(SAM, "a leaflet", chat_id=GROUP, chat_type="supergroup", message_thread_id=topic)
    await desk.tg.wait_for(lambda: len(desk.copies_to(ALICE)) >= 2, description="2 copies to Alice")
    # The group's updates are handled in order, so the note was handled before the two copies were made.
    relayed = desk.copies_to(ALICE)
    assert len(relayed) == 2, "the // note must not be relayed"
    assert all(c.params["from_chat_id"] == GROUP for c in relayed)

    await desk.in_group(SAM, "/end", topic)
    (await desk.tg.wait_for_calls("closeForumTopic"))[0]
    ended = await sent_containing(desk, "sendMessage", ALICE, "ended the chat")
    assert button_data(ended) == ["fb:y", "fb:n"]
    await desk.tg.press_button(ALICE, "fb:y", int(ended.result["message_id"]))
    await eventually(lambda: _has(desk.bot, ALICE, "Thank you for telling us"))
    assert await desk.desk.queue.get(desk.bot.user_key(ALICE)) is None

    # Back with the bot: ordinary questions get the engine's answers again.
    await desk.alice_says("where can i get narcan")
    await eventually(lambda: _has(desk.bot, ALICE, "aloxone"))


async def test_person_can_end_with_slash_end_and_the_topic_closes(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    await desk.alice_says("/end")
    await eventually(lambda: _has(desk.bot, ALICE, "You're back with the bot"))
    await desk.group_reply("The person ended the conversation.")
    close = (await desk.tg.wait_for_calls("closeForumTopic"))[0]
    assert close.params["message_thread_id"] == topic


async def test_queue_position_and_card_show_topics_not_words(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    await desk.alice_says("how do i use naloxone")
    await desk.alice_texts(1)
    topic = await desk.ask_for_human()
    call = desk.card_call(topic)
    assert call is not None
    text = str(call.params["text"])
    alias = conversation_alias(ID_SECRET, desk.bot.user_key(ALICE))
    assert alias in text and "Naloxone" in text and "how do i use" not in text
    created = desk.tg.calls_to("createForumTopic")[0]
    assert created.params["name"] == alias


async def test_asking_again_while_waiting_says_the_place_in_line(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    await desk.ask_for_human()
    await desk.alice_says("/human")
    await desk.alice_says("yes")
    await eventually(lambda: _has(desk.bot, ALICE, "You're already in line"))
    assert len(desk.tg.calls_to("createForumTopic")) == 1


# -- crisis ---------------------------------------------------------------------------------------


async def test_crisis_during_handoff_gets_crisis_reply_at_once_and_flags_the_topic(
    start_desk: Any, brain: Brain
) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    await desk.alice_says("my friend took too much and isnt breathing")
    emergency = brain.content.region(None).values["emergency_number"]
    await eventually(lambda: _has(desk.bot, ALICE, emergency))
    await desk.tg.wait_for(lambda: bool(desk.copies_to(GROUP, topic)), description="the message relayed")
    pinned = (await desk.tg.wait_for_calls("pinChatMessage"))[0]
    assert pinned.params["chat_id"] == GROUP
    await sent_containing(desk, "editMessageText", GROUP, "CRISIS")


async def test_crisis_while_waiting_jumps_the_queue(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    await desk.tg.send_text(BOB, "/human")
    await desk.tg.send_text(BOB, "yes")
    (await desk.tg.wait_for_calls("createForumTopic"))[0]
    desk.clock.now += 60
    await desk.ask_for_human(position=2)
    await desk.alice_says("i want to kill myself tonight")
    await eventually(lambda: _has(desk.bot, ALICE, "988"))
    (await desk.tg.wait_for_calls("pinChatMessage"))[0]
    await desk.in_group(SAM, "/queue")
    listing = await desk.group_reply("<b>Waiting</b>")
    lines = str(listing.params["text"]).splitlines()
    alice = conversation_alias(ID_SECRET, desk.bot.user_key(ALICE))
    bob = conversation_alias(ID_SECRET, desk.bot.user_key(BOB))
    assert alice in lines[1] and "🚨" in lines[1]
    assert bob in lines[2]
