"""Reading DATA in large pieces gives what aiosmtpd's line-by-line reading gives.

Differential: the same bytes go over real sockets to plain aiosmtpd and to GatewaySMTP, both
with a handler that records what it receives; the replies (including those to whatever
follows the end of data, which shows the framing stayed in step) and the recorded messages
must be identical. Payloads come from hypothesis and from hand-picked edge cases: dots at
line starts, bare LF before a dot (SMTP smuggling), lines over the line limit, messages over
the size limit, empty messages, and data arriving in small pieces.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailrouter.ingest.admission import Admission
from mailrouter.ingest.data import has_long_line
from mailrouter.ingest.protocol import GatewaySMTP

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)

SIZE_LIMIT = 200_000
LINE_LIMIT = 65_536


class Recorder:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(bytes(envelope.original_content))
        return "250 2.0.0 Ok"


class PlainSMTP(SMTP):
    line_length_limit = LINE_LIMIT  # as GatewaySMTP's


class SpillingSMTP(GatewaySMTP):
    spill_bytes = 64  # every message but the smallest waits in a temporary file


async def _exchange(port: int, payload: bytes, pieces: int) -> list[str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"EHLO client.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\n")
    writer.write(b"DATA\r\n")
    step = max(1, len(payload) // pieces)
    try:
        for start in range(0, len(payload), step):
            writer.write(payload[start : start + step])
            await writer.drain()
            if pieces > 1:
                await asyncio.sleep(0.002)
        writer.write(b"QUIT\r\n")
        await writer.drain()
    except ConnectionError:
        pass  # the server hung up (too many bogus commands after the data): read what it said
    replies = []
    with_timeout = asyncio.timeout(10)
    async with with_timeout:
        while line := await _readline(reader):
            if line[3:4] != b"-":
                replies.append(line[:3].decode())
    writer.close()
    return replies


async def _readline(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readline()
    except ConnectionError:
        return b""


def _run_both(payload: bytes, pieces: int = 1) -> tuple[Any, Any]:
    """(aiosmtpd's replies and messages, ours): ours the same whether the data is held in
    memory or spilled to a temporary file as it arrives."""

    async def main() -> tuple[Any, Any]:
        results = []
        spill_dir = Path(tempfile.mkdtemp())
        factories: list[Callable[[Recorder], SMTP]] = [
            lambda h: PlainSMTP(h, data_size_limit=SIZE_LIMIT, decode_data=False),
            lambda h: GatewaySMTP(
                h, limit=Admission(10), data_size_limit=SIZE_LIMIT, decode_data=False
            ),
            lambda h: SpillingSMTP(
                h,
                limit=Admission(10),
                spill_dir=spill_dir,
                data_size_limit=SIZE_LIMIT,
                decode_data=False,
            ),
        ]
        for factory in factories:
            recorder = Recorder()
            server = await asyncio.get_running_loop().create_server(
                lambda f=factory, r=recorder: f(r), "127.0.0.1", 0
            )
            port = server.sockets[0].getsockname()[1]
            try:
                replies = await _exchange(port, payload, pieces)
            finally:
                server.close()
                await server.wait_closed()
            results.append((replies, recorder.messages))
        assert list(spill_dir.iterdir()) == []  # unnamed files: nothing left behind
        spill_dir.rmdir()
        assert results[2] == results[1]
        return results[0], results[1]

    return asyncio.run(main())


def assert_same(payload: bytes, pieces: int = 1) -> list[bytes]:
    plain, ours = _run_both(payload, pieces)
    assert ours == plain
    return ours[1]


LINES = st.sampled_from(
    [b"", b".", b"..", b".x", b"x.", b"Subject: a", b"\n.", b"x\n.", b"\r.", b"x\r", b"\n", b"a\rb"]
) | st.binary(max_size=40).map(lambda b: b.replace(b"\r\n", b""))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, max_size=12), st.sampled_from([1, 3]))
def test_same_bytes_and_replies_as_aiosmtpd(lines: list[bytes], pieces: int) -> None:
    assert_same(b"\r\n".join(lines) + b"\r\n.\r\n", pieces)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b".\r\n", [b""]),  # an empty message
        (b"a\r\n.\r\n", [b"a\r\n"]),
        (b"..\r\n.\r\n", [b".\r\n"]),
        (b".x\r\n..y\r\n.\r\n", [b"x\r\n.y\r\n"]),
        (b"a\n.\r\nb\r\n.\r\n", [b"a\n.\r\nb\r\n"]),  # bare LF "." is not the end
        (b"a\n.\r\n.\r\n", [b"a\n.\r\n"]),
        (b".\rx\r\n.\r\n", [b"\rx\r\n"]),  # a leading dot always goes
        (b"a\r\n.\r\nMAIL FROM:<c@example.com>\r\n", [b"a\r\n"]),  # what follows is a command
    ],
)
def test_framing_and_transparency(payload: bytes, expected: list[bytes]) -> None:
    if not payload.endswith(b"\r\n.\r\n") and b"MAIL" not in payload:
        payload += b"\r\n.\r\n"
    assert assert_same(payload) == expected


@pytest.mark.parametrize("pieces", [1, 7, 50])
def test_large_message_across_the_stream_limit(pieces: int) -> None:
    body = b"".join(b"line %d of a long message\r\n" % n for n in range(6000))
    assert assert_same(body + b".\r\n", pieces) == [body]


def test_line_over_the_limit_is_500_after_the_data() -> None:
    plain, ours = _run_both(b"a" * (LINE_LIMIT + 10) + b"\r\nb\r\n.\r\n")
    assert ours == plain and "500" in ours[0] and ours[1] == []


def test_line_exactly_at_the_limit_is_taken() -> None:
    line = b"a" * (LINE_LIMIT - 2) + b"\r\n"
    assert assert_same(line + b".\r\n") == [line]


def _body(size: int) -> bytes:
    """`size` bytes of 1000-byte lines, the last one shorter."""
    line = b"x" * 998 + b"\r\n"
    whole, rest = divmod(size, len(line))
    tail = b"y" * (rest - 2) + b"\r\n" if rest >= 2 else b""
    body = line * whole + tail
    return body if len(body) == size else line * (whole - 1) + b"z" * (998 + rest) + b"\r\n"


@pytest.mark.parametrize("extra", [-1, 0, 1, 100_000])
def test_size_limit(extra: int) -> None:
    body = _body(SIZE_LIMIT + extra)
    assert len(body) == SIZE_LIMIT + extra
    plain, ours = _run_both(body + b".\r\n")
    assert ours == plain
    assert ("552" in ours[0]) == (extra > 0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=10), st.integers(4, 30))
def test_long_line_check_is_a_plain_split(lengths: list[int], limit: int) -> None:
    data = b"".join(b"x" * n + b"\r\n" for n in lengths)
    if len(data) > limit:
        plain = max(map(len, data.split(b"\r\n"))) + 2 > limit
        assert has_long_line(data, limit) == plain
