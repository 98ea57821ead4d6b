"""Self-tests for tests/fake_telegram: the real PTB Application must work against the fake.

Why: every bot-level integration test trusts FakeTelegram; these tests pin down that PTB's
polling and webhook loops, error mapping (RetryAfter/Forbidden/BadRequest) and rate limiter
behave against it exactly as they would against Telegram.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

try:  # importable both as tests.fake_telegram (python -m pytest) and fake_telegram (rootdir-less)
    from tests.fake_telegram import FakeTelegram, free_port
except ImportError:  # pragma: no cover - depends on how pytest set up sys.path
    from fake_telegram import FakeTelegram, free_port  # type: ignore[no-redef,import-not-found,unused-ignore]


# PTB 22 itself reads the deprecated int form of RetryAfter.retry_after when building the error.
PTB_INT_RETRY_AFTER_WARNING = "ignore::telegram.warnings.PTBDeprecationWarning"


@pytest_asyncio.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


AnyApp = Application[Any, Any, Any, Any, Any, Any]


def build_app(tg: FakeTelegram, *, rate_limiter: AIORateLimiter | None = None) -> AnyApp:
    """The real PTB Application, pointed at the fake, with an echo and a button handler."""
    builder = ApplicationBuilder().token(tg.token).base_url(tg.base_url).base_file_url(tg.base_file_url)
    app: AnyApp = builder.rate_limiter(rate_limiter).build() if rate_limiter else builder.build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(on_button))
    return app


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ack", callback_data="ack")]])
    await update.message.reply_text(f"echo: {update.message.text}", reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("got it")
    await query.edit_message_text(f"pressed {query.data}")


def seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def raw_post(url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(url, **kwargs) as resp:
        return resp.status, await resp.json()


# ---------------------------------------------------------------------------- (1) polling


@pytest.mark.asyncio
async def test_polling_echo_and_button_press(tg: FakeTelegram) -> None:
    app = build_app(tg)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await tg.send_text(42, "hello", first_name="Alice", username="alice")
            [sent] = await tg.wait_for_calls("sendMessage", chat_id=42)
            assert sent.ok
            assert sent.params["text"] == "echo: hello"
            assert sent.params["reply_markup"] == {
                "inline_keyboard": [[{"text": "Ack", "callback_data": "ack"}]]
            }
            bot_message_id = sent.result["message_id"]
            assert sent.result["chat"] == {
                "id": 42,
                "type": "private",
                "first_name": "Alice",
                "username": "alice",
            }

            await tg.press_button(42, "ack", message_id=bot_message_id)
            answer = await tg.wait_for(lambda c: c.method == "answerCallbackQuery")
            assert answer.ok and answer.params["text"] == "got it"
            edit = await tg.wait_for(lambda c: c.method == "editMessageText")
            assert edit.ok and edit.params["message_id"] == bot_message_id

            stored = tg.get_message(42, bot_message_id)
            assert stored is not None and stored["text"] == "pressed ack"
            assert "reply_markup" not in stored  # editMessageText without markup drops the keyboard
            assert tg.sent_texts(42) == ["echo: hello", "pressed ack"]
        finally:
            await app.updater.stop()
            await app.stop()
    # PTB's final getUpdates(offset=...) on stop confirmed everything it fetched.
    assert tg.pending_updates == []
    assert tg.calls[0].method == "getMe"
    assert any(c.method == "deleteWebhook" for c in tg.calls)


@pytest.mark.asyncio
async def test_commands_get_bot_command_entity(tg: FakeTelegram) -> None:
    update = await tg.send_text(1, "/start@peerline_test_bot payload")
    parsed = Update.de_json(update, None)
    assert parsed.message is not None
    assert parsed.message.entities[0].type == "bot_command"
    assert parsed.message.entities[0].length == len("/start@peerline_test_bot")
    second = await tg.send_text(1, "again")
    assert second["update_id"] == update["update_id"] + 1
    assert second["message"]["message_id"] == update["message"]["message_id"] + 1


# ---------------------------------------------------------------------------- (2) webhook


@pytest.mark.asyncio
async def test_webhook_delivery_and_secret_check(tg: FakeTelegram) -> None:
    port = free_port()
    webhook_url = f"http://127.0.0.1:{port}/hook"
    app = build_app(tg)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=webhook_url,
            secret_token="s3cret",
        )
        try:
            assert tg.webhook_url == webhook_url
            assert tg.webhook_secret == "s3cret"

            await tg.send_text(7, "first")
            assert tg.webhook_deliveries[-1].status == 200
            assert tg.webhook_deliveries[-1].secret_token == "s3cret"
            await tg.wait_for_calls("sendMessage", chat_id=7)

            await tg.send_text(7, "forged", secret_token="wrong")
            assert tg.webhook_deliveries[-1].status == 403
            await tg.send_text(7, "no header", secret_token=None)
            assert tg.webhook_deliveries[-1].status == 403

            # Updates are processed in order, so once "third" is echoed the rejected ones
            # would have been handled too had they got through.
            await tg.send_text(7, "third")
            await tg.wait_for_calls("sendMessage", count=2, chat_id=7)
            assert tg.sent_texts(7) == ["echo: first", "echo: third"]

            with pytest.raises(Conflict, match=r"(?i)webhook is active"):
                await app.bot.get_updates()
            info = await app.bot.get_webhook_info()
            assert info.url == webhook_url
            assert info.last_error_message is not None  # the 403s are reported like Telegram
        finally:
            await app.updater.stop()
            await app.stop()


# ---------------------------------------------------------------------------- (3) 429


@pytest.mark.asyncio
async def test_429_error_shape(tg: FakeTelegram) -> None:
    tg.fail_next("sendMessage", status=429, retry_after=1)
    status, body = await raw_post(tg.api_url("sendMessage"), data={"chat_id": "1", "text": "x"})
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    status, body = await raw_post(tg.api_url("sendMessage"), json={"chat_id": 1, "text": "x"})
    assert status == 200 and body["ok"] is True  # only the next call failed


@pytest.mark.asyncio
@pytest.mark.filterwarnings(PTB_INT_RETRY_AFTER_WARNING)
async def test_429_raises_retry_after_for_plain_bot(tg: FakeTelegram) -> None:
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as bot:
        tg.fail_next("sendMessage", status=429, retry_after=1)
        with pytest.raises(RetryAfter) as excinfo:
            await bot.send_message(5, "hi")
        assert seconds(excinfo.value.retry_after) == 1
        await bot.send_message(5, "hi")
    assert [c.status for c in tg.calls_to("sendMessage")] == [429, 200]


@pytest.mark.asyncio
@pytest.mark.filterwarnings(PTB_INT_RETRY_AFTER_WARNING)
async def test_429_is_retried_by_aio_rate_limiter(tg: FakeTelegram) -> None:
    app = build_app(tg, rate_limiter=AIORateLimiter(max_retries=1))
    async with app:
        tg.fail_next("sendMessage", status=429, retry_after=1, chat_id=5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        message = await app.bot.send_message(5, "hi")
        elapsed = loop.time() - started
    assert message.text == "hi"
    calls = tg.calls_to("sendMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].response["parameters"] == {"retry_after": 1}
    assert elapsed >= 1.0  # AIORateLimiter honoured retry_after before retrying


# ---------------------------------------------------------------------------- (4) blocked


@pytest.mark.asyncio
async def test_blocked_user_raises_forbidden(tg: FakeTelegram) -> None:
    await tg.send_text(99, "source message")
    tg.block_user(99)
    async with Bot(tg.token, base_url=tg.base_url) as bot:
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await bot.send_message(99, "hi")
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await bot.copy_message(chat_id=99, from_chat_id=99, message_id=1)
        await bot.send_message(100, "others still work")
        tg.unblock_user(99)
        await bot.send_message(99, "unblocked")
    assert tg.calls_to("sendMessage", chat_id=99)[0].status == 403
    assert [p["text"] for p in tg.sent_messages(99)] == ["unblocked"]


# ---------------------------------------------------------------------------- extras


@pytest.mark.asyncio
async def test_auth_unknown_method_and_body_encodings(tg: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=tg.base_url):
            pass
    status, body = await raw_post(tg.api_url("getMe", token="999:WRONG"))
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await raw_post(tg.api_url("noSuchMethod"))
    assert (status, body) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    markup = '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}'
    status, body = await raw_post(
        tg.api_url("sendMessage"), data={"chat_id": "3", "text": "123", "reply_markup": markup}
    )
    assert status == 200 and body["result"]["text"] == "123"  # text stays a string
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    assert tg.calls[-1].params["chat_id"] == 3


@pytest.mark.asyncio
async def test_get_updates_long_poll_offset_and_limit(tg: FakeTelegram) -> None:
    async with Bot(tg.token, base_url=tg.base_url) as bot:
        assert await bot.get_updates(timeout=0) == ()
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await tg.wait_for_poll()
        first = await tg.send_text(1, "wake up")
        updates = await asyncio.wait_for(poll, 2)  # returned on injection, not after 5 s
        assert [u.update_id for u in updates] == [first["update_id"]]
        second = await tg.send_text(1, "two")
        await tg.send_text(1, "three")
        updates = await bot.get_updates(offset=second["update_id"], limit=1, timeout=5)
        assert [u.update_id for u in updates] == [second["update_id"]]
        assert len(tg.pending_updates) == 2  # offset confirmed only the earlier update
        await tg.add_update({"message_reaction": {"chat": {"id": 1, "type": "private"}, "message_id": 1}})
        updates = await bot.get_updates(offset=second["update_id"] + 1, allowed_updates=["message"])
        assert [u.message.text for u in updates if u.message] == ["three"]


@pytest.mark.asyncio
async def test_forum_topics_and_thread_faults(tg: FakeTelegram) -> None:
    group = -1001234
    async with Bot(tg.token, base_url=tg.base_url) as bot:
        topic = await bot.create_forum_topic(group, "Peer 17")
        assert topic.name == "Peer 17" and topic.icon_color == 7322096
        thread = topic.message_thread_id
        msg = await bot.send_message(group, "welcome", message_thread_id=thread)
        assert msg.message_thread_id == thread and msg.is_topic_message
        assert await bot.close_forum_topic(group, thread)
        await bot.send_message(group, "bot can still post", message_thread_id=thread)
        assert await bot.reopen_forum_topic(group, thread)

        tg.close_topic(group, thread)
        with pytest.raises(BadRequest, match=r"(?i)topic_closed"):
            await bot.send_message(group, "x", message_thread_id=thread)
        tg.reopen_topic(group, thread)
        tg.delete_topic(group, thread)
        with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
            await bot.send_message(group, "x", message_thread_id=thread)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("y", chat_id=group, message_id=msg.message_id)


@pytest.mark.asyncio
async def test_html_parse_mode_and_stale_button(tg: FakeTelegram) -> None:
    async with Bot(tg.token, base_url=tg.base_url) as bot:
        msg = await bot.send_message(1, "<b>hi</b> &amp; bye", parse_mode="HTML")
        assert msg.text == "hi & bye"
        assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bold", 0, 2)]
        with pytest.raises(BadRequest, match=r"(?i)Unsupported start tag"):
            await bot.send_message(1, "a <peer> b", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("<b>hi</b> &amp; bye", 1, msg.message_id, parse_mode="HTML")

        update = await tg.press_button(1, "old", message_id=4242)
        assert update["callback_query"]["message"]["message_id"] == 4242
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("z", chat_id=1, message_id=4242)
        await bot.answer_callback_query(update["callback_query"]["id"])
        with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
            await bot.answer_callback_query("nonexistent")


@pytest.mark.asyncio
async def test_wait_timeout_lists_calls_and_delay(tg: FakeTelegram) -> None:
    async with Bot(tg.token, base_url=tg.base_url) as bot:
        tg.delay("getMe", 0.3, count=1)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await bot.get_me()
        assert loop.time() - started >= 0.3
        await bot.set_my_commands([("start", "Start")])
        assert [c.command for c in await bot.get_my_commands()] == ["start"]
    with pytest.raises(AssertionError, match=r"(?s)sendMessage.*setMyCommands"):
        await tg.wait_for_calls("sendMessage", timeout=0.05)
