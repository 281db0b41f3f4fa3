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
"""

from __future__ import annotations

import asyncio
import enum

END = b"\n.\r\n"  # the end-of-data marker after its first byte, the CR
_LINE_END = b"\r\n"


class Problem(enum.Enum):
    NONE = "none"
    TOO_MUCH = "too much"  # over the size limit: 552
    TOO_LONG = "too long"  # a line over the line limit: 500


class DataReader:
    """Collects one message's data, or only counts it once it is certainly too big."""

    def __init__(self, size_limit: int | None, line_limit: int) -> None:
        self.size_limit = size_limit
        self.line_limit = line_limit
        self.problem = Problem.NONE
        self._data = bytearray()
        self._size = 0  # bytes read, the end-of-data marker included
        self._tail = b""  # the last byte read

    def take(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._size += len(chunk)
        self._tail = chunk[-1:]
        if self.problem is not Problem.NONE:
            return
        if self.size_limit and self._size > self.size_limit + len(b"\r\n.\r\n"):
            self.problem = Problem.TOO_MUCH
            self._data = bytearray()  # let go of it now; keep reading to the end
            return
        self._data += chunk

    async def read(self, reader: asyncio.StreamReader) -> bytes:
        """Read through the end-of-data marker; return the data without it, dots unstuffed
        (empty when a limit was passed: see `problem`)."""
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
        return self._finish()

    async def _rest_by_line(self, reader: asyncio.StreamReader) -> bool:
        """Read line by line to the end, as aiosmtpd does. Returns True (the data ended)."""
        while True:
            start = self._size
            line = await _until(reader, _LINE_END, self)
            if line == b".\r\n" and self._size == start:
                self.take(b".\r\n")  # kept as the marker, which _finish cuts off
                return True
            self.take(line)

    def _finish(self) -> bytes:
        if self.problem is not Problem.NONE:
            return b""
        data = bytes(self._data[: -len(b".\r\n")])  # keep the CRLF that ends the last line
        self._data = bytearray()
        if self.size_limit and len(data) > self.size_limit:
            self.problem = Problem.TOO_MUCH
            return b""
        if len(data) > self.line_limit and _longest_line(data) + 2 > self.line_limit:
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


def _longest_line(data: bytes) -> int:
    return max(map(len, data.split(_LINE_END)))
