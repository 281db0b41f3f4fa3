"""Several acceptor processes on one port (`smtp.workers`), as Postfix runs several smtpd.

Python runs one thread at a time per process, and answering SMTP sessions and deciding their
messages is CPU work; with `smtp.workers = N` the gateway uses N processes for it. The gateway
process listens with SO_REUSEPORT and starts N-1 acceptors that listen on the same address and
port, so the kernel spreads new connections over all N. Each acceptor decides and spools as
the gateway does, and writes the id of each message it spooled on its stdout; the gateway
hands those ids to its one delivery side. An id lost with a pipe is no message lost: on
PostgreSQL the delivery side's next scan finds the row written with the message; with SQLite
the delivery side adopts the spool file when it next starts. Every second an acceptor also
writes what its metrics counted since (a JSON line), which the gateway adds to its /metrics.

    gateway (lock, control, HTTP, delivery child) <--"<id>\\n" and {"metrics": …}-- acceptor

Acceptors are children of the gateway and hold no lock of their own: one gateway per var_dir
still holds. Each reads its settings from its stdin and stops when its stdin closes (the
gateway stopping, or dying): it answers 421 to its sessions once a message under way has its
reply, and exits. They reload their rules on SIGHUP, which the gateway passes on after its own
reload, and are restarted if they die. Each has the limits of `smtp` (sessions, per client) to
itself. They do not clear spool/tmp at start (the gateway does, before it starts them): another
process may be writing there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mailrouter import logs
from mailrouter.aio import settings_from_parent, wait_or_kill
from mailrouter.config import Settings

if TYPE_CHECKING:
    from mailrouter.gateway import Gateway

log = logs.get("mailrouter.workers")

_RESTART_PAUSE = 1.0
REPORT_SECONDS = 1.0  # how often an acceptor reports its metrics

Report = Callable[[int, dict[str, Any] | None], None]


class Acceptors:
    """The gateway's side: starts the acceptors, passes on the ids they spooled, restarts one
    that dies, and stops them when the gateway stops."""

    def __init__(
        self, settings: Settings, count: int, on_spooled: Callable[[str], None], on_report: Report
    ) -> None:
        """`settings`: with the port the gateway bound (an acceptor must share it, not pick
        its own). `on_report(slot, metrics)`: an acceptor's metrics report; None when it has
        gone."""
        self.settings = settings
        self.count = count
        self.on_spooled = on_spooled
        self.on_report = on_report
        self._children: list[asyncio.subprocess.Process | None] = [None] * count
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def start(self) -> None:
        for slot in range(self.count):
            await self._spawn(slot)
            self._tasks.append(asyncio.create_task(self._supervise(slot), name=f"acceptor-{slot}"))

    def signal(self, number: int) -> None:
        for child in self._children:
            if child is not None and child.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(number)

    async def stop(self, grace: float) -> None:
        """Close each one's stdin: it answers 421 to its sessions (after a message under way)
        and exits; killed if it has not within `grace` seconds."""
        self._stopping = True
        for child in self._children:
            if child is not None and child.stdin is not None:
                child.stdin.close()
        for child in self._children:
            if child is None:
                continue
            await wait_or_kill(child, grace + 5, "acceptor_killed")
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _spawn(self, slot: int) -> None:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "mailrouter.ingest.workers",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert child.stdin is not None  # kept open: it closing tells the acceptor to stop
        child.stdin.write(self.settings.model_dump_json().encode() + b"\n")
        self._children[slot] = child
        log.info("acceptor_started", pid=child.pid, slot=slot)

    async def _supervise(self, slot: int) -> None:
        while True:
            child = self._children[slot]
            assert child is not None and child.stdout is not None
            while line := await child.stdout.readline():
                if line.startswith(b"{"):
                    self._report(slot, child.pid, line)
                    continue
                message_id = line.strip().decode("ascii", "replace")
                if message_id:
                    self.on_spooled(message_id)
            self.on_report(slot, None)
            code = await child.wait()
            if self._stopping:
                return
            log.error("acceptor_died", pid=child.pid, returncode=code)
            await asyncio.sleep(_RESTART_PAUSE)
            if self._stopping:
                return
            await self._spawn(slot)

    def _report(self, slot: int, pid: int | None, line: bytes) -> None:
        try:
            self.on_report(slot, json.loads(line)["metrics"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("acceptor_report_unread", pid=pid, error=repr(exc)[:200])


def _to_parent(data: bytes) -> None:
    """Write all of `data` to the gateway (our stdout). Raises OSError."""
    view = memoryview(data)
    while view:
        view = view[os.write(1, view) :]


class ToParent:
    """An acceptor's delivery queue: the id of each message spooled goes to the gateway."""

    backlog = None
    alive = True

    def submit(self, message_id: str) -> None:
        """Never raises: the message is spooled already, and its sender gets the 250 it is
        owed. (With the gateway gone, this acceptor is stopping; the message is found when
        the delivery side next starts and adopts the spool.)"""
        try:
            _to_parent(message_id.encode("ascii") + b"\n")
        except OSError as exc:
            log.warning("acceptor_pipe_closed", id=message_id, error=str(exc))

    async def stop(self, grace: float) -> None:
        pass


# --- the acceptor ---------------------------------------------------------------------------


async def _main() -> None:
    from mailrouter.gateway import Gateway  # the acceptor is a gateway that only listens

    settings, commands = await settings_from_parent()
    gateway = Gateway(settings, acceptor=True)
    await gateway.start()

    async def parent_gone() -> None:
        await commands.read()  # our stdin ends when the gateway stops or dies
        gateway.request_stop()

    watcher = asyncio.create_task(parent_gone())
    reporter = asyncio.create_task(_report_metrics(gateway))
    await gateway.serve()
    watcher.cancel()
    reporter.cancel()
    _send_reports(gateway)  # the last second's, and the 421s of the stop


async def _report_metrics(gateway: Gateway) -> None:
    while True:
        await asyncio.sleep(REPORT_SECONDS)
        _send_reports(gateway)


def _send_reports(gateway: Gateway) -> None:
    while (report := gateway.metrics.report()) is not None:
        try:
            _to_parent(json.dumps({"metrics": report}, separators=(",", ":")).encode() + b"\n")
        except OSError as exc:
            log.warning("acceptor_pipe_closed", error=str(exc))
            return


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())
