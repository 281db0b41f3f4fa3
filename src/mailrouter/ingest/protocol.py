"""aiosmtpd's SMTP protocol with what a gateway needs on the wire that it lacks by default.

- Every reply carries an RFC 3463 enhanced status code (RFC 2034 §3; the greeting and the
  EHLO/HELO responses excepted): aiosmtpd's own replies ("552 Error: Too much mail data")
  are given one.
- MAIL FROM:<> (the null reverse-path) is accepted as RFC 5321 §4.5.5 requires; aiosmtpd
  answers it with 501. The handler then decides what a null sender may do.
- Admission (ingest/admission.py): caps on sessions in all and per client address, a reserve
  for trusted relays, and a deadline per command that shortens under stress; past a cap, 421
  and close.
- Long DATA lines (up to 64 KiB) are taken, not refused with 500.
- A path with a control character or odd white space inside its brackets is malformed (553),
  not an address once aiosmtpd's parser has stripped it.
- DATA is read in large pieces, not line by line (ingest/data.py): the same bytes, framing and
  limits as aiosmtpd, at a fraction of the cost per message.
- Faults reach the handler's handle_exception, which answers 451/452, never aiosmtpd's
  "500 Error: (ExceptionClass) text".
"""

from __future__ import annotations

import asyncio
import functools
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, AnyStr

from aiosmtpd.smtp import MISSING, SMTP, syntax

from mailrouter.ingest import replies
from mailrouter.ingest.admission import Admission
from mailrouter.ingest.data import SPILL_BYTES, DataReader, Problem

NULL_PATH = "<>"

# `<local@domain>` in its everyday form: a dot-atom local part and an LDH domain. Anything else
# (quoted local parts, source routes, address literals, UTF-8) goes to aiosmtpd's full parser.
_PLAIN_PATH = re.compile(
    r"[ \t]*<([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)>"
)


