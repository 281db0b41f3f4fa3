"""The delivery queue: spooled messages go to the teams, retried until they arrive.

A worker claims a message in the journal (so no other worker or node takes it), reads it from
the spool, composes what the team receives, hands it to the route's transport and records the
outcome. A temporary failure is retried with exponential back-off and jitter; once a message
has been undeliverable for `park_after_hours`, or on a permanent refusal, it is parked for ops
(`mailrouter queue list|retry|park`). The spool file is removed only after the journal records
the delivery. A periodic scan picks up retries that have come due.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mailrouter import logs
from mailrouter.config import DeliverySettings
from mailrouter.deliver.base import (
    Delivery,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    Transport,
)
from mailrouter.deliver.compose import compose
from mailrouter.store.journal import Claim
from mailrouter.store.spool import Spool, SpoolError

log = logs.get("mailrouter.deliver")

JournalCall = Callable[..., Awaitable[Any]]
ParkedHook = Callable[[str, str], Awaitable[None]]


class DeliveryQueue:
    def __init__(
        self,
        settings: DeliverySettings,
        spool: Spool,
        journal: JournalCall,
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
        if self._scanner is not None:
            self._scanner.cancel()
        for _ in self._tasks:
            self._queue.put_nowait(None)
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=grace)
            for task in late:
                task.cancel()  # its message stays "delivering" and is recovered at start-up
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._scanner is not None:
            await asyncio.gather(self._scanner, return_exceptions=True)

    async def _scan(self) -> None:
        while True:
            try:
                for message_id in await self.journal("due", self.clock()):
                    self.submit(message_id)
            except Exception:
                log.exception("due_scan_failed")
            await asyncio.sleep(self.settings.scan_seconds)

    async def _work(self) -> None:
        while True:
            message_id = await self._queue.get()
            if message_id is None:
                return
            try:
                await self.attempt(message_id)
            except Exception:
                log.exception("delivery_attempt_crashed", id=message_id)
            finally:
                self._pending.discard(message_id)

    async def attempt(self, message_id: str) -> None:
        now = self.clock()
        claim: Claim | None = await self.journal("claim", message_id, now)
        if claim is None:
            return
        transport = self.transports.get(self.settings.transport_for(claim.route))
        if transport is None:
            await self._park(claim, "none", f"no transport for route {claim.route}", now)
            return
        try:
            meta, raw = await asyncio.to_thread(self.spool.read, message_id)
        except (OSError, SpoolError) as exc:
            await self._park(claim, transport.name, f"spool file unreadable: {exc}", now)
            return
        delivery = Delivery(
            message_id,
            claim.route,
            claim.mailbox,
            str(meta.get("mail_from", "")),
            compose(raw, meta),
            claim.maybe_delivered,
        )
        try:
            detail = await transport.deliver(delivery)
        except PermanentDeliveryError as exc:
            await self._park(claim, transport.name, str(exc), self.clock())
        except Exception as exc:
            if not isinstance(exc, TemporaryDeliveryError):
                log.exception("transport_failed_unexpectedly", id=message_id)
            await self._retry(claim, transport.name, str(exc) or repr(exc))
        else:
            await self.journal("delivered", message_id, self.clock(), transport.name, detail)
            await asyncio.to_thread(self.spool.remove, message_id)
            log.info(
                "delivered",
                id=message_id,
                route=claim.route,
                transport=transport.name,
                attempts=claim.attempts,
            )

    async def _retry(self, claim: Claim, transport: str, error: str) -> None:
        now = self.clock()
        if now - claim.received_at >= self.settings.park_after_hours * 3600:
            await self._park(claim, transport, f"undeliverable for too long: {error}", now)
            return
        delay = backoff(
            claim.attempts, self.settings.retry_initial_seconds, self.settings.retry_max_seconds
        )
        await self.journal("retry", claim.id, now, now + delay, transport, error)
        log.warning(
            "delivery_deferred",
            id=claim.id,
            route=claim.route,
            attempts=claim.attempts,
            retry_in=round(delay, 1),
            error=error[:200],
        )

    async def _park(self, claim: Claim, transport: str, error: str, now: float) -> None:
        await self.journal("park", claim.id, now, transport, error)
        log.error("delivery_parked", id=claim.id, route=claim.route, error=error[:200])
        if self.on_parked is not None:
            await self.on_parked(claim.id, error)


def backoff(attempts: int, initial: float, ceiling: float) -> float:
    """Exponential back-off with ±20% jitter, so retries after an outage do not stampede."""
    delay = min(ceiling, initial * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.8, 1.2)
