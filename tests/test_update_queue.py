"""The bounded update queue: at most `limit` updates in hand, freed places go first come, first served."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.telegram.update_queue import Places, UpdateQueue


async def _settle() -> None:
    """Let every task that can run, run (the queue has no timers: a few loop turns suffice)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_puts_past_the_limit_wait_until_an_update_is_done_and_then_go_in_order() -> None:
    queue = UpdateQueue(limit=2)
    await queue.put("a")
    await queue.put("b")
    waiting = [asyncio.create_task(queue.put(name)) for name in ("c", "d", "e")]
    await _settle()
    assert not any(task.done() for task in waiting)
    assert (queue.in_hand, queue.qsize()) == (2, 2)

    assert [await queue.get(), await queue.get()] == ["a", "b"]
    await _settle()
    assert not any(task.done() for task in waiting), "taken out is not done: still in hand"

    queue.task_done()
    await _settle()
    assert [task.done() for task in waiting] == [True, False, False]
    queue.task_done()
    await _settle()
    assert [task.done() for task in waiting] == [True, True, False]
    assert [await queue.get(), await queue.get()] == ["c", "d"]
    assert queue.peak == 2


async def test_a_new_put_never_overtakes_one_already_waiting() -> None:
    queue = UpdateQueue(limit=1)
    await queue.put(1)
    early = asyncio.create_task(queue.put(2))
    await _settle()
    await queue.get()
    queue.task_done()  # the freed place is handed to the waiting put at once
    with pytest.raises(asyncio.QueueFull):
        queue.put_nowait(3)
    late = asyncio.create_task(queue.put(3))
    await _settle()
    assert early.done() and not late.done()
    assert await queue.get() == 2


async def test_a_cancelled_wait_gives_up_its_turn_without_losing_a_place() -> None:
    queue = UpdateQueue(limit=1)
    await queue.put("a")
    cancelled = asyncio.create_task(queue.put("never"))
    after = asyncio.create_task(queue.put("b"))
    await _settle()
    cancelled.cancel()
    await _settle()
    await queue.get()
    queue.task_done()
    await _settle()
    assert after.done() and await queue.get() == "b"
    queue.task_done()
    assert (queue.in_hand, queue.qsize()) == (0, 0)
    queue.put_nowait("c")  # the place came back
    assert queue.in_hand == 1


async def test_a_place_handed_over_as_the_wait_is_cancelled_passes_to_the_next() -> None:
    places = Places(1)
    await places.take()
    first = asyncio.create_task(places.take())
    second = asyncio.create_task(places.take())
    await _settle()
    places.give_back()  # resolves first's turn ...
    first.cancel()  # ... and first is cancelled before it runs
    await _settle()
    assert first.cancelled() and second.done()
    assert places.free == 0


async def test_task_done_once_too_often_frees_nothing() -> None:
    queue = UpdateQueue(limit=1)
    with pytest.raises(ValueError):
        queue.task_done()
    assert queue.in_hand == 0
    queue.put_nowait("a")
    with pytest.raises(asyncio.QueueFull):
        queue.put_nowait("b")


async def test_a_put_cancelled_after_its_turn_was_dropped_still_raises_cancelled_error() -> None:
    places = Places(1)
    await places.take()
    waiting = asyncio.create_task(places.take())
    await _settle()
    waiting.cancel()
    places.give_back()  # drops the cancelled turn before the task has run its except block
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert places.free == 1


async def test_the_poller_waits_until_a_whole_batch_fits() -> None:
    queue = UpdateQueue(limit=5)
    for n in range(4):
        await queue.put(n)
    poller = asyncio.create_task(queue.room_for(2))
    await _settle()
    assert queue.fetch_waiting and not poller.done()
    await queue.get()
    queue.task_done()  # 3 in hand: room for 2
    await _settle()
    assert poller.done() and not queue.fetch_waiting
    for _ in range(3):
        await queue.get()
        queue.task_done()
    await asyncio.wait_for(queue.room_for(99), 1)  # at most the whole queue: an empty one is room enough


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        UpdateQueue(limit=0)


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(1, 4),
    steps=st.lists(st.sampled_from(["put", "get_done", "cancel_last"]), min_size=1, max_size=40),
)
def test_in_hand_never_exceeds_the_limit_and_every_put_is_served_in_order(
    limit: int, steps: list[str]
) -> None:
    async def run() -> None:
        queue = UpdateQueue(limit)
        puts: list[tuple[int, asyncio.Task[None]]] = []
        out: list[object] = []

        async def take_one() -> None:
            out.append(await queue.get())
            queue.task_done()

        for n, step in enumerate(steps):
            if step == "put":
                puts.append((n, asyncio.create_task(queue.put(n))))
            elif step == "cancel_last" and puts and not puts[-1][1].done():
                puts[-1][1].cancel()
            elif step == "get_done" and queue.qsize():
                await take_one()
            await _settle()
            assert 0 <= queue.in_hand <= limit
        while any(not task.done() for _, task in puts) or queue.qsize():
            while queue.qsize():
                await take_one()
            await _settle()
        assert queue.peak <= limit
        assert queue.in_hand == 0
        assert out == [n for n, task in puts if not task.cancelled()], "every put served, in order"

    asyncio.run(run())
