"""cancel_and_wait: a stopping gateway waits for its tasks, and a task that lost a cancellation
(as Python 3.11's asyncio.wait_for can lose one) still ends. wait_or_kill: a child process
told to stop is waited for, and killed only when it overstays."""

from __future__ import annotations

import asyncio
import signal

from mailrouter.aio import cancel_and_wait, wait_or_kill


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


async def test_a_child_that_ends_in_time_is_not_killed_and_one_that_overstays_is() -> None:
    # `cat` ends when its stdin closes, as the gateway's children do; `sleep` does not.
    prompt = await asyncio.create_subprocess_exec("cat", stdin=asyncio.subprocess.PIPE)
    stubborn = await asyncio.create_subprocess_exec("sleep", "60", stdin=asyncio.subprocess.PIPE)
    for child in (prompt, stubborn):
        assert child.stdin is not None
        child.stdin.close()
    await asyncio.wait_for(wait_or_kill(prompt, 10, "test_killed"), 15)
    await asyncio.wait_for(wait_or_kill(stubborn, 0.2, "test_killed"), 15)
    assert prompt.returncode == 0
    assert stubborn.returncode == -signal.SIGKILL
