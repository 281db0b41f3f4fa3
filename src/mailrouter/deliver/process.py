"""Delivery in a process of its own, as Postfix separates smtpd from its queue manager.

Python runs one thread at a time per process. Deciding and answering SMTP sessions, and
composing, writing and journalling deliveries, are both CPU work; in one process they queue
behind each other (and each system call on the SMTP side waits to get the interpreter back).
So by default `mailrouter serve` runs delivery in a child process:

    serve (SMTP, decide, spool, journal) --"<id>\\n" on the child's stdin--> delivery process

The pipe only hastens things. The journal is the queue: the child claims messages there,
scans it for due ones every `scan_seconds` and at start, so an id lost with a pipe (a crash
of either side) is delivered on the next scan, never dropped. The child takes an exclusive
lock (`var/delivery.lock`) before it recovers interrupted attempts and starts, so a child
still finishing its last attempts after its parent was killed never overlaps its successor.
The child exits when its stdin closes (the parent stopped or died), after the attempts under
way; the parent restarts a child that dies. It runs at `delivery.nice`: when the machine is
short of CPU, answering senders comes first, and deliveries (already durable) catch up after.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import sys
from pathlib import Path

from mailrouter import logs
from mailrouter.aio import settings_from_parent, wait_or_kill
from mailrouter.config import Settings
from mailrouter.deliver.transports import open_transports
from mailrouter.deliver.worker import DeliveryQueue
from mailrouter.notify.outbox import NoticeSender, Notifier, failure_notices
from mailrouter.paths import private_dir
from mailrouter.rules.ruleset import load_ruleset
from mailrouter.store.db_spool import open_journal, open_spool
from mailrouter.store.spool import Spool

log = logs.get("mailrouter.deliver")

_RESTART_PAUSE = 1.0


class DeliveryProcess:
    """The parent's side: starts the child, tells it of new messages, restarts it if it dies,
    and stops it last when the gateway stops."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._child: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise(), name="delivery-supervisor")

    def submit(self, message_id: str) -> None:
        child = self._child
        if child is None or child.stdin is None or child.stdin.is_closing():
            return  # the next child finds it in the journal
        child.stdin.write(message_id.encode("ascii") + b"\n")

    @property
    def backlog(self) -> int | None:
        return None  # the child's; see `mailrouter queue list`

    @property
    def alive(self) -> bool:
        """The child is running (between a death and its restart, it is not)."""
        return self._child is not None and self._child.returncode is None

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    async def stop(self, grace: float) -> None:
        """Close the child's stdin: it finishes the attempts under way and exits."""
        self._stopping = True
        child = self._child
        if child is None:
            return
        if child.stdin is not None:
            child.stdin.close()
        await wait_or_kill(child, grace + 5, "delivery_process_killed")
        if self._supervisor is not None:
            await asyncio.gather(self._supervisor, return_exceptions=True)

    async def _spawn(self) -> None:
        self._child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "mailrouter.deliver.process", stdin=asyncio.subprocess.PIPE
        )
        assert self._child.stdin is not None
        # The settings travel on the pipe, whole (the child must not re-read a file or an
        # environment that may have changed since the parent started).
        self._child.stdin.write(self.settings.model_dump_json().encode() + b"\n")
        log.info("delivery_process_started", pid=self._child.pid)

    async def _supervise(self) -> None:
        while True:
            assert self._child is not None
            code = await self._child.wait()
            if self._stopping:
                return
            log.error("delivery_process_died", pid=self._child.pid, returncode=code)
            await asyncio.sleep(_RESTART_PAUSE)
            if self._stopping:
                return
            await self._spawn()


# --- the child ------------------------------------------------------------------------------


async def _child(settings: Settings, commands: asyncio.StreamReader) -> None:
    os.nice(settings.delivery.nice)
    lock = await asyncio.to_thread(_exclusive_lock, settings.var_dir / "delivery.lock")
    try:
        ruleset = load_ruleset(settings.rules_dir)
        journal = open_journal(settings, threads=8)
        spool = open_spool(settings, journal)
        await journal.open()
        transports = open_transports(settings, ruleset.routes)
        outbox = Spool(settings.outbox_dir)
        notifier = Notifier(settings, journal, spool, outbox, lambda: ruleset)
        notices = NoticeSender(settings, outbox, journal)
        queue = DeliveryQueue(
            settings.delivery, spool, journal, transports,
            on_parked=failure_notices(notifier, notices),
        )  # fmt: skip
        await queue.recover()
        queue.start()
        notices.start()
        log.info("delivery_ready", pid=os.getpid())
        while line := await commands.readline():
            message_id = line.strip().decode("ascii", "replace")
            if message_id:
                queue.submit(message_id)
        log.info("delivery_stopping", backlog=queue.backlog)
        await queue.stop(grace=30.0)
        await notices.stop()
        for transport in transports.values():
            await transport.close()
        await journal.close()
        spool.close()
        outbox.close()
    finally:
        os.close(lock)


def _exclusive_lock(path: Path) -> int:
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # waits for a predecessor still finishing
    return fd


async def _main() -> None:
    loop = asyncio.get_running_loop()
    settings, commands = await settings_from_parent()
    # The parent decides when we stop, by closing our stdin. A ^C at a terminal, or a service
    # manager's SIGTERM, reaches the whole process group; the parent passes it on that way.
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):
            loop.add_signal_handler(sig, lambda: None)
    await _child(settings, commands)


if __name__ == "__main__":
    asyncio.run(_main())
