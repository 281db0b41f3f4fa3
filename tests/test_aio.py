"""cancel_and_wait: a stopping gateway waits for its tasks, and a task that lost a cancellation
(as Python 3.11's asyncio.wait_for can lose one) still ends."""

from __future__ import annotations

import asyncio

from mailrouter.aio import cancel_and_wait


async def test_a_task_that_swallows_a_cancellation_is_cancelled_again() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            swallowed += 1  # as wait_for does when its call completes at that very moment
        await asyncio.sleep(60)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, every=0.05), 5)
    assert task.cancelled() and swallowed == 1


async def test_ended_tasks_and_none_are_fine_and_an_error_is_retrieved() -> None:
    async def fails() -> None:
        raise ValueError("logged where it happened")

    failed = asyncio.create_task(fails())
    done = asyncio.create_task(asyncio.sleep(0))
    await asyncio.sleep(0.01)
    await cancel_and_wait(failed, done, None)
    assert failed.done() and done.done() and not failed.cancelled()
