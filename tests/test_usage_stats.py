"""Usage statistics on the real Redis: counted per UTC day, kept 90 days, never raising into the bot."""

from __future__ import annotations

import logging
import secrets
from datetime import date
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from bot.charts import png_size, usage_png
from bot.cli import main
from bot.usage import UsageStats, format_usage_table
from bot.usage.stats import MAX_WAIT_SAMPLES
from tests.redis_support import REDIS_URL
from tests.telegram_harness import UNREACHABLE_REDIS_URL, eventually

# 2026-03-01 23:00 UTC: one hour before midnight, so the scripted day change is real.
LATE_EVENING = 1_772_406_000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_scripted_conversations_are_counted_per_utc_day(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    clock = Clock(LATE_EVENING)
    stats = UsageStats(client, prefix, clock)
    await stats.record_update("naloxone", fallback=False, crisis=False)
    await stats.record_update("naloxone", fallback=False, crisis=False)
    await stats.record_update(None, fallback=True, crisis=False)
    await stats.record_update("crisis_overdose", fallback=False, crisis=True)
    await stats.record_update("talk_to_human", fallback=False, crisis=False)
    await stats.record_handoff_requested()
    for wait in (30.0, 90.0, 600.0):
        await stats.record_handoff_claimed(wait)
    await stats.record_feedback(helpful=True)
    await stats.record_feedback(helpful=False)
    await stats.record_feedback(helpful=True)
    clock.now += 2 * 3600  # past midnight: a new day
    await stats.record_update(None, fallback=True, crisis=False)
    await stats.record_update(None, fallback=False, crisis=False)  # e.g. a "did you mean" question

    yesterday, today = await stats.read(2)
    assert yesterday.day == date(2026, 3, 1) and today.day == date(2026, 3, 2)
    assert (yesterday.messages, yesterday.fallbacks, yesterday.crisis) == (5, 1, 1)
    assert yesterday.intents == {"crisis_overdose": 1, "naloxone": 2, "talk_to_human": 1}
    assert (yesterday.handoffs_requested, yesterday.handoffs_claimed, yesterday.median_wait) == (1, 3, 90.0)
    assert (yesterday.feedback_helpful, yesterday.feedback_unhelpful) == (2, 1)
    assert yesterday.fallback_rate == pytest.approx(0.2)
    assert (today.messages, today.fallbacks, today.intents, today.median_wait) == (2, 1, {}, None)
    assert today.fallback_rate == 0.5
    table = format_usage_table([yesterday, today])
    assert "2026-03-01" in table and "90s" in table and "most asked: naloxone 2" in table


async def test_keys_hold_no_user_data_and_expire_90_days_after_their_day(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    stats = UsageStats(client, prefix, Clock(LATE_EVENING))
    await stats.record_update("naloxone", fallback=False, crisis=False)
    await stats.record_handoff_claimed(12.5)
    await stats.flush()
    keys = sorted([k.decode() async for k in client.scan_iter(match=f"*{prefix}:*")])
    assert keys == [f"{prefix}:stats:2026-03-01", f"{{{prefix}:stats:2026-03-01}}:waits"]
    assert key_slot(keys[0].encode()) == key_slot(keys[1].encode()), "one Lua script writes both"
    for key in keys:
        # the day ends in one hour; then 90 more days
        assert await client.ttl(key) == 3600 + 90 * 86_400
    assert set(await client.hkeys(keys[0])) == {b"messages", b"intent:naloxone", b"handoffs_claimed"}


async def test_wait_samples_stay_bounded_and_keep_the_median(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    stats = UsageStats(client, prefix, Clock(LATE_EVENING))
    waits = [float(n) for n in range(1, 1_102)]  # 1101 samples, median 551
    for wait in waits:
        await stats.record_handoff_claimed(wait)
    [day] = await stats.read(1)
    assert day.handoffs_claimed == 1_101
    assert await client.zcard(f"{{{prefix}:stats:2026-03-01}}:waits") <= MAX_WAIT_SAMPLES
    assert day.median_wait == 551.0


async def test_recording_without_redis_never_raises_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    client = Redis.from_url(UNREACHABLE_REDIS_URL, socket_connect_timeout=0.2)
    stats = UsageStats(client, "pl", Clock(LATE_EVENING))
    with caplog.at_level(logging.WARNING):
        await stats.record_update("naloxone", fallback=False, crisis=False)
        await stats.record_handoff_requested()
        await stats.record_handoff_claimed(3.0)
        await stats.record_feedback(helpful=True)
        await stats.close()  # the pending counts fail to reach Redis too, without a second warning
    warnings = [r for r in caplog.records if "redis_unavailable" in r.getMessage()]
    assert len(warnings) == 1
    await client.aclose()


async def test_counts_are_written_together_within_the_flush_interval(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    stats = UsageStats(client, prefix, Clock(LATE_EVENING), flush_seconds=0.3)
    other_process = UsageStats(client, prefix, Clock(LATE_EVENING))
    for _ in range(40):
        await stats.record_update("naloxone", fallback=False, crisis=False)
    await stats.record_feedback(helpful=True)
    assert (await other_process.read(1))[-1].messages == 0, "nothing is written per message"

    async def written() -> bool:
        return (await other_process.read(1))[-1].messages == 40

    await eventually(written, timeout=3)
    [day] = await other_process.read(1)
    assert (day.intents, day.feedback_helpful) == ({"naloxone": 40}, 1)
    await stats.close()


async def test_closing_writes_what_is_pending_and_reading_includes_the_own_counts(
    redis: tuple[Redis, str],
) -> None:
    client, prefix = redis
    stats = UsageStats(client, prefix, Clock(LATE_EVENING), flush_seconds=3600)
    other_process = UsageStats(client, prefix, Clock(LATE_EVENING))
    await stats.record_update(None, fallback=True, crisis=False)
    assert (await other_process.read(1))[-1].messages == 0
    assert (await stats.read(1))[-1].fallbacks == 1, "a process sees its own counts at once"
    await stats.record_update("crisis_overdose", fallback=False, crisis=True)
    await stats.close()
    [day] = await other_process.read(1)
    assert (day.messages, day.fallbacks, day.crisis) == (2, 1, 1)


async def test_usage_chart_is_a_png_of_a_readable_size(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    clock = Clock(LATE_EVENING)
    stats = UsageStats(client, prefix, clock)
    for intent in ("naloxone", "naloxone", "methadone", None):
        await stats.record_update(intent, fallback=intent is None, crisis=False)
    await stats.record_handoff_claimed(40.0)
    width, height = png_size(usage_png(await stats.read(7)))
    assert width >= 600 and height >= 600


def test_stats_command_prints_a_table_and_writes_a_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "stats.png"
    prefix = f"pltest-{secrets.token_hex(6)}"
    assert (
        main(["stats", "--days", "3", "--redis-url", REDIS_URL, "--prefix", prefix, "--png", str(out)]) == 0
    )
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("day") and len(text.splitlines()) == 4
    assert png_size(out.read_bytes())[0] > 0
