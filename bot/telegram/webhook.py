"""The webhook endpoint: Telegram's updates over HTTPS (behind a proxy), checked before they are read.

python-telegram-bot's own webhook server (tornado) reads a whole body, up to 100 MiB, before it looks at
the secret, compares the secret with `!=`, logs an update it can't parse with its raw data, and queues an
update id posted twice twice. This one, on aiohttp:

- checks `X-Telegram-Bot-Api-Secret-Token` first, in constant time (403 without reading the body);
- refuses a body over `MAX_BODY_BYTES` (Telegram's updates are a few KiB) before reading it (413);
- skips an update it can't parse (200, so Telegram moves on), logging its id, error type and size only;
- handles each `update_id` once (`RecentUpdates`: in Redis, shared by every worker, for ten minutes).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections import OrderedDict
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import ExtBot

from bot.logs import log_event
from bot.state.client import REDIS_ERRORS, RedisClient
from bot.telegram.readable_updates import note_unreadable

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20  # 1 MiB: generous for a Telegram update
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SEEN_SECONDS = 600  # long enough for a replay or redelivery soon after; one key per update, so kept short
SEEN_IN_MEMORY = 10_000


class RecentUpdates:
    """Which update ids were already taken in: in Redis when there is one (every worker shares it).

    When Redis can't answer, the update is taken (a crisis message must never be dropped for it); a
    process-local memory of the last ids still catches a replay to the same process.
    """

    def __init__(self, redis: RedisClient | None, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._local: OrderedDict[int, None] = OrderedDict()

    async def first_time(self, update_id: int) -> bool:
        if update_id in self._local:
            return False
        self._local[update_id] = None
        if len(self._local) > SEEN_IN_MEMORY:
            self._local.popitem(last=False)
        if self.redis is None:
            return True
        try:
            key = f"{self.prefix}:seen:{{{update_id}}}"
            return bool(await self.redis.set(key, "1", nx=True, ex=SEEN_SECONDS))
        except REDIS_ERRORS:
            return True


class WebhookServer:
    """Serves `path` on (listen, port) and puts each new update into the application's update queue."""

    def __init__(self, app: Any, path: str, secret: str, seen: RecentUpdates) -> None:
        self.app = app
        self.path = "/" + path.lstrip("/")
        self._secret = secret.encode()
        self.seen = seen
        self._runner: web.AppRunner | None = None

    async def start(self, listen: str, port: int) -> None:
        server = web.Application(client_max_size=MAX_BODY_BYTES)
        server.router.add_post(self.path, self.handle)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, listen, port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403)
        if request.content_type != "application/json":
            return web.Response(status=403)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.Response(status=413)
        try:
            body = await request.read()  # a chunked body is cut off at client_max_size
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413)
        data: Any = None
        try:
            data = json.loads(body)
            update = Update.de_json(data, self.app.bot)
        except Exception as exc:  # anything PTB's parser raises: skipped, never logged raw
            update_id = data.get("update_id") if isinstance(data, dict) else None
            note_unreadable(update_id, exc, len(body))
            return web.Response(status=200)
        if update is None:
            return web.Response(status=200)
        if not await self.seen.first_time(update.update_id):
            log_event(log, "update_replayed", update_id=update.update_id)
            return web.Response(status=200)
        if isinstance(self.app.bot, ExtBot):
            self.app.bot.insert_callback_data(update)
        await self.app.update_queue.put(update)
        return web.Response(status=200)
