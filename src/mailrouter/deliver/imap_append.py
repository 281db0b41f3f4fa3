"""IMAP APPEND delivery (aioimaplib, GPL-3.0): each route's folder on an IMAP server over TLS.

aioimaplib has no UIDPLUS/APPENDUID, and its calls are bounded as mailrouter.imap explains; the
whole exchange has an outer bound too, and the connection is torn down after any failure. Because an
APPEND whose reply was lost may still have stored the message, a retry with `maybe_delivered`
first SEARCHes the folder for the message's X-Mailrouter-Id: exactly once, even across a crash.

A missing folder is created on the server's TRYCREATE. NO replies are temporary (quota, server
busy) unless the server says the message itself is unacceptable; BAD is permanent.
"""

from __future__ import annotations

import asyncio

import aioimaplib

from mailrouter import imap
from mailrouter.config import ImapSettings
from mailrouter.deliver.base import Delivery, PermanentDeliveryError, TemporaryDeliveryError

_REFUSES_THE_MESSAGE = (b"[LIMIT]", b"[TOOBIG]", b"[PARSE]")


class ImapAppendTransport:
    name = "imap"

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._tls = imap.tls_context(settings)

    def folder(self, route: str) -> str:
        return self.settings.folder_template.format(route=route)

    async def deliver(self, delivery: Delivery) -> str:
        client = imap.client(self.settings, self._tls)
        bound = self.settings.timeout * 6  # hello, login, select, search, append, create
        try:
            async with asyncio.timeout(bound):
                return await self._session(client, delivery)
        except (*imap.FAILURES, imap.ImapRefused) as exc:
            # A refused login is our credentials, not the message: retry until ops fix them.
            raise TemporaryDeliveryError(f"imap {self.settings.host}: {exc!r}") from exc
        finally:
            await imap.drop(client)

    async def close(self) -> None:
        return None

    async def _session(self, client: aioimaplib.IMAP4_SSL, delivery: Delivery) -> str:
        await imap.log_in(client, self.settings)
        folder = self.folder(delivery.route)
        if delivery.maybe_delivered and await self._present(client, folder, delivery.id):
            return f"imap {folder}: already there"
        reply = await client.append(delivery.message, mailbox=folder)
        if reply.result == "NO" and b"[TRYCREATE]" in b" ".join(imap.lines(reply)):
            await client.create(folder)
            reply = await client.append(delivery.message, mailbox=folder)
        if reply.result == "OK":
            return f"imap {folder}: {imap.text(reply)}"[:300]
        detail = f"imap APPEND to {folder}: {reply.result} {imap.text(reply)}"
        if reply.result == "BAD" or any(
            c in b" ".join(imap.lines(reply)) for c in _REFUSES_THE_MESSAGE
        ):
            raise PermanentDeliveryError(detail)
        raise TemporaryDeliveryError(detail)

    async def _present(self, client: aioimaplib.IMAP4_SSL, folder: str, message_id: str) -> bool:
        selected = await client.select(folder)
        if selected.result != "OK":
            return False  # no such folder yet: nothing was delivered there
        found = await client.search("HEADER", "X-Mailrouter-Id", message_id)
        if found.result != "OK":
            raise TemporaryDeliveryError(f"imap SEARCH in {folder}: {imap.text(found)}")
        return any(line.strip() and line.replace(b" ", b"").isdigit() for line in imap.lines(found))
