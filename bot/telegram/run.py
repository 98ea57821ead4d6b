"""`peerline run`: start the Telegram bot with long polling (default) or a webhook (`--webhook`).

python-telegram-bot and the content are imported when the command runs, so the other `peerline`
commands start without loading them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
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
    for warning in settings.startup_warnings():
        log.warning(warning)
    content_dir = getattr(args, "content", None) or os.environ.get("PEERLINE_CONTENT_DIR")
    root = Path(content_dir) if content_dir else default_content_root()
    brain = Brain.load(root)
    settings.check_region(brain.content)
    store = open_store(settings)
    app = build_application(settings, brain, store)
    background: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = []
    if getattr(args, "watch", False):
        from bot.reload import ContentReloader, watch

        reloader = ContentReloader(root, app.bot_data["engine"])
        background.append(lambda stop: watch(reloader, stop))
    try:
        asyncio.run(serve(app, settings, webhook=args.webhook, store=store, background=background))
    except InvalidToken as exc:
        raise ConfigError(
            "Telegram rejected TELEGRAM_BOT_TOKEN; copy the token again from @BotFather (/mybots)"
        ) from exc
    return 0


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
    `background` jobs (e.g. watching the content) run from start-up until `stop`.
    """
    from bot.telegram.application import ALLOWED_UPDATES

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
        async with app:
            if app.post_init:
                await app.post_init(app)
            try:
                if webhook:
                    await updater.start_webhook(
                        listen=settings.webhook_listen,
                        port=settings.webhook_port,
                        url_path=settings.webhook_path,
                        webhook_url=settings.webhook_url,
                        secret_token=settings.webhook_secret,
                        allowed_updates=list(ALLOWED_UPDATES),
                    )
                else:
                    await updater.start_polling(
                        timeout=POLL_TIMEOUT_SECONDS, allowed_updates=list(ALLOWED_UPDATES)
                    )
                await app.start()
                jobs.extend(asyncio.create_task(job(stop)) for job in background)
                mode = "webhook" if webhook else "polling"
                log_event(log, "bot_started", mode=mode, bot=app.bot.username)
                if store is not None and not await store.ping():
                    # Not fatal: people are answered without memory until the store is back.
                    log_event(
                        log, "store_unreachable_at_start", logging.WARNING, action="answering_without_memory"
                    )
                await stop.wait()
            finally:
                for job in jobs:
                    job.cancel()
                await asyncio.gather(*jobs, return_exceptions=True)
                if updater.running:
                    await updater.stop()
                if app.running:
                    await app.stop()
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        if store is not None:
            await store.close()
        log_event(log, "bot_stopped")
