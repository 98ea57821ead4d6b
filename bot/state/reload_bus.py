"""Reloads across processes over Redis pub/sub, and a board of which content version each process serves.

    {prefix}:content:reload     channel  {"from": <instance>}: every other process reloads from its own disk
    {prefix}:content:versions   hash     <instance> -> {"version", "at"}; entries older than STALE_SECONDS
                                         are ignored (a process refreshes its own every HEARTBEAT_SECONDS)

An instance id is random per process: it names a process, never a person. On Redis Cluster, PUBLISH and
SUBSCRIBE both go to the node serving the channel name's slot, so every process meets there and the
receiver count stays right.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio.cluster import RedisCluster

from bot.logs import log_event
from bot.state.client import REDIS_ERRORS, RedisClient, decode
from bot.state.guard import BestEffort

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 60.0
STALE_SECONDS = 3 * HEARTBEAT_SECONDS
RETRY_SECONDS = 2.0


# KEYS[1] the board; ARGV instance, entry, TTL: the entry and the board's expiry land together.
_REPORT = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


class ReloadOutcome(Protocol):
    """What a reload reports (`bot.reload.ReloadResult`): whether the new content went live."""

    @property
    def ok(self) -> bool: ...


class Reloader(Protocol):
    """What the bus reloads (`bot.reload.ContentReloader`); a protocol, so `bot.state` imports no content."""

    @property
    def version(self) -> str: ...

    async def reload(self) -> ReloadOutcome: ...


@dataclass(frozen=True)
class ProcessVersion:
    instance: str
    version: str
    seconds_ago: float


def new_instance_id() -> str:
    return f"{socket.gethostname()[:20]}-{os.getpid()}-{secrets.token_hex(2)}"


class ReloadBus:
    """Publishes reloads to every process and reloads this one when another publishes."""

    def __init__(
        self,
        redis: RedisClient,
        prefix: str,
        reloader: Reloader,
        instance: str | None = None,
    ) -> None:
        self.redis = redis
        self.reloader = reloader
        self.instance = instance or new_instance_id()
        self.channel = f"{prefix}:content:reload"
        self.board = f"{prefix}:content:versions"
        self.subscribed = asyncio.Event()  # set while listening: tests and /reload can rely on delivery
        self.last_result: ReloadOutcome | None = None
        self._health = BestEffort("reload_bus")
        self._report = redis.register_script(_REPORT)

    async def publish_reload(self) -> int:
        """Ask every other process to reload; returns how many listeners got it (0 if Redis is down)."""
        receivers = 0
        with self._health.attempt():
            receivers = await self.redis.publish(self.channel, json.dumps({"from": self.instance}))
        return max(0, receivers - 1)  # this process hears itself too (and 0 listeners if Redis is down)

    async def report_version(self) -> None:
        """Write this process's live version to the board."""
        entry = json.dumps({"version": self.reloader.version, "at": time.time()})
        with self._health.attempt():
            await self._report(keys=[self.board], args=[self.instance, entry, int(STALE_SECONDS * 10)])

    async def versions(self) -> list[ProcessVersion]:
        """Every process that reported recently, this one first."""
        raw = {}
        with self._health.attempt():
            raw = await self.redis.hgetall(self.board)
        now = time.time()
        found = [ProcessVersion(self.instance, self.reloader.version, 0.0)]
        for key, value in raw.items():
            instance = decode(key)
            if instance == self.instance:
                continue
            try:
                entry = json.loads(value)
                age = now - float(entry["at"])
                version = str(entry["version"])
            except (ValueError, KeyError, TypeError):
                continue
            if age <= STALE_SECONDS:
                found.append(ProcessVersion(instance, version, age))
        return found

    async def listen(self, stop: asyncio.Event) -> None:
        """Until `stop`: reload when another process publishes, and keep this process on the board."""
        while not stop.is_set():
            try:
                await self._listen_once(stop)
            except REDIS_ERRORS as exc:
                self.subscribed.clear()
                self._health.failed(exc)
                # A pause before reconnecting, cut short if the bot is stopping.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_SECONDS)

    async def _listen_once(self, stop: asyncio.Event) -> None:
        if isinstance(self.redis, RedisCluster):
            # A cluster pubsub picks its node from the slot map, which is only loaded by a first command.
            await self.redis.initialize()
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            await self.report_version()
            self.subscribed.set()
            self._health.succeeded()
            beat = time.monotonic()
            while not stop.is_set():
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                if message is not None and self._from_elsewhere(message.get("data")):
                    self.last_result = await self.reloader.reload()
                    log_event(log, "content_reload_from_bus", ok=self.last_result.ok)
                    await self.report_version()
                    beat = time.monotonic()
                elif time.monotonic() - beat > HEARTBEAT_SECONDS:
                    await self.report_version()
                    beat = time.monotonic()
        finally:
            self.subscribed.clear()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _from_elsewhere(self, data: object) -> bool:
        """A well-formed reload request from another process; anything else is logged once and ignored."""
        sender = reload_sender(data)
        if sender is None:
            size = len(data) if isinstance(data, bytes | str) else 0
            log_event(log, "reload_message_ignored", logging.WARNING, reason="malformed", size=size)
            return False
        return sender != self.instance


def reload_sender(data: object) -> str | None:
    """The sender of a reload message `{"from": "<instance>"}`, or None if it is not one."""
    if not isinstance(data, bytes | str):
        return None
    try:
        message = json.loads(data)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep to parse
        return None
    sender = message.get("from") if isinstance(message, dict) else None
    return sender if isinstance(sender, str) and sender else None
