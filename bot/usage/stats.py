"""Daily usage counts in Redis: messages, intents, fallbacks, crisis replies, handoffs, waits, feedback.

Nothing about a person is kept: only counters per UTC day and a bounded sample of handoff wait times.
Key schema (``day`` is ``YYYY-MM-DD`` in UTC)::

    {prefix}:stats:{day}         hash    messages, fallbacks, crisis, handoffs_requested, handoffs_claimed,
                                         feedback_helpful, feedback_unhelpful, intent:<id>
    {{prefix}:stats:{day}}:waits zset    wait seconds (score) of claimed handoffs, at most MAX_WAIT_SAMPLES

The waits key's hash tag is the whole name of the day's hash, so on Redis Cluster both share its slot
and the Lua script that writes both works (a key without braces hashes its whole name). Both expire
RETENTION_DAYS after their day ends. Every write is one atomic round trip (a Lua script on one slot), and
a write never raises: the bot answers people whether or not Redis is there.

Counts are added up in the process and written at most once per `FLUSH_SECONDS` (and at shutdown): one
write a second instead of one per message, and the day's hash, which every message of every worker
touches, does not become one hot key on one cluster node. A crash loses at most that second's counts;
handoff waits are written at once (they are rare, and their samples are not sums).
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from bot.state.client import RedisClient, decode
from bot.state.guard import BestEffort, store_errors

RETENTION_DAYS = 90
DAY_SECONDS = 86_400
MAX_WAIT_SAMPLES = 1_000
FLUSH_SECONDS = 1.0
INTENT_FIELD = "intent:"

Clock = Callable[[], float]

# Adds one sample; over the cap it drops the smallest and the largest, which leaves the median unchanged.
_ADD_WAIT = """
redis.call('HINCRBY', KEYS[1], 'handoffs_claimed', 1)
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
if redis.call('ZCARD', KEYS[2]) > tonumber(ARGV[3]) then
  redis.call('ZPOPMIN', KEYS[2])
  redis.call('ZPOPMAX', KEYS[2])
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""


# KEYS[1] the day's hash; ARGV[1] its TTL, then field/amount pairs: the counts and the expiry land together.
_INCREMENT = """
for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


def utc_day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


@dataclass(frozen=True)
class DayStats:
    """One UTC day's counts."""

    day: date
    messages: int = 0
    fallbacks: int = 0
    crisis: int = 0
    handoffs_requested: int = 0
    handoffs_claimed: int = 0
    feedback_helpful: int = 0
    feedback_unhelpful: int = 0
    intents: dict[str, int] = field(default_factory=dict)
    median_wait: float | None = None

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.messages if self.messages else 0.0


