"""Handlers for the supporters' forum group: Claim and Close presses, commands, and replies in topics.

Only supporters (`SUPPORTER_IDS` or `ADMIN_IDS`) are heard; anyone else's messages are ignored and
their presses politely refused. Nothing the group receives names the person.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import ChatMember, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, ChatMemberHandler, MessageHandler, filters

from bot.logs import log_event
from bot.telegram.desk import SupportersDesk
from bot.telegram.handlers import AnyApplication, Context, parse_command
from bot.telegram.render import NO_PREVIEW

log = logging.getLogger(__name__)

CARD_BUTTON_PATTERN = r"\Ah[cx]:[0-9a-f]{1,32}\Z"  # \Z, not $: `$` also matches before a final newline

SUPPORTER_COMMANDS = ("help", "end", "release", "queue", "mine", "alias", "block", "unblock", "refer")
# Anyone in the group reads every topic: membership is the access control, not SUPPORTER_IDS.
OUTSIDER_ALERT = (
    "⚠️ <b>Someone who is not on the rota joined this group.</b> Every member can read every "
    "conversation here. An admin: remove them now, or add their id to SUPPORTER_IDS if they are a new "
    "supporter. (To keep this from happening: invite links that need an admin's approval.)"
)
_MEMBER_STATUSES = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED)


class SupporterHandlers:
    """PTB callbacks for the supporters' group, bound to one `SupportersDesk`."""

    def __init__(self, desk: SupportersDesk) -> None:
        self.desk = desk

    async def on_card_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or query.data is None:
            return
        chat = query.message.chat if query.message else None
        if chat is None or chat.id != self.desk.settings.chat_id:
            with contextlib.suppress(TelegramError):
                await query.answer()  # a card button can only be real in the supporters' group
            return
        answer = ""
        try:
            kind, _, ticket = query.data.partition(":")
            if kind == "hc":
                answer = await self.desk.claim(context.bot, query.from_user.id, ticket)
            else:
                answer = await self.desk.close_button(context.bot, query.from_user.id, ticket)
        finally:
            with contextlib.suppress(TelegramError):
                await query.answer(answer[:200] or None, show_alert=bool(answer) and answer != "Closed.")

    async def on_command(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        command = parse_command(message.text)
        if command.name not in SUPPORTER_COMMANDS:
            return
        topic = message.message_thread_id if message.is_topic_message else None
        answer = await self.desk.command(context.bot, user.id, topic, command.name, command.args)
        if answer:
            await message.reply_text(answer, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)

    async def on_message(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or user.is_bot or not message.is_topic_message:
            return
        if message.message_thread_id is None or not self.desk.settings.may_support(user.id):
            return  # messages from anyone who is not a supporter are ignored
        await self.desk.relay_from_supporter(context.bot, user.id, message.message_thread_id, message)

    async def on_member(self, update: Update, context: Context) -> None:
        """A join (or a change to a member) in the supporters' group: alert on anyone not on the rota."""
        change = update.chat_member
        if change is None or change.chat.id != self.desk.settings.chat_id:
            return
        member = change.new_chat_member
        joined = member.status in _MEMBER_STATUSES and change.old_chat_member.status not in _MEMBER_STATUSES
        if not joined or member.user.is_bot or self.desk.settings.may_support(member.user.id):
            return
        log_event(log, "outsider_joined_supporters_group", logging.WARNING)  # no id or name: just the fact
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(
                self.desk.settings.chat_id, OUTSIDER_ALERT, parse_mode=ParseMode.HTML
            )


def register_supporter_handlers(app: AnyApplication, desk: SupportersDesk) -> None:
    """Handlers for the supporters' chat; registered before the general ones so they win."""
    handlers = SupporterHandlers(desk)
    group = filters.Chat(chat_id=desk.settings.chat_id) & filters.UpdateType.MESSAGE
    app.add_handlers(
        [
            CallbackQueryHandler(handlers.on_card_button, pattern=CARD_BUTTON_PATTERN),
            MessageHandler(group & filters.COMMAND, handlers.on_command),
            MessageHandler(group & ~filters.StatusUpdate.ALL, handlers.on_message),
            ChatMemberHandler(handlers.on_member, ChatMemberHandler.CHAT_MEMBER),
        ]
    )
