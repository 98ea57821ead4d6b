"""Admin commands in Telegram: /reload, /version and /stats, for ADMIN_IDS only.

They are registered in a handler group that runs before the ordinary handlers. For anyone else the
filter does not match, so the message falls through to the ordinary handlers and gets the usual
"unknown command" answer: people are not told these commands exist.
"""

from __future__ import annotations

from collections.abc import Collection

from telegram import Update
from telegram.ext import ApplicationHandlerStop, CommandHandler, filters

from bot.errors import StoreUnavailable
from bot.reload import ContentReloader
from bot.state.reload_bus import ReloadBus
from bot.telegram.handlers import AnyApplication, Context
from bot.usage import UsageStats, usage_chart

ADMIN_GROUP = -1  # before group 0, where the ordinary handlers live
ADMIN_COMMANDS = ("reload", "version", "stats")
MAX_TEXT = 4000  # under Telegram's 4096-character limit
STATS_DAYS = 14


class AdminCommands:
    """The callbacks; each answers in the chat it was asked in, as plain text (no HTML to break)."""

    def __init__(
        self, reloader: ContentReloader, bus: ReloadBus | None = None, stats: UsageStats | None = None
    ) -> None:
        self.reloader = reloader
        self.bus = bus
        self.usage = stats

    async def reload(self, update: Update, context: Context) -> None:
        result = await self.reloader.reload()
        text = result.text()
        if result.ok and self.bus is not None:
            await self.bus.report_version()
            others = await self.bus.publish_reload()
            text += f"\nAsked {others} other process(es) to reload; /version shows what each serves."
        await self._answer(update, text)

    async def version(self, update: Update, context: Context) -> None:
        if self.bus is None:
            await self._answer(update, f"Content version {self.reloader.version} (one process).")
            return
        rows = await self.bus.versions()
        agree = len({r.version for r in rows}) == 1
        lines = [
            f"Content version {self.reloader.version} here; " + ("all agree." if agree else "NOT all agree:")
        ]
        lines += [f"{r.version}  {r.instance}  ({r.seconds_ago:.0f}s ago)" for r in rows]
        await self._answer(update, "\n".join(lines))

    async def stats(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if self.usage is None or message is None:
            await self._answer(update, "Usage statistics need Redis (REDIS_URL).")
            raise ApplicationHandlerStop
        try:
            picture = await usage_chart(self.usage, STATS_DAYS)
        except StoreUnavailable:
            await self._answer(update, "Usage statistics are unavailable: Redis does not answer.")
            return
        await message.reply_photo(picture, caption=f"Usage, last {STATS_DAYS} days (UTC)")
        raise ApplicationHandlerStop

    async def _answer(self, update: Update, text: str) -> None:
        message = update.effective_message
        if message is not None:
            await message.reply_text(text[:MAX_TEXT])
        raise ApplicationHandlerStop  # handled: the ordinary handlers must not answer too


def register_admin_handlers(
    app: AnyApplication,
    reloader: ContentReloader,
    *,
    admin_ids: Collection[int],
    bus: ReloadBus | None = None,
    stats: UsageStats | None = None,
    group_chat_ids: Collection[int] = (),
) -> AdminCommands:
    """Register /reload, /version, /stats for admins in private chats (and in `group_chat_ids`)."""
    commands = AdminCommands(reloader, bus, stats)
    where: filters.BaseFilter = filters.ChatType.PRIVATE
    if group_chat_ids:
        where = where | filters.Chat(chat_id=list(group_chat_ids))
    allowed = filters.User(user_id=list(admin_ids)) & where & filters.UpdateType.MESSAGE
    for name in ADMIN_COMMANDS:
        app.add_handler(CommandHandler(name, getattr(commands, name), filters=allowed), group=ADMIN_GROUP)
    return commands
