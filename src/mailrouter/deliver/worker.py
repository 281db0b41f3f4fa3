"""The delivery queue: spooled messages go to the teams, retried until they arrive.

An attempt reads the message from the spool, claims it in the journal (so no other worker or
node takes it; the first claim also records the row the SMTP side left in the spool file),
composes what the team receives, hands it to the route's transport and records
the outcome. A temporary failure is retried with exponential back-off and jitter; once a
message has been undeliverable for `park_after_hours`, or on a permanent refusal, it is parked
for ops (`mailrouter queue list|retry|park`). The spool file is removed only after the journal
records the delivery. A periodic scan picks up retries that have come due.

Blocking work runs on the journal's thread pool. A transport that is itself blocking (Maildir:
file writes and fsyncs) offers `deliver_blocking`, and then the whole attempt is one job on the
pool; a network transport (SMTP, IMAP) delivers on the event loop between two such jobs. A
worker takes the messages waiting (up to BATCH) together: one job on the pool, one journal
transaction for their claims and one for their deliveries, which is most of the cost of a
Maildir delivery when mail is arriving fast.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from mailrouter import logs
from mailrouter.aio import cancel_and_wait
from mailrouter.config import DeliverySettings
from mailrouter.deliver.base import (
    Delivery,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    Transport,
)
from mailrouter.deliver.compose import compose
from mailrouter.store.journal import DELIVERED, QUEUED, Claim, JournalPool
from mailrouter.store.spool import MessageSpool, SpoolError

log = logs.get("mailrouter.deliver")

ParkedHook = Callable[[str, str], Awaitable[None]]
BATCH = 32  # messages a worker takes at once, when that many are waiting


class Outcome(NamedTuple):
    kind: str  # delivered | temporary | permanent
    detail: str


class Prepared(NamedTuple):
    claim: Claim
    transport: Transport
    delivery: Delivery


class DeliveryQueue:
    def __init__(
        self,
        settings: DeliverySettings,
        spool: MessageSpool,
        journal: JournalPool,
        transports: Mapping[str, Transport],
        *,
        on_parked: ParkedHook | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.spool = spool
        self.journal = journal
        self.transports = transports
        self.on_parked = on_parked
        self.clock = clock
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._pending: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._scanner: asyncio.Task[None] | None = None

    async def recover(self) -> int:
        """Before `start`, once: make the journal whole again after a crash of either side.
        Returns the number of attempts a crash interrupted."""
        ids = await asyncio.to_thread(self.spool.ids)
        known = await self.journal("known", ids)
        adopted = delivered = 0
        for message_id in ids:
            if message_id not in known:
                try:
                    meta, _ = await asyncio.to_thread(self.spool.read, message_id)
                except (OSError, SpoolError):
                    continue  # removed meanwhile (delivered), or unreadable: the attempt says
                await self.journal("record", journal_row(meta))
                adopted += 1
            elif await self.journal("state", message_id) == DELIVERED:
                await asyncio.to_thread(self.spool.remove, message_id)
                delivered += 1
        interrupted: int = await self.journal("recover")
        for message_id in await self.journal("due", self.clock(), 100_000):
            self.submit(message_id)
        log.info("queue_recovered", spooled=len(ids), adopted=adopted, interrupted=interrupted,
                 removed_delivered=delivered, queued=self.backlog)  # fmt: skip
        return interrupted

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(), name=f"deliver-{n}")
            for n in range(self.settings.workers)
        ]
        self._scanner = asyncio.create_task(self._scan(), name="deliver-scan")

    def submit(self, message_id: str) -> None:
        if message_id not in self._pending:
            self._pending.add(message_id)
            self._queue.put_nowait(message_id)

    @property
    def backlog(self) -> int:
        return len(self._pending)

    async def stop(self, grace: float) -> None:
        """Let attempts under way finish (up to `grace` seconds), then stop."""
        await cancel_and_wait(self._scanner)
        for _ in self._tasks:
            self._queue.put_nowait(None)
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=grace)
            # A late attempt's message stays "delivering" and is recovered at start-up.
            await cancel_and_wait(*late)

    async def _scan(self) -> None:
        while True:
            try:
                for message_id in await self.journal("due", self.clock()):
                    self.submit(message_id)
            except Exception:
                log.exception("due_scan_failed")  # retried on the next tick
            await asyncio.sleep(self.settings.scan_seconds)

    async def _work(self) -> None:
        while True:
            message_id = await self._queue.get()
            if message_id is None:
                return
            # Whatever else is waiting goes along (up to BATCH): one hand-off to the pool,
            # one journal transaction for the claims and one for the deliveries.
            batch = [message_id]
            stopping = False
            while len(batch) < BATCH and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            try:
                await self.attempt(batch)
            except Exception:
                log.exception("delivery_attempt_crashed", ids=batch)
            finally:
                self._pending.difference_update(batch)
            if stopping:
                return

    async def attempt(self, message_ids: list[str]) -> None:
        results = await self.journal.run(self._start_on_pool, message_ids)
        for result in results:
            if isinstance(result, Prepared):
                outcome = await _deliver(result.transport, result.delivery)
                parked = await self.journal.run(
                    self._finish_on_pool, result.claim, result.transport, outcome
                )
            else:
                parked = result
            if parked is not None and self.on_parked is not None:
                await self.on_parked(*parked)

    # --- on the pool ----------------------------------------------------------------------

    def _start_on_pool(self, message_ids: list[str]) -> list[Prepared | tuple[str, str] | None]:
        """Read, claim and compose; for a blocking transport, deliver and record too. Returns
        what is left for the event loop, per message: a Prepared delivery (network
        transports), a parked (id, reason), or None (done, or not there to take)."""
        now = self.clock()
        journal = self.journal.here()
        results: list[Prepared | tuple[str, str] | None] = []
        loaded: dict[str, tuple[dict[str, Any], bytes]] = {}
        for message_id in message_ids:
            try:
                loaded[message_id] = self.spool.read(message_id)
            except FileNotFoundError:
                # Delivered and removed already, or lost: a queued row with no file is parked.
                claim = journal.claim(message_id, now)
                results.append(
                    None if claim is None else self._park(claim, "none", "spool file missing")
                )
            except (OSError, SpoolError) as exc:
                claim = journal.claim(message_id, now)
                results.append(
                    None if claim is None else self._park(claim, "none", f"spool file: {exc}")
                )
        claims = journal.claim_many(
            [(message_id, journal_row(meta)) for message_id, (meta, _) in loaded.items()], now
        )
        delivered: list[tuple[Claim, Transport, str]] = []
        for message_id, claim in claims.items():
            meta, raw = loaded[message_id]
            transport = self.transports.get(self.settings.transport_for(claim.route))
            if transport is None:
                results.append(self._park(claim, "none", f"no transport for route {claim.route}"))
                continue
            delivery = Delivery(
                message_id,
                claim.route,
                claim.mailbox,
                str(meta.get("mail_from", "")),
                compose(raw, meta),
                claim.maybe_delivered,
            )
            blocking = getattr(transport, "deliver_blocking", None)
            if blocking is None:
                results.append(Prepared(claim, transport, delivery))
                continue
            try:
                delivered.append((claim, transport, blocking(delivery)))
            except PermanentDeliveryError as exc:
                results.append(
                    self._finish_on_pool(claim, transport, Outcome("permanent", str(exc)))
                )
            except Exception as exc:  # noqa: BLE001 - a transport bug becomes a logged retry
                outcome = _temporary(message_id, exc)
                results.append(self._finish_on_pool(claim, transport, outcome))
        if delivered:
            journal.delivered_many(
                [(claim.id, transport.name, detail) for claim, transport, detail in delivered],
                self.clock(),
            )
            for claim, transport, _ in delivered:
                self._removed(claim, transport)
        return results

    def _removed(self, claim: Claim, transport: Transport) -> None:
        """After the journal records a delivery: the spool file goes."""
        self.spool.remove(claim.id)
        log.info("delivered", id=claim.id, route=claim.route, transport=transport.name,
                 attempts=claim.attempts)  # fmt: skip

    def _finish_on_pool(
        self, claim: Claim, transport: Transport, outcome: Outcome
    ) -> tuple[str, str] | None:
        now = self.clock()
        if outcome.kind == "delivered":
            self.journal.here().delivered(claim.id, now, transport.name, outcome.detail)
            self._removed(claim, transport)
            return None
        if outcome.kind == "permanent":
            return self._park(claim, transport.name, outcome.detail)
        if now - claim.received_at >= self.settings.park_after_hours * 3600:
            return self._park(
                claim, transport.name, f"undeliverable for too long: {outcome.detail}"
            )
        delay = backoff(
            claim.attempts, self.settings.retry_initial_seconds, self.settings.retry_max_seconds
        )
        self.journal.here().retry(claim.id, now, now + delay, transport.name, outcome.detail)
        log.warning("delivery_deferred", id=claim.id, route=claim.route, attempts=claim.attempts,
                    retry_in=round(delay, 1), error=outcome.detail[:200])  # fmt: skip
        return None

    def _park(self, claim: Claim, transport: str, reason: str) -> tuple[str, str]:
        self.journal.here().park(claim.id, self.clock(), transport, reason)
        log.error("delivery_parked", id=claim.id, route=claim.route, error=reason[:200])
        return claim.id, reason


def journal_row(meta: dict[str, Any]) -> dict[str, Any]:
    """The journal row of a spooled message: as the SMTP side wrote it into the spool file's
    metadata, or (for a file from before that) rebuilt from the decision summary."""
    row = meta.get("journal")
    if isinstance(row, dict) and row.get("id") == meta.get("id"):
        return {**row, "state": QUEUED}
    decision = meta.get("decision", {})
    sender = str(meta.get("mail_from", ""))
    return {
        "id": meta["id"],
        "received_at": meta["received_at"],
        "peer": meta.get("peer_ip"),
        "sender_domain": sender.rpartition("@")[2].lower() or None,
        "urn": decision.get("urn"),
        "court": decision.get("court"),
        "route": decision.get("route"),
        "mailbox": decision.get("mailbox"),
        "action": decision.get("action", "deliver"),
        "rule": decision.get("rule"),
        "reasons": ["recovered from the spool after a restart"],
        "rules_version": decision.get("rules"),
        "tags": decision.get("tags") or [],
        "state": QUEUED,
    }


async def _deliver(transport: Transport, delivery: Delivery) -> Outcome:
    try:
        return Outcome("delivered", await transport.deliver(delivery))
    except PermanentDeliveryError as exc:
        return Outcome("permanent", str(exc))
    except Exception as exc:  # noqa: BLE001 - a transport bug becomes a logged retry
        return _temporary(delivery.id, exc)


def _temporary(message_id: str, exc: Exception) -> Outcome:
    if not isinstance(exc, TemporaryDeliveryError):
        log.exception("transport_failed_unexpectedly", id=message_id)  # retried: a bug, not fate
    return Outcome("temporary", str(exc) or repr(exc))


def backoff(attempts: int, initial: float, ceiling: float) -> float:
    """Exponential back-off with ±20% jitter, so retries after an outage do not stampede."""
    delay = min(ceiling, initial * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.8, 1.2)
