"""One wrapper for Redis failures: StoreUnavailable where the caller must know, one log line where not."""

from __future__ import annotations

import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.errors import StoreUnavailable
from bot.state.client import decode
from bot.state.guard import BestEffort, store_errors


def test_a_redis_failure_becomes_store_unavailable_naming_the_part_and_what_to_check() -> None:
    with (
        pytest.raises(
            StoreUnavailable, match=r"the handoff queue \(Redis\) is unavailable: ConnectionError"
        ) as caught,
        store_errors("the handoff queue"),
    ):
        raise RedisConnectionError("refused")
    assert "check that Redis is running" in str(caught.value)
    assert isinstance(caught.value.__cause__, RedisConnectionError)


def test_errors_that_are_not_redis_failures_pass_through_unchanged() -> None:
    with pytest.raises(KeyError), store_errors("the session store"):
        raise KeyError("a bug, not an outage")


def test_best_effort_swallows_an_outage_and_logs_it_once_then_its_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    health = BestEffort("usage_stats")
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            with health.attempt():
                raise OSError("down")
        assert health.failing
        with health.attempt():
            pass
    messages = [r.getMessage() for r in caplog.records]
    assert sum("event=redis_unavailable part=usage_stats error=OSError" in m for m in messages) == 1
    assert sum("event=redis_recovered part=usage_stats" in m for m in messages) == 1
    assert not health.failing


def test_best_effort_lets_bugs_through() -> None:
    with pytest.raises(ValueError), BestEffort("reload_bus").attempt():
        raise ValueError("a bug, not an outage")


def test_redis_replies_decode_to_text_whether_bytes_or_already_text() -> None:
    assert decode(b"caf\xc3\xa9") == "café" and decode("café") == "café" and decode(42) == "42"
