"""Prometheus metrics for one bot process: counts and timings only, never text, ids or names.

Each `BotMetrics` has its own registry, so several bots in one process (tests) never share counters.
Intent labels come from the content (a bounded set), never from what people write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.errors import StoreUnavailable

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WAIT_BUCKETS = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

QueueReader = Callable[[], Awaitable[tuple[int, float]]]
"""Returns (people waiting for a supporter, seconds the longest has waited); read at scrape time."""


class BotMetrics:
    """The bot's counters; also a `UsageRecorder`, so the Dialogue and the desk feed it like UsageStats."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter("peerline_updates", "Updates handled, by kind", ["kind"], registry=r)
        self.replies = Counter(
            "peerline_replies",
            "Updates by how they were answered (engine, relayed, flood, ...)",
            ["reply"],
            registry=r,
        )
        self.intents = Counter("peerline_intents", "Answers by intent", ["intent"], registry=r)
        self.fallbacks = Counter("peerline_fallbacks", "Messages no intent matched", registry=r)
        self.crisis = Counter("peerline_crisis_replies", "Updates answered with a crisis reply", registry=r)
        self.errors = Counter(
            "peerline_errors", "Errors raised by handlers, by update kind", ["kind"], registry=r
        )
        self.latency = Histogram(
            "peerline_update_latency_seconds",
            "Time from an update's arrival to its last reply",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.handoffs_requested = Counter(
            "peerline_handoffs_requested", "People queued for a supporter", registry=r
        )
        self.handoff_wait = Histogram(
            "peerline_handoff_wait_seconds",
            "Wait in the queue before a supporter claimed",
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.feedback = Counter("peerline_feedback", "Feedback after a handoff", ["helpful"], registry=r)
        self.queue_length = Gauge(
            "peerline_handoff_queue_length", "People waiting for a supporter", registry=r
        )
        self.oldest_wait = Gauge(
            "peerline_handoff_oldest_wait_seconds",
            "How long the longest-waiting person has waited",
            registry=r,
        )
        self.updates_in_hand = Gauge(
            "peerline_updates_in_hand",
            "Updates queued or being handled in this process (at its bound, fetching waits)",
            registry=r,
        )
        self.queue_reader: QueueReader | None = None

    def observe_update(self, kind: str, reply: str, seconds: float) -> None:
        self.updates.labels(kind).inc()
        self.replies.labels(reply).inc()
        self.latency.observe(seconds)

    def count_error(self, kind: str) -> None:
        self.errors.labels(kind).inc()

    async def record_update(self, intent: str | None, fallback: bool, crisis: bool) -> None:
        if intent:
            self.intents.labels(intent).inc()
        if fallback:
            self.fallbacks.inc()
        if crisis:
            self.crisis.inc()

    async def record_handoff_requested(self) -> None:
        self.handoffs_requested.inc()

    async def record_handoff_claimed(self, wait_seconds: float) -> None:
        self.handoff_wait.observe(max(0.0, wait_seconds))

    async def record_feedback(self, helpful: bool) -> None:
        self.feedback.labels("yes" if helpful else "no").inc()

    async def exposition(self) -> bytes:
        """The Prometheus text format, with the queue gauges read fresh (left as they were if Redis fails)."""
        if self.queue_reader is not None:
            try:
                waiting, oldest = await self.queue_reader()
            except StoreUnavailable:
                pass  # a scrape must never fail because Redis did
            else:
                self.queue_length.set(waiting)
                self.oldest_wait.set(oldest)
        return generate_latest(self.registry)
