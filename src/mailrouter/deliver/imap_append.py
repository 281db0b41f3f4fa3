"""IMAP APPEND delivery (aioimaplib, GPL-3.0): each route's folder on an IMAP server over TLS.

aioimaplib speaks implicit TLS only (no STARTTLS), has no UIDPLUS/APPENDUID, and some of its
calls have been seen to hang past their own timeouts; so every command is bounded, the whole
exchange has an outer bound, and the connection is torn down after any failure. Because an
APPEND whose reply was lost may still have stored the message, a retry with `maybe_delivered`
first SEARCHes the folder for the message's X-Mailrouter-Id: exactly once, even across a crash.

A missing folder is created on the server's TRYCREATE. NO replies are temporary (quota, server
busy) unless the server says the message itself is unacceptable; BAD is permanent.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

import aioimaplib

from mailrouter.config import ImapSettings
from mailrouter.deliver.base import Delivery, PermanentDeliveryError, TemporaryDeliveryError

_REFUSES_THE_MESSAGE = (b"[LIMIT]", b"[TOOBIG]", b"[PARSE]")


class ImapAppendTransport:
    name = "imap"

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        context.check_hostname = settings.verify_hostname
        self._tls = context

    def folder(self, route: str) -> str:
        return self.settings.folder_template.format(route=route)

    async def deliver(self, delivery: Delivery) -> str:
        client = aioimaplib.IMAP4_SSL(
            self.settings.host,
            self.settings.port,
            timeout=self.settings.timeout,
            ssl_context=self._tls,
        )
        bound = self.settings.timeout * 6  # hello, login, select, search, append, create
        try:
            return await asyncio.wait_for(self._session(client, delivery), bound)
        except (TimeoutError, aioimaplib.AioImapException, OSError, ssl.SSLError) as exc:
            raise TemporaryDeliveryError(f"imap {self.settings.host}: {exc!r}") from exc
        finally:
            await _drop(client)

    async def close(self) -> None:
        return None

    async def _session(self, client: aioimaplib.IMAP4_SSL, delivery: Delivery) -> str:
        await client.wait_hello_from_server()
        login = await client.login(self.settings.username, self.settings.password)
        if login.result != "OK":
            # Our credentials, not the message: retry until ops fix them.
            raise TemporaryDeliveryError(f"imap login refused: {_text(login)}")
        folder = self.folder(delivery.route)
        if delivery.maybe_delivered and await self._present(client, folder, delivery.id):
            return f"imap {folder}: already there"
        reply = await client.append(delivery.message, mailbox=folder)
        if reply.result == "NO" and b"[TRYCREATE]" in b" ".join(_lines(reply)):
            await client.create(folder)
            reply = await client.append(delivery.message, mailbox=folder)
        if reply.result == "OK":
            return f"imap {folder}: {_text(reply)}"[:300]
        detail = f"imap APPEND to {folder}: {reply.result} {_text(reply)}"
        if reply.result == "BAD" or any(
            c in b" ".join(_lines(reply)) for c in _REFUSES_THE_MESSAGE
        ):
            raise PermanentDeliveryError(detail)
        raise TemporaryDeliveryError(detail)

    async def _present(self, client: aioimaplib.IMAP4_SSL, folder: str, message_id: str) -> bool:
        selected = await client.select(folder)
        if selected.result != "OK":
            return False  # no such folder yet: nothing was delivered there
        found = await client.search("HEADER", "X-Mailrouter-Id", message_id)
        if found.result != "OK":
            raise TemporaryDeliveryError(f"imap SEARCH in {folder}: {_text(found)}")
        return any(line.strip() and line.replace(b" ", b"").isdigit() for line in _lines(found))


def _lines(reply: Any) -> list[bytes]:
    return [line if isinstance(line, bytes) else str(line).encode() for line in reply.lines]


def _text(reply: Any) -> str:
    lines = _lines(reply)
    return lines[-1].decode("utf-8", "replace") if lines else ""


async def _drop(client: aioimaplib.IMAP4_SSL) -> None:
    """Log out if the server is still there; whatever happens, close the socket."""
    protocol = client.protocol
    with contextlib.suppress(Exception):
        if protocol is not None and protocol.state in ("AUTH", "SELECTED"):
            await asyncio.wait_for(client.logout(), 2)
    with contextlib.suppress(Exception):
        transport = getattr(protocol, "transport", None)
        if transport is not None:
            transport.close()
    task = getattr(client, "_client_task", None)
    if task is not None and not task.done():
        task.cancel()
