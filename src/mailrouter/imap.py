"""What both IMAP users (APPEND delivery, pull mode) need around aioimaplib (GPL-3.0).

aioimaplib speaks implicit TLS only (no STARTTLS), and some of its calls have been seen to hang
past their own timeouts (issues #58, #110, #128): so every call here is bounded by
`asyncio.wait_for`, and a connection is torn down, never reused, after any failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable
from typing import Any, TypeVar

import aioimaplib

from mailrouter.config import ImapServerSettings

T = TypeVar("T")

# What a failed IMAP exchange can raise: retry later on a fresh connection.
FAILURES = (TimeoutError, aioimaplib.AioImapException, OSError, ssl.SSLError)


class ImapRefused(Exception):
    """The server answered NO or BAD where we needed OK."""


def tls_context(settings: ImapServerSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    context.check_hostname = settings.verify_hostname
    return context


def client(settings: ImapServerSettings, context: ssl.SSLContext) -> aioimaplib.IMAP4_SSL:
    return aioimaplib.IMAP4_SSL(
        settings.host, settings.port, timeout=settings.timeout, ssl_context=context
    )


async def bounded(call: Awaitable[T], settings: ImapServerSettings) -> T:
    # asyncio.timeout, not wait_for: in 3.11 wait_for can swallow a cancellation (aio.py)
    async with asyncio.timeout(settings.timeout):
        return await call


async def log_in(connection: aioimaplib.IMAP4_SSL, settings: ImapServerSettings) -> None:
    await bounded(connection.wait_hello_from_server(), settings)
    reply = await bounded(connection.login(settings.username, settings.password), settings)
    if reply.result != "OK":
        raise ImapRefused(f"login refused: {text(reply)}")


def quote(mailbox: str) -> str:
    """A mailbox name as an IMAP quoted string (RFC 3501 §4.3)."""
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lines(reply: Any) -> list[bytes]:
    return [
        bytes(line) if isinstance(line, bytes | bytearray) else str(line).encode()
        for line in reply.lines
    ]


def text(reply: Any) -> str:
    found = lines(reply)
    return found[-1].decode("utf-8", "replace") if found else ""


async def drop(connection: aioimaplib.IMAP4_SSL) -> None:
    """Log out if the server is still there; whatever happens, close the socket."""
    protocol = connection.protocol
    with contextlib.suppress(Exception):
        if protocol is not None and protocol.state in ("AUTH", "SELECTED"):
            async with asyncio.timeout(2):
                await connection.logout()
    with contextlib.suppress(Exception):
        transport = getattr(protocol, "transport", None)
        if transport is not None:
            transport.close()
    task = getattr(connection, "_client_task", None)
    if task is not None and not task.done():
        task.cancel()
