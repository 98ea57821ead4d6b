"""Retrying Bot API calls that failed for a passing reason, patiently for crisis replies.

Every Bot API call except `getUpdates` (which PTB's polling loop retries itself) passes through
`RetryingLimiter`, PTB's hook around each request (`ExtBot.rate_limiter`). What is retried:

- 429 flood control (`RetryAfter`): after the `retry_after` Telegram asked for; every call to that chat
  waits too (flood limits are per chat or group, and one group's limit must never hold up a crisis reply
  to someone else; calls without a chat share one pause);
- 5xx answers, timeouts and dropped connections (`NetworkError`, `TimedOut`): jittered exponential backoff.

What is never retried: 400 (`BadRequest`, although PTB makes it a `NetworkError`), 403 (`Forbidden`), a bad
token, a migrated chat: the same request would fail the same way, so only that one action is dropped.

A crisis reply (`send_reply` passes `Urgency.CRISIS`) gets `CRISIS_POLICY`: more attempts and a longer
flood wait than ordinary calls. Retrying can duplicate a message: a timeout or a dropped connection can
happen after Telegram accepted the message, and the Bot API has no idempotency key to tell. 429 and 5xx
answers mean it was not sent, so those retries never duplicate. For a crisis reply a duplicate is better than
a loss; ordinary replies take the same trade-off, as a lost answer leaves a person with nothing.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter

from bot.logs import log_event

log = logging.getLogger(__name__)

ApiResult = bool | dict[str, Any] | list[dict[str, Any]]


class Urgency(enum.Enum):
    """How hard to try: passed as `rate_limit_args` to a Bot method; None means ordinary."""

    ORDINARY = "ordinary"
    CRISIS = "crisis"


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try one call, and how long to wait between tries."""

    attempts: int  # tries in all, the first included
    base_delay: float  # the first backoff in seconds; it doubles with every retry
    max_delay: float  # no single backoff is longer than this
    max_retry_after: float  # a longer flood wait than this is not waited out: the call fails

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError(f"invalid retry policy: {self}")

    def delay(self, retry: int, error: Exception, jitter: float) -> float | None:
        """Seconds to wait before retry number `retry` (1 = the first retry), or None to give up.

        `jitter` is a random number in [0, 1): it spreads retries so that many failed calls do not come
        back at the same instant.
        """
        if retry >= self.attempts or not retryable(error):
            return None
        if isinstance(error, RetryAfter):
            wait: float = error._retry_after.total_seconds()  # the timedelta; the public value may be an int
            return None if wait > self.max_retry_after else wait + jitter * self.base_delay
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return backoff / 2 + jitter * backoff / 2  # "equal jitter": never less than half the backoff


ORDINARY_POLICY = RetryPolicy(attempts=4, base_delay=0.5, max_delay=4.0, max_retry_after=30.0)
# About half a minute of backoff, or flood waits of up to two minutes: a late crisis reply still helps.
CRISIS_POLICY = RetryPolicy(attempts=8, base_delay=0.5, max_delay=8.0, max_retry_after=120.0)


def retryable(error: Exception) -> bool:
    """True for failures that may pass: flood control, 5xx, timeouts, dropped connections."""
    if isinstance(error, RetryAfter):
        return True
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


def policy_for(urgency: Urgency | None) -> RetryPolicy:
    """The retry policy of a call made with this `rate_limit_args`."""
    return CRISIS_POLICY if urgency is Urgency.CRISIS else ORDINARY_POLICY


class RetryingLimiter(BaseRateLimiter[Urgency]):
    """PTB's per-request hook: optional throttling by `AIORateLimiter`, then retries by `RetryPolicy`.

    `throttle` (built with `max_retries=0`, so retries happen here only) keeps the bot under Telegram's
    limits; None (``PEERLINE_RATE_LIMITER=off``) sends at once, but failed calls are still retried.
    """

    def __init__(
        self,
        throttle: AIORateLimiter | None = None,
        *,
        sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.throttle = throttle
        self._sleep = sleep
        self._jitter = jitter
        self._clock = clock
        self._paused_until: dict[object, float] = {}  # chat id (None: no chat) -> end of its 429 pause

    async def initialize(self) -> None:
        """Set up the throttle, if any."""
        if self.throttle is not None:
            await self.throttle.initialize()

    async def shutdown(self) -> None:
        """Release the throttle, if any."""
        if self.throttle is not None:
            await self.throttle.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Urgency | None,
    ) -> ApiResult:
        """Make the call, retrying passing failures as the call's policy allows."""
        urgency = rate_limit_args or Urgency.ORDINARY

        chat = data.get("chat_id")

        async def with_retries() -> ApiResult:
            return await self._with_retries(callback, args, kwargs, endpoint, urgency, chat)

        if self.throttle is None:
            return await with_retries()
        # Throttled once per call, retries included: the throttle never sees a failed attempt.
        return await self.throttle.process_request(with_retries, (), {}, endpoint, data, None)

    def _pause(self, chat: object, seconds: float) -> None:
        """Hold calls to `chat` for `seconds`; pauses already over are dropped (the table stays small)."""
        now = self._clock()
        self._paused_until = {c: t for c, t in self._paused_until.items() if t > now}
        self._paused_until[chat] = max(self._paused_until.get(chat, 0.0), now + seconds)

    async def _with_retries(
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        urgency: Urgency,
        chat: object,
    ) -> ApiResult:
        policy = policy_for(urgency)
        attempt = 1
        while True:
            pause = self._paused_until.get(chat, 0.0) - self._clock()
            if pause > 0:
                await self._sleep(pause)
            try:
                return await callback(*args, **kwargs)
            except Exception as error:
                wait = policy.delay(attempt, error, self._jitter())
                fields: dict[str, object] = {
                    "method": endpoint,
                    "error": type(error).__name__,
                    "attempt": attempt,
                    "urgency": urgency.value,
                }
                if wait is None:
                    if retryable(error):
                        log_event(log, "api_call_failed", logging.WARNING, **fields)
                    raise
                fields["wait_ms"] = round(wait * 1000)
                if isinstance(error, RetryAfter):
                    self._pause(chat, wait)
                log_event(log, "api_call_retry", logging.INFO, **fields)
                await self._sleep(wait)
                attempt += 1
