"""Never lose an accepted message, never deliver one twice: the gateway runs as a real process
under a bounded load and is killed with SIGKILL at random moments (at least 20 times), then
restarted. Every message that got a 250 must be delivered exactly once; a message whose session
was cut after its data was sent (the unavoidable window between the durable write and the
reply) at most once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import FRONT_DOOR, RULES_DIR, SENDER, STANDARD_BODY
from gateway_helpers import free_port, listening
from postgres import BACKEND, fresh_journal_url

MAILROUTER = str(Path(sys.executable).with_name("mailrouter"))
MESSAGES = 3000
SESSIONS = 8
KILLS = 22
TOKEN = re.compile(rb"Message-ID: <crash-(\d+)@test>")

pytestmark = [pytest.mark.slow, pytest.mark.storage]


def message(number: int) -> bytes:
    body = STANDARD_BODY.replace("\n", "\r\n") + "x" * 2000 + "\r\n"
    return (
        f"From: A Solicitor <{SENDER}>\r\nTo: <{FRONT_DOOR}>\r\n"
        f"Subject: URN 20AB{number % 100000:05d}26 - Walsall MC - R v SMITH\r\n"
        f"Message-ID: <crash-{number}@test>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ).encode()


class Gateway:
    def __init__(self, var: Path, port: int, **settings: str) -> None:
        """`settings`: more MAILROUTER_* variables, by their names after the prefix."""
        self.var, self.port = var, port
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "MAILROUTER_VAR_DIR": str(var),
            "MAILROUTER_RULES_DIR": str(RULES_DIR),
            "MAILROUTER_SMTP__PORT": str(port),
            "MAILROUTER_DELIVERY__SCAN_SECONDS": "0.2",
            "MAILROUTER_HTTP__PORT": "0",
            "MAILROUTER_LOG__LEVEL": "warning",
            **{f"MAILROUTER_{name}": value for name, value in settings.items()},
        }

    def start(self) -> None:
        log = (self.var.parent / "gateway.log").open("ab")
        self.process = subprocess.Popen(
            [MAILROUTER, "serve"], env=self.env, stdout=log, stderr=log, start_new_session=True
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def kill_node(self) -> None:
        """SIGKILL to the gateway and its children at once: the host dies."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def children(self) -> list[int]:
        assert self.process is not None
        pid = self.process.pid
        with contextlib.suppress(OSError):
            return [int(n) for n in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        return []

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)


class Load:
    def __init__(self, *ports: int) -> None:
        """Sessions spread over `ports`; a session that cannot connect tries the next port,
        as a sending MTA tries the next MX host."""
        self.ports = ports
        self.next = 0
        self.accepted: set[int] = set()  # got 250
        self.cut: set[int] = set()  # data sent, no reply: may or may not have been taken
        self.refused: set[int] = set()

    async def run(self, deadline: float) -> None:
        await asyncio.gather(*(self._client(n, deadline) for n in range(SESSIONS)))

    async def _client(self, session: int, deadline: float) -> None:
        choice = session
        while self.next < MESSAGES and time.monotonic() < deadline:
            number = self.next
            self.next += 1
            while time.monotonic() < deadline:
                outcome = await self._send(number, self.ports[choice % len(self.ports)])
                if outcome == "retry":  # nothing of the message was sent: safe to try again
                    choice += 1
                    await asyncio.sleep(0.05)
                    continue
                {"accepted": self.accepted, "cut": self.cut, "refused": self.refused}[outcome].add(
                    number
                )
                break

    async def _send(self, number: int, port: int) -> str:
        data_sent = False
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        except (OSError, TimeoutError):
            return "retry"
        try:

            async def reply() -> int:
                while True:
                    line = await asyncio.wait_for(reader.readline(), 30)
                    if not line:
                        raise ConnectionError("closed")
                    if line[3:4] != b"-":
                        return int(line[:3])

            if await reply() != 220:
                return "retry"
            for command, wanted in (
                (b"EHLO load.test\r\n", 250),
                (f"MAIL FROM:<{SENDER}>\r\n".encode(), 250),
                (f"RCPT TO:<{FRONT_DOOR}>\r\n".encode(), 250),
                (b"DATA\r\n", 354),
            ):
                writer.write(command)
                if await reply() != wanted:
                    return "retry"
            writer.write(message(number) + b".\r\n")
            data_sent = True
            code = await reply()
            writer.write(b"QUIT\r\n")
            return "accepted" if code == 250 else "refused"
        except (OSError, ConnectionError, TimeoutError, ValueError):
            return "cut" if data_sent else "retry"
        finally:
            writer.close()


def wait_listening(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not listening(port):
        if time.monotonic() > deadline:
            raise TimeoutError("gateway did not come back")
        time.sleep(0.05)


def delivered(mail: Path) -> Counter[int]:
    """How many times each message of the load is in the magistrates' Maildir under `mail`."""
    counts: Counter[int] = Counter()
    folder = mail / "magistrates"
    for sub in ("new", "cur"):
        if (folder / sub).is_dir():
            for path in (folder / sub).iterdir():
                m = TOKEN.search(path.read_bytes())
                if m:
                    counts[int(m.group(1))] += 1
    return counts


def backend_settings() -> dict[str, str]:
    """The journal of the run's backend (MAILROUTER_TEST_BACKEND), as MAILROUTER_* values."""
    if BACKEND != "postgresql":
        return {}
    return {"JOURNAL_URL": fresh_journal_url(), "JOURNAL_CONNECTIONS": "8"}


def test_sigkill_under_load_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    var, port = tmp_path / "var", free_port()
    gateway = Gateway(var, port, **backend_settings())
    load = Load(port)
    gateway.start()
    wait_listening(port)
    rng = random.Random()  # a different schedule of kills each run

    async def chaos() -> int:
        # Each kill comes when the load has reached a random point of its run (not after a
        # random time): always mid-load, however fast or slow the machine is.
        kills = 0
        loader = asyncio.create_task(load.run(time.monotonic() + 240))
        for point in sorted(rng.sample(range(SESSIONS, MESSAGES - SESSIONS), KILLS)):
            while load.next < point and not loader.done():
                await asyncio.sleep(0.01)
            if loader.done():
                break
            gateway.kill()
            kills += 1
            gateway.start()
            await asyncio.to_thread(wait_listening, port)
        await loader
        return kills

    try:
        kills = asyncio.run(chaos())
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            counts = delivered(var / "mail")
            if load.accepted <= set(counts):
                break
            time.sleep(0.5)
    finally:
        gateway.stop()

    counts = delivered(var / "mail")
    print(
        f"kills={kills} accepted={len(load.accepted)} cut={len(load.cut)} "
        f"delivered={len(counts)} cut_and_delivered={len(load.cut & set(counts))}"
    )
    assert kills >= 20
    assert len(load.accepted) >= 1000, (len(load.accepted), len(load.cut))
    lost = sorted(load.accepted - set(counts))
    assert lost == [], f"{len(lost)} accepted messages never delivered: {lost[:10]}"
    twice = sorted(n for n, c in counts.items() if c > 1)
    assert twice == [], f"delivered more than once: {twice[:10]}"
    assert set(counts) <= load.accepted | load.cut, "delivered a message that was never sent"
    assert not load.refused
