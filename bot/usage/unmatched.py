"""Unmatched messages, kept only when a deployment opts in (PEERLINE_KEEP_UNMATCHED): a privacy trade-off.

Only fallback messages are kept, scrubbed first (`scrub`), never with a user key, log alias or chat id, and
for at most MAX_AGE_DAYS. Key schema (``day`` is the UTC day the message arrived)::

    {prefix}:unmatched:{day}   zset   member "<random>:<scrubbed text>", score = the day's start

No time finer than the day is kept, not even the order of arrival: log lines carry a log alias and the
second of each fallback, so either could link a kept text to a log alias. Members of equal score sort by
their random prefix, so over MAX_PER_DAY a random earlier message of the same day makes room for the new
one. Each day's key expires MAX_AGE_DAYS after that day began, so nothing outlives the limit even if
nobody reads or writes again; reads also skip any day that began longer ago than the limit.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta

from bot.state.client import RedisClient, decode
from bot.state.guard import BestEffort, store_errors
from bot.usage.scrub import scrub_prefix
from bot.usage.stats import DAY_SECONDS, Clock, utc_day

MAX_AGE_DAYS = 7
MAX_PER_DAY = 5_000  # a flood of fallbacks can't fill Redis
MAX_CHARS = 300


# KEYS[1] the day's zset; ARGV member, score, cap, TTL. At the cap, the lowest ranks (random, as every
# score is the same) make room first, so the new message is always kept and the day never passes the cap.
_RECORD = """
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3]) + 1
if over > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, over - 1)
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""


class UnmatchedLog:
    """Scrubbed fallback texts, per day, expiring within MAX_AGE_DAYS; `record` never raises."""

    def __init__(
        self, redis: RedisClient, prefix: str, clock: Clock = time.time, max_per_day: int = MAX_PER_DAY
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self.max_per_day = max_per_day
        self._health = BestEffort("unmatched_log")
        self._record = redis.register_script(_RECORD)

    def _key(self, day: object) -> str:
        return f"{self.prefix}:unmatched:{day}"

    async def record(self, text: str) -> None:
        """Keep one fallback message, scrubbed; nothing that could link it to a person is stored."""
        clean = scrub_prefix(text, MAX_CHARS)
        if not clean:
            return
        now = self.clock()
        day = utc_day(now)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
        ttl = int(start + MAX_AGE_DAYS * DAY_SECONDS - now)
        key = self._key(day.isoformat())
        member = f"{secrets.token_hex(4)}:{clean}"
        with self._health.attempt():
            await self._record(keys=[key], args=[member, int(start), self.max_per_day, ttl])

    async def read(self, days: int = MAX_AGE_DAYS) -> list[str]:
        """Texts of the last `days` UTC days, today included (at most MAX_AGE_DAYS), oldest day first."""
        now = self.clock()
        oldest = now - min(days, MAX_AGE_DAYS) * DAY_SECONDS
        today = utc_day(now)
        keys = [self._key((today - timedelta(days=n)).isoformat()) for n in range(MAX_AGE_DAYS, -1, -1)]
        with store_errors("unmatched messages"):
            pipe = self.redis.pipeline(transaction=False)
            for key in keys:
                pipe.zremrangebyscore(key, "-inf", now - MAX_AGE_DAYS * DAY_SECONDS)
                pipe.zrangebyscore(key, f"({oldest!r}", "+inf")  # days that began less than `days` ago
            replies = await pipe.execute()
        return [decode(member).partition(":")[2] for members in replies[1::2] for member in members]
