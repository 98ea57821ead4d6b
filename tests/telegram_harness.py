"""Running the real bot (`peerline run`'s `serve`) against FakeTelegram and a real Redis, for e2e tests.

Each bot gets its own FakeTelegram, its own Redis key prefix in database 15 and is stopped, and its keys
deleted, when the test ends. Redis must be running: the tests fail, not skip, without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from redis.asyncio import Redis

from bot.brain import Brain
from bot.config import Settings
from bot.engine import Engine
from bot.events import Event
from bot.keys import KeyRing
from bot.session import Session
from bot.state import SessionStore
from bot.state.guard import RETRY_SECONDS
from bot.telegram.application import build_application
from bot.telegram.handlers import AnyApplication
from bot.telegram.run import open_store, serve
from bot.telegram.update_queue import MAX_UPDATES_IN_HAND
from tests.fake_telegram import Call, FakeTelegram, free_port
from tests.redis_support import REDIS_URL, reachable_redis

UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"
ID_SECRET = "e2e-test-secret-0123456789abcdef"
WEBHOOK_SECRET = "hook-Secret_0123456789abcdefXYZ_"  # 32 characters, the least the bot accepts

# Long ids: their digits can't turn up by chance in a hex key or a JSON value.
ALICE = 987_654_321_012_345
BOB = 876_543_210_987_654
GROUP = -1_009_876_543_210


async def eventually(condition: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until an async condition holds (re-checked every 10 ms); fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        await asyncio.sleep(0.01)


@dataclass
class RunningBot:
    """A started bot and everything a test needs to drive and inspect it."""

    tg: FakeTelegram
    app: AnyApplication
    settings: Settings
    redis: Redis
    keys: KeyRing
    engine: Engine
    halt: Callable[[], Awaitable[None]] | None = None  # stop the process, keep its Redis keys (a restart)

    @property
    def prefix(self) -> str:
        return self.settings.redis_prefix

    def user_key(self, user_id: int) -> str:
        return self.keys.key(user_id)

    async def redis_keys(self) -> list[str]:
        return sorted([k.decode() async for k in self.redis.scan_iter(match=f"{self.prefix}:*", count=500)])

    async def keys_of(self, user_id: int) -> list[str]:
        key = self.user_key(user_id)
        return [k for k in await self.redis_keys() if key in k]

    async def stored(self) -> dict[str, str]:
        """Every key this bot wrote, with its value (hashes and sorted sets as their members, as text)."""
        found = {}
        for key in await self.redis_keys():
            kind = (await self.redis.type(key)).decode()
            raw: object
            if kind == "string":
                raw = await self.redis.get(key)
            elif kind == "hash":
                raw = await self.redis.hgetall(key)
            elif kind == "zset":
                raw = await self.redis.zrange(key, 0, -1, withscores=True)
            else:
                continue
            if raw is not None:
                found[key] = raw.decode() if isinstance(raw, bytes) else str(raw)
        return found

    async def replies(self, chat_id: int, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until `count` successful sendMessage calls went to the chat; return all of them so far."""

        def enough() -> bool:
            return len([c for c in self.tg.calls_to("sendMessage", chat_id) if c.ok]) >= count

        await self.tg.wait_for(enough, timeout, description=f"{count} replies to chat {chat_id}")
        return [c for c in self.tg.calls_to("sendMessage", chat_id) if c.ok]

    async def texts(self, chat_id: int, count: int = 1) -> list[str]:
        return [str(c.params["text"]) for c in await self.replies(chat_id, count)]

    def expected(self, event: Event, session: Session | None = None) -> str:
        """The engine's first reply to an event for a new person: what the bot should send."""
        return self.engine.handle(event, session or Session()).replies[0].text

    def simulate(self) -> Simulation:
        """A conversation with the engine alone, to compute what the bot should answer turn by turn."""
        return Simulation(self.engine)


