"""asyncio helpers the gateway's parts share."""

from __future__ import annotations

import asyncio
import os

from mailrouter import logs
from mailrouter.config import Settings

log = logs.get("mailrouter.aio")


async def cancel_and_wait(*tasks: asyncio.Task[object] | None, every: float = 1.0) -> None:
    """Cancel `tasks` and return once each has ended. The cancellation is repeated while a task
    runs on: Python 3.11's asyncio.wait_for, in a library we call, can swallow a cancellation
    that arrives just as the call it waits for completes (CPython gh-86296, fixed in 3.12),
    and a task that lost its cancellation would keep a stopping gateway waiting for ever."""
    running = {task for task in tasks if task is not None}
    while running := {task for task in running if not task.done()}:
        for task in running:
            task.cancel()
        await asyncio.wait(running, timeout=every)
    for task in tasks:
        if task is not None and not task.cancelled():
            task.exception()  # retrieved: an error it ended with was logged where it happened


async def wait_or_kill(child: asyncio.subprocess.Process, seconds: float, event: str) -> None:
    """Wait for a child process told to stop; past `seconds`, log `event` and kill it."""
    try:
        await asyncio.wait_for(child.wait(), seconds)
    except TimeoutError:
        log.error(event, pid=child.pid)
        child.kill()
        await child.wait()


async def settings_from_parent() -> tuple[Settings, asyncio.StreamReader]:
    """For a child process of the gateway (delivery, acceptor): its settings, whole, from the
    first line of its stdin (never a file or an environment that may have changed since the
    parent started), with logging set up by them; and the rest of stdin, which ends when the
    parent stops or dies."""
    commands = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(commands), os.fdopen(0, "rb", buffering=0)
    )
    settings = Settings.model_validate_json(await commands.readline())
    logs.configure(settings.log.level, settings.log.format)
    return settings, commands
