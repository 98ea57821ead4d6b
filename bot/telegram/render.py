"""Rendering engine actions as Bot API calls: Telegram-HTML messages with one inline button per row.

Replies are sent with `Bot.do_api_request`, PTB's public call for any Bot API method, rather than
`Bot.send_message`: the latter builds a keyboard object per reply and parses Telegram's answer into a
`Message` that nothing here reads, which together cost about a tenth of the bot's CPU per reply
(`bench/bench_load.py`). The request itself, its rate limiting and its retries are the same.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from bot.events import Action, Button, Reply
from bot.telegram.retry import RetryingLimiter, Urgency

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
NO_PREVIEW_JSON = NO_PREVIEW.to_json()
# Bot API method names are case-insensitive. do_api_request warns when a name is also one of PTB's own
# methods ("sendMessage"), pointing there; the lower-case name asks for the raw answer without the warning.
SEND_MESSAGE = "sendmessage"


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """An inline keyboard with one button per row (labels stay readable on a phone), or None."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data)] for b in buttons])


@functools.lru_cache(maxsize=2048)
def keyboard_json(buttons: tuple[Button, ...]) -> str | None:
    """`keyboard` as the JSON the Bot API takes; replies reuse a few keyboards, so it is cached."""
    markup = keyboard(buttons)
    return json.dumps(markup.to_dict(), separators=(",", ":")) if markup else None


def in_send_order(actions: tuple[Action, ...]) -> tuple[Action, ...]:
    """The actions with crisis replies moved to the front; the rest keep the engine's order."""
    crisis = tuple(a for a in actions if _is_crisis(a))
    return crisis + tuple(a for a in actions if not _is_crisis(a))


def _is_crisis(action: Action) -> bool:
    return isinstance(action, Reply) and action.crisis


async def send_reply(bot: Bot, chat_id: int, reply: Reply) -> None:
    """Send one engine reply; link previews are off so a number or link is not buried under a card.

    A crisis reply is marked `Urgency.CRISIS`, so a failed send is retried longer (bot/telegram/retry.py).
    Errors are PTB's, as from `send_message` (`Forbidden`, `BadRequest`, `RetryAfter`, ...).
    """
    params: dict[str, Any] = {
        "chat_id": chat_id,
        "text": reply.text,
        "parse_mode": ParseMode.HTML.value,
        "link_preview_options": NO_PREVIEW_JSON,
    }
    markup = keyboard_json(reply.buttons)
    if markup is not None:
        params["reply_markup"] = markup
    if reply.crisis and isinstance(bot, ExtBot) and isinstance(bot.rate_limiter, RetryingLimiter):
        await bot.do_api_request(SEND_MESSAGE, params, rate_limit_args=Urgency.CRISIS)
    else:
        await bot.do_api_request(SEND_MESSAGE, params)