class GatewaySMTP(SMTP):
    # aiosmtpd refuses DATA lines over 1001 octets; Postfix in front of us passes lines of up to
    # 2048, and HTML mail from some clients has longer ones. Accept them (RFC 5321 §4.5.3.1.6
    # says the limit SHOULD be generous) up to a bound that keeps a session's buffer small.
    line_length_limit = 65536
    spill_bytes = SPILL_BYTES  # a message larger than this waits on disk while it arrives

    def __init__(
        self,
        handler: Any,
        *,
        limit: Admission,
        spill_dir: Path | None = None,
        large_gate: asyncio.Semaphore | None = None,
        on_reply: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        """`spill_dir`: where a large message waits, in an unnamed file, while it arrives;
        `large_gate`: how many such messages are loaded and decided at once (memory)."""
        if kwargs.get("decode_data"):
            raise ValueError("GatewaySMTP hands the handler bytes: decode_data must be off")
        kwargs.setdefault("ident", "ESMTP")  # the banner names no software and no version
        super().__init__(handler, **kwargs)
        self._limit = limit
        self._spill = None if spill_dir is None else functools.partial(_unnamed_file, spill_dir)
        self._large_gate = large_gate or asyncio.Semaphore(2)
        self._on_reply = on_reply  # told the code of every reply sent (metrics)
        self._counted = False
        self._refused = False
        self._plain_replies = False
        self._deadline = 0.0
        self._in_data = False  # between DATA and its reply: the transaction is finishing
        self._closing = False  # the gateway is stopping: 421 once the transaction is done

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._counted and not self._refused:  # the first call; STARTTLS calls again
            peer = transport.get_extra_info("peername")
            client = str(peer[0]) if isinstance(peer, tuple) and peer else ""
            refusal = self._limit.admit(self, client)
            if refusal is not None:
                if self._on_reply is not None:
                    self._on_reply(str(refusal.code))
                self._refused = True
                transport.write(f"{refusal}\r\n".encode())  # type: ignore[attr-defined]
                transport.close()
                return
            self._counted = True
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        if self._counted:
            self._counted = False
            self._limit.release(self)
        super().connection_lost(error)

    def _reset_timeout(self, duration: float | None = None) -> None:
        # aiosmtpd calls this when a session starts and when a whole command has arrived, and
        # the DATA reader each time another 64 KiB has come: the timer is a deadline for the
        # next command or the next 64 KiB of data, whatever the client trickles in meanwhile.
        # Its length is the admission's, short under stress.
        seconds = duration or self._limit.timeout()
        self._deadline = self.loop.time() + seconds
        super()._reset_timeout(seconds)

    def say_goodbye(self) -> None:
        """The gateway is stopping: 421 4.3.2 now, or after the reply to a message under way
        (which is then either safely spooled or refused, never cut off half-decided)."""
        self._closing = True
        if not self._in_data:
            self._goodbye()

    def _goodbye(self) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            if self._on_reply is not None:
                self._on_reply(str(replies.SHUTTING_DOWN.code))
            transport.write(f"{replies.SHUTTING_DOWN}\r\n".encode())  # type: ignore[attr-defined]
            transport.close()

    def tighten(self, seconds: float) -> None:
        """Bring this session's deadline to at most `seconds` from now (stress)."""
        if self.transport is not None and self._deadline - self.loop.time() > seconds:
            self._reset_timeout(seconds)

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str) and not self._plain_replies:
            status = "\r\n".join(replies.enhance(line) for line in status.split("\r\n"))  # type: ignore[assignment]
        if self._on_reply is not None and isinstance(status, str):
            self._on_reply(status.rsplit("\r\n", 1)[-1][:3])  # a multi-line reply's code
        await super().push(status)

    async def smtp_EHLO(self, hostname: str) -> None:
        self._plain_replies = True  # RFC 2034: no enhanced codes in EHLO/HELO responses
        try:
            await super().smtp_EHLO(hostname)
        finally:
            self._plain_replies = False

    async def smtp_HELO(self, hostname: str) -> None:
        self._plain_replies = True
        try:
            await super().smtp_HELO(hostname)
        finally:
            self._plain_replies = False

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        # aiosmtpd's checks and replies, in its order; only the reading differs.
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        self._in_data = True
        try:
            await self._read_and_answer()
        finally:
            self._in_data = False
        if self._closing:
            self._goodbye()

    async def _read_and_answer(self) -> None:
        data = DataReader(
            self.data_size_limit, self.line_length_limit, self._spill, self.spill_bytes,
            progress=self._reset_timeout,
        )  # fmt: skip
        try:
            content = await data.read(self._reader)
        except asyncio.CancelledError:
            data.close()
            self._writer.close()  # the connection went during DATA
            raise
        if not data.spilled:
            await self._finish_data(data, content)
            return
        # A large message: loaded and decided a few at a time, so fifty of them arriving
        # together cost a few messages' memory, not fifty.
        async with self._large_gate:
            try:
                content = await asyncio.to_thread(data.load)
            finally:
                data.close()
            await self._finish_data(data, content)

    async def _finish_data(self, data: DataReader, content: bytes) -> None:
        assert self.envelope is not None
        if data.problem is not Problem.NONE:
            self._set_post_data_state()
            if data.problem is Problem.TOO_LONG:
                await self.push("500 Line too long (see RFC5321 4.5.3.1.6)")
            elif data.problem is Problem.NO_ROOM:
                await self.push(str(replies.STORAGE_FULL))
            else:
                await self.push("552 Error: Too much mail data")
            return
        self.envelope.content = content
        self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        self.envelope.content = self.envelope.original_content = None  # let the bytes go
        await self.push("250 OK" if status is MISSING else status)

    def __dir__(self) -> list[str]:
        # aiosmtpd's __init__ looks for its smtp_* and auth_* methods with dir() and
        # inspect.getmembers (which reads every attribute) on every connection. The names are
        # fixed per class: hand it those, found once.
        return _command_names(type(self))

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        stripped = arg.strip()
        if stripped.startswith("<>"):
            return NULL_PATH, stripped[2:]
        plain = _PLAIN_PATH.match(arg)
        if plain is not None:
            address = plain.group(1)
            local_limit = self.local_part_limit
            if local_limit and len(address.rpartition("@")[0]) > local_limit:
                return None, None
            return address, arg[plain.end() :]
        if not _printable_path(arg):
            return None, None  # 553 5.1.3: malformed, as Postfix says; never "repaired"
        return super()._getaddr(arg)


def _unnamed_file(directory: Path) -> IO[bytes]:
    """A temporary file with no name: nothing is left behind by a crash."""
    return tempfile.TemporaryFile(dir=directory)


def _printable_path(arg: str) -> bool:
    """No control or odd white space (CR, VT, FF, NBSP, U+0085, U+2028…) inside the brackets:
    aiosmtpd's parser would strip some of it and take what is left for an address."""
    opening = arg.find("<")
    closing = arg.rfind(">")
    inside = arg[opening + 1 : closing] if 0 <= opening < closing else arg.strip()
    return inside.isprintable()


@functools.cache
def _command_names(cls: type) -> list[str]:
    return [name for name in dir(cls) if name.startswith(("smtp_", "auth_"))]
