"""The Telegram bot end to end: the real PTB Application (as `peerline run` starts it) against FakeTelegram,
with a real Redis (database 15, a key prefix per test, deleted afterwards).

Waits are on conditions (FakeTelegram's wait helpers, or `eventually` for Redis), never fixed sleeps.
To check that something was *not* sent, a later message is sent and awaited: one chat's updates are
handled in order, so once its reply is there, everything before it has been handled.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import string
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.brain import Brain
from bot.config import VARIABLES
from bot.content.html import escape
from bot.engine import COMMANDS
from bot.events import ButtonPress, Command, Location, NonText, TextMessage
from bot.session import Pending, Session
from bot.telegram.application import ENGINE_KEY
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import (
    ALICE,
    BOB,
    GROUP,
    UNREACHABLE_REDIS_URL,
    WEBHOOK_SECRET,
    StartBot,
    bot_factory,
    button_data,
    eventually,
)

# PTB 22 reads the deprecated int form of RetryAfter.retry_after when it builds the error from a 429.
PTB_INT_RETRY_AFTER_WARNING = "ignore::telegram.warnings.PTBDeprecationWarning"

OVERDOSE_NOW = "my friend is not breathing and wont wake up"
CHECK_IN_NOW = "honestly whats the point anymore"  # possible risk: the bot asks directly
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def start_bot(brain: Brain) -> AsyncIterator[StartBot]:
    async with bot_factory(brain) as start:
        yield start


def crisis_line(brain: Brain, region: str = "us") -> str:
    return escape(brain.content.region(region).values["crisis_line"])


def emergency(brain: Brain, region: str = "us") -> str:
    return escape(brain.content.region(region).values["emergency_number"])


# ----------------------------------------------------------------------------- commands


async def test_start_sends_welcome_with_crisis_line_and_sets_command_menu(
    start_bot: StartBot, brain: Brain
) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, "/start")
    [welcome] = await bot.replies(ALICE)
    assert welcome.params["text"] == bot.expected(Command("start"))
    assert crisis_line(brain) in welcome.params["text"]
    assert welcome.params["parse_mode"] == "HTML"
    rows = welcome.params["reply_markup"]["inline_keyboard"]
    assert rows and all(len(row) == 1 for row in rows)  # one button per row
    menu = bot.tg.commands(scope={"type": "all_private_chats"})
    assert [c["command"] for c in menu] == list(COMMANDS)


async def test_help_resources_privacy_commands_answer_from_content(start_bot: StartBot, brain: Brain) -> None:
    bot = await start_bot()
    for command in ("/help", "/resources", "/privacy"):
        await bot.tg.send_text(ALICE, command)
    help_reply, resources, privacy = await bot.replies(ALICE, 3)
    assert help_reply.params["text"] == bot.expected(Command("help"))
    assert "i:talk_to_human" in button_data(help_reply)
    assert resources.params["text"] == bot.expected(Command("resources"))
    assert emergency(brain) in resources.params["text"]
    assert privacy.params["text"] == bot.expected(Command("privacy"))


async def test_unknown_command_and_bot_suffix_are_understood(start_bot: StartBot) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, "/frobnicate")
    await bot.tg.send_text(ALICE, "/privacy@peerline_test_bot")
    unknown, privacy = await bot.texts(ALICE, 2)
    assert unknown == bot.expected(Command("frobnicate"))
    assert privacy == bot.expected(Command("privacy"))


async def test_region_offers_buttons_and_choosing_one_changes_the_numbers(
    start_bot: StartBot, brain: Brain
) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, "/region")
    [choose] = await bot.replies(ALICE)
    assert button_data(choose) == [f"r:{code}" for code in brain.content.regions]

    await bot.tg.press_button(ALICE, "r:uk", message_id=choose.result["message_id"])
    await bot.tg.send_text(ALICE, "/resources")
    _, region_set, resources = await bot.texts(ALICE, 3)
    assert region_set == bot.expected(ButtonPress("r:uk"))
    assert emergency(brain, "uk") in resources
    assert crisis_line(brain, "uk") in resources
    [session_key] = [k for k in await bot.keys_of(ALICE) if k.endswith(":session")]
    assert '"region":"uk"' in (await bot.stored())[session_key]


async def test_human_explains_supporters_and_says_none_are_connected(
    start_bot: StartBot, brain: Brain
) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, "/human")
    (explanation,) = await bot.texts(ALICE, 1)
    assert explanation == bot.expected(Command("human"))
    await bot.tg.send_text(ALICE, "yes")
    _, notice = await bot.texts(ALICE, 2)
    assert "aren't connected" in notice
    assert crisis_line(brain) in notice and emergency(brain) in notice


async def test_forget_confirmed_with_a_button_deletes_everything_about_the_user(start_bot: StartBot) -> None:
    bot = await start_bot()
    await bot.tg.send_text(BOB, "where can i get narcan")
    await bot.tg.send_text(ALICE, "where can i get narcan")
    await bot.tg.send_text(ALICE, "/forget")
    _, confirm = await bot.replies(ALICE, 2)
    await bot.replies(BOB)
    assert button_data(confirm) == ["f:yes", "f:no"]
    assert await bot.keys_of(ALICE)

    await bot.tg.press_button(ALICE, "f:yes", message_id=confirm.result["message_id"])
    texts = await bot.texts(ALICE, 3)
    assert texts[2] == bot.expected(ButtonPress("f:yes"), Session(pending=Pending("forget")))
    assert await bot.keys_of(ALICE) == []
    assert await bot.keys_of(BOB)  # only that person's keys go


async def test_forget_declined_keeps_the_session(start_bot: StartBot) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, "/forget")
    [confirm] = await bot.replies(ALICE)
    await bot.tg.press_button(ALICE, "f:no", message_id=confirm.result["message_id"])
    _, declined = await bot.texts(ALICE, 2)
    assert declined == bot.expected(ButtonPress("f:no"), Session(pending=Pending("forget")))
    assert await bot.keys_of(ALICE)


# ----------------------------------------------------------------------------- text and buttons


async def test_free_text_is_answered_in_html_with_an_inline_keyboard(start_bot: StartBot) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, "where can i get narcan")
    [answer] = await bot.replies(ALICE)
    assert answer.params["text"] == bot.expected(TextMessage("where can i get narcan"))
    assert answer.params["parse_mode"] == "HTML"
    assert "<b>" in answer.params["text"]
    assert button_data(answer) and all(data.startswith(("i:", "p:")) for data in button_data(answer))
    assert answer.result["entities"]  # Telegram parsed the HTML


async def test_fresh_stale_and_forged_button_presses_are_all_answered_politely(start_bot: StartBot) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, "where can i get narcan")
    [answer] = await bot.replies(ALICE)
    fresh = button_data(answer)[0]
    message_id = answer.result["message_id"]

    await bot.tg.press_button(ALICE, fresh, message_id=message_id)
    await bot.tg.press_button(ALICE, "y", message_id=message_id)  # a "yes" with no question pending
    await bot.tg.press_button(ALICE, "x" * 200, message_id=message_id)  # longer than Telegram allows
    await bot.tg.press_button(ALICE, "i:<script>", message_id=message_id)
    await bot.tg.press_button(ALICE, "i:naloxone", message_id=999, inaccessible=True)  # an old message
    texts = await bot.texts(ALICE, 6)
    talk = bot.simulate()
    talk(TextMessage("where can i get narcan"))
    assert texts[1:] == [
        *talk(ButtonPress(fresh)),
        *talk(ButtonPress("y")),
        *talk(ButtonPress("")),  # invalid data is passed on as empty: the engine's stale-button reply
        *talk(ButtonPress("")),
        *talk(ButtonPress("i:naloxone")),
    ]
    assert texts[2] == texts[3] == texts[4] == bot.expected(ButtonPress("stale"))
    answers = await bot.tg.wait_for_calls("answerCallbackQuery", count=5)
    assert all(call.ok for call in answers)


# ----------------------------------------------------------------------------- crisis first


async def test_crisis_message_gets_the_crisis_reply_first(start_bot: StartBot, brain: Brain) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, OVERDOSE_NOW)
    [first] = await bot.replies(ALICE)
    assert first.params["text"] == bot.expected(TextMessage(OVERDOSE_NOW))
    assert emergency(brain) in first.params["text"]
    assert bot.tg.calls_to("sendMessage")[0] is first


async def test_crisis_reply_uses_the_chosen_region(start_bot: StartBot, brain: Brain) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, "/region au")
    await bot.tg.send_text(ALICE, OVERDOSE_NOW)
    _, crisis = await bot.texts(ALICE, 2)
    assert emergency(brain, "au") in crisis


async def test_flood_guard_answers_once_calmly_and_still_answers_a_crisis(
    start_bot: StartBot, brain: Brain
) -> None:
    bot = await start_bot(PEERLINE_FLOOD_LIMIT="3")
    for i in range(6):
        await bot.tg.send_text(ALICE, f"where can i get narcan {i}")
    await bot.tg.send_text(ALICE, OVERDOSE_NOW)
    texts = await bot.texts(ALICE, 5)
    await bot.tg.send_text(BOB, "hi")  # another person is not affected
    await bot.replies(BOB)

    flood = bot.engine.system_text("flood", Session())
    assert texts[3] == flood  # the 4th message: one calm notice; the 5th and 6th: silence
    assert emergency(brain) in texts[3]
    assert texts[4] == bot.expected(TextMessage(OVERDOSE_NOW))
    assert len(bot.tg.calls_to("sendMessage", ALICE)) == 5


async def test_a_flooded_person_who_may_be_at_risk_still_gets_the_check_in(start_bot: StartBot) -> None:
    bot = await start_bot(PEERLINE_FLOOD_LIMIT="3")
    for i in range(5):
        await bot.tg.send_text(ALICE, f"where can i get narcan {i}")
    await bot.tg.send_text(ALICE, CHECK_IN_NOW)
    texts = await bot.texts(ALICE, 5)
    assert texts[4] == bot.expected(TextMessage(CHECK_IN_NOW))
    assert "are you thinking about suicide" in texts[4]
    [call] = [c for c in bot.tg.calls_to("sendMessage", ALICE) if "ck:yes" in str(c.params)]
    assert "ck:other" in str(call.params) and "ck:no" in str(call.params)


async def test_the_check_in_is_asked_when_redis_is_down(start_bot: StartBot) -> None:
    bot = await start_bot(redis_url=UNREACHABLE_REDIS_URL)
    await bot.tg.send_text(ALICE, CHECK_IN_NOW)
    [text] = await bot.texts(ALICE, 1)
    assert "are you thinking about suicide" in text and "988" in text


async def test_crisis_is_answered_when_redis_is_down_and_the_outage_logged_once(
    start_bot: StartBot, brain: Brain, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    bot = await start_bot(redis_url=UNREACHABLE_REDIS_URL)
    await bot.tg.send_text(ALICE, OVERDOSE_NOW)
    await bot.tg.send_text(ALICE, "where can i get narcan")
    await bot.tg.send_text(ALICE, "/start")
    crisis, answer, welcome = await bot.texts(ALICE, 3)
    assert crisis == bot.expected(TextMessage(OVERDOSE_NOW))
    assert answer == bot.expected(TextMessage("where can i get narcan"))
    assert welcome == bot.expected(Command("start"))  # a fresh session each time: variant 0 again
    outages = [r for r in caplog.records if "event=store_unavailable" in r.getMessage()]
    assert len(outages) == 1
    assert "store=down" in caplog.text


# ----------------------------------------------------------------------------- what the bot can't read


async def test_stickers_photos_and_voice_get_a_text_only_reply_and_a_location_is_searched(
    start_bot: StartBot,
) -> None:
    bot = await start_bot()
    await bot.tg.send_sticker(ALICE)
    await bot.tg.send_photo(ALICE)
    await bot.tg.send_voice(ALICE)
    await bot.tg.send_location(ALICE, latitude=52.52, longitude=13.405)  # no listed service near there
    texts = await bot.texts(ALICE, 4)
    talk = bot.simulate()
    expected = [text for kind in ("sticker", "photo", "voice") for text in talk(NonText(kind))]
    assert texts == [*expected, *talk(Location(52.52, 13.405))]


async def test_photo_caption_is_read_like_a_message(start_bot: StartBot) -> None:
    bot = await start_bot()
    await bot.tg.send_photo(ALICE, caption=OVERDOSE_NOW)
    [crisis] = await bot.texts(ALICE)
    assert crisis == bot.expected(TextMessage(OVERDOSE_NOW))


async def test_edited_message_gets_a_short_reply_unless_it_is_a_crisis(start_bot: StartBot) -> None:
    bot = await start_bot()
    sent = await bot.tg.send_text(ALICE, "where can i get narcan")
    await bot.replies(ALICE)
    message_id = sent["message"]["message_id"]
    await bot.tg.send_edited_text(ALICE, message_id, "where can i get naloxone")
    await bot.tg.send_edited_text(ALICE, message_id, OVERDOSE_NOW)
    _, edited, crisis = await bot.texts(ALICE, 3)
    talk = bot.simulate()
    talk(TextMessage("where can i get narcan"))
    assert edited == bot.engine.system_text("edited", talk.session)
    assert crisis == talk(TextMessage(OVERDOSE_NOW))[0]


async def test_group_gets_a_private_only_reply_once_and_a_crisis_reply_always(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    bot = await start_bot()
    await bot.tg.send_text(ALICE, "hello everyone", chat_id=GROUP, chat_type="supergroup")
    await bot.tg.send_text(ALICE, "hello again", chat_id=GROUP, chat_type="supergroup")
    await bot.tg.send_text(ALICE, OVERDOSE_NOW, chat_id=GROUP, chat_type="supergroup")
    notice, crisis = await bot.texts(GROUP, 2)
    assert "private" in notice and "@peerline_test_bot" in notice
    # Even in a group, an overdose happening now gets the crisis reply (and nothing is stored).
    assert crisis == bot.expected(TextMessage(OVERDOSE_NOW))

    async def all_handled() -> bool:
        return caplog.text.count("kind=group") == 3

    await eventually(all_handled)
    assert len(bot.tg.calls_to("sendMessage", GROUP)) == 2
    assert await bot.keys_of(ALICE) == []  # nothing about the person is kept from a group


async def test_supporters_chat_is_left_alone(start_bot: StartBot) -> None:
    bot = await start_bot(SUPPORTERS_CHAT_ID=str(GROUP))
    await bot.tg.send_text(ALICE, "hello supporters", chat_id=GROUP, chat_type="supergroup")
    await bot.tg.send_text(ALICE, "/privacy")
    await bot.replies(ALICE)
    assert bot.tg.pending_updates == []  # fetched with Alice's, and no handler takes it
    assert bot.tg.calls_to("sendMessage", GROUP) == []


# ----------------------------------------------------------------------------- Telegram failures


@pytest.mark.filterwarnings(PTB_INT_RETRY_AFTER_WARNING)
async def test_a_429_is_retried_and_the_reply_arrives(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.tg.fail_next("sendMessage", status=429, retry_after=1, chat_id=ALICE)
    await bot.tg.send_text(ALICE, OVERDOSE_NOW)
    [reply] = await bot.replies(ALICE, timeout=10)
    assert reply.params["text"] == bot.expected(TextMessage(OVERDOSE_NOW))
    assert [c.status for c in bot.tg.calls_to("sendMessage", ALICE)] == [429, 200]


async def test_a_user_who_blocked_the_bot_has_their_state_dropped(start_bot: StartBot) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, "where can i get narcan")
    await bot.replies(ALICE)
    assert await bot.keys_of(ALICE)
    bot.tg.block_user(ALICE)
    await bot.tg.send_text(ALICE, "what about fentanyl test strips")
    await bot.tg.wait_for(lambda c: c.method == "sendMessage" and c.status == 403)

    async def forgotten() -> bool:
        return await bot.keys_of(ALICE) == []

    await eventually(forgotten)


async def test_blocking_the_bot_deletes_the_state_even_without_a_failed_send(start_bot: StartBot) -> None:
    bot = await start_bot()
    await bot.tg.send_text(ALICE, "where can i get narcan")
    await bot.replies(ALICE)
    chat = {"id": ALICE, "type": "private", "first_name": "Test"}
    user = {"id": ALICE, "is_bot": False, "first_name": "Test"}
    member = {"user": bot.tg.bot_user, "until_date": 0}
    await bot.tg.add_update(
        {
            "my_chat_member": {
                "chat": chat,
                "from": user,
                "date": 1_700_000_000,
                "old_chat_member": {**member, "status": "member"},
                "new_chat_member": {**member, "status": "kicked"},
            }
        }
    )

    async def forgotten() -> bool:
        return await bot.keys_of(ALICE) == []

    await eventually(forgotten)


# ----------------------------------------------------------------------------- concurrency and typing


async def test_one_chat_is_answered_in_order_while_other_chats_go_ahead(start_bot: StartBot) -> None:
    bot = await start_bot(PEERLINE_RATE_LIMITER="off")
    bot.tg.delay("sendMessage", 0.5, count=1)  # Alice's first reply is slow to be confirmed
    await bot.tg.send_text(ALICE, "/privacy")
    await bot.tg.wait_for_calls("sendMessage", chat_id=ALICE)
    await bot.tg.send_text(ALICE, "/help")
    await bot.tg.send_text(BOB, "/help")
    await bot.replies(BOB)
    assert len(bot.tg.calls_to("sendMessage", ALICE)) == 1  # Alice's /help waits for her /privacy
    privacy, help_reply = await bot.texts(ALICE, 2)
    assert privacy == bot.expected(Command("privacy"))
    assert help_reply == bot.expected(Command("help"))


class _SlowStore:
    """A session store whose first load waits for the test, to make a reply slow on purpose."""

    def __init__(self) -> None:
        from bot.state import MemoryStore

        self.inner = MemoryStore(60)
        self.release = asyncio.Event()

    async def load(self, user: str) -> Session | None:
        await self.release.wait()
        return await self.inner.load(user)

    async def save(self, user: str, session: Session) -> None:
        await self.inner.save(user, session)

    async def forget(self, user: str) -> None:
        await self.inner.forget(user)

    async def count_message(self, user: str, window_seconds: int) -> int:
        return await self.inner.count_message(user, window_seconds)

    async def load_and_count(self, user: str, window_seconds: int) -> tuple[Session | None, int]:
        return await self.load(user), await self.count_message(user, window_seconds)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        await self.inner.close()


async def test_typing_is_shown_only_when_the_reply_is_slow(start_bot: StartBot) -> None:
    store = _SlowStore()
    bot = await start_bot(store=store, typing_after=0.3)
    await bot.tg.send_text(ALICE, "where can i get narcan")
    await bot.tg.wait_for_calls("sendChatAction", chat_id=ALICE)
    store.release.set()
    await bot.replies(ALICE)
    await bot.tg.send_text(ALICE, "/privacy")  # fast now: no second "typing…"
    await bot.replies(ALICE, 2)
    actions = bot.tg.calls_to("sendChatAction", ALICE)
    assert [c.params["action"] for c in actions] == ["typing"]


# ----------------------------------------------------------------------------- webhook


async def test_webhook_handles_updates_with_the_secret_and_refuses_others(start_bot: StartBot) -> None:
    bot = await start_bot(webhook=True)
    assert bot.tg.webhook_secret == bot.settings.webhook_secret
    assert bot.tg.webhook_url.endswith("/telegram")

    await bot.tg.send_text(ALICE, "/privacy")
    assert bot.tg.webhook_deliveries[-1].status == 200
    await bot.tg.send_text(ALICE, OVERDOSE_NOW, secret_token="wrong-secret")
    assert bot.tg.webhook_deliveries[-1].status == 403
    await bot.tg.send_text(ALICE, OVERDOSE_NOW, secret_token=None)
    assert bot.tg.webhook_deliveries[-1].status == 403
    await bot.tg.send_text(ALICE, "/help")
    privacy, help_reply = await bot.texts(ALICE, 2)
    assert privacy == bot.expected(Command("privacy"))
    assert help_reply == bot.expected(Command("help"))
    assert len(bot.tg.calls_to("sendMessage", ALICE)) == 2  # the refused updates never reached the bot


async def raw_post(port: int, headers: dict[str, str], body: bytes = b"", timeout: float = 2.0) -> int:
    """POST to the webhook over a bare socket; the status line, or 0 if nothing came within `timeout`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = ["POST /telegram HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    try:
        status = await asyncio.wait_for(reader.readline(), timeout)
    except TimeoutError:
        return 0
    finally:
        writer.close()
    return int(status.split()[1]) if status else 0


async def test_webhook_checks_the_secret_first_and_refuses_a_big_body_without_reading_it(
    start_bot: StartBot,
) -> None:
    """Review finding 7: 100 MiB bodies were read in full before the secret was looked at."""
    bot = await start_bot(webhook=True)
    port = bot.settings.webhook_port
    huge = {"Content-Type": "application/json", "Content-Length": str(95 * 2**20)}
    # Only the headers are sent: a server that waits for the 95 MiB before answering never answers.
    assert await raw_post(port, {**huge, "X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 403
    assert await raw_post(port, {**huge, "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}) == 413
    await bot.tg.send_text(ALICE, OVERDOSE_NOW)
    assert await bot.texts(ALICE, 1) == [bot.expected(TextMessage(OVERDOSE_NOW))]


async def test_webhook_handles_a_replayed_update_once(start_bot: StartBot) -> None:
    """Review finding 14: the same update_id posted twice (with the secret) was answered twice."""
    bot = await start_bot(webhook=True)
    update = await bot.tg.send_text(ALICE, "/privacy")
    await bot.tg.add_update(update)
    await bot.tg.send_text(ALICE, "/help")
    assert [d.status for d in bot.tg.webhook_deliveries] == [200, 200, 200]
    privacy, help_reply = await bot.texts(ALICE, 2)
    assert (privacy, help_reply) == (bot.expected(Command("privacy")), bot.expected(Command("help")))
    assert len(bot.tg.calls_to("sendMessage", ALICE)) == 2


async def test_webhook_skips_an_unparseable_update_and_answers_the_next(start_bot: StartBot) -> None:
    bot = await start_bot(webhook=True)
    bad = {"message": {"message_id": 1, "date": "never", "chat": {"id": ALICE, "type": "private"}}}
    await bot.tg.add_update(bad)
    assert bot.tg.webhook_deliveries[-1].status == 200  # Telegram moves on instead of retrying it
    await bot.tg.send_text(ALICE, OVERDOSE_NOW)
    assert await bot.texts(ALICE, 1) == [bot.expected(TextMessage(OVERDOSE_NOW))]


# ----------------------------------------------------------------------------- the command itself


async def test_peerline_run_answers_from_memory_and_stops_cleanly_on_sigterm(brain: Brain) -> None:
    """`peerline run` as a process: no Redis (memory, with a warning), a reply, a clean stop."""
    async with FakeTelegram() as tg:
        env = {
            **{k: v for k, v in os.environ.items() if k not in VARIABLES},
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_BASE_URL": tg.base_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, cwd=ROOT, stderr=asyncio.subprocess.PIPE
        )
        try:
            await tg.wait_for_poll(timeout=20)
            await tg.send_text(ALICE, "/start", first_name="Zebulonia")
            [welcome] = await tg.wait_for_calls("sendMessage", chat_id=ALICE, timeout=10)
            assert welcome.ok and crisis_line(brain) in welcome.params["text"]
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 20)
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "event=bot_started mode=polling" in log and "event=bot_stopped" in log
    assert "setting=REDIS_URL" in log and "setting=PEERLINE_ID_SECRET" in log
    assert tg.token.partition(":")[2] not in log and "Zebulonia" not in log and str(ALICE) not in log


async def test_peerline_run_explains_missing_settings() -> None:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES} | {"REDIS_URL": "redis://x:6379/0"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--webhook", env=env, cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 20)
    message = stderr.decode()
    assert process.returncode == 2
    for name in ("TELEGRAM_BOT_TOKEN", "PEERLINE_ID_SECRET", "WEBHOOK_URL", "WEBHOOK_SECRET"):
        assert f"{name} is not set" in message


async def test_live_location_moves_get_no_reply_but_a_later_message_does(start_bot: StartBot) -> None:
    """Review finding 15: each live-location move (an edited message) got an "I can't follow edits" reply."""
    bot = await start_bot()
    shared = await bot.tg.send_location(ALICE, 45.52, -122.67)
    await bot.texts(ALICE, 1)
    message = shared["message"]
    for step in range(5):
        moved = {**message, "edit_date": message["date"] + step + 1}
        moved["location"] = {"latitude": 45.52 + step / 1000, "longitude": -122.67, "live_period": 900}
        await bot.tg.add_update({"edited_message": moved})
    await bot.tg.send_text(ALICE, "/help")
    texts = await bot.texts(ALICE, 2)
    assert texts[1] == bot.expected(Command("help"))
    assert len(bot.tg.calls_to("sendMessage", ALICE)) == 2


async def test_matching_a_4096_character_message_does_not_hold_the_event_loop(start_bot: StartBot) -> None:
    """Review finding 12: the matcher's ~100+ ms per long message ran on the event loop, stalling everyone.

    The bound is relative to the engine's own time for the message on this machine, so a slow or busy
    runner moves both together.
    """
    bot = await start_bot()
    letters = random.Random(12)  # made-up words: the matcher's worst case (every word is spell-checked)
    words = ["".join(letters.choices(string.ascii_lowercase, k=letters.randint(4, 6))) for _ in range(800)]
    text = " ".join(words)[:4096]
    started = time.perf_counter()
    bot.engine.handle(TextMessage(text), Session())
    engine_seconds = time.perf_counter() - started

    gaps: list[float] = []

    async def heartbeat() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    engine = bot.app.bot_data[ENGINE_KEY]
    handle, threads = engine.handle, []

    def handle_and_note_thread(*args: Any) -> Any:
        threads.append(threading.current_thread())
        return handle(*args)

    engine.handle = handle_and_note_thread
    beating = asyncio.create_task(heartbeat())
    try:
        await bot.tg.send_text(ALICE, text)
        await bot.texts(ALICE, 1)
    finally:
        beating.cancel()
    assert threads and threads[0] is not threading.main_thread()
    assert max(gaps) < engine_seconds / 2, (max(gaps), engine_seconds)  # before: the engine's whole time
