"""The handoff to peer supporters, end to end: the real PTB Application, FakeTelegram and a real Redis.

A supporters' forum group (GROUP) with supporters SAM and ROBIN; ALICE is a person asking for a human.
The desk's timers run only when a test calls `sweep`, with a clock the test moves.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from bot.brain import Brain
from bot.content.html import escape
from bot.handoff import card
from bot.telegram.application import DESK_KEY, METRICS_KEY
from bot.telegram.desk import SupportersDesk
from tests.fake_telegram import Call
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

SAM = 111_222_333_444
ROBIN = 222_333_444_555
STRANGER = 333_444_555_666
ALICE_NAME, ALICE_USERNAME = "Alicia Q. Private", "alicia_private_handle"
OVERDOSE_REPLY = "<b>Call 911 now.</b>"  # how the crisis replies begin (US region), unlike any other text
SUICIDE_REPLY = "I'm really glad you told me."
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
        cards = len(self.cards())
        await self.alice_says("/human")
        await self.alice_texts(before + 1)
        await self.alice_says("yes")
        texts = await self.alice_texts(before + 2)
        assert f"number {position}" in texts[-1], "\n".join(t[:70] for t in texts)
        # A new topic, or (asked again within minutes) the last one reopened: either way, a new card.
        await self.tg.wait_for(lambda: len(self.cards()) > cards, description="the card")
        topic = int(self.cards()[-1].params["message_thread_id"])

        async def recorded() -> bool:  # the topic is written to Redis just after the card is sent
            return await self.desk.queue.by_topic(topic) is not None

        await eventually(recorded)
        return topic

    def cards(self) -> list[Call]:
        """Every card sent to the group, oldest first."""
        return [
            c
            for c in self.tg.calls_to("sendMessage", GROUP)
            if c.ok and "Press Claim" in str(c.params["text"]) and button_data(c)
        ]

    def card_call(self, topic: int) -> Call | None:
        """The latest card in the topic (a reused topic has one per conversation)."""
        cards = [c for c in self.cards() if c.params.get("message_thread_id") == topic]
        return cards[-1] if cards else None

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

    async def conversation_name(self, person: int = ALICE) -> str:
        """The name of the person's open conversation (one per conversation)."""
        record = await self.desk.queue.get(self.bot.user_key(person))
        assert record is not None, "no open conversation"
        return record.conversation_name

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
    alias = await desk.conversation_name()
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
    await eventually(lambda: _has(desk.bot, ALICE, OVERDOSE_REPLY))
    await desk.tg.wait_for(lambda: bool(desk.copies_to(GROUP, topic)), description="the message relayed")
    pinned = (await desk.tg.wait_for_calls("pinChatMessage"))[0]
    assert pinned.params["chat_id"] == GROUP
    await sent_containing(desk, "editMessageText", GROUP, "CRISIS")


class HeldCopies:
    """copyMessage into the supporters' group waits at the fake (as behind its rate limit) until released."""

    def __init__(self, tg: Any) -> None:
        self.gate = asyncio.Event()
        self.arrived = 0
        self._arrival = asyncio.Event()
        copy = tg._m_copy_message

        async def held(params: dict[str, Any]) -> Any:
            if params.get("chat_id") == GROUP:
                self.arrived += 1
                self._arrival.set()
                await self.gate.wait()
            return await copy(params)

        tg.register_method("copyMessage", held)

    async def wait_for_arrivals(self, count: int, timeout: float = 5.0) -> None:
        """Until `count` copies have reached the fake (the fake records a call only once it answers)."""
        async with asyncio.timeout(timeout):
            while self.arrived < count:
                self._arrival.clear()
                await self._arrival.wait()


