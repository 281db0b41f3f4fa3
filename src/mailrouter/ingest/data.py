"""Reading the DATA of an SMTP transaction in large pieces instead of line by line.

aiosmtpd reads DATA one line at a time (a readuntil, a debug log call and a few list
operations per line): for a typical message of a hundred lines that is most of the work of a
whole session. This reads up to the end-of-data marker in as few calls as the stream buffer
allows and gives the same result: the same framing (the data ends at CRLF "." CRLF, or at a
first line that is just "."; a "." after a bare LF does not end it), the same transparency
(RFC 5321 §4.5.2: the first "." of every line is removed), the same limits (more than the
size limit → 552, a line over the line limit → 500, both answered only once the data has
ended, RFC 5321 §4.2.5) and the same bytes. A bare LF before "." is hostile or broken input
(SMTP smuggling, refused later in any case); the rest of such a message is read line by line,
exactly as aiosmtpd would, so the framing never goes out of step with the client's.

Memory: a message that grows past `SPILL_BYTES` is written to an unnamed temporary file as it
arrives (`spill`), so a slow upload of a large message holds a megabyte, not the message. Its
bytes come back (`load`) only when the caller is ready to decide it, which the protocol does
a few at a time.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from typing import IO

from mailrouter.ingest.checks import has_bare_line_ending

END = b"\n.\r\n"  # the end-of-data marker after its first byte, the CR
_LINE_END = b"\r\n"
SPILL_BYTES = 1024 * 1024
PROGRESS_BYTES = 64 * 1024


class Problem(enum.Enum):
    NONE = "none"
    TOO_MUCH = "too much"  # over the size limit: 552
    TOO_LONG = "too long"  # a line over the line limit: 500
    NO_ROOM = "no room"  # the temporary file could not be written: 452, try later


class DataReader:
    """Collects one message's data, or only counts it once it is certainly too big."""

    def __init__(
        self,
        size_limit: int | None,
        line_limit: int,
        spill: Callable[[], IO[bytes]] | None = None,
        spill_at: int = SPILL_BYTES,
        progress: Callable[[], None] | None = None,
    ) -> None:
        """`spill`: opens a temporary file for a message of more than `spill_at` bytes;
        `progress`: called each time another `PROGRESS_BYTES` have arrived (the protocol then
        extends the session's deadline: a sender who keeps sending is not cut off, one who
        trickles a byte at a time is)."""
        self.size_limit = size_limit
        self.line_limit = line_limit
        self.problem = Problem.NONE
        self._data = bytearray()
        self._size = 0  # bytes read, the end-of-data marker included
        self._tail = b""  # the last byte read
        self._open_spill = spill
        self._spill_at = spill_at
        self._progress = progress
        self._spilled: IO[bytes] | None = None

    @property
    def spilled(self) -> bool:
        """The data is in a temporary file: `load` it when ready."""
        return self._spilled is not None

    def take(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self._progress is not None and (self._size + len(chunk)) // PROGRESS_BYTES > (
            self._size // PROGRESS_BYTES
        ):
            self._progress()
        self._size += len(chunk)
        self._tail = chunk[-1:]
        if self.problem is not Problem.NONE:
            return
        if self.size_limit and self._size > self.size_limit + len(b"\r\n.\r\n"):
            self.problem = Problem.TOO_MUCH
            self._data = bytearray()  # let go of it now; keep reading to the end
            self.close()
            return
        self._data += chunk
        if len(self._data) > self._spill_at and self._open_spill is not None:
            try:
                if self._spilled is None:
                    self._spilled = self._open_spill()
                self._spilled.write(self._data)
            except OSError:  # a full disk, most likely: read on to the end, then say 452
                self.problem = Problem.NO_ROOM
                self.close()
            self._data = bytearray()

    def load(self) -> bytes:
        """The data of a spilled message, finished as `read` finishes the others (blocking:
        call it in a thread). Read straight from the file, the marker cut off there: one
        copy of the message in memory, not three."""
        if self._spilled is None:  # a problem closed it meanwhile
            return b""
        spilled, self._spilled = self._spilled, None
        with spilled:
            spilled.write(self._data)
            self._data = bytearray()
            spilled.truncate(spilled.tell() - len(b".\r\n"))  # keep the last line's CRLF
            spilled.seek(0)
            return self._finish(spilled.read())

    def close(self) -> None:
        """Let go of a spilled file that will not be loaded."""
        if self._spilled is not None:
            self._spilled.close()
            self._spilled = None

    async def read(self, reader: asyncio.StreamReader) -> bytes:
        """Read through the end-of-data marker; return the data without it, dots unstuffed
        (empty when a limit was passed: see `problem`; empty and `spilled` when the data is
        in a temporary file: see `load`)."""
        first = await _until(reader, b"\r", self)  # up to the first CR
        if first == b".\r" and self._size == 0:
            byte = await reader.readexactly(1)
            if byte == b"\n":
                return b""  # an empty message
            first += byte
        self.take(first)
        # From here the data read so far never ends with CRLF, so the marker is always
        # CR LF "." CR LF: look for LF "." CRLF and check the byte before that LF.
        while True:
            chunk = await _until(reader, END, self)
            before = chunk[-5:-4] if len(chunk) >= 5 else self._tail
            self.take(chunk)
            if before == b"\r":
                break
            # A "." after a bare LF: not the end, and now at the start of a line.
            if await self._rest_by_line(reader):
                break
        if self.spilled or self.problem is not Problem.NONE:
            return b""
        data = bytes(memoryview(self._data)[: -len(b".\r\n")])  # keep the last line's CRLF
        self._data = bytearray()
        return self._finish(data)

    async def _rest_by_line(self, reader: asyncio.StreamReader) -> bool:
        """Read line by line to the end, as aiosmtpd does. Returns True (the data ended)."""
        while True:
            start = self._size
            line = await _until(reader, _LINE_END, self)
            if line == b".\r\n" and self._size == start:
                self.take(b".\r\n")  # kept as the marker, which _finish cuts off
                return True
            self.take(line)

    def _finish(self, data: bytes) -> bytes:
        """`data` (the marker cut off) checked against the limits, dots unstuffed."""
        if self.problem is not Problem.NONE:
            return b""
        if self.size_limit and len(data) > self.size_limit:
            self.problem = Problem.TOO_MUCH
            return b""
        # Lines ending the wrong way look like long ones: those go on to the handler, which
        # refuses them for what they are (SMTP smuggling), with its own reply and log line.
        if (
            len(data) > self.line_limit
            and has_long_line(data, self.line_limit)
            and not has_bare_line_ending(data)
        ):
            self.problem = Problem.TOO_LONG
            return b""
        unstuffed = data.replace(b"\r\n.", b"\r\n")
        return unstuffed[1:] if unstuffed.startswith(b".") else unstuffed


async def _until(reader: asyncio.StreamReader, separator: bytes, sink: DataReader) -> bytes:
    """readuntil that does not mind the stream's limit: what cannot hold the separator goes
    to `sink` as it arrives."""
    while True:
        try:
            return await reader.readuntil(separator)
        except asyncio.LimitOverrunError as exc:
            sink.take(await reader.readexactly(exc.consumed))


def has_long_line(data: bytes, limit: int) -> bool:
    """A line of more than `limit` octets, its CRLF included? Window by window: the last CRLF
    within `limit` octets of a line's start ends every line before it in time, so a message
    costs one step per `limit` octets, and no copy of its lines."""
    start, size = 0, len(data)
    while size - start > limit:
        end = data.rfind(_LINE_END, start, start + limit)
        if end < 0:
            return True
        start = end + len(_LINE_END)
    return False