class UsageStats:
    """Counts what the bot does, per UTC day; the `record_*` methods never raise."""

    def __init__(
        self, redis: RedisClient, prefix: str, clock: Clock = time.time, flush_seconds: float = FLUSH_SECONDS
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self.flush_seconds = flush_seconds  # 0: write every count at once
        self._add_wait = redis.register_script(_ADD_WAIT)
        self._increment_script = redis.register_script(_INCREMENT)
        self._health = BestEffort("usage_stats")
        self._pending: dict[date, Counter[str]] = {}  # bounded: a few days' fixed names and intents
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    def _keys(self, day: date) -> tuple[str, str]:
        base = f"{self.prefix}:stats:{day.isoformat()}"
        return base, f"{{{base}}}:waits"

    def _ttl(self, day: date) -> int:
        """Seconds from now until the day's keys are RETENTION_DAYS past the end of that day."""
        start = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
        return int(start + (RETENTION_DAYS + 1) * DAY_SECONDS - self.clock())

    async def _increment(self, counts: Mapping[str, int]) -> None:
        """Add to today's pending counts; they are written within `flush_seconds`."""
        self._pending.setdefault(utc_day(self.clock()), Counter()).update(counts)
        if self.flush_seconds <= 0:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.flush_seconds, self._flush_later)

    def _flush_later(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self.flush())
        self._flushes.add(task)  # held until done, so the task is not collected half-way
        task.add_done_callback(self._flushes.discard)

    async def flush(self) -> None:
        """Write every pending count now, one script call per day; never raises (failed counts are lost)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, {}
        for day, counts in sorted(pending.items()):
            args: list[str | int] = [self._ttl(day)]
            for name, amount in counts.items():
                args += [name, amount]
            with self._health.attempt():
                await self._increment_script(keys=[self._keys(day)[0]], args=args)

    async def close(self) -> None:
        """Write what is pending and wait for writes in flight (at shutdown)."""
        await self.flush()
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)

    async def record_update(self, intent: str | None, fallback: bool, crisis: bool) -> None:
        """One message handled: which intent answered it (if any), whether it fell back or was a crisis."""
        counts = {"messages": 1}
        if intent:
            counts[INTENT_FIELD + intent] = 1
        if fallback:
            counts["fallbacks"] = 1
        if crisis:
            counts["crisis"] = 1
        await self._increment(counts)

    async def record_handoff_requested(self) -> None:
        await self._increment({"handoffs_requested": 1})

    async def record_handoff_claimed(self, wait_seconds: float) -> None:
        """A supporter took a conversation after `wait_seconds` in the queue."""
        day = utc_day(self.clock())
        stats, waits = self._keys(day)
        ttl = self._ttl(day)
        sample = secrets.token_hex(6)  # members must differ; the score is the wait
        with self._health.attempt():
            await self._add_wait(
                keys=[stats, waits], args=[max(0.0, wait_seconds), sample, MAX_WAIT_SAMPLES, ttl]
            )

    async def record_feedback(self, helpful: bool) -> None:
        await self._increment({"feedback_helpful" if helpful else "feedback_unhelpful": 1})

    async def read(self, days: int = 14) -> list[DayStats]:
        """The last `days` UTC days, oldest first (today included); raises StoreUnavailable without Redis."""
        await self.flush()  # this process's own counts are included
        today = utc_day(self.clock())
        wanted = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
        with store_errors("usage statistics"):
            pipe = self.redis.pipeline(transaction=False)
            for day in wanted:
                stats, waits = self._keys(day)
                pipe.hgetall(stats)
                pipe.zrange(waits, 0, -1, withscores=True)
            replies = await pipe.execute()
        return [_day_stats(day, replies[2 * n], replies[2 * n + 1]) for n, day in enumerate(wanted)]


def _day_stats(
    day: date, raw: dict[bytes | str, bytes | str], waits: Sequence[tuple[bytes, float]]
) -> DayStats:
    counts = {decode(k): int(v) for k, v in raw.items()}
    intents = {k[len(INTENT_FIELD) :]: v for k, v in counts.items() if k.startswith(INTENT_FIELD)}
    return DayStats(
        day=day,
        messages=counts.get("messages", 0),
        fallbacks=counts.get("fallbacks", 0),
        crisis=counts.get("crisis", 0),
        handoffs_requested=counts.get("handoffs_requested", 0),
        handoffs_claimed=counts.get("handoffs_claimed", 0),
        feedback_helpful=counts.get("feedback_helpful", 0),
        feedback_unhelpful=counts.get("feedback_unhelpful", 0),
        intents=dict(sorted(intents.items())),
        median_wait=statistics.median(score for _, score in waits) if waits else None,
    )


def format_usage_table(days: Sequence[DayStats], top_intents: int = 5) -> str:
    """One line per day, then the most asked-about intents over the period."""
    header = (
        f"{'day':<10} {'msgs':>6} {'fallback':>8} {'crisis':>6} {'handoff':>7} {'claimed':>7}"
        f" {'wait p50':>8} {'helpful':>7} {'not':>4}"
    )
    lines = [header]
    for d in days:
        wait = f"{d.median_wait:.0f}s" if d.median_wait is not None else "-"
        lines.append(
            f"{d.day.isoformat():<10} {d.messages:>6} {d.fallback_rate:>8.1%} {d.crisis:>6}"
            f" {d.handoffs_requested:>7} {d.handoffs_claimed:>7} {wait:>8}"
            f" {d.feedback_helpful:>7} {d.feedback_unhelpful:>4}"
        )
    totals: dict[str, int] = {}
    for d in days:
        for intent, n in d.intents.items():
            totals[intent] = totals.get(intent, 0) + n
    if totals:
        top = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top_intents]
        lines += ["", "most asked: " + ", ".join(f"{i} {n}" for i, n in top)]
    return "\n".join(lines)


async def usage_chart(stats: UsageStats, days: int = 14) -> bytes:
    """The PNG chart of the last `days` days (for `peerline stats --png` and `/stats` in Telegram)."""
    from bot.charts import usage_png

    return usage_png(await stats.read(days))
