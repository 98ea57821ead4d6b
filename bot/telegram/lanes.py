"""Background work kept in order per key, so the caller does not wait for it.

Why: copying a person's message into the supporters' group waits on that group's rate limit (about 20
messages a minute for every conversation together). Done inside the person's update, the wait held their
chat, so their next message, a crisis too, waited behind it. Each person's copies now run in their own
lane: one after another, in the order sent, while their updates carry on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable

from bot.logs import log_event

log = logging.getLogger(__name__)


class Lanes:
    """One ordered queue of jobs per key; a job's failure is its own and does not stop the next one."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Task[None]] = {}

    def __len__(self) -> int:
        """Keys with a job pending or running (the table holds nothing else)."""
        return len(self._tails)

    def submit(self, key: str, job: Callable[[], Awaitable[None]]) -> None:
        """Run `job` after every job submitted for `key` before it."""
        previous = self._tails.get(key)

        async def run() -> None:
            if previous is not None:
                await asyncio.wait([previous])  # only the order matters here, not how it ended
            await job()

        task = asyncio.get_running_loop().create_task(run())
        self._tails[key] = task
        task.add_done_callback(functools.partial(self._done, key))

    async def wait(self, key: str) -> None:
        """Until every job submitted for `key` so far has finished."""
        tail = self._tails.get(key)
        if tail is not None:
            await asyncio.wait([tail])

    async def drain(self) -> None:
        """Until every job of every key has finished (at shutdown)."""
        while self._tails:
            await asyncio.wait(list(self._tails.values()))

    def _done(self, key: str, task: asyncio.Task[None]) -> None:
        if self._tails.get(key) is task:
            del self._tails[key]
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log_event(log, "lane_job_failed", logging.ERROR, error=type(error).__name__)
