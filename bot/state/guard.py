"""What a Redis failure becomes: `StoreUnavailable` where the caller must know (`store_errors`), one log line
per outage where it must not (`BestEffort`), and no memory while the session store is down (`StoreGuard`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from bot.errors import StoreUnavailable
from bot.logs import log_event
from bot.session import Session
from bot.state.base import SessionStore
from bot.state.client import REDIS_ERRORS
from bot.state.memory import MemoryStore

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # while down, skip the store this long, so a black-holed Redis costs one timeout
FALLBACK_MAX_USERS = 10_000
T = TypeVar("T")


@contextmanager
def store_errors(what: str) -> Iterator[None]:
    """Turn any Redis or socket failure inside the block into `StoreUnavailable` naming `what`."""
    try:
        yield
    except REDIS_ERRORS as exc:
        raise StoreUnavailable(
            f"{what} (Redis) is unavailable: {type(exc).__name__}: {exc}; "
            "check that Redis is running and the Redis URL is right"
        ) from exc


class BestEffort:
    """Redis writes that must never break a conversation: a failure is logged once, then ignored until a
    later call succeeds (a Redis outage gives one warning, not one per message)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.failing = False

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """Run the block; a Redis failure in it is noted and swallowed, a success ends an outage."""
        try:
            yield
        except REDIS_ERRORS as exc:
            self.failed(exc)
        else:
            self.succeeded()

    def failed(self, exc: BaseException) -> None:
        if not self.failing:
            self.failing = True
            log_event(log, "redis_unavailable", logging.WARNING, part=self.what, error=type(exc).__name__)

    def succeeded(self) -> None:
        if self.failing:
            self.failing = False
            log_event(log, "redis_recovered", part=self.what)


class StoreGuard:
    """Calls a `SessionStore`; an outage becomes "no session" instead of an error.

    While the store is down, calls are skipped for `RETRY_SECONDS` at a time and flood counting moves
    to a small in-process store, so the flood guard keeps working. The outage and the recovery are each
    logged once, not per message.
    """

    def __init__(
        self,
        store: SessionStore,
        *,
        retry_seconds: float = RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._down_until: float | None = None
        self._counter = MemoryStore(ttl_seconds=3600, clock=clock, max_users=FALLBACK_MAX_USERS)

    @property
    def down(self) -> bool:
        """True from a failed call until a later call succeeds."""
        return self._down_until is not None

    async def load_and_count(self, user: str, window_seconds: int) -> tuple[Session | None, int, bool]:
        """The stored session (None if none), the message count as `count_message` gives it, and whether
        the store answered."""
        answered, found = await self._attempt(
            "load_and_count", lambda: self.store.load_and_count(user, window_seconds)
        )
        if answered and found is not None:
            session, count = found
            return session, count, True
        return None, await self._counter.count_message(user, window_seconds), False

    async def save(self, user: str, session: Session) -> bool:
        """Save the session; False if the store is down (the person is still answered)."""
        answered, _ = await self._attempt("save", lambda: self.store.save(user, session))
        return answered

    async def forget(self, user: str) -> bool:
        """Delete everything about the user; False if the store is down and nothing was deleted."""
        await self._counter.forget(user)
        answered, _ = await self._attempt("forget", lambda: self.store.forget(user))
        return answered

    async def count_message(self, user: str, window_seconds: int) -> int:
        """The user's message count in the current window, from the in-process counter during an outage."""
        answered, count = await self._attempt(
            "count_message", lambda: self.store.count_message(user, window_seconds)
        )
        if answered and count is not None:
            return count
        return await self._counter.count_message(user, window_seconds)

    async def _attempt(self, operation: str, call: Callable[[], Awaitable[T]]) -> tuple[bool, T | None]:
        """(True, the result) if the store answered; (False, None) when it failed or is being skipped."""
        if self._skipping():
            return False, None
        try:
            result = await call()
        except StoreUnavailable as exc:
            self._failed(exc, operation)
            return False, None
        self._answered()
        return True, result

    def _skipping(self) -> bool:
        return self._down_until is not None and self._clock() < self._down_until

    def _failed(self, exc: StoreUnavailable, operation: str) -> None:
        if self._down_until is None:
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "unknown"
            log_event(
                log,
                "store_unavailable",
                logging.WARNING,
                operation=operation,
                cause=cause,
                action="answering_without_memory",
            )
        self._down_until = self._clock() + self.retry_seconds

    def _answered(self) -> None:
        if self._down_until is not None:
            log_event(log, "store_recovered")
        self._down_until = None
