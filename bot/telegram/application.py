"""Building the python-telegram-bot `Application`: token and server, rate limiting, concurrency, handlers.

Updates are processed concurrently, but one chat's updates run one at a time and in order (a per-chat
lock in `PerChatUpdateProcessor`), so a slow reply in one chat never holds up another, and a person's
"yes" is never handled before the question it answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, BaseUpdateProcessor, ContextTypes

from bot.brain import Brain
from bot.config import Settings
from bot.content.loader import default_content_root
from bot.engine import COMMANDS, Engine
from bot.handoff.queue import HandoffQueue
from bot.keys import KeyRing
from bot.logs import log_event
from bot.monitoring.metrics import BotMetrics
from bot.reload import ContentReloader
from bot.state import SessionStore
from bot.state.guard import RETRY_SECONDS
from bot.state.redis import RedisStore
from bot.state.reload_bus import ReloadBus
from bot.telegram.admin import register_admin_handlers
from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.desk import Clock, DeskSettings, SupportersDesk
from bot.telegram.dialogue import Dialogue
from bot.telegram.handlers import AnyApplication, register_handlers
from bot.telegram.handoff import HandoffService
from bot.telegram.readable_updates import ReadableUpdatesRequest
from bot.telegram.retry import RetryingLimiter
from bot.telegram.supporters import register_supporter_handlers
from bot.telegram.update_queue import GET_UPDATES_BATCH, MAX_UPDATES_IN_HAND, UpdateQueue
from bot.usage import Recorders, UsageRecorder, UsageStats
from bot.usage.unmatched import UnmatchedLog

log = logging.getLogger(__name__)

# chat_member: who joins the supporters' group (bot/telegram/supporters.py); Telegram sends it only to admins.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member", "chat_member")
MAX_CONCURRENT_UPDATES = 64
# PTB admits this many updates before `do_process_update`; the real limit is taken after the chat's lock.
MAX_ADMITTED_UPDATES = 1_000_000
# One connection per running update is enough (a reply is sent from within its update).
CONNECTION_POOL_SIZE = MAX_CONCURRENT_UPDATES
POOL_TIMEOUT_SECONDS = 10.0  # under a burst, wait for a free connection rather than drop a reply


@dataclass
class _ChatSlot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


def order_key(update: object) -> tuple[int, int | None] | None:
    """Updates with one key run one at a time, in order: a chat, or one topic of a forum group.

    In the supporters' group every conversation has its own topic: a supporter waiting on a slow send in
    one conversation must not hold up another supporter in theirs.
    """
    if not isinstance(update, Update) or update.effective_chat is None:
        return None
    message = update.effective_message
    in_topic = message is not None and bool(getattr(message, "is_topic_message", False))
    topic = message.message_thread_id if message is not None and in_topic else None
    return update.effective_chat.id, topic


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Processes updates concurrently, but each chat's (or forum topic's) updates one at a time, in order.

    At most `max_concurrent_updates` run at once, counted only once an update holds its chat's lock: one
    person's backlog waiting on their own lock never takes the places of other people's updates. A chat's
    lock exists only while one of its updates is waiting or running, so the table never outgrows the
    updates PTB has in hand. asyncio locks wake waiters first-in first-out, which keeps the order.
    """

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(MAX_ADMITTED_UPDATES)
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._chats: dict[tuple[int, int | None], _ChatSlot] = {}

    @property
    def chats_in_flight(self) -> int:
        """How many chats have an update being processed or waiting."""
        return len(self._chats)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = order_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        slot = self._chats.setdefault(key, _ChatSlot())
        slot.users += 1
        try:
            async with slot.lock, self._running:
                await coroutine
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._chats[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


class PeerlineApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application, minus its one per-user table that grows without limit.

    Without persistence, PTB still adds every chat and user id it sees to the sets of ids "to be updated
    in persistence", which only a persistence run ever empties: a million people leave a million raw
    Telegram ids in memory for the life of the process. With no persistence there is nothing to mark.
    """

    def _mark_for_persistence_update(self, *, update: object | None = None, job: Any = None) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)


async def set_command_menu(app: AnyApplication) -> None:
    """post_init: the command menu people see in private chats; a failure is logged, not fatal."""
    commands = [BotCommand(name, description) for name, description in COMMANDS.items()]
    try:
        await app.bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats())
    except TelegramError as exc:
        log_event(log, "set_commands_failed", logging.WARNING, error=type(exc).__name__)


async def log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Error handler: the error and where it happened, never the update (it holds text and names)."""
    kind = "none"
    if isinstance(update, Update):
        kind = next((k for k in ALLOWED_UPDATES if getattr(update, k, None) is not None), "other")
    error = context.error
    metrics = context.application.bot_data.get(METRICS_KEY)
    if isinstance(metrics, BotMetrics):
        metrics.count_error(kind)
    log.error(
        "event=handler_error update_kind=%s error=%s",
        kind,
        type(error).__name__,
        exc_info=(type(error), error, error.__traceback__) if error else None,
    )


DESK_KEY = "peerline.desk"
"""Where the application keeps its `SupportersDesk` (in `bot_data`), when supporters are configured."""
ENGINE_KEY = "engine"
"""The one Engine the Dialogue and the desk share; a reload swaps its Brain."""
RELOADER_KEY = "peerline.reloader"
BUS_KEY = "peerline.reload_bus"
"""The `ReloadBus` (with Redis only); `serve` runs its listener for as long as the bot runs."""
METRICS_KEY = "peerline.metrics"
USAGE_KEY = "peerline.usage"


def _chain(
    *steps: Callable[[AnyApplication], Coroutine[Any, Any, None]],
) -> Callable[[AnyApplication], Coroutine[Any, Any, None]]:
    async def run(app: AnyApplication) -> None:
        for step in steps:
            await step(app)

    return run


def build_desk(
    settings: Settings,
    engine: Engine,
    store: SessionStore,
    clock: Clock | None,
    stats: UsageRecorder | None = None,
) -> SupportersDesk | None:
    """The supporters' desk, if a supporters' chat is set and state is in Redis (it needs shared state)."""
    if settings.supporters_chat_id is None:
        return None
    if not isinstance(store, RedisStore):
        log_event(
            log, "config_warning", logging.WARNING, setting="SUPPORTERS_CHAT_ID", note="needs_redis_url"
        )
        return None
    queue = HandoffQueue(
        store.client, settings.redis_prefix, max(settings.session_ttl, 3600), settings.block_days * 86_400
    )
    desk_settings = DeskSettings(
        chat_id=settings.supporters_chat_id,
        supporter_ids=settings.supporter_ids,
        admin_ids=settings.admin_ids,
        hours=settings.support_hours,
        limits=settings.handoff_limits,
        topic_days=settings.topic_days,
    )
    keys = KeyRing(settings.id_secret)
    return SupportersDesk(engine, queue, keys, keys.seal, desk_settings, clock or time.time, stats)


def queue_reader(desk: SupportersDesk, clock: Clock) -> Callable[[], Coroutine[Any, Any, tuple[int, float]]]:
    """For the metrics: how many people wait for a supporter, and the longest wait (read at scrape time)."""

    async def read() -> tuple[int, float]:
        waiting = await desk.queue.waiting()
        oldest = max((clock() - r.since for r in waiting), default=0.0)
        return len(waiting), oldest

    return read


def build_application(
    settings: Settings,
    brain: Brain,
    store: SessionStore,
    *,
    handoff: HandoffService | None = None,
    typing_after: float | None = 1.0,
    clock: Clock | None = None,
    sweep: bool = True,
    content_root: Path | None = None,
    store_retry_seconds: float = RETRY_SECONDS,
    updates_in_hand: int = MAX_UPDATES_IN_HAND,
) -> AnyApplication:
    """The PTB Application for these settings, with every handler registered and the engine wired in.

    With a supporters' chat and Redis, the supporters' desk takes handoffs; `clock` and `sweep=False`
    let tests drive its timers themselves. With Redis, usage statistics are counted and reloads reach
    every process (`serve` runs the `ReloadBus` listener); `content_root` is where /reload reads from.
    `store_retry_seconds`: how long a Redis outage is assumed to last before the store is tried again.
    `updates_in_hand`: how many updates may be queued or in progress before fetching waits (`UpdateQueue`).
    """
    if not settings.telegram_bot_token:
        raise ValueError("settings.telegram_bot_token is required to build the Telegram application")
    engine = Engine(brain)
    metrics = BotMetrics()
    redis = store.client if isinstance(store, RedisStore) else None
    usage = UsageStats(redis, settings.redis_prefix) if redis is not None else None
    stats = Recorders([metrics] if usage is None else [usage, metrics])
    unmatched = (
        UnmatchedLog(redis, settings.redis_prefix) if redis is not None and settings.keep_unmatched else None
    )
    desk = build_desk(settings, engine, store, clock, stats) if handoff is None else None
    if desk is not None:
        metrics.queue_reader = queue_reader(desk, clock or time.time)
    handoff = handoff or desk
    dialogue = Dialogue(
        engine,
        store,
        KeyRing(settings.id_secret),
        flood_limit=settings.flood_limit,
        default_region=settings.region,
        handoff=handoff,
        typing_after=typing_after,
        stats=stats,
        unmatched=unmatched,
        metrics=metrics,
        store_retry_seconds=store_retry_seconds,
    )
    updates = UpdateQueue(updates_in_hand)
    metrics.updates_in_hand.set_function(lambda: updates.in_hand)
    # Failed calls are retried in every mode; the throttle (Telegram's limits) only with the rate limiter on.
    throttle = AIORateLimiter(max_retries=0) if settings.rate_limiter else None
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .application_class(PeerlineApplication)
        .token(settings.telegram_bot_token)
        .concurrent_updates(PerChatUpdateProcessor())
        .update_queue(updates)
        .request(
            AiohttpRequest(
                connection_pool_size=CONNECTION_POOL_SIZE,
                read_timeout=settings.api_timeout,
                pool_timeout=POOL_TIMEOUT_SECONDS,
            )
        )
        # PTB's defaults for polling; each getUpdates waits until a whole batch fits in the queue.
        .get_updates_request(
            ReadableUpdatesRequest(
                connection_pool_size=1, before_request=lambda: updates.room_for(GET_UPDATES_BATCH)
            )
        )
        .post_init(set_command_menu)
        .rate_limiter(RetryingLimiter(throttle))
    )
    if settings.telegram_base_url:
        builder = builder.base_url(settings.telegram_base_url)
    if settings.base_file_url:
        builder = builder.base_file_url(settings.base_file_url)

    async def deliver_pending_relays(app: AnyApplication) -> None:
        await dialogue.relays.drain()

    at_stop: list[Callable[[AnyApplication], Coroutine[Any, Any, None]]] = [deliver_pending_relays]
    if desk is not None and sweep:
        watched = desk

        async def start_sweeping(app: AnyApplication) -> None:
            watched.start_sweeping(app.bot)

        async def stop_sweeping(app: AnyApplication) -> None:
            await watched.stop_sweeping()

        builder = builder.post_init(_chain(set_command_menu, start_sweeping))
        at_stop.append(stop_sweeping)
    if usage is not None:
        counted = usage

        async def write_pending_counts(app: AnyApplication) -> None:
            await counted.close()

        at_stop.append(write_pending_counts)
    builder = builder.post_stop(_chain(*at_stop))
    app: AnyApplication = builder.build()
    if desk is not None:
        app.bot_data[DESK_KEY] = desk
        register_supporter_handlers(app, desk)
    register_handlers(app, dialogue, settings.supporters_chat_id)
    # One reloader for /reload, --watch and the bus: all swap the Brain of the engine shared above.
    reloader = ContentReloader(content_root or default_content_root(), engine)
    bus = ReloadBus(redis, settings.redis_prefix, reloader) if redis is not None else None
    group = {settings.supporters_chat_id} if settings.supporters_chat_id is not None else set()
    register_admin_handlers(
        app, reloader, admin_ids=settings.admin_ids, bus=bus, stats=usage, group_chat_ids=group
    )
    app.bot_data.update(
        {ENGINE_KEY: engine, RELOADER_KEY: reloader, BUS_KEY: bus, METRICS_KEY: metrics, USAGE_KEY: usage}
    )
    app.add_error_handler(log_error)
    return app