async def test_a_crisis_is_answered_while_an_earlier_message_still_waits_to_reach_the_supporter(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    held = HeldCopies(desk.tg)
    await desk.alice_says("are you there")
    await held.wait_for_arrivals(1)
    await desk.alice_says("my friend took too much and isnt breathing")
    await eventually(lambda: _has(desk.bot, ALICE, OVERDOSE_REPLY))
    assert not desk.copies_to(GROUP, topic), "the first copy is still held at the group's side"
    held.gate.set()
    await desk.tg.wait_for(lambda: len(desk.copies_to(GROUP, topic)) == 2, description="both relayed")
    first, second = desk.copies_to(GROUP, topic)
    assert int(first.params["message_id"]) < int(second.params["message_id"]), "in the order sent"


async def test_ending_waits_until_earlier_messages_have_reached_the_supporter(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    held = HeldCopies(desk.tg)
    await desk.alice_says("thank you so much")
    await held.wait_for_arrivals(1)
    await desk.alice_says("/end")
    held.gate.set()
    close = (await desk.tg.wait_for_calls("closeForumTopic"))[0]
    [copied] = desk.copies_to(GROUP, topic)
    assert copied.at <= close.at, "the supporter saw the message before the conversation closed"


async def test_flooded_crisis_during_a_claimed_handoff_gets_the_crisis_reply_and_alerts_the_supporter(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk(PEERLINE_FLOOD_LIMIT="3")
    topic = await desk.claimed()  # /human and "yes": two messages of the three
    await desk.alice_says("are you there")
    await desk.tg.wait_for(lambda: bool(desk.copies_to(GROUP, topic)), description="the message relayed")
    await desk.alice_says("my friend took too much and isnt breathing")  # the fourth: flooded
    await eventually(lambda: _has(desk.bot, ALICE, OVERDOSE_REPLY))
    pinned = (await desk.tg.wait_for_calls("pinChatMessage"))[0]
    assert pinned.params["chat_id"] == GROUP
    await sent_containing(desk, "editMessageText", GROUP, "CRISIS")
    assert len(desk.copies_to(GROUP, topic)) == 1, "a flooded message is not relayed"
    record = await desk.desk.queue.get(desk.bot.user_key(ALICE))
    assert record is not None and record.crisis


async def test_crisis_answering_a_pending_forget_during_a_claimed_handoff_alerts_the_supporter(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    await desk.alice_says("/forget")
    await eventually(lambda: _has(desk.bot, ALICE, "Delete everything about you?"))
    await desk.alice_says("my friend took too much and isnt breathing")
    await eventually(lambda: _has(desk.bot, ALICE, OVERDOSE_REPLY))
    await sent_containing(desk, "editMessageText", GROUP, "CRISIS")
    (await desk.tg.wait_for_calls("pinChatMessage"))[0]
    assert not desk.copies_to(GROUP, topic), "an answer to the bot's question is not relayed"


async def test_crisis_while_waiting_jumps_the_queue(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    await desk.tg.send_text(BOB, "/human")
    await desk.tg.send_text(BOB, "yes")
    (await desk.tg.wait_for_calls("createForumTopic"))[0]
    desk.clock.now += 60
    await desk.ask_for_human(position=2)
    await desk.alice_says("i want to kill myself tonight")
    await eventually(lambda: _has(desk.bot, ALICE, SUICIDE_REPLY))
    (await desk.tg.wait_for_calls("pinChatMessage"))[0]
    await desk.in_group(SAM, "/queue")
    listing = await desk.group_reply("<b>Waiting</b>")
    lines = str(listing.params["text"]).splitlines()
    alice = await desk.conversation_name(ALICE)
    bob = await desk.conversation_name(BOB)
    assert alice in lines[1] and "🚨" in lines[1]
    assert bob in lines[2]


async def test_a_supporter_waiting_on_a_slow_send_does_not_hold_up_another_in_their_topic(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk()
    alice_topic = await desk.claimed(SAM, "Sam")
    await desk.tg.send_text(BOB, "/human")
    await desk.tg.send_text(BOB, "yes")
    created = await desk.tg.wait_for_calls("createForumTopic", 2)
    bob_topic = int(created[-1].result["message_thread_id"])
    await desk.tg.wait_for(lambda: desk.card_call(bob_topic) is not None, description="Bob's card")
    await desk.in_group(ROBIN, "/alias Robin")
    await desk.group_reply("People will see you as <b>Robin</b>")
    assert await desk.press(ROBIN, bob_topic) == "You have this conversation. Write in its topic to reply."

    gate = asyncio.Event()
    copy = desk.tg._m_copy_message

    async def held(params: dict[str, Any]) -> Any:
        if params.get("chat_id") == ALICE:
            await gate.wait()  # Sam's message to Alice is stuck on its way
        return await copy(params)

    desk.tg.register_method("copyMessage", held)
    await desk.in_group(SAM, "Hi Alice, I'm here.", alice_topic)
    await desk.in_group(ROBIN, "Hi Bob, I'm here.", bob_topic)
    await desk.tg.wait_for(lambda: bool(desk.copies_to(BOB)), description="Robin's message reaches Bob")
    assert not desk.copies_to(ALICE)
    gate.set()
    await desk.tg.wait_for(lambda: bool(desk.copies_to(ALICE)), description="then Sam's reaches Alice")


# -- queue and time -------------------------------------------------------------------------------


async def test_unclaimed_conversation_is_announced_again_and_the_person_may_leave(start_desk: Any) -> None:
    desk: Desk = await start_desk(PEERLINE_HANDOFF_REALERT="180", PEERLINE_HANDOFF_WAIT_NOTICE="600")
    await desk.ask_for_human()
    await desk.sweep(100)
    assert not [c for c in desk.tg.calls_to("sendMessage", GROUP) if "Still waiting" in c.params["text"]]
    await desk.sweep(100)  # 200 s waited
    await desk.group_reply("Still waiting")
    await desk.sweep(400)  # 600 s: the person hears nobody is free yet, with the choice to leave
    notice = await sent_containing(desk, "sendMessage", ALICE, "nobody has been free")
    assert button_data(notice) == ["hw:stay", "hw:leave"]
    alerts = [c for c in desk.tg.calls_to("sendMessage", GROUP) if "Still waiting" in c.params["text"]]
    assert len(alerts) >= 2, "each realert period announces again"
    await desk.tg.press_button(ALICE, "hw:leave", int(notice.result["message_id"]))
    await eventually(lambda: _has(desk.bot, ALICE, "You've left the line"))
    await desk.group_reply("The person left the queue.")
    assert await desk.desk.queue.get(desk.bot.user_key(ALICE)) is None


async def test_one_conversation_failing_in_a_sweep_does_not_stop_the_others(start_desk: Any) -> None:
    desk: Desk = await start_desk(PEERLINE_HANDOFF_WAIT_NOTICE="600")
    await desk.ask_for_human()  # Alice first, so her failure would come before Bob's turn
    await desk.tg.send_text(BOB, "/human")
    await desk.tg.send_text(BOB, "yes")
    await desk.tg.wait_for_calls("createForumTopic", 2)
    desk.tg.fail_next("sendMessage", status=400, chat_id=ALICE)  # her "nobody has been free" notice
    await desk.sweep(700)
    await sent_containing(desk, "sendMessage", BOB, "nobody has been free")


async def test_a_crisis_reaches_the_supporters_even_when_telling_the_person_their_place_fails(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk()
    await desk.alice_says("i want to end my life")
    await desk.alice_texts(1)
    await desk.alice_says("/human")
    await desk.alice_texts(2)
    desk.tg.fail_next("sendMessage", status=400, chat_id=ALICE)  # "you are number 1 in the line"
    await desk.alice_says("yes")
    await desk.tg.wait_for_calls("createForumTopic", 1)
    await desk.tg.wait_for_calls("pinChatMessage", 1)
    metrics = await desk.bot.app.bot_data[METRICS_KEY].exposition()
    assert b"peerline_errors_total{" not in metrics, "handled, not left to PTB's error handler"


async def test_unclaimed_crisis_is_realerted_loudly_and_pinned(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    await desk.alice_says("i want to end my life")
    await desk.alice_texts(1)
    await desk.ask_for_human()
    # A crisis conversation is announced loudly as soon as it is queued.
    await desk.tg.wait_for_calls("pinChatMessage", 1)
    await desk.sweep(200)
    alert = await desk.group_reply("Crisis conversation waiting")
    await desk.tg.wait_for(
        lambda c: c.method == "pinChatMessage" and c.params["message_id"] == alert.result["message_id"],
        description="the realert pinned",
    )


async def test_supporter_silence_realerts_and_an_idle_conversation_returns_to_the_bot(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk(
        PEERLINE_HANDOFF_SILENCE="300", PEERLINE_HANDOFF_IDLE="1200", PEERLINE_HANDOFF_RETURN="600"
    )
    topic = await desk.claimed()
    desk.clock.now += 10
    await desk.alice_says("are you still there?")
    await desk.tg.wait_for(lambda: bool(desk.copies_to(GROUP, topic)), description="relayed")
    await desk.sweep(310)
    await desk.group_reply("has had no reply")
    await desk.sweep(900)  # 1210 s of quiet: a reminder in the topic
    reminder = await desk.group_reply("This conversation has been quiet")
    assert reminder.params["message_thread_id"] == topic
    await desk.sweep(610)  # and then back to the bot, with the feedback question
    returned = await sent_containing(desk, "sendMessage", ALICE, "It's been quiet for a while")
    assert button_data(returned) == ["fb:y", "fb:n"]
    assert await desk.desk.queue.get(desk.bot.user_key(ALICE)) is None


async def test_crisis_conversation_is_not_returned_to_the_bot_while_the_person_is_writing(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk(PEERLINE_HANDOFF_IDLE="600", PEERLINE_HANDOFF_RETURN="300")
    await desk.claimed()
    await desk.alice_says("i dont want to be alive anymore")
    await eventually(lambda: _has(desk.bot, ALICE, SUICIDE_REPLY))
    for _ in range(4):
        await desk.sweep(400)  # the supporter is silent, but the person keeps writing
        relayed = len(desk.tg.calls_to("copyMessage"))
        await desk.alice_says("still here")
        # The next sweep must come after the bot has seen the message, as it would in real time.
        await desk.tg.wait_for(
            lambda n=relayed: len(desk.tg.calls_to("copyMessage")) > n, 5, description="the message relayed"
        )
    await desk.sweep(1)
    record = await desk.desk.queue.get(desk.bot.user_key(ALICE))
    assert record is not None and record.claimed and record.crisis
    assert not await _has(desk.bot, ALICE, "It's been quiet for a while")


async def test_outside_opening_hours_the_person_hears_when_supporters_are_back(
    start_desk: Any, brain: Brain
) -> None:
    # START is a Friday 08:00 UTC = 03:00 in New York; the shift starts at 09:00 there.
    desk: Desk = await start_desk(
        PEERLINE_SUPPORT_HOURS="mon-fri 09:00-17:00", PEERLINE_SUPPORT_TIMEZONE="America/New_York"
    )
    await desk.alice_says("/human")
    await desk.alice_texts(1)
    await desk.alice_says("yes")
    closed = await sent_containing(desk, "sendMessage", ALICE, "aren't on shift right now")
    assert "Friday 09:00 (America/New_York)" in closed.params["text"]
    assert escape(brain.content.region(None).values["crisis_line"]) in closed.params["text"]
    assert not desk.tg.calls_to("createForumTopic")
    # The bot still answers.
    await desk.alice_says("how do i use narcan")
    await eventually(lambda: _has(desk.bot, ALICE, "aloxone"))
    # Once the shift starts, the same request is queued.
    desk.clock.now += 7 * 3600
    await desk.ask_for_human()


# -- topics that heal -----------------------------------------------------------------------------


@pytest.mark.parametrize("breakage", ["delete_topic", "close_topic"])
async def test_a_deleted_or_closed_topic_is_recreated_with_the_card_and_the_message_arrives(
    start_desk: Any, breakage: str
) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    getattr(desk.tg, breakage)(GROUP, topic)
    await desk.alice_says("hello? did you get this")
    created = await desk.tg.wait_for_calls("createForumTopic", 2)
    new_topic = int(created[-1].result["message_thread_id"])
    assert new_topic != topic
    await desk.tg.wait_for(
        lambda: bool(desk.copies_to(GROUP, new_topic)), description="copied into the new topic"
    )
    await desk.tg.wait_for(lambda: desk.card_call(new_topic) is not None, description="a new card")
    # The supporter's replies in the new topic reach the person.
    await desk.in_group(SAM, "I'm still here, the old topic broke", new_topic)
    await desk.tg.wait_for(lambda: bool(desk.copies_to(ALICE)), description="the reply relayed")


# -- relays that fail ----------------------------------------------------------------------------

NOT_REACHED = "didn't reach your peer supporter"  # handoff_relay_failed
KICKED = "Forbidden: bot was kicked from the supergroup chat"


@pytest.mark.parametrize(
    ("status", "description", "attempts"),
    [
        (403, KICKED, 1),  # the bot was removed from the supporters' group: not the person blocking it
        (400, "Bad Request: message to copy not found", 1),  # the person deleted it at once
        (400, "Bad Request: message can't be copied", 1),
        (500, "Internal Server Error", 4),  # still failing after every retry
    ],
)
async def test_a_message_that_cannot_reach_the_group_gets_a_calm_reply_and_the_persons_data_stays(
    start_desk: Any, caplog: pytest.LogCaptureFixture, status: int, description: str, attempts: int
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    desk.tg.fail_next("copyMessage", status, description=description, count=attempts, chat_id=GROUP)
    await desk.alice_says("are you still there")
    await eventually(lambda: _has(desk.bot, ALICE, NOT_REACHED), timeout=10)
    assert not desk.copies_to(GROUP, topic)
    record = await desk.desk.queue.get(desk.bot.user_key(ALICE))
    assert record is not None and record.claimed
    assert any(k.endswith(":session") for k in await desk.bot.keys_of(ALICE))
    logged = [r.getMessage() for r in caplog.records]
    failed = [m for m in logged if m.startswith("event=relay_failed")]
    assert len(failed) == 1 and "direction=to_supporter" in failed[0]
    assert not [m for m in logged if "user_blocked" in m]
    assert not [m for m in logged if str(ALICE) in m or "still there" in m]
    # Nothing was given up on: the next message reaches the supporter.
    await desk.alice_says("hello?")
    await desk.tg.wait_for(lambda: bool(desk.copies_to(GROUP, topic)), description="the next message relayed")


async def test_crisis_whose_copy_to_the_group_fails_gets_the_crisis_reply_first_then_a_calm_notice(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk()
    await desk.claimed()
    before = len([c for c in desk.tg.calls_to("sendMessage", ALICE) if c.ok])
    desk.tg.fail_next("copyMessage", 403, description=KICKED, chat_id=GROUP)
    await desk.alice_says("my friend took too much and isnt breathing")
    await eventually(lambda: _has(desk.bot, ALICE, NOT_REACHED))
    texts = [str(c.params["text"]) for c in desk.tg.calls_to("sendMessage", ALICE) if c.ok][before:]
    assert [OVERDOSE_REPLY in texts[0], NOT_REACHED in texts[-1]] == [True, True], texts
    (await desk.tg.wait_for_calls("pinChatMessage"))[0]  # the supporter was still alerted
    record = await desk.desk.queue.get(desk.bot.user_key(ALICE))
    assert record is not None and record.claimed and record.crisis


async def test_a_supporter_message_that_cannot_be_delivered_is_flagged_in_the_topic(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    desk.tg.fail_next("copyMessage", 400, description="Bad Request: message to copy not found", chat_id=ALICE)
    await desk.in_group(SAM, "I'm here for you", topic)
    notice = await desk.group_reply("could not be delivered to the person")
    assert notice.params["message_thread_id"] == topic
    assert not desk.copies_to(ALICE)
    record = await desk.desk.queue.get(desk.bot.user_key(ALICE))
    assert record is not None and record.claimed and record.last_supporter == 0
    # The supporter sends it again, and it arrives.
    await desk.in_group(SAM, "I'm here for you", topic)
    await desk.tg.wait_for(lambda: bool(desk.copies_to(ALICE)), description="the second try delivered")


# -- supporters' commands ------------------------------------------------------------------------


async def test_release_puts_the_conversation_back_for_another_supporter(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    await desk.in_group(SAM, "/release", topic)
    await desk.group_reply("back in the queue")
    await eventually(lambda: _has(desk.bot, ALICE, "put you back in line"))
    await desk.in_group(ROBIN, "/alias Robin")
    await desk.group_reply("<b>Robin</b>")
    assert await desk.press(ROBIN, topic) == "You have this conversation. Write in its topic to reply."
    await eventually(lambda: _has(desk.bot, ALICE, "<b>Robin</b>, a peer supporter, has joined"))


async def test_only_the_owner_may_end_or_release_and_others_are_told_who_has_it(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    assert await desk.press(ROBIN, topic) == "Already claimed by Sam."
    await desk.in_group(ROBIN, "/end", topic)
    await desk.group_reply("This conversation is with Sam.")
    record = await desk.desk.queue.get(desk.bot.user_key(ALICE))
    assert record is not None and record.claimed


async def test_queue_and_mine_list_conversations(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    await desk.in_group(SAM, "/mine")
    mine = await desk.group_reply("<b>Your conversations</b>")
    assert await desk.conversation_name() in mine.params["text"]
    await desk.in_group(SAM, "/queue", topic)
    await desk.group_reply("Nobody is waiting.")


async def test_help_in_the_group_gives_supporters_the_short_guide_and_strangers_nothing(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk()
    await desk.in_group(SAM, "/help")
    answer = await desk.group_reply("Peer supporters: the short version")
    assert answer.params["text"] == card.SUPPORTERS_HELP
    assert answer.params["parse_mode"] == "HTML"
    # A stranger's /help is ignored; the /queue after it (same chat, handled in order) proves it was seen.
    await desk.in_group(STRANGER, "/help")
    await desk.in_group(SAM, "/queue")
    await desk.group_reply("Nobody is waiting.")
    guides = [c for c in desk.tg.calls_to("sendMessage", GROUP) if "short version" in str(c.params["text"])]
    assert len(guides) == 1


async def test_block_stops_a_person_reaching_supporters_but_the_bot_and_crisis_replies_go_on(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    alias = await desk.conversation_name()
    await desk.in_group(SAM, "/block", topic)
    blocked = await desk.group_reply("Blocked. To undo: /unblock")
    await eventually(lambda: _has(desk.bot, ALICE, "ended the chat"))
    await desk.alice_says("/human")
    await desk.alice_says("yes")
    await eventually(lambda: _has(desk.bot, ALICE, "can't connect you to a peer supporter"))
    await desk.alice_says("my friend isnt breathing")
    await eventually(lambda: _has(desk.bot, ALICE, OVERDOSE_REPLY))
    assert len(desk.tg.calls_to("createForumTopic")) == 1
    assert alias in blocked.params["text"]
    await desk.in_group(SAM, f"/unblock {alias}")
    await desk.group_reply("Unblocked")
    await desk.ask_for_human()


async def nothing_left_about_alice(desk: Desk, topic: int | None = None) -> None:
    """Wait until no Redis key mentions Alice's key; with `topic`, her conversation is gone everywhere."""
    user = desk.bot.user_key(ALICE)

    async def nothing_left() -> bool:
        return user not in repr(await desk.bot.stored())

    await eventually(nothing_left)
    if topic is not None:
        assert await desk.desk.queue.by_topic(topic) is None
        assert await desk.desk.queue.waiting() == []
        assert await desk.bot.redis.zcard(f"{desk.bot.prefix}:hq:{{active}}") == 0
        assert await desk.bot.redis.zcard(f"{desk.bot.prefix}:hq:{{queue}}") == 0


async def test_forget_mid_handoff_deletes_the_topic_and_says_so_and_the_person_returns_as_someone_new(
    start_desk: Any,
) -> None:
    """Review finding 1: /forget left the person's words in the group under an alias that came back."""
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    alias = await desk.conversation_name()
    await desk.alice_says("my name is Alicia and I live at 12 Secret Rd")
    await desk.tg.wait_for(lambda: len(desk.copies_to(GROUP, topic)) >= 1, description="the copy")
    await desk.in_group(SAM, "thanks for telling me, Alicia", topic)
    await desk.alice_says("/forget")
    await desk.alice_says("yes")
    await desk.group_reply("deleted their data with /forget")
    deleted = (await desk.tg.wait_for_calls("deleteForumTopic"))[0]
    assert deleted.params["message_thread_id"] == topic
    assert not any("Secret Rd" in str(m) or "Alicia" in str(m) for m in desk.tg.messages_in(GROUP))
    reply = await sent_containing(desk, "sendMessage", ALICE, "deleted from their team's chat")
    assert "new made-up name" in reply.params["text"]
    await nothing_left_about_alice(desk, topic)

    await desk.ask_for_human()
    assert await desk.conversation_name() != alias


async def test_forget_after_an_ended_conversation_deletes_its_topic_too(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    await desk.alice_says("/end")
    await eventually(lambda: _has(desk.bot, ALICE, "ended"))
    await desk.alice_says("/forget")
    await desk.alice_says("yes")
    deleted = (await desk.tg.wait_for_calls("deleteForumTopic"))[0]
    assert deleted.params["message_thread_id"] == topic
    await sent_containing(desk, "sendMessage", ALICE, "deleted from their team's chat")
    await nothing_left_about_alice(desk)


async def test_forget_where_the_topic_cannot_be_deleted_deletes_the_copies_and_card_and_says_what_is_left(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    _, card = desk.ticket(topic)
    await desk.alice_says("I live at 12 Secret Rd")
    await desk.tg.wait_for(lambda: len(desk.copies_to(GROUP, topic)) >= 1, description="the copy")
    copy = int(desk.copies_to(GROUP, topic)[0].result["message_id"])
    desk.tg.fail_next("deleteForumTopic", 400, description="Bad Request: not enough rights to delete topic")
    await desk.alice_says("/forget")
    await desk.alice_says("yes")
    await desk.tg.wait_for_calls("deleteMessage", 2)
    assert desk.tg.get_message(GROUP, copy) is None and desk.tg.get_message(GROUP, card) is None
    await sent_containing(desk, "sendMessage", ALICE, "deleted from their team's chat")


async def test_forget_where_nothing_can_be_deleted_asks_admins_and_tells_the_person_what_is_left(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk()
    await desk.claimed()
    desk.tg.fail_next("deleteForumTopic", 400, description="Bad Request: not enough rights to delete topic")
    desk.tg.fail_next("deleteMessage", 400, description="Bad Request: message can't be deleted for everyone")
    await desk.alice_says("/forget")
    await desk.alice_says("yes")
    await desk.group_reply("An admin, please delete these topics")
    await sent_containing(desk, "sendMessage", ALICE, "asked them to delete it")


async def test_forget_after_a_block_leaves_nothing_about_the_person(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    await desk.in_group(SAM, "/block", topic)
    await desk.group_reply("Blocked. To undo")
    await desk.alice_says("/forget")
    await desk.alice_says("yes")
    await eventually(lambda: _has(desk.bot, ALICE, "deleted"))
    await nothing_left_about_alice(desk)


async def alice_blocks_the_bot(desk: Desk) -> None:
    """The my_chat_member update Telegram sends when a person blocks the bot ("kicked")."""
    member = {"user": desk.tg.bot_user, "until_date": 0}
    await desk.tg.add_update(
        {
            "my_chat_member": {
                "chat": {"id": ALICE, "type": "private", "first_name": ALICE_NAME},
                "from": {"id": ALICE, "is_bot": False, "first_name": ALICE_NAME},
                "date": 1_700_000_000,
                "old_chat_member": {**member, "status": "member"},
                "new_chat_member": {**member, "status": "kicked"},
            }
        }
    )


async def test_blocking_the_bot_mid_handoff_deletes_the_topic_and_leaves_nothing_about_the_person(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    await alice_blocks_the_bot(desk)
    note = await desk.group_reply("The person blocked the bot")
    assert note.params.get("message_thread_id") is None  # in General: the topic is gone
    deleted = (await desk.tg.wait_for_calls("deleteForumTopic"))[0]
    assert deleted.params["message_thread_id"] == topic
    await nothing_left_about_alice(desk, topic)


async def test_a_reply_refused_because_the_person_blocked_the_bot_closes_their_waiting_handoff(
    start_desk: Any,
) -> None:
    desk: Desk = await start_desk()
    topic = await desk.ask_for_human()
    desk.tg.block_user(ALICE)
    await desk.alice_says("how do i use naloxone")  # waiting, so the bot answers: the reply gets 403
    await desk.group_reply("The person blocked the bot")
    (await desk.tg.wait_for_calls("deleteForumTopic"))[0]
    await nothing_left_about_alice(desk, topic)


async def test_non_supporters_are_refused_politely_and_ignored_in_topics(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.ask_for_human()
    answer = await desk.press(STRANGER, topic)
    assert answer == "Only peer supporters on the rota can claim or close conversations."
    record = await desk.desk.queue.get(desk.bot.user_key(ALICE))
    assert record is not None and not record.claimed
    # A stranger's message and command in the group are ignored; a supporter's claim still works.
    await desk.in_group(STRANGER, "hi alice it's me", topic)
    await desk.in_group(STRANGER, "/queue")
    assert await desk.press(SAM, topic) == "You have this conversation. Write in its topic to reply."
    assert not desk.copies_to(ALICE)
    assert not [c for c in desk.tg.calls_to("sendMessage", GROUP) if "Waiting</b>" in str(c.params["text"])]


async def test_card_button_pressed_outside_the_supporters_group_does_nothing(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.ask_for_human()
    ticket, _ = desk.ticket(topic)
    await desk.tg.press_button(SAM, f"hc:{ticket}", 999)  # a forged press in a private chat
    await desk.tg.wait_for_calls("answerCallbackQuery", 1)
    record = await desk.desk.queue.get(desk.bot.user_key(ALICE))
    assert record is not None and not record.claimed


# -- guarantees -----------------------------------------------------------------------------------


async def test_nothing_sent_to_the_group_or_stored_names_the_person(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    await desk.alice_says("i use fentanyl and want to cut down")
    await desk.tg.send_photo(ALICE, first_name=ALICE_NAME, username=ALICE_USERNAME)
    await desk.alice_says("my friend isnt breathing")
    await desk.tg.wait_for(lambda: len(desk.copies_to(GROUP, topic)) >= 3, description="3 copies")
    await desk.in_group(SAM, "/queue")
    await desk.group_reply("Nobody is waiting")
    secrets_of_alice = (str(ALICE), ALICE_NAME, ALICE_USERNAME, "Alicia")
    to_group = [c for c in desk.tg.calls if str(c.params.get("chat_id")) == str(GROUP)]
    assert to_group
    for call in to_group:
        # from_chat_id is the person's chat on copyMessage: Telegram uses it, supporters never see it.
        shown = {k: v for k, v in call.params.items() if k != "from_chat_id"}
        for secret in secrets_of_alice:
            assert secret not in repr(shown), (call.method, secret)
    # The copies Telegram delivers carry no forward header and no sender.
    for message in desk.tg.messages_in(GROUP):
        if message.get("message_thread_id") == topic and "forward_origin" in message:
            pytest.fail("a relayed message carries a forward header")
    # A dump of Redis holds no raw id, name or words.
    dump = repr(await desk.bot.stored())
    for secret in (*secrets_of_alice, "fentanyl", "breathing"):
        assert secret not in dump, secret


async def test_supporters_identity_never_reaches_the_person(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    await desk.tg.send_text(
        SAM,
        "hi, I'm here",
        chat_id=GROUP,
        chat_type="supergroup",
        message_thread_id=topic,
        first_name="Samantha Realname",
        username="sam_real_handle",
    )
    await desk.tg.wait_for(lambda: bool(desk.copies_to(ALICE)), description="relayed")
    to_alice = [c for c in desk.tg.calls if str(c.params.get("chat_id")) == str(ALICE)]
    for call in to_alice:
        shown = {k: v for k, v in call.params.items() if k != "from_chat_id"}
        for secret in (str(SAM), "Samantha", "sam_real_handle"):
            assert secret not in repr(shown)
    for message in desk.tg.messages_in(ALICE):
        assert "forward_origin" not in message and "forward_from" not in message


async def test_slow_relaying_is_shown_on_the_card(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    desk.desk.settings = replace(desk.desk.settings, delay_notice=0.2)
    desk.tg.delay("copyMessage", 0.3, count=1)
    await desk.alice_says("hello")
    await sent_containing(desk, "editMessageText", GROUP, "Relaying is delayed")
    await desk.tg.wait_for(lambda: bool(desk.copies_to(GROUP, topic)), description="relayed in the end")


async def test_fifty_concurrent_claims_on_two_application_instances_have_exactly_one_winner(
    brain: Brain,
) -> None:
    supporters = [5_000_000_000 + i for i in range(50)]
    async with bot_factory(brain) as start:
        clock = Clock()
        env = {
            "SUPPORTERS_CHAT_ID": str(GROUP),
            "SUPPORTER_IDS": ",".join(map(str, supporters)),
            "PEERLINE_REDIS_PREFIX": f"pltest-{secrets.token_hex(6)}",  # one prefix: the two share state
        }
        first = await start(clock=clock, **env)
        second = await start(clock=clock, **env)
        for bot in (first, second):
            bot.tg.register_chat(GROUP, "supergroup", is_forum=True)
        desk = Desk(first, clock)
        topic = await desk.ask_for_human()
        ticket, card = desk.ticket(topic)
        await asyncio.gather(
            *(
                (first if i % 2 else second).tg.press_button(s, f"hc:{ticket}", card, chat_id=GROUP)
                for i, s in enumerate(supporters)
            )
        )
        await first.tg.wait_for_calls("answerCallbackQuery", 25, timeout=10)
        await second.tg.wait_for_calls("answerCallbackQuery", 25, timeout=10)
        answers = [
            str(c.params.get("text", ""))
            for bot in (first, second)
            for c in bot.tg.calls_to("answerCallbackQuery")
        ]
        winners = [a for a in answers if a.startswith("You have this conversation")]
        assert len(winners) == 1, answers
        assert sum(a.startswith("Already claimed by") for a in answers) == 49
        record = await desk.desk.queue.get(first.user_key(ALICE))
        assert record is not None and record.claimed and record.owner
        joined = [
            c
            for bot in (first, second)
            for c in bot.tg.calls_to("sendMessage", ALICE)
            if "has joined" in c.params["text"]
        ]
        assert len(joined) == 1


async def test_refer_sends_a_referral_card_to_the_person_and_shows_it_in_the_topic(start_desk: Any) -> None:
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    await desk.in_group(SAM, "/refer methadone Portlnd", topic)
    card = await sent_containing(desk, "sendMessage", ALICE, "Example Opioid Treatment Program")
    assert "Example Community Wellness Center" not in card.params["text"]  # Chicago, and no methadone
    shown = await desk.group_reply("Sent to the person")
    assert shown.params["message_thread_id"] == topic
    await desk.in_group(SAM, "/refer teleportation Portland", topic)
    await desk.group_reply("Usage: /refer KIND")


async def test_a_restarted_bot_carries_on_a_claimed_conversation_from_redis(brain: Brain) -> None:
    async with bot_factory(brain) as start:
        clock = Clock()
        env = {
            "SUPPORTERS_CHAT_ID": str(GROUP),
            "SUPPORTER_IDS": f"{SAM},{ROBIN}",
            "PEERLINE_REDIS_PREFIX": f"pltest-{secrets.token_hex(6)}",
        }
        first = await start(clock=clock, **env)
        first.tg.register_chat(GROUP, "supergroup", title="Peer supporters", is_forum=True)
        desk = Desk(first, clock)
        topic = await desk.claimed()
        assert first.halt is not None
        await first.halt()  # the process stops; everything it knew is in Redis
        desk.bot = await start(clock=clock, tg=first.tg, **env)
        await desk.alice_says("are you still there?")
        await desk.tg.wait_for(
            lambda: bool(desk.copies_to(GROUP, topic)), description="relayed to the same topic"
        )
        await desk.in_group(SAM, "yes, still here", topic)
        await desk.tg.wait_for(lambda: bool(desk.copies_to(ALICE)), description="the reply relayed")
        assert len(desk.tg.calls_to("createForumTopic")) == 1


async def test_blocking_the_bot_deletes_the_persons_keys_before_the_slow_group_deletes(
    start_desk: Any,
) -> None:
    """Review finding 13: the keys waited behind throttled group sends (and lived on if the process died)."""
    desk: Desk = await start_desk()
    await desk.claimed()
    desk.tg.delay("deleteForumTopic", 3.0)
    await alice_blocks_the_bot(desk)
    await desk.tg.wait_for_calls("deleteForumTopic")  # recorded on arrival; its answer is held back
    user = desk.bot.user_key(ALICE)
    assert user not in repr(await desk.bot.stored())


PRIVATE_CONTENT: dict[str, dict[str, Any]] = {
    "contact": {
        "contact": {
            "phone_number": "+15035550199",
            "first_name": ALICE_NAME,
            "user_id": ALICE,
            "vcard": "BEGIN:VCARD\nFN:Alicia Q. Private\nEND:VCARD",
        }
    },
    "document with EXIF": {
        "document": {
            "file_id": "doc-1",
            "file_unique_id": "doc-u1",
            "file_name": "IMG_2024_home.jpg",
            "mime_type": "image/jpeg",
        }
    },
    "text_mention": {
        "text": "this is me",
        "entities": [
            {
                "type": "text_mention",
                "offset": 8,
                "length": 2,
                "user": {"id": ALICE, "is_bot": False, "first_name": ALICE_NAME},
            }
        ],
    },
    "story": {"story": {"chat": {"id": ALICE, "type": "private", "username": ALICE_USERNAME}, "id": 7}},
    "forward": {
        "text": "PERSON-B: I'm Hortensia from flat 4",
        "forward_origin": {
            "type": "hidden_user",
            "sender_user_name": "Hortensia Flat4",
            "date": 1_700_000_000,
        },
    },
}


async def test_contacts_files_stories_mentions_and_forwards_never_reach_the_group_but_photos_do(
    start_desk: Any,
) -> None:
    """Review finding 3: only locations were held back; contacts, files, stories, mentions went verbatim."""
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    before = len(desk.tg.calls_to("sendMessage", ALICE))
    for content in PRIVATE_CONTENT.values():
        await desk.tg.send_content(ALICE, content, first_name=ALICE_NAME, username=ALICE_USERNAME)
    texts = await desk.alice_texts(before + len(PRIVATE_CONTENT))
    assert all("didn't pass that one on" in t for t in texts[before:])
    await desk.tg.send_photo(ALICE, first_name=ALICE_NAME)
    await desk.tg.wait_for(lambda: len(desk.copies_to(GROUP, topic)) >= 1, description="the photo's copy")
    [copy] = desk.copies_to(GROUP, topic)
    assert "photo" in str(desk.tg.get_message(GROUP, int(copy.result["message_id"])))
    group = str(desk.tg.messages_in(GROUP))
    for private in ("+15035550199", "IMG_2024_home", "text_mention", "Hortensia", str(ALICE), ALICE_USERNAME):
        assert private not in group


async def test_a_message_forwarded_into_a_topic_is_not_sent_to_the_person_and_the_topic_is_told(
    start_desk: Any,
) -> None:
    """Review finding 4: a supporter's forward from another person's topic was copied to this person."""
    desk: Desk = await start_desk()
    topic = await desk.claimed()
    forwarded = {
        "text": "PERSON-B: I'm Hortensia from flat 4, I use with my brother",
        "forward_origin": {
            "type": "user",
            "sender_user": {"id": BOB, "is_bot": False, "first_name": "B"},
            "date": 1,
        },
    }
    await desk.tg.send_content(
        SAM, forwarded, chat_id=GROUP, chat_type="supergroup", message_thread_id=topic, first_name="Sam"
    )
    notice = await desk.group_reply("Not sent: forwarded messages stay with the team")
    assert notice.params["message_thread_id"] == topic
    await desk.in_group(SAM, "still here with you", topic)
    await desk.tg.wait_for(lambda: len(desk.copies_to(ALICE)) >= 1, description="the supporter's reply")
    assert len(desk.copies_to(ALICE)) == 1
    assert "Hortensia" not in str(desk.tg.messages_in(ALICE))


async def someone_joins_the_group(desk: Desk, user_id: int, first_name: str) -> None:
    """The chat_member update Telegram sends an admin bot when someone joins a group."""
    user = {"id": user_id, "is_bot": False, "first_name": first_name}
    await desk.tg.add_update(
        {
            "chat_member": {
                "chat": {"id": GROUP, "type": "supergroup", "title": "Peer supporters", "is_forum": True},
                "from": user,
                "date": 1_700_000_000,
                "old_chat_member": {"user": user, "status": "left"},
                "new_chat_member": {"user": user, "status": "member"},
            }
        }
    )


async def test_someone_not_on_the_rota_joining_the_group_is_flagged_to_its_admins(start_desk: Any) -> None:
    """Review finding 8: the group is the access boundary, and the bot did not even see who joined."""
    desk: Desk = await start_desk()
    await someone_joins_the_group(desk, ROBIN, "Robin")  # on the rota: nothing to say
    await someone_joins_the_group(desk, STRANGER, "Curious Neighbour")
    alert = await desk.group_reply("Someone who is not on the rota joined this group")
    assert alert.params.get("message_thread_id") is None
    assert (
        len([c for c in desk.tg.calls_to("sendMessage", GROUP) if "not on the rota" in c.params["text"]]) == 1
    )
    assert "Curious" not in alert.params["text"]
    assert "chat_member" in (desk.tg.allowed_updates or [])  # asked for (by now, surely polled)


async def test_one_person_asking_again_and_again_opens_one_topic_and_pins_one_crisis_alert(
    start_desk: Any,
) -> None:
    """Review finding 9: one account opened a topic and pinned a crisis alert every few messages."""
    desk: Desk = await start_desk()

    def cards() -> list[Call]:
        return [c for c in desk.tg.calls_to("sendMessage", GROUP) if "Press Claim" in str(c.params["text"])]

    for round_ in range(1, 4):
        await desk.alice_says("/human")
        await desk.alice_says("yes")
        await desk.tg.wait_for(lambda n=round_: len(cards()) >= n, description=f"card {round_}")
        before = len(desk.tg.calls_to("sendMessage", ALICE))
        await desk.alice_says("i want to kill myself tonight")
        await desk.alice_texts(before + 1)  # the crisis reply
        await desk.alice_says("/end")
        await desk.tg.wait_for(lambda n=round_: len(desk.tg.calls_to("closeForumTopic")) >= n)
    assert len(desk.tg.calls_to("createForumTopic")) == 1
    assert len(desk.tg.calls_to("pinChatMessage")) == 1
    assert len({c.params["message_thread_id"] for c in cards()}) == 1


async def test_only_the_owner_may_block_refer_or_close_and_a_waiting_conversation_must_be_claimed_first(
    start_desk: Any,
) -> None:
    """Review finding 10: /block, /refer and Close skipped the owner check that /end and /release have."""
    desk: Desk = await start_desk()
    topic = await desk.ask_for_human()
    await desk.in_group(ROBIN, "/block", topic)
    await desk.group_reply("Press Claim on the card first")
    assert (
        await desk.press(ROBIN, topic, "hx")
        == "Press Claim on the card first, so the team knows who is acting."
    )
    await desk.in_group(SAM, "/alias Sam")
    await desk.group_reply("People will see you as <b>Sam</b>")
    assert await desk.press(SAM, topic) == "You have this conversation. Write in its topic to reply."
    refusals = len([c for c in desk.tg.calls_to("sendMessage", GROUP) if "is with Sam" in c.params["text"]])
    await eventually(lambda: _has(desk.bot, ALICE, "has joined"))
    to_alice = len(desk.tg.calls_to("sendMessage", ALICE))
    await desk.in_group(ROBIN, "/refer naloxone Portland", topic)
    await desk.in_group(ROBIN, "/block", topic)
    await desk.tg.wait_for(
        lambda: (
            len([c for c in desk.tg.calls_to("sendMessage", GROUP) if "is with Sam" in c.params["text"]])
            >= refusals + 2
        ),
        description="two refusals",
    )
    assert await desk.press(ROBIN, topic, "hx") == "This conversation is with Sam."
    record = await desk.desk.queue.get(desk.bot.user_key(ALICE))
    assert record is not None and record.claimed
    assert not await desk.desk.queue.is_blocked(desk.bot.user_key(ALICE))
    assert len(desk.tg.calls_to("sendMessage", ALICE)) == to_alice  # no referral, no "ended" message


async def test_an_ended_conversations_topic_is_deleted_after_the_retention_days(start_desk: Any) -> None:
    """Review finding 1 (retention): ended conversations stayed in the group for good."""
    desk: Desk = await start_desk(PEERLINE_TOPIC_DAYS="7")
    topic = await desk.claimed()
    await desk.alice_says("/end")
    await desk.tg.wait_for_calls("closeForumTopic")
    await desk.sweep(6 * 86_400)
    assert not desk.tg.calls_to("deleteForumTopic")
    await desk.sweep(2 * 86_400)
    [deleted] = desk.tg.calls_to("deleteForumTopic")
    assert deleted.params["message_thread_id"] == topic
    await desk.sweep(86_400)
    assert len(desk.tg.calls_to("deleteForumTopic")) == 1  # done once
