"""Ordered background lanes: per key in order, keys independent, failures contained, nothing left behind."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from bot.telegram.lanes import Lanes


async def test_jobs_of_one_key_run_in_order_while_other_keys_go_ahead() -> None:
    lanes = Lanes()
    gate = asyncio.Event()
    done: list[str] = []

    def job(name: str, wait: bool = False) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if wait:
                await gate.wait()
            done.append(name)

        return run

    lanes.submit("alice", job("a1", wait=True))
    lanes.submit("alice", job("a2"))
    lanes.submit("bob", job("b1"))
    await lanes.wait("bob")
    assert done == ["b1"], "bob is not held up by alice's slow job"
    gate.set()
    await lanes.wait("alice")
    assert done == ["b1", "a1", "a2"]
    assert len(lanes) == 0, "nothing is kept once a key's jobs are done"


async def test_a_failing_job_is_logged_and_the_next_one_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    lanes = Lanes()
    done: list[str] = []

    async def broken() -> None:
        raise RuntimeError("boom")

    async def fine() -> None:
        done.append("fine")

    with caplog.at_level(logging.ERROR):
        lanes.submit("alice", broken)
        lanes.submit("alice", fine)
        await lanes.drain()
    assert done == ["fine"]
    logged = [r.getMessage() for r in caplog.records]
    assert any("event=lane_job_failed" in m and "RuntimeError" in m for m in logged)


async def test_drain_waits_for_jobs_submitted_by_running_jobs() -> None:
    lanes = Lanes()
    done: list[str] = []

    async def second() -> None:
        done.append("second")

    async def first() -> None:
        lanes.submit("bob", second)
        done.append("first")

    lanes.submit("alice", first)
    await lanes.drain()
    assert done == ["first", "second"] and len(lanes) == 0


async def test_waiting_on_a_key_without_jobs_returns_at_once() -> None:
    await asyncio.wait_for(Lanes().wait("nobody"), 1)
