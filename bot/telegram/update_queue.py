"""PTB's update queue with a bound on the updates one process has in hand (queued or being handled).

PTB's fetcher turns each queued update into a task at once, so with a plain queue a flood of updates
piles up in memory as tasks, each holding someone's message. Here at most `limit` updates are in hand,
from `put` until PTB calls `task_done` for them, after their handlers ran:

- polling: before each getUpdates the poller waits in `room_for` until a whole batch (100) fits, so
  Telegram keeps the rest, and stopping the bot never cancels the poller half-way through a batch
  (which would have it fetch the queued half again after a restart);
- webhook: `put` waits for room, so the webhook request is answered late and Telegram slows down.

Waiting puts are served first come, first served, so the order of one chat's updates is kept.

The bound is for the whole process, so one chat with `limit` updates in hand would hold everyone up; the
default is far above what one person can send while their earlier messages are being answered (a reply
takes a few milliseconds: `bench/bench_load.py`). In memory it bounds PTB's tasks, plus the one batch of
at most 100 updates the poller has fetched and is putting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

MAX_UPDATES_IN_HAND = 1_000
GET_UPDATES_BATCH = 100  # the most updates one getUpdates returns (PTB asks for Telegram's maximum)


class Places:
    """`limit` places handed out first come, first served; a freed place goes to the longest waiter."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.free = limit
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        """How many are waiting for a place."""
        return sum(1 for turn in self._waiters if not turn.done())

    def try_take(self) -> bool:
        """Take a place if one is free and nobody is waiting for one."""
        if self.free > 0 and not self._waiters:
            self.free -= 1
            return True
        return False

    async def take(self) -> None:
        """Take a place, waiting for one if none is free."""
        if self.try_take():
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.give_back()  # handed a place just as the wait was cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):  # give_back may have dropped it already
                    self._waiters.remove(turn)
            raise

    def give_back(self) -> None:
        """Free a place: straight to the first waiter still waiting, or back to the free ones."""
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.free += 1


class UpdateQueue(asyncio.Queue[object]):
    """An `asyncio.Queue` for `ApplicationBuilder.update_queue` that holds at most `limit` updates in hand."""

    def __init__(self, limit: int = MAX_UPDATES_IN_HAND) -> None:
        super().__init__()
        self.limit = limit
        self.in_hand = 0
        self.peak = 0  # the most updates ever in hand at once
        self.fetch_waiting = False  # the poller is waiting in `room_for`
        self._places = Places(limit)
        self._freed = asyncio.Event()

    async def room_for(self, count: int) -> None:
        """Wait until `count` more updates fit (at most `limit`) and no put is waiting ahead."""
        count = min(count, self.limit)
        while self._places.free < count or self._places.waiting:
            self._freed.clear()
            self.fetch_waiting = True
            try:
                await self._freed.wait()
            finally:
                self.fetch_waiting = False

    @property
    def puts_waiting(self) -> int:
        """Puts waiting for room: the poller, or webhook requests, held back."""
        return self._places.waiting

    async def put(self, item: object) -> None:
        await self._places.take()
        self._hold(item)

    def put_nowait(self, item: object) -> None:
        if not self._places.try_take():
            raise asyncio.QueueFull
        self._hold(item)

    def task_done(self) -> None:
        super().task_done()  # raises ValueError, freeing nothing, when called once too often
        self.in_hand -= 1
        self._places.give_back()
        self._freed.set()

    def _hold(self, item: object) -> None:
        super().put_nowait(item)  # the queue itself is unbounded: the places are the bound
        self.in_hand += 1
        self.peak = max(self.peak, self.in_hand)
