"""Rendering engine actions as Bot API calls: Telegram-HTML messages with one inline button per row."""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from bot.events import Action, Button, Reply
from bot.telegram.retry import RetryingLimiter, Urgency

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """An inline keyboard with one button per row (labels stay readable on a phone), or None."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data)] for b in buttons])


def in_send_order(actions: tuple[Action, ...]) -> tuple[Action, ...]:
    """The actions with crisis replies moved to the front; the rest keep the engine's order."""
    crisis = tuple(a for a in actions if _is_crisis(a))
    return crisis + tuple(a for a in actions if not _is_crisis(a))


def _is_crisis(action: Action) -> bool:
    return isinstance(action, Reply) and action.crisis


async def send_reply(bot: Bot, chat_id: int, reply: Reply) -> Message:
    """Send one engine reply; link previews are off so a number or link is not buried under a card.

    A crisis reply is marked `Urgency.CRISIS`, so a failed send is retried longer (bot/telegram/retry.py).
    """
    urgent: dict[str, Any] = {}
    if reply.crisis and isinstance(bot, ExtBot) and isinstance(bot.rate_limiter, RetryingLimiter):
        urgent["rate_limit_args"] = Urgency.CRISIS
    return await bot.send_message(
        chat_id,
        reply.text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(reply.buttons),
        link_preview_options=NO_PREVIEW,
        **urgent,
    )
