"""The outbox: notices wait here, on disk, until the notice smart host has taken them.

`Notifier` makes notices: it applies RFC 3834 (autoreply.refusal), admits each notice in the
journal (once per message and kind; auto-replies rate-limited per recipient), then writes it
durably to `var/outbox/` (a Spool of its own). An acknowledgement is written when the message
is accepted but waits in the outbox until the journal says the message was delivered (it is
dropped if the message is parked instead).

`NoticeSender` runs on the delivery side: it scans the outbox, sends each due notice with
aiosmtplib from the null sender (RFC 3834 §3.3, RFC 5321 §4.5.5) through the configured smart
host, records the outcome in the journal and removes the file. Temporary failures are retried
with back-off; after `give_up_hours` (or a 5xx) the notice is recorded as failed and dropped.
The outbox file is written before the notice is admitted, and the sender sends only admitted,
still-queued notices: a crash between the two is mended when the message is taken again (pull
mode takes it again under the same id). What SMTP cannot promise remains: a notice the smart
host took just before a crash, unrecorded, goes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from mailrouter import logs
from mailrouter.aio import cancel_and_wait
from mailrouter.config import Settings
from mailrouter.deliver.base import Delivery, PermanentDeliveryError
from mailrouter.deliver.smtp_relay import SmtpRelayTransport
from mailrouter.deliver.worker import ParkedHook, backoff
from mailrouter.model import Decision, SenderClass
from mailrouter.notify import autoreply, build
from mailrouter.parse.headers import header_block, wanted_fields
from mailrouter.rules.ruleset import Ruleset
from mailrouter.store.journal import (
    DELIVERED,
    NOTICE_FAILED,
    NOTICE_QUEUED,
    NOTICE_SENT,
    PARKED,
    JournalPool,
)
from mailrouter.store.spool import MessageSpool, Spool, SpoolError

log = logs.get("mailrouter.notices")

BOUNCE, ACK, DSN = "bounce", "ack", "dsn"


class Notifier:
    def __init__(
        self,
        settings: Settings,
        journal: JournalPool,
        spool: MessageSpool,
        outbox: Spool,
        ruleset: Callable[[], Ruleset],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`spool`: the message spool (a DSN quotes the original's headers from it);
        `ruleset`: returns the rules in force (they may be reloaded)."""
        self.settings = settings
        self.journal = journal
        self.spool = spool
        self.outbox = outbox
        self.ruleset = ruleset
        self.clock = clock

    def sender(self) -> build.Sender:
        notices = self.settings.notices
        address = notices.from_address or self.ruleset().mailboxes.front_door[0]
        return build.Sender(address, notices.from_name, self.settings.smtp.hostname)

    async def bounce(
        self, decision: Decision, raw: bytes, origin: build.Origin, reply_to: str
    ) -> str:
        """Tell the sender what is missing (pull mode). Returns what became of the notice."""
        why_not = autoreply.refusal(raw, reply_to)
        if why_not is not None:
            return self._skipped(BOUNCE, origin.gateway_id, why_not)
        now = self._now()
        data = build.bounce_notice(
            decision, self.ruleset().notices, origin, reply_to, self.sender(), now
        )
        return await self._queue(BOUNCE, origin.gateway_id, reply_to, data, rate_limited=True)

    async def acknowledge(
        self, meta: dict[str, Any], raw: bytes, decision: Decision, reply_to: str
    ) -> str:
        """Queue an acknowledgement, sent once the message is delivered: if enabled, and only
        to a verified CJSM sender. Returns what became of it."""
        if not self.settings.notices.acknowledge:
            return "not enabled"
        sender = decision.sender
        if not sender.verified or sender.sender_class is not SenderClass.CJSM:
            return "not a verified CJSM sender"
        origin = build.Origin(meta["id"], decision.message_id, float(meta["received_at"]))
        why_not = autoreply.refusal(raw, reply_to)
        if why_not is not None:
            return self._skipped(ACK, origin.gateway_id, why_not)
        summary = meta["decision"]
        route = self.ruleset().routes.get(summary["route"])
        team = route.description if route is not None and route.description else "CPS team"
        data = build.acknowledgement(
            origin, reply_to, self.sender(), self._now(),
            urn=summary.get("urn"), team=team, route=str(summary["route"]),
            hearing_date=summary.get("hearing_date"),
        )  # fmt: skip
        return await self._queue(
            ACK, origin.gateway_id, reply_to, data, rate_limited=True, after_delivery=True
        )

    async def delivery_failed(self, gateway_id: str, reason: str) -> str:
        """A DSN to the envelope sender of a message parked after its 250."""
        try:
            meta, raw = await asyncio.to_thread(self.spool.read, gateway_id)
        except (OSError, SpoolError) as exc:
            return self._skipped(DSN, gateway_id, f"spool file unreadable: {exc}")
        mail_from = str(meta.get("mail_from") or "")
        if not mail_from or mail_from == "<>":
            return self._skipped(DSN, gateway_id, "the return path is null")
        origin = build.Origin(gateway_id, _message_id(raw), float(meta["received_at"]))
        rcpt = meta.get("rcpt") or [""]
        data = build.delivery_status(
            origin, mail_from, rcpt[0], raw, reason, self.sender(), self._now()
        )
        return await self._queue(DSN, gateway_id, mail_from, data, rate_limited=False)

    async def _queue(
        self,
        kind: str,
        gateway_id: str,
        to: str,
        data: bytes,
        *,
        rate_limited: bool,
        after_delivery: bool = False,
    ) -> str:
        if not self.settings.notices.enabled:
            return self._skipped(kind, gateway_id, "notices are turned off")
        per_hour = self.settings.notices.per_sender_per_hour if rate_limited else None
        now = self.clock()
        name = f"{gateway_id}.{kind}"
        meta = {
            "id": gateway_id,
            "kind": kind,
            "to": to,
            "created_at": now,
            "after_delivery": after_delivery,
        }
        # The file first, then the admission: a crash between the two leaves a file the
        # sender will not send unadmitted, and taking the message again admits it then.
        await self.journal.run(self.outbox.write, name, meta, data)
        verdict: str = await self.journal("notice_admit", gateway_id, kind, to, now, per_hour)
        if verdict != NOTICE_QUEUED:
            await asyncio.to_thread(self.outbox.remove, name)
            return self._skipped(kind, gateway_id, verdict)
        log.info("notice_queued", id=gateway_id, kind=kind)
        return NOTICE_QUEUED

    def _skipped(self, kind: str, gateway_id: str, why: str) -> str:
        log.info("notice_not_sent", id=gateway_id, kind=kind, why=why)
        return why

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)


