"""The Redis session store, for production and for running more than one bot process.

Key schema (``user`` is a `KeyRing.key`, an HMAC of the Telegram id, never the id itself)::

    {prefix}:{<user>}:session   string  compact JSON of Session.to_dict()    EX ttl, refreshed by save
    {prefix}:{<user>}:flood     string  message count in the current window  EX window, set by first INCR
    {prefix}:{<user>}:handoff   hash    the open handoff to peer supporters (see bot/handoff/queue.py)
    {prefix}:{<user>}:blocked   string  set by a supporter's /block (see bot/handoff/queue.py)
    {prefix}:{<user>}:feedback  string  a feedback question is open; one answer counts (bot/handoff/queue.py)
    {prefix}:{<user>}:group     list    the person's topics and messages in the supporters' group, for /forget
    {prefix}:{<user>}:topic_cooldown   string  their last topic: a new request soon after reuses it
    {prefix}:{<user>}:crisis_cooldown  string  "1": a crisis alert was pinned for them recently

The user key sits in a hash tag (``{...}``), so all of one user's keys map to one Redis Cluster slot:
`forget` is then a single multi-key DEL that works on a cluster too; the flood counter is one Lua script
on one key, and reading the session while counting is one script on two (one round trip per message).
Every key is built by `key_for` from a kind in `USER_KEY_KINDS`, and `forget` deletes all kinds, so new
kinds are forgotten without extra code.
Nothing in Redis holds message text or a raw id. Needs Redis 7.0+ (``EXPIRE ... NX``).
"""

from __future__ import annotations

import logging

from bot.session import Session
from bot.state.base import (
    USER_KEY_KINDS,
    UserKeyKind,
    check_ttl,
    check_user,
    check_window,
    decode_session,
    encode_session,
)
from bot.state.client import DEFAULT_TIMEOUT_SECONDS, REDIS_ERRORS, RedisClient, open_redis
from bot.state.guard import store_errors

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "pl"

# KEYS[1] the flood counter; ARGV[1] the window. Count and expiry land together; NX keeps the window fixed.
_INCREMENT_FLOOD = """
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
"""
_COUNT = _INCREMENT_FLOOD + "return count"
# KEYS[2] the session (the same user, so the same slot); a missing one comes back as nil.
_LOAD_AND_COUNT = _INCREMENT_FLOOD + "return {count, redis.call('GET', KEYS[2])}"


def key_for(prefix: str, user: str, kind: UserKeyKind) -> str:
    """The Redis key of one kind of data about a user: ``{prefix}:{<user>}:{kind}``."""
    return f"{prefix}:{{{check_user(user)}}}:{kind}"


class RedisStore:
    """A `SessionStore` on Redis or a Redis Cluster, sharing one client for the life of the process."""

    def __init__(self, client: RedisClient, ttl_seconds: int, prefix: str = DEFAULT_PREFIX) -> None:
        if not prefix or any(c in prefix for c in "{}"):
            raise ValueError(f"prefix must be non-empty and free of braces, got {prefix!r}")
        self._redis = client
        self.ttl_seconds = check_ttl(ttl_seconds)
        self.prefix = prefix
        self._count = client.register_script(_COUNT)
        self._load_and_count = client.register_script(_LOAD_AND_COUNT)

    @classmethod
    def from_url(
        cls,
        url: str,
        ttl_seconds: int,
        prefix: str = DEFAULT_PREFIX,
        *,
        cluster: bool = False,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> RedisStore:
        """A store with its own client (see `open_redis`: a cluster for ``redis+cluster://`` or `cluster`)."""
        return cls(open_redis(url, cluster=cluster, timeout_seconds=timeout_seconds), ttl_seconds, prefix)

    @property
    def client(self) -> RedisClient:
        """The store's client, shared with the handoff queue and statistics."""
        return self._redis

    def key(self, user: str, kind: UserKeyKind) -> str:
        """This store's key of one kind of data about a user."""
        return key_for(self.prefix, user, kind)

    async def load(self, user: str) -> Session | None:
        with store_errors("the session store"):
            raw = await self._redis.get(self.key(user, "session"))
        return None if raw is None else decode_session(raw)

    async def save(self, user: str, session: Session) -> None:
        with store_errors("the session store"):
            await self._redis.set(self.key(user, "session"), encode_session(session), ex=self.ttl_seconds)

    async def forget(self, user: str) -> None:
        keys = [self.key(user, kind) for kind in USER_KEY_KINDS]
        with store_errors("the session store"):
            await self._redis.delete(*keys)

    async def count_message(self, user: str, window_seconds: int) -> int:
        check_window(window_seconds)
        key = self.key(user, "flood")
        with store_errors("the session store"):
            count = await self._count(keys=[key], args=[window_seconds])
        return int(count)

    async def load_and_count(self, user: str, window_seconds: int) -> tuple[Session | None, int]:
        check_window(window_seconds)
        keys = [self.key(user, "flood"), self.key(user, "session")]
        with store_errors("the session store"):
            count, raw = await self._load_and_count(keys=keys, args=[window_seconds])
        return (None if raw is None else decode_session(raw)), int(count)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except REDIS_ERRORS:
            return False

    async def close(self) -> None:
        try:
            await self._redis.aclose()
        except REDIS_ERRORS as exc:  # shutting down anyway; nothing left to do with the error
            log.warning("event=store_close_failed error=%s", type(exc).__name__)
