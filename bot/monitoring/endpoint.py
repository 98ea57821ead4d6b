"""The operations HTTP server: `/healthz` (Redis reachable, content loaded) and `/metrics` (Prometheus).

It listens on its own port (PEERLINE_METRICS_PORT), apart from the webhook server, so a load balancer or
Prometheus can reach it without being able to post updates, and so it works in polling mode too.
Bodies carry counts and a content version, never text, ids or names.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from bot.engine import Engine
from bot.logs import log_event
from bot.monitoring.metrics import CONTENT_TYPE, BotMetrics
from bot.state import SessionStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    """What /healthz reports; `ok` decides 200 or 503."""

    redis: str  # "ok", "down" or "not_used" (state in memory)
    content_version: str
    intents: int

    @property
    def ok(self) -> bool:
        return self.redis != "down" and self.intents > 0

    def body(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "unavailable",
            "redis": self.redis,
            "content": self.content_version,
            "intents": self.intents,
        }


async def check_health(engine: Engine, store: SessionStore | None, uses_redis: bool) -> Health:
    """Ping the store and look at the live Brain (the one reloads swap)."""
    content = engine.brain.content
    intents = sum(len(content.locale(code).intents) for code in content.locales)
    if not uses_redis or store is None:
        return Health("not_used", content.version, intents)
    return Health("ok" if await store.ping() else "down", content.version, intents)


class _HealthHandler(RequestHandler):
    def initialize(self, engine: Engine, store: SessionStore | None, uses_redis: bool) -> None:
        self.engine, self.store, self.uses_redis = engine, store, uses_redis

    async def get(self) -> None:
        health = await check_health(self.engine, self.store, self.uses_redis)
        self.set_status(200 if health.ok else 503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(health.body()))


class _MetricsHandler(RequestHandler):
    def initialize(self, metrics: BotMetrics) -> None:
        self.metrics = metrics

    async def get(self) -> None:
        body = await self.metrics.exposition()
        self.set_header("Content-Type", CONTENT_TYPE)
        self.finish(body)


class OperationsServer:
    """Serves /healthz and /metrics on `listen:port` inside the bot's event loop."""

    def __init__(
        self, engine: Engine, metrics: BotMetrics, store: SessionStore | None, *, uses_redis: bool
    ) -> None:
        self.app = Application(
            [
                (r"/healthz", _HealthHandler, {"engine": engine, "store": store, "uses_redis": uses_redis}),
                (r"/metrics", _MetricsHandler, {"metrics": metrics}),
            ],
            log_function=lambda handler: None,  # no access log: request lines are not needed here
        )
        self._server: HTTPServer | None = None

    def start(self, listen: str, port: int) -> None:
        self._server = HTTPServer(self.app)
        self._server.listen(port, listen)
        log_event(log, "operations_server_started", listen=listen, port=port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None
