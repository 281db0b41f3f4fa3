"""One gateway per data directory: `var_dir/mailrouter.lock`, held with flock for the life
of a `serve` or `pull`. A second gateway on the same directory would accept mail that the
first one's delivery never sees (and two delivery sides would race for the spool), so it
refuses to start, naming the process that holds the directory, before it opens anything.

flock is released by the kernel when the process dies, however it dies: a SIGKILLed gateway
leaves a stale file, never a stale lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from mailrouter.paths import private_dir

LOCK_NAME = "mailrouter.lock"


class DataDirInUse(Exception):
    """Another gateway holds the data directory."""


class DataDirLock:
    def __init__(self, var_dir: Path) -> None:
        self.path = private_dir(var_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise DataDirInUse(
                f"{self.path.parent} is in use by another mailrouter ({holder}); stop it "
                "first, or give this one its own var_dir"
            ) from None
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(sys.argv[:3]),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode() + b"\n", 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


def _read(fd: int) -> str:
    try:
        owner = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        owner = {}
    if not owner:
        return "a process that has not said which"
    return (
        f"pid {owner.get('pid')} on {owner.get('host')}, `{owner.get('command')}`, "
        f"since {owner.get('since')}"
    )
