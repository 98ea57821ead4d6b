"""Nothing that identifies a person, and not the token, in the logs or in Redis, during a real conversation.

The bot runs at DEBUG, the most talkative level, so a leak from any library would show. Raw records are
checked before redaction (nothing identifying may be logged at all), and the formatted output after it
(the token must not get out even if a library logs it).
"""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Iterator

import pytest

from bot.brain import Brain
from bot.events import TextMessage
from bot.logs import QUIET_LOGGERS, configure_logging
from tests.telegram_harness import ALICE, BOB, bot_factory

FIRST_NAME = "Zebulonia"
USERNAME = "zeb_private_handle"
LAST_NAME = "Quixotery"
MESSAGES = (
    "where can i get narcan for my cousin Hortensia",
    "my friend Bartholomew took xanax and is not breathing",
    "bupe or methadone which is better for me in Kalamazoo",
)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


@pytest.mark.usefixtures("restore_logging")
async def test_logs_and_redis_hold_no_token_id_name_username_or_message_text(brain: Brain) -> None:
    token = f"123456:SECRET-TOKEN-{secrets.token_hex(16)}"
    # Added first, so it formats each record before the redaction filter on the bot's handler sees it.
    raw_output = io.StringIO()
    raw_handler = logging.StreamHandler(raw_output)
    raw_handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logging.getLogger().addHandler(raw_handler)
    output = io.StringIO()
    configure_logging("DEBUG", "text", secrets=(token, token.partition(":")[2]), stream=output)

    async with bot_factory(brain) as start:
        bot = await start(token=token, PEERLINE_LOG_LEVEL="DEBUG")
        tg = bot.tg
        await tg.send_text(ALICE, "/start", first_name=FIRST_NAME, username=USERNAME, last_name=LAST_NAME)
        for text in MESSAGES:
            await tg.send_text(ALICE, text, first_name=FIRST_NAME, username=USERNAME)
        [*_, last] = await bot.replies(ALICE, 1 + len(MESSAGES))
        await tg.press_button(
            ALICE,
            "i:naloxone",
            message_id=last.result["message_id"],
            first_name=FIRST_NAME,
            username=USERNAME,
        )
        sent = await tg.send_text(ALICE, "/region", first_name=FIRST_NAME, username=USERNAME)
        await tg.send_edited_text(
            ALICE,
            sent["message"]["message_id"],
            "edited: I live on Wisteria Lane",
            first_name=FIRST_NAME,
            username=USERNAME,
        )
        await tg.send_sticker(ALICE, first_name=FIRST_NAME, username=USERNAME)
        await bot.replies(ALICE, 5 + len(MESSAGES))
        stored = await bot.stored()
        alias = bot.keys.log_alias(bot.user_key(ALICE))

    forbidden = {
        "token": token,
        "token secret": token.partition(":")[2],
        "user id": str(ALICE),
        "first name": FIRST_NAME,
        "last name": LAST_NAME,
        "username": USERNAME,
        **{f"message {i}": text for i, text in enumerate(MESSAGES)},
        "names in messages": "Bartholomew",
        "edited text": "Wisteria",
    }
    raw = raw_output.getvalue()
    assert "event=bot_started" in raw
    formatted = output.getvalue()
    everything_stored = "\n".join(f"{key} {value}" for key, value in stored.items())
    for what, value in forbidden.items():
        assert value.lower() not in raw.lower(), f"{what} in a log record"
        assert value.lower() not in formatted.lower(), f"{what} in the log output"
        assert value.lower() not in everything_stored.lower(), f"{what} in Redis"

    update_lines = [line for line in formatted.splitlines() if "event=update " in line]
    assert len(update_lines) == 3 + 5  # one per update: the messages, /start, button, /region, edit, sticker
    assert all(f"alias={alias}" in line and "latency_ms=" in line for line in update_lines)
    assert any("crisis=true" in line for line in update_lines)
    assert stored  # the conversation was stored: this checked real keys and values


def unparseable_update(text: str) -> dict[str, object]:
    """A message PTB can't parse (its date is not a number), carrying a text, an id, names and a username."""
    return {
        "message": {
            "message_id": 1,
            "date": "not-a-timestamp",
            "chat": {"id": ALICE, "type": "private", "first_name": FIRST_NAME, "username": USERNAME},
            "from": {
                "id": ALICE,
                "is_bot": False,
                "first_name": FIRST_NAME,
                "last_name": LAST_NAME,
                "username": USERNAME,
            },
            "text": text,
        }
    }


@pytest.mark.usefixtures("restore_logging")
async def test_an_unparseable_update_is_skipped_unlogged_and_the_next_crisis_is_answered(
    brain: Brain,
) -> None:
    """Review finding 2: one bad update was logged raw at CRITICAL and refetched in a hot loop forever."""
    raw_output = io.StringIO()
    raw_handler = logging.StreamHandler(raw_output)
    raw_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logging.getLogger().addHandler(raw_handler)
    output = io.StringIO()
    configure_logging("DEBUG", "text", stream=output)

    async with bot_factory(brain) as start:
        bot = await start(PEERLINE_LOG_LEVEL="DEBUG")
        await bot.tg.add_update(unparseable_update("I am Zebulonia at 12 Wisteria Lane"))
        await bot.tg.send_text(BOB, "my friend took xanax and is not breathing")
        [reply] = await bot.texts(BOB)
        assert reply == bot.expected(TextMessage("my friend took xanax and is not breathing"))
        polls = len(bot.tg.calls_to("getUpdates"))
    assert polls < 10  # the bad update was fetched once and skipped, not refetched in a loop
    logged = raw_output.getvalue() + output.getvalue()
    assert "event=update_unreadable" in output.getvalue()
    for value in ("Zebulonia", "Wisteria", str(ALICE), USERNAME, LAST_NAME):
        assert value not in logged


def test_ptbs_records_with_a_raw_update_keep_only_their_kind_and_size() -> None:
    """The webhook server and the request layer log the raw data they could not read; none of it stays."""
    output = io.StringIO()
    handler = configure_logging("INFO", "json", stream=output)
    try:
        data = unparseable_update("I am Zebulonia at 12 Wisteria Lane")
        try:
            raise ValueError(f"invalid literal for int() with base 10: {FIRST_NAME!r}")
        except ValueError as exc:
            logging.getLogger("telegram.ext._utils.webhookhandler").critical(
                "Something went wrong. Received data was *not* processed! Received data was: %r",
                data,
                exc_info=exc,
            )
        logging.getLogger("telegram.request").error('Can not load invalid JSON data: "%s"', str(data))
    finally:
        logging.getLogger().removeHandler(handler)
    lines = output.getvalue().splitlines()
    assert len(lines) == 2
    assert all('"event": "update_unreadable"' in line for line in lines)
    assert '"error": "ValueError"' in lines[0]
    for value in ("Zebulonia", "Wisteria", str(ALICE), USERNAME):
        assert value not in output.getvalue()