class NoticeSender:
    def __init__(
        self,
        settings: Settings,
        outbox: Spool,
        journal: JournalPool,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.journal = journal
        self.clock = clock
        self.transport = SmtpRelayTransport(
            settings.notices.smtp, settings.smtp.hostname, mail_from=""
        )
        self._next: dict[str, tuple[float, int]] = {}  # name: (next attempt, attempts so far)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notice-sender")

    def poke(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        while True:
            try:
                await self.send_due()
            except Exception:
                log.exception("notice_scan_failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.delivery.scan_seconds):
                    await self._wake.wait()

    async def send_due(self) -> int:
        """Send every notice that is due; returns how many went."""
        sent = 0
        for name in await asyncio.to_thread(self.outbox.ids):
            due, attempts = self._next.get(name, (0.0, 0))
            if due > self.clock():
                continue
            try:
                meta, data = await asyncio.to_thread(self.outbox.read, name)
            except FileNotFoundError:
                continue
            except (OSError, SpoolError) as exc:
                log.error("notice_unreadable", name=name, error=str(exc)[:200])
                await asyncio.to_thread(self.outbox.remove, name)
                continue
            sent += await self._attempt(name, meta, data, attempts)
        return sent

    async def _attempt(self, name: str, meta: dict[str, Any], data: bytes, attempts: int) -> int:
        gateway_id, kind = str(meta["id"]), str(meta["kind"])
        now = self.clock()
        admitted = await self.journal("notice_state", gateway_id, kind)
        if admitted is None:
            if now - float(meta["created_at"]) > self.settings.notices.give_up_hours * 3600:
                await asyncio.to_thread(self.outbox.remove, name)  # its maker died before
            return 0  # not admitted yet (being written now), or never to be
        if admitted != NOTICE_QUEUED:
            await asyncio.to_thread(self.outbox.remove, name)  # sent or given up already
            return 0
        if meta.get("after_delivery"):
            state = await self.journal("state", gateway_id)
            if state == PARKED:
                await self._finish(name, gateway_id, kind, NOTICE_FAILED, "message not delivered")
                return 0
            if state != DELIVERED:
                return 0  # not yet: looked at again on the next scan
        if now - float(meta["created_at"]) > self.settings.notices.give_up_hours * 3600:
            await self._finish(name, gateway_id, kind, NOTICE_FAILED, "gave up: too old")
            return 0
        delivery = Delivery(gateway_id, kind, str(meta["to"]), "", data, False)
        try:
            reply = await self.transport.deliver(delivery)
        except PermanentDeliveryError as exc:
            await self._finish(name, gateway_id, kind, NOTICE_FAILED, str(exc))
            return 0
        except Exception as exc:  # noqa: BLE001 - anything else: try again later
            delivery_settings = self.settings.delivery
            delay = backoff(
                attempts + 1,
                delivery_settings.retry_initial_seconds,
                delivery_settings.retry_max_seconds,
            )
            self._next[name] = (now + delay, attempts + 1)
            log.warning("notice_deferred", id=gateway_id, kind=kind, retry_in=round(delay, 1),
                        error=str(exc)[:200])  # fmt: skip
            return 0
        await self._finish(name, gateway_id, kind, NOTICE_SENT, reply)
        return 1

    async def _finish(self, name: str, gateway_id: str, kind: str, state: str, detail: str) -> None:
        await self.journal("notice_done", gateway_id, kind, state, self.clock(), detail)
        await asyncio.to_thread(self.outbox.remove, name)
        self._next.pop(name, None)
        log.info("notice_" + state, id=gateway_id, kind=kind)


def failure_notices(notifier: Notifier, sender: NoticeSender) -> ParkedHook:
    """The delivery queue's on_parked hook: a DSN for each message it gives up on."""

    async def parked(message_id: str, reason: str) -> None:
        if await notifier.delivery_failed(message_id, reason) == NOTICE_QUEUED:
            sender.poke()

    return parked


def _message_id(raw: bytes) -> str | None:
    block, _ = header_block(raw)
    for _, value in wanted_fields(block, frozenset({"message-id"})):
        return value.decode("ascii", "replace").strip()
    return None
