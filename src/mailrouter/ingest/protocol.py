"""aiosmtpd's SMTP protocol with what a gateway needs on the wire that it lacks by default.

- Every reply carries an RFC 3463 enhanced status code (RFC 2034 §3; the greeting and the
  EHLO/HELO responses excepted): aiosmtpd's own replies ("552 Error: Too much mail data")
  are given one.
- MAIL FROM:<> (the null reverse-path) is accepted as RFC 5321 §4.5.5 requires; aiosmtpd
  answers it with 501. The handler then decides what a null sender may do.
- A cap on concurrent sessions (aiosmtpd has none, issue #282): past it, 421 and close.
- Long DATA lines (up to 64 KiB) are taken, not refused with 500.
- Faults reach the handler's handle_exception, which answers 451/452, never aiosmtpd's
  "500 Error: (ExceptionClass) text".
"""

from __future__ import annotations

import asyncio
from typing import Any, AnyStr

from aiosmtpd.smtp import SMTP

from mailrouter.ingest import replies

NULL_PATH = "<>"


class SessionLimit:
    """Counts live sessions; refuses new ones past the maximum."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.active = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def acquire(self) -> bool:
        if self.active >= self.maximum:
            return False
        self.active += 1
        self.idle.clear()
        return True

    def release(self) -> None:
        self.active -= 1
        if self.active <= 0:
            self.active = 0
            self.idle.set()


class GatewaySMTP(SMTP):
    # aiosmtpd refuses DATA lines over 1001 octets; Postfix in front of us passes lines of up to
    # 2048, and HTML mail from some clients has longer ones. Accept them (RFC 5321 §4.5.3.1.6
    # says the limit SHOULD be generous) up to a bound that keeps a session's buffer small.
    line_length_limit = 65536

    def __init__(self, handler: Any, *, limit: SessionLimit, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._limit = limit
        self._counted = False
        self._refused = False
        self._plain_replies = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._counted and not self._refused:  # the first call; STARTTLS calls again
            if not self._limit.acquire():
                self._refused = True
                transport.write(f"{replies.TOO_MANY_SESSIONS}\r\n".encode())  # type: ignore[attr-defined]
                transport.close()
                return
            self._counted = True
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        if self._counted:
            self._counted = False
            self._limit.release()
        super().connection_lost(error)

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str) and not self._plain_replies:
            status = "\r\n".join(replies.enhance(line) for line in status.split("\r\n"))  # type: ignore[assignment]
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

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        stripped = arg.strip()
        if stripped.startswith("<>"):
            return NULL_PATH, stripped[2:]
        return super()._getaddr(arg)
