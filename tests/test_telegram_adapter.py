"""The Telegram adapter's small parts: callback data, commands, keyboards, ordering, store outages."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime

import pytest
from telegram import Chat, Message, Update

from bot.errors import StoreUnavailable
from bot.events import Button, ForgetUser, Reply, RequestHandoff
from bot.session import Session
from bot.state import MemoryStore
from bot.state.guard import StoreGuard
from bot.telegram.application import PerChatUpdateProcessor, order_key
from bot.telegram.handlers import parse_command, valid_callback_data
from bot.telegram.render import in_send_order, keyboard, keyboard_json


@pytest.mark.parametrize("data", ["i:naloxone", "r:uk", "f:yes", "y", "n", "i:talk_to_human"])
def test_callback_data_from_our_buttons_passes(data: str) -> None:
    assert valid_callback_data(data) == data


@pytest.mark.parametrize("data", [None, "", "x" * 65, "i:<script>", "i:naloxone\n", "i: naloxone", "é"])
def test_forged_callback_data_becomes_empty(data: str | None) -> None:
    assert valid_callback_data(data) == ""


def test_commands_are_parsed_with_arguments_and_without_the_bot_name() -> None:
    assert (parse_command("/region uk").name, parse_command("/region uk").args) == ("region", "uk")
    assert parse_command("/START@peerline_bot").name == "start"
    assert parse_command("/forget   now please ").args == "now please"
    assert parse_command("not a command").name == ""


def test_keyboard_has_one_button_per_row_and_none_without_buttons() -> None:
    markup = keyboard((Button("A", "i:a"), Button("B", "i:b")))
    assert markup is not None
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [["i:a"], ["i:b"]]
    assert keyboard(()) is None


def test_keyboard_json_is_the_keyboard_as_the_bot_api_reads_it() -> None:
    buttons = (Button("Talk to a person", "h"), Button("Sí, gracias", "fb:y"))
    sent = keyboard_json(buttons)
    assert sent is not None and json.loads(sent) == keyboard(buttons).to_dict()  # type: ignore[union-attr]
    assert keyboard_json(()) is None


def test_crisis_replies_are_sent_before_anything_else() -> None:
    crisis = Reply("call 911", crisis=True)
    actions = (Reply("first"), RequestHandoff(), crisis, ForgetUser(), Reply("last"))
    assert in_send_order(actions) == (crisis, Reply("first"), RequestHandoff(), ForgetUser(), Reply("last"))


def test_a_chat_runs_in_order_and_so_does_each_topic_of_a_forum_group() -> None:
    def message(chat: Chat, thread: int | None = None) -> Update:
        sent = Message(
            1,
            date=datetime.now(tz=UTC),
            chat=chat,
            text="x",
            message_thread_id=thread,
            is_topic_message=thread is not None or None,
        )
        return Update(1, message=sent)

    person = Chat(42, Chat.PRIVATE)
    group = Chat(-100, Chat.SUPERGROUP, is_forum=True)
    assert order_key(message(person)) == (42, None)
    assert order_key(message(group, 7)) == (-100, 7)
    assert order_key(message(group, 8)) == (-100, 8)
    assert order_key(message(group)) == (-100, None), "the general thread is one more lane"
    assert order_key(Update(2)) is None


async def test_one_chat_runs_in_order_and_its_lock_is_dropped_afterwards() -> None:
    processor = PerChatUpdateProcessor(8)
    order: list[str] = []
    gate = asyncio.Event()

    def update(update_id: int, chat_id: int) -> Update:
        chat = Chat(chat_id, Chat.PRIVATE)
        message = Message(update_id, date=datetime.now(tz=UTC), chat=chat, text="x")
        return Update(update_id, message=message)

    async def work(name: str, wait: bool = False) -> None:
        if wait:
            await gate.wait()
        order.append(name)

    first = asyncio.create_task(processor.process_update(update(1, 10), work("a1", wait=True)))
    second = asyncio.create_task(processor.process_update(update(2, 10), work("a2")))
    other = asyncio.create_task(processor.process_update(update(3, 20), work("b1")))
    await other
    assert order == ["b1"]  # another chat is not held up
    assert processor.chats_in_flight == 1
    gate.set()
    await asyncio.gather(first, second)
    assert order == ["b1", "a1", "a2"]
    assert processor.chats_in_flight == 0


class _BrokenStore(MemoryStore):
    """A store that fails like Redis does when it is down, until `healthy` is set."""

    def __init__(self) -> None:
        super().__init__(60)
        self.healthy = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if not self.healthy:
            raise StoreUnavailable("the session store (Redis) is unavailable: ConnectionError")

    async def load(self, user: str) -> Session | None:
        self._check()
        return await super().load(user)

    async def save(self, user: str, session: Session) -> None:
        self._check()
        await super().save(user, session)

    async def count_message(self, user: str, window_seconds: int) -> int:
        self._check()
        return await super().count_message(user, window_seconds)


async def test_a_store_outage_means_no_memory_one_log_line_and_a_working_flood_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    now = [0.0]
    store = _BrokenStore()
    guard = StoreGuard(store, retry_seconds=5, clock=lambda: now[0])

    assert await guard.load_and_count("u1", 60) == (None, 1, False)
    assert not await guard.save("u1", Session(region="uk"))
    counts = [await guard.count_message("u1", 60) for _ in range(2)]
    assert counts == [2, 3]  # counted in process while the store is down
    assert store.calls == 1  # later calls were skipped inside the retry window
    assert guard.down

    now[0] = 6.0
    store.healthy = True
    assert await guard.save("u1", Session(region="uk"))
    assert await guard.load_and_count("u1", 60) == (Session(region="uk"), 1, True)
    assert not guard.down
    messages = [r.getMessage() for r in caplog.records]
    assert sum("event=store_unavailable" in m for m in messages) == 1
    assert sum("event=store_recovered" in m for m in messages) == 1
