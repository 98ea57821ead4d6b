"""An in-process session store for `peerline chat`, tests and single-instance runs without Redis.

It behaves like `RedisStore` (same expiry, flood window and forget semantics) and is bounded: expired
entries are dropped lazily and, past `max_users`, the least recently active user is evicted, so a flood of
new users can't exhaust memory. State is lost on restart, which for this bot is a feature, not a bug.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.session import Session
from bot.state.base import UserKeyKind, check_ttl, check_user, check_window, decode_session, encode_session

DEFAULT_MAX_USERS = 100_000
_PURGE_STEP = 64  # expired users dropped per write at most, so no single call does unbounded work


@dataclass(slots=True)
class _Entry:
    value: str | int
    expires_at: float


class MemoryStore:
    """A `SessionStore` in a dict, with expiry by an injectable clock so tests can move time."""

    def __init__(
        self,
        ttl_seconds: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_users: int = DEFAULT_MAX_USERS,
    ) -> None:
        if max_users < 1:
            raise ValueError(f"max_users must be at least 1, got {max_users!r}")
        self.ttl_seconds = check_ttl(ttl_seconds)
        self.max_users = max_users
        self._clock = clock
        # Ordered by last write, oldest first: both lazy purging and eviction work from the front.
        self._users: OrderedDict[str, dict[UserKeyKind, _Entry]] = OrderedDict()

    def __len__(self) -> int:
        """How many users the store currently holds anything about (expired ones may linger until purged)."""
        return len(self._users)

    async def load(self, user: str) -> Session | None:
        entry = self._live(check_user(user), "session")
        return decode_session(entry.value) if entry and isinstance(entry.value, str) else None

    async def save(self, user: str, session: Session) -> None:
        entries = self._touch(check_user(user))
        entries["session"] = _Entry(encode_session(session), self._clock() + self.ttl_seconds)
        self._shrink()

    async def forget(self, user: str) -> None:
        # Everything about a user sits under one dict entry, so this covers every kind by construction.
        self._users.pop(check_user(user), None)

    async def count_message(self, user: str, window_seconds: int) -> int:
        check_window(window_seconds)
        entries = self._touch(check_user(user))
        now = self._clock()
        entry = entries.get("flood")
        if entry is None or now >= entry.expires_at or not isinstance(entry.value, int):
            entries["flood"] = _Entry(1, now + window_seconds)
            count = 1
        else:
            entry.value += 1
            count = entry.value
        self._shrink()
        return count

    async def load_and_count(self, user: str, window_seconds: int) -> tuple[Session | None, int]:
        return await self.load(user), await self.count_message(user, window_seconds)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._users.clear()

    def _live(self, user: str, kind: UserKeyKind) -> _Entry | None:
        """The user's entry of this kind if it has not expired; an expired one is dropped on the way."""
        entries = self._users.get(user)
        entry = entries.get(kind) if entries else None
        if entries is None or entry is None:
            return None
        if self._clock() >= entry.expires_at:
            del entries[kind]
            if not entries:
                del self._users[user]
            return None
        return entry

    def _touch(self, user: str) -> dict[UserKeyKind, _Entry]:
        """The user's entries, created if needed and marked as the most recently active."""
        entries = self._users.get(user)
        if entries is None:
            entries = self._users[user] = {}
        else:
            self._users.move_to_end(user)
        return entries

    def _shrink(self) -> None:
        """Drop fully expired users from the old end, then evict the oldest while over `max_users`."""
        now = self._clock()
        for _ in range(_PURGE_STEP):
            oldest = next(iter(self._users.items()), None)
            if oldest is None or any(now < e.expires_at for e in oldest[1].values()):
                break
            del self._users[oldest[0]]
        while len(self._users) > self.max_users:
            self._users.popitem(last=False)
