"""The durable spool: every accepted message is here, on disk and fsynced, before its 250.

One file per message, `msg/<id>`: a first line `MAILROUTER-SPOOL 1 <n>`, then n bytes of JSON
metadata (envelope, peer, decision summary), a newline, then the message exactly as received.
Writing follows Postfix and qmail: write `tmp/<id>`, fsync it, rename it into `msg/`, fsync the
`msg/` directory. Only then does the caller answer 250 (RFC 5321 §6.1: an accepted message
must not be lost to a crash). Concurrent writers share directory fsyncs: one fsync that
starts after a rename covers it, so twenty sessions finishing together cost one, not twenty.

A file leaves the spool only after its delivery is recorded in the journal. Blocking calls:
run them in a thread, never on the event loop.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from mailrouter.paths import private_dir

MAGIC = b"MAILROUTER-SPOOL 1 "


_RANDOM = random.Random(secrets.randbits(128))  # seeded once from the OS, then cheap


def new_id(now: float | None = None) -> str:
    """A gateway id: sortable by time of receipt, unique (40 random bits within the same
    millisecond), safe in file names and headers."""
    now = time.time() if now is None else now
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now))
    return f"{stamp}{int(now * 1000) % 1000:03d}.{_RANDOM.getrandbits(40):010x}"


class SpoolError(Exception):
    """A spool file that cannot be read back."""


class MessageSpool(Protocol):
    """What holds accepted messages until they are delivered: files (Spool, the embedded
    default) or the journal's database (db_spool.DatabaseSpool). `tmp` is a local directory
    for DATA that arrives larger than a session keeps in memory."""

    tmp: Path

    def path(self, message_id: str) -> str | None: ...
    def write(self, message_id: str, meta: dict[str, Any], raw: bytes) -> None: ...
    def read(self, message_id: str) -> tuple[dict[str, Any], bytes]: ...
    def exists(self, message_id: str) -> bool: ...
    def remove(self, message_id: str) -> None: ...
    def ids(self) -> list[str]: ...
    def discard_temporary(self) -> int: ...
    def close(self) -> None: ...


class DirectorySync:
    """Group commit for directory fsyncs: `sync()` returns once an fsync that began after the
    call has completed, running one itself when none is under way."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        self._cond = threading.Condition()
        self._started = 0
        self._completed = 0
        self._running = False
        self._failures: dict[int, OSError] = {}

    def sync(self) -> None:
        with self._cond:
            ticket = self._started + 1  # the first fsync that starts after this point
            while self._completed < ticket:
                if self._running:
                    self._cond.wait()
                    continue
                self._running = True
                self._started += 1
                number = self._started
                self._cond.release()
                error: OSError | None = None
                try:
                    os.fsync(self._fd)
                except OSError as exc:
                    error = exc
                finally:
                    self._cond.acquire()
                    self._running = False
                    self._completed = number
                    if error is not None:
                        self._failures[number] = error
                    self._cond.notify_all()
            failure = self._failures.get(ticket)
            if len(self._failures) > 64:  # keep recent outcomes only; a waiter reads its own
                horizon = self._completed - 1024  # as soon as it wakes, long before this
                self._failures = {n: e for n, e in self._failures.items() if n > horizon}
        if failure is not None:
            raise failure

    def close(self) -> None:
        os.close(self._fd)


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.msg = root / "msg"
        for directory in (root, self.tmp, self.msg):
            private_dir(directory)
        self._sync = DirectorySync(self.msg)
        # Plain strings on the hot path: pathlib's joins cost more than the writes they name.
        self._msg, self._tmp = str(self.msg), str(self.tmp)

    def path(self, message_id: str) -> str:
        return os.path.join(self._msg, message_id)

    def write(self, message_id: str, meta: dict[str, Any], raw: bytes) -> None:
        """Make the message durable. Raises OSError (ENOSPC, EDQUOT, EIO…) if it cannot."""
        temporary = os.path.join(self._tmp, message_id)
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                _write_all(fd, encode_head(meta))
                _write_all(fd, raw)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temporary, os.path.join(self._msg, message_id))
        except OSError:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        self._sync.sync()

    def read(self, message_id: str) -> tuple[dict[str, Any], bytes]:
        return read_file(os.path.join(self._msg, message_id))

    def exists(self, message_id: str) -> bool:
        return (self.msg / message_id).exists()

    def remove(self, message_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self._msg, message_id))

    def ids(self) -> list[str]:
        return sorted(entry.name for entry in os.scandir(self.msg) if entry.is_file())

    def discard_temporary(self) -> int:
        """Remove half-written files a crash left in tmp/ (never answered with 250)."""
        count = 0
        for entry in os.scandir(self.tmp):
            os.unlink(entry.path)
            count += 1
        return count

    def close(self) -> None:
        self._sync.close()


def encode_head(meta: dict[str, Any]) -> bytes:
    """The first line and the metadata of a spool-format file; the message follows it."""
    header = json.dumps(meta, separators=(",", ":"), ensure_ascii=True).encode()
    return MAGIC + str(len(header)).encode() + b"\n" + header + b"\n"


def read_file(path: str) -> tuple[dict[str, Any], bytes]:
    """(metadata, message) of a spool-format file."""
    with open(path, "rb") as handle:
        data = handle.read()
    name = os.path.basename(path)
    if not data.startswith(MAGIC):
        raise SpoolError(f"{name}: not a spool file")
    line_end = data.index(b"\n")
    length = int(data[len(MAGIC) : line_end])
    start = line_end + 1
    try:
        meta = json.loads(data[start : start + length])
    except ValueError as exc:
        raise SpoolError(f"{name}: unreadable metadata") from exc
    return meta, data[start + length + 1 :]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
