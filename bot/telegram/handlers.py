"""Every handler the bot registers, in one place, each translating a PTB `Update` into an engine event.

Private chats only: a group (other than the supporters' chat) gets a short "private chats only" reply.
Commands become `Command`, text `TextMessage`, button presses `ButtonPress` (validated, always answered),
a shared location `Location` (used for one answer, never stored), anything else `NonText`; edited messages
are only checked for crisis and otherwise get a short reply.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from telegram import ChatMember, Message, MessageEntity, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.engine import COMMANDS
from bot.events import ButtonPress, Command, Location, NonText, TextMessage
from bot.telegram.dialogue import Dialogue, Person

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE

MAX_CALLBACK_BYTES = 64  # Telegram's own limit; longer data can only come from a forged request
_CALLBACK_DATA_RE = re.compile(r"[A-Za-z0-9_:.-]+")
_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)

# What a message carries, checked in order (a venue also has a location, an animation a document).
NON_TEXT_KINDS = (
    "sticker",
    "animation",
    "photo",
    "video",
    "video_note",
    "voice",
    "audio",
    "document",
    "venue",
    "location",
    "contact",
    "poll",
    "dice",
    "story",
    "game",
)
# What never crosses to the supporters' group (review finding 3): what names the person or someone else
# (a contact card, a story, a shared user or chat), and files whose names and metadata (EXIF, GPS, tags)
# Telegram keeps as sent. Photos cross: Telegram re-encodes them, without their metadata.
WITHHELD_KINDS = ("contact", "story", "document", "audio", "video", "users_shared", "chat_shared")
# Edits aren't read: the engine's answer to the original would be out of date (see Dialogue.handle).
EDIT_RESPONSE = "edited"


def valid_callback_data(data: str | None) -> str:
    """The callback data if it could have come from one of our buttons, else "" (answered as stale)."""
    if not data or len(data.encode()) > MAX_CALLBACK_BYTES or not _CALLBACK_DATA_RE.fullmatch(data):
        return ""
    return data


def non_text_kind(message: Message) -> str:
    """A short name for what a non-text message carries ("sticker", "photo", ...), "other" if unknown."""
    return next((kind for kind in NON_TEXT_KINDS if getattr(message, kind, None)), "other")


def withheld_kind(message: Message) -> str | None:
    """Why this message must not be copied to a supporter ("forward", "mention", "contact", ...), or None."""
    if message.forward_origin is not None or message.is_automatic_forward:
        return "forward"  # someone else's words, and maybe their name
    entities = (*message.entities, *message.caption_entities)
    if any(e.type == MessageEntity.TEXT_MENTION for e in entities):
        return "mention"  # carries a user's id and name
    if message.animation is not None:
        return None  # a GIF: Telegram also sets `document` on it
    return next((kind for kind in WITHHELD_KINDS if getattr(message, kind, None)), None)


def parse_command(text: str) -> Command:
    """`/region uk` -> Command("region", "uk"); the @botname suffix is dropped."""
    match = _COMMAND_RE.match(text.strip())
    if not match:
        return Command("")
    return Command(match.group(1).lower(), (match.group(2) or "").strip())


def _person(update: Update) -> Person | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    return Person(user.id, chat.id, user.language_code)


class Handlers:
    """PTB callbacks bound to one `Dialogue`."""

    def __init__(self, dialogue: Dialogue) -> None:
        self.dialogue = dialogue

    async def on_command(self, update: Update, context: Context) -> None:
        message, person = update.effective_message, _person(update)
        if message is None or person is None or message.text is None:
            return
        await self.dialogue.handle(context.bot, person, parse_command(message.text), "command")

    async def on_text(self, update: Update, context: Context) -> None:
        message, person = update.effective_message, _person(update)
        if message is None or person is None:
            return
        # A caption is what the person wrote about a photo or file: answer it like a message.
        text = message.text or message.caption or ""
        event = TextMessage(text)
        await self.dialogue.handle(
            context.bot,
            person,
            event,
            "text",
            message_id=message.message_id,
            withheld=withheld_kind(message),
        )

    async def on_non_text(self, update: Update, context: Context) -> None:
        message, person = update.effective_message, _person(update)
        if message is None or person is None:
            return
        event = NonText(non_text_kind(message))
        await self.dialogue.handle(
            context.bot,
            person,
            event,
            "non_text",
            message_id=message.message_id,
            withheld=withheld_kind(message),
        )

    async def on_location(self, update: Update, context: Context) -> None:
        message, person = update.effective_message, _person(update)
        if message is None or person is None or message.location is None:
            return
        event = Location(message.location.latitude, message.location.longitude)
        await self.dialogue.handle(context.bot, person, event, "location")

    async def on_edited(self, update: Update, context: Context) -> None:
        message, person = update.edited_message, _person(update)
        if message is None or person is None:
            return
        if message.location is not None:
            return  # a live location moving: Telegram sends one every few seconds for hours (never stored)
        text = message.text or message.caption
        event = TextMessage(text) if text else NonText("edited")
        await self.dialogue.handle(context.bot, person, event, "edited", unread=EDIT_RESPONSE)

    async def on_button(self, update: Update, context: Context) -> None:
        query, person = update.callback_query, _person(update)
        if query is None:
            return
        try:
            chat = query.message.chat if query.message else None
            if person is not None and chat is not None and chat.type == chat.PRIVATE:
                data = valid_callback_data(query.data)
                await self.dialogue.handle(context.bot, person, ButtonPress(data), "button")
        finally:
            # Always answered, or the button keeps spinning; a query that expired meanwhile is fine.
            with contextlib.suppress(TelegramError):
                await query.answer()

    async def on_group(self, update: Update, context: Context) -> None:
        chat, message = update.effective_chat, update.effective_message
        if chat is not None:
            text = (message.text or message.caption or "") if message else ""
            await self.dialogue.private_only(context.bot, chat.id, text)

    async def on_my_chat_member(self, update: Update, context: Context) -> None:
        change, person = update.my_chat_member, _person(update)
        if change is None or person is None or change.chat.type != change.chat.PRIVATE:
            return
        if change.new_chat_member.status == ChatMember.BANNED:  # "kicked": the person blocked the bot
            await self.dialogue.blocked(context.bot, person)


def register_handlers(app: AnyApplication, dialogue: Dialogue, supporters_chat_id: int | None = None) -> None:
    """Register every handler; the order matters, as the first matching handler wins."""
    handlers = Handlers(dialogue)
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    groups = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
    if supporters_chat_id is not None:
        # The supporters' chat belongs to the handoff, which registers its own handlers.
        groups = groups & ~filters.Chat(chat_id=supporters_chat_id)

    app.add_handlers(
        [
            MessageHandler(groups & ~filters.StatusUpdate.ALL, handlers.on_group),
            CommandHandler(list(COMMANDS), handlers.on_command, filters=private),
            MessageHandler(private & filters.COMMAND, handlers.on_command),
            MessageHandler(private & (filters.TEXT | filters.CAPTION), handlers.on_text),
            MessageHandler(private & filters.LOCATION, handlers.on_location),
            MessageHandler(private & ~filters.StatusUpdate.ALL, handlers.on_non_text),
            MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE, handlers.on_edited),
            CallbackQueryHandler(handlers.on_button),
            ChatMemberHandler(handlers.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        ]
    )