class Simulation:
    """The engine with a session carried from turn to turn, as the bot keeps it in Redis."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.session = Session()

    def __call__(self, event: Event) -> list[str]:
        outcome = self.engine.handle(event, self.session)
        self.session = outcome.session or Session()
        return [reply.text for reply in outcome.replies]


class StartBot(Protocol):
    async def __call__(
        self,
        *,
        webhook: bool = False,
        redis_url: str = REDIS_URL,
        store: SessionStore | None = None,
        typing_after: float | None = None,
        token: str | None = None,
        clock: Callable[[], float] | None = None,
        content_root: Path | None = None,
        store_retry_seconds: float = RETRY_SECONDS,
        tg: FakeTelegram | None = None,
        updates_in_hand: int = MAX_UPDATES_IN_HAND,
        **env: str,
    ) -> RunningBot: ...


@contextlib.asynccontextmanager
async def bot_factory(brain: Brain) -> AsyncIterator[StartBot]:
    """Yields `start(...)`, which runs a bot; every bot started is stopped and cleaned up on exit."""
    admin = await reachable_redis()
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(admin.aclose)

        async def start(
            *,
            webhook: bool = False,
            redis_url: str = REDIS_URL,
            store: SessionStore | None = None,
            typing_after: float | None = None,
            token: str | None = None,
            clock: Callable[[], float] | None = None,
            content_root: Path | None = None,
            store_retry_seconds: float = RETRY_SECONDS,
            tg: FakeTelegram | None = None,
            updates_in_hand: int = MAX_UPDATES_IN_HAND,
            **env: str,
        ) -> RunningBot:
            # A FakeTelegram passed in is shared: a second bot on it is the same bot restarted.
            tg = tg or await stack.enter_async_context(FakeTelegram(token=token))
            environ = {
                "TELEGRAM_BOT_TOKEN": tg.token,
                "TELEGRAM_BASE_URL": tg.base_url,
                "REDIS_URL": redis_url,
                "PEERLINE_REDIS_PREFIX": f"pltest-{secrets.token_hex(6)}",
                "PEERLINE_ID_SECRET": ID_SECRET,
                **env,
            }
            if webhook:
                port = free_port()
                environ |= {
                    "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
                    "WEBHOOK_LISTEN": "127.0.0.1",
                    "WEBHOOK_PORT": str(port),
                    "WEBHOOK_SECRET": WEBHOOK_SECRET,
                }
            settings = Settings.load(environ, require_token=True, webhook=webhook)
            session_store = store or open_store(settings)
            # The desk's timers run only when a test calls `sweep` (with its own clock).
            app = build_application(
                settings,
                brain,
                session_store,
                typing_after=typing_after,
                clock=clock,
                sweep=False,
                content_root=content_root,
                store_retry_seconds=store_retry_seconds,
                updates_in_hand=updates_in_hand,
            )
            stop = asyncio.Event()
            task = asyncio.create_task(serve(app, settings, webhook=webhook, store=session_store, stop=stop))

            async def halt() -> None:
                stop.set()
                await asyncio.wait_for(task, 10)

            async def shut_down() -> None:
                await halt()
                # "*" first: some keys start with a hash tag, e.g. {prefix:stats:day}:waits
                stale = [k async for k in admin.scan_iter(match=f"*{settings.redis_prefix}:*", count=500)]
                if stale:
                    await admin.delete(*stale)

            stack.push_async_callback(shut_down)
            running = RunningBot(tg, app, settings, admin, KeyRing(ID_SECRET), Engine(brain), halt)

            async def started() -> bool:
                if task.done():
                    task.result()  # serve() failed: raise its error here
                return app.running  # set once polling or the webhook server is up

            await eventually(started)
            return running

        yield start


def button_data(call: Call) -> list[str]:
    """The callback data of a sent message's buttons, top to bottom."""
    markup: dict[str, Any] = call.params.get("reply_markup") or {"inline_keyboard": []}
    return [button["callback_data"] for row in markup["inline_keyboard"] for button in row]
