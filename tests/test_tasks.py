"""Stopping background tasks for sure (podium.tasks): a task that loses a cancellation and goes
on, as Python 3.11's wait_for can make one do, still ends."""

from __future__ import annotations

import asyncio

from podium.tasks import cancel_and_wait


async def test_a_task_that_swallows_a_cancellation_is_asked_again() -> None:
    rounds = []

    async def stubborn() -> None:
        swallowed = False
        while True:
            try:
                await asyncio.sleep(0.05)
                rounds.append(1)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed = True  # lost once, as a racing wait_for loses it

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0.1)
    # One cancel is not enough: the task goes on.
    task.cancel()
    await asyncio.sleep(0.2)
    assert not task.done()
    await asyncio.wait_for(cancel_and_wait([task]), 5)
    assert task.cancelled()


async def test_done_and_plain_tasks_end_at_once() -> None:
    done = asyncio.create_task(asyncio.sleep(0))
    await done
    sleeper = asyncio.create_task(asyncio.sleep(60))
    await asyncio.wait_for(cancel_and_wait([done, sleeper]), 1)
    assert sleeper.cancelled()


async def test_the_waiter_waits_to_the_end_even_when_cancelled_itself() -> None:
    cleaned = asyncio.Event()

    async def slow_to_end() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            await asyncio.sleep(0.3)  # a clean-up that writes something down
            cleaned.set()
            raise

    worker = asyncio.create_task(slow_to_end())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(cancel_and_wait([worker]))
    await asyncio.sleep(0.05)
    waiter.cancel()  # as a stopping runner cancels the task that waits for its handler
    await asyncio.wait({waiter}, timeout=5)
    assert waiter.cancelled() and worker.done() and cleaned.is_set()
