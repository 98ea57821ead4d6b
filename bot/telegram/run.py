"""`peerline run`: start the Telegram bot with long polling (default) or a webhook (`--webhook`).

python-telegram-bot and the content are imported when the command runs, so the other `peerline`
commands start without loading them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.errors import ConfigError
from bot.logs import configure_logging, log_event
from bot.state import MemoryStore, SessionStore

if TYPE_CHECKING:
    from bot.telegram.handlers import AnyApplication

log = logging.getLogger(__name__)

POLL_TIMEOUT_SECONDS = 30


def add_run_command(subparsers: Any) -> None:
    """Add `run` to the `peerline` command's sub-commands."""
    run = subparsers.add_parser("run", help="run the Telegram bot (settings from the environment)")
    run.add_argument(
        "--webhook", action="store_true", help="receive updates on WEBHOOK_URL instead of polling"
    )
    run.add_argument("--config", metavar="FILE", help="YAML file with the same keys as the environment")
    run.add_argument(
        "--watch", action="store_true", help="reload the content when its YAML files change (validated first)"
    )
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="with --webhook: N worker processes on WEBHOOK_PORT, WEBHOOK_PORT+1, ... sharing Redis",
    )
    run.set_defaults(func=cmd_run)


def open_store(settings: Settings) -> SessionStore:
    """Redis (one server or a cluster) when REDIS_URL is set, else an in-memory store (lost on restart)."""
    if settings.redis_url:
        from bot.state.redis import RedisStore

        return RedisStore.from_url(
            settings.redis_url,
            settings.session_ttl,
            prefix=settings.redis_prefix,
            cluster=settings.redis_cluster,
        )
    return MemoryStore(settings.session_ttl)


def cmd_run(args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken

    from bot.brain import Brain
    from bot.content.loader import default_content_root
    from bot.telegram.application import build_application

    settings = Settings.load(
        os.environ,
        Path(args.config) if args.config else None,
        require_token=True,
        webhook=args.webhook,
    )
    configure_logging(settings.log_level, settings.log_format, settings.secrets)
    workers = getattr(args, "workers", 1)
    if workers != 1:
        from bot.telegram.workers import run_workers

        return run_workers(settings, workers, sys.argv[1:])
    for warning in settings.startup_warnings():
        log.warning(warning)
    content_dir = getattr(args, "content", None) or os.environ.get("PEERLINE_CONTENT_DIR")
    root = Path(content_dir) if content_dir else default_content_root()
    brain = Brain.load(root)
    settings.check_region(brain.content)
    store = open_store(settings)
    app = build_application(settings, brain, store, content_root=root)
    background: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = []
    if getattr(args, "watch", False):
        from bot.reload import ReloadResult, watch
        from bot.telegram.application import BUS_KEY, RELOADER_KEY

        reloader, bus = app.bot_data[RELOADER_KEY], app.bot_data[BUS_KEY]

        async def tell_others(result: ReloadResult) -> None:
            if result.ok and bus is not None:  # processes that don't watch reload too
                await bus.report_version()
                await bus.publish_reload()

        background.append(lambda stop: watch(reloader, stop, tell_others))
    # What start-up built (PTB, aiohttp, redis-py, the content: ~90,000 objects) lives as long as the process;
    # left in the oldest generation, every full collection rescanned it and paused all updates for 50-180 ms.
    gc.collect()
    gc.freeze()
    try:
        run_event_loop(serve(app, settings, webhook=args.webhook, store=store, background=background))
    except InvalidToken as exc:
        raise ConfigError(
            "Telegram rejected TELEGRAM_BOT_TOKEN; copy the token again from @BotFather (/mybots)"
        ) from exc
    return 0


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run the bot on uvloop where it is installed (Linux, macOS): about a quarter more replies per second
    per core in `bench/bench_load.py`; plain asyncio elsewhere."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def serve(
    app: AnyApplication,
    settings: Settings,
    *,
    webhook: bool,
    store: SessionStore | None = None,
    stop: asyncio.Event | None = None,
    background: Sequence[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = (),
) -> None:
    """Run the bot until `stop` is set (or SIGINT/SIGTERM), then shut down cleanly and close the store.

    Mirrors `Application.run_polling`, but as a coroutine, so tests drive exactly this code.
    Pending updates are never dropped: a crisis message sent while the bot was down still gets answered.
    `background` jobs (e.g. watching the content) run from start-up until `stop`, with the `ReloadBus`
    listener (so reloads published by other processes reach this one's engine) and, when
    PEERLINE_METRICS_PORT is set, the /healthz and /metrics server.
    """
    from bot.monitoring.endpoint import OperationsServer
    from bot.state.redis import RedisStore
    from bot.telegram.application import ALLOWED_UPDATES, BUS_KEY, ENGINE_KEY, METRICS_KEY
    from bot.telegram.webhook import RecentUpdates, WebhookServer

    bus = app.bot_data.get(BUS_KEY)
    webhook_server: WebhookServer | None = None
    if bus is not None:
        background = [*background, bus.listen]
    operations: OperationsServer | None = None

    signals = (signal.SIGINT, signal.SIGTERM) if stop is None else ()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    updater = app.updater
    jobs: list[asyncio.Task[None]] = []
    assert updater is not None, "the Application was built without an Updater"
    try:
        # PTB calls post_init and post_stop only from run_polling/run_webhook; serve calls them itself.
        async with app:
            if app.post_init:
                await app.post_init(app)
            try:
                if webhook:
                    # Our own endpoint, not PTB's (see bot/telegram/webhook.py): the secret is checked
                    # first, big bodies are refused unread, a replayed update is handled once.
                    redis = store.client if isinstance(store, RedisStore) else None
                    webhook_server = WebhookServer(
                        app,
                        settings.webhook_path,
                        settings.webhook_secret or "",
                        RecentUpdates(redis, settings.redis_prefix),
                    )
                    await webhook_server.start(settings.webhook_listen, settings.webhook_port)
                    await app.bot.set_webhook(
                        url=settings.webhook_url or "",
                        secret_token=settings.webhook_secret,
                        allowed_updates=list(ALLOWED_UPDATES),
                    )
                else:
                    await updater.start_polling(
                        timeout=POLL_TIMEOUT_SECONDS, allowed_updates=list(ALLOWED_UPDATES)
                    )
                await app.start()
                jobs.extend(asyncio.create_task(job(stop)) for job in background)
                if settings.metrics_port is not None:
                    operations = OperationsServer(
                        app.bot_data[ENGINE_KEY],
                        app.bot_data[METRICS_KEY],
                        store,
                        uses_redis=settings.redis_url is not None,
                    )
                    operations.start(settings.metrics_listen, settings.metrics_port)
                mode = "webhook" if webhook else "polling"
                log_event(log, "bot_started", mode=mode, bot=app.bot.username)
                if store is not None and not await store.ping():
                    # Not fatal: people are answered without memory until the store is back.
                    log_event(
                        log, "store_unreachable_at_start", logging.WARNING, action="answering_without_memory"
                    )
                await stop.wait()
            finally:
                if operations is not None:
                    await operations.stop()
                if webhook_server is not None:
                    await webhook_server.stop()
                for job in jobs:
                    job.cancel()
                await asyncio.gather(*jobs, return_exceptions=True)
                if updater.running:
                    await updater.stop()
                if app.running:
                    await app.stop()
                if app.post_stop:  # as run_polling does: the bot can still send, the store is open
                    await app.post_stop(app)
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        if store is not None:
            await store.close()
        log_event(log, "bot_stopped")
