"""`mailrouter serve`: the gateway assembled from its parts, started, reloaded and stopped.

Start-up: load and validate the rules (refuse to start on bad rules), open the spool and the
journal, clear half-written spool files, start delivery (a child process by default, see
deliver/process.py; it adopts spool files the journal does not know and puts attempts a crash
interrupted back in the queue), then listen. SIGHUP (or `mailrouter reload`, or a changed file
with `rules.watch`) reloads the rules: rules that fail validation or any of their samples leave
the running rules in place, and the outcome is reported (`mailrouter status`, /readyz).
SIGTERM stops accepting connections, answers open sessions 421 (a message under way first gets
its reply), lets deliveries under way finish, and exits. Only one gateway runs on a var_dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import os
import signal
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mailrouter import health, logs, status_page
from mailrouter.config import Settings
from mailrouter.control import SOCKET_NAME, ControlServer
from mailrouter.decide import decide
from mailrouter.deliver.base import Transport
from mailrouter.deliver.process import DeliveryProcess
from mailrouter.deliver.transports import open_transports
from mailrouter.deliver.worker import DeliveryQueue
from mailrouter.http import HttpServer, Response
from mailrouter.ingest.admission import Admission
from mailrouter.ingest.handler import GatewayHandler, StorageFull, is_storage_error
from mailrouter.ingest.imap_pull import ImapPuller
from mailrouter.ingest.protocol import GatewaySMTP
from mailrouter.ingest.workers import Acceptors, ToParent
from mailrouter.metrics import CONTENT_TYPE as METRICS_TYPE
from mailrouter.metrics import GatewayMetrics
from mailrouter.model import Envelope
from mailrouter.notify.outbox import NoticeSender, Notifier, failure_notices
from mailrouter.policy.auth import peer_is_trusted
from mailrouter.rules import reload
from mailrouter.rules.reload import ReloadOutcome
from mailrouter.rules.ruleset import Ruleset, load_ruleset
from mailrouter.rules.samples import run_samples
from mailrouter.store.database import DatabaseError
from mailrouter.store.db_spool import open_journal, open_spool
from mailrouter.store.journal import JournalPool
from mailrouter.store.lock import DataDirLock
from mailrouter.store.retention import Retention
from mailrouter.store.spool import Spool

log = logs.get("mailrouter.gateway")


RECENT_REFRESH_SECONDS = 30.0


class RecentUrns:
    """URNs seen lately (for the `resubmission` tag): a snapshot decide() can read without I/O,
    loaded from the journal at start-up, kept up to date as messages arrive, and taken again
    from the journal every RECENT_REFRESH_SECONDS for what other workers and nodes saw."""

    def __init__(self, window_days: float, seen: dict[str, float] | None = None) -> None:
        self.window_days = window_days
        self._seen = dict(seen or {})

    def __contains__(self, urn: object) -> bool:
        at = self._seen.get(urn) if isinstance(urn, str) else None
        return at is not None and at >= time.time() - self.window_days * 86400

    def note(self, urn: str | None, at: float) -> None:
        if urn:
            self._seen[urn] = at

    def merge(self, seen: dict[str, float]) -> None:
        """Take in what the journal holds; forget what is past the window."""
        horizon = time.time() - self.window_days * 86400
        merged = {u: at for u, at in self._seen.items() if at >= horizon}
        for urn, at in seen.items():
            if at > merged.get(urn, 0.0):
                merged[urn] = at
        self._seen = merged  # one assignment: a decision in a thread sees old or new, whole

    async def refresh(self, journal: JournalPool) -> None:
        while True:
            await asyncio.sleep(RECENT_REFRESH_SECONDS)
            try:
                self.merge(await journal("recent_urns", time.time() - self.window_days * 86400))
            except Exception as exc:  # noqa: BLE001 - the tag waits for the next refresh
                log.warning("recent_urns_refresh_failed", error=str(exc)[:200])


class Gateway:
    def __init__(
        self,
        settings: Settings,
        *,
        listen: bool = True,
        pull: bool | None = None,
        acceptor: bool = False,
    ) -> None:
        """`listen`: accept SMTP; `pull`: watch the IMAP mailbox of settings.pull (default:
        as settings.pull.enabled says); `acceptor`: one of the extra processes of
        `smtp.workers` (ingest/workers.py), which only listens and spools."""
        self.settings = settings
        self.listen = listen
        self.acceptor = acceptor
        self.pulling = (settings.pull.enabled if pull is None else pull) and not acceptor
        self.ruleset: Ruleset = load_ruleset(settings.rules_dir)
        self.journal = open_journal(settings, threads=32)
        self.spool = open_spool(settings, self.journal)
        self.outbox = Spool(settings.outbox_dir)
        self.notifier = Notifier(settings, self.journal, self.spool, self.outbox, self._rules)
        self.recent = RecentUrns(self.ruleset.settings.resubmission_window_days)
        self.decide_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="decide")
        self.transports: dict[str, Transport] = {}
        self.queue: DeliveryQueue | DeliveryProcess | ToParent
        self.notice_sender: NoticeSender | None = None
        self.acceptors: Acceptors | None = None
        if acceptor:
            self.queue = ToParent()  # the gateway that started us hands the ids to delivery
        elif settings.delivery.separate_process:
            self.queue = DeliveryProcess(settings)  # the child sends the notices too
        else:
            self.transports = open_transports(settings, self.ruleset.routes)
            self.notice_sender = NoticeSender(settings, self.outbox, self.journal)
            self.queue = DeliveryQueue(
                settings.delivery, self.spool, self.journal, self.transports,
                on_parked=failure_notices(self.notifier, self.notice_sender),
            )  # fmt: skip
        self.puller = ImapPuller(self) if self.pulling else None
        smtp = settings.smtp
        self.limit = Admission(
            smtp.max_sessions, per_client=smtp.max_sessions_per_client,
            relay_reserve=smtp.relay_reserve, timeout=smtp.timeout,
            stress_timeout=smtp.stress_timeout,
            is_relay=lambda ip: peer_is_trusted(ip, self.ruleset.senders.trusted_relays),
        )  # fmt: skip
        # Large messages loaded and decided at once: the memory bound with many arriving.
        self.large_gate = asyncio.Semaphore(smtp.large_messages_at_once)
        self.server: asyncio.base_events.Server | None = None
        self._stopped = asyncio.Event()
        self.last_reload: ReloadOutcome | None = None
        self.retention = Retention(settings.retained_dir, settings.retention.days)
        self._purger: asyncio.Task[None] | None = None
        # One gateway per var_dir: taken last here (nothing above writes mail or the journal,
        # so a failure above leaves no lock held), and before start() does either. An
        # acceptor works under the lock of the gateway that started it.
        self.lock: DataDirLock | None = None
        if not acceptor:
            self.lock = DataDirLock(settings.var_dir)
            self.lock.acquire()
        self.control = ControlServer(self, settings.var_dir / SOCKET_NAME)
        self.metrics = GatewayMetrics(
            settings.spool_dir, lambda: self.limit.active, reports=acceptor
        )
        self.metrics.running(self.ruleset.fingerprint)
        self.http = HttpServer(
            {"/": lambda params: status_page.render(self, params),
             "/healthz": lambda _: health.healthz(self), "/readyz": lambda _: health.readyz(self),
             "/metrics": lambda _: self._metrics()},
            settings.http.host, settings.http.port,
        )  # fmt: skip
        self._watcher: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None

    # --- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        await self.journal.open()
        since = time.time() - self.ruleset.settings.resubmission_window_days * 86400
        self.recent = RecentUrns(
            self.ruleset.settings.resubmission_window_days, await self.journal("recent_urns", since)
        )
        self._refresher = asyncio.create_task(self.recent.refresh(self.journal), name="recent")
        if self.acceptor:
            return await self._start_acceptor()
        await self.recover()
        self._warm_up()
        if isinstance(self.queue, DeliveryProcess):
            await self.queue.start()  # the child recovers the queue, then starts
        else:
            await self.queue.recover()
            self.queue.start()
        if self.notice_sender is not None:
            self.notice_sender.start()
        if self.puller is not None:
            self.puller.start()
        await self.control.start()
        if self.settings.http.enabled:
            await self.http.start()
        self._purger = asyncio.create_task(self._purge_retained(), name="retention-purge")
        if self.settings.rules.watch:
            self._watcher = asyncio.create_task(self._watch_rules(), name="rules-watch")
        self._sample_check()
        if self.listen:
            await self._listen()
            if self.settings.smtp.workers > 1:
                await self._start_acceptors()
        # Everything loaded so far lives as long as the process: keep the collector off it.
        gc.freeze()
        log.info(
            "started",
            listen=[_address(s.getsockname()) for s in self.server.sockets] if self.server else [],
            pull=self.puller.source if self.puller else None,
            rules=str(self.settings.rules_dir),
            rules_version=self.ruleset.fingerprint,
            spool=str(self.settings.spool_dir),
            journal=_shown(self.settings.journal_target),
            delivery={
                route: self.settings.delivery.transport_for(route) for route in self.ruleset.routes
            },
            maildir=str(self.settings.maildir_root),
            notices=f"{self.settings.notices.smtp.host}:{self.settings.notices.smtp.port}"
            if self.settings.notices.enabled
            else None,
            tls=self.settings.smtp.tls_cert is not None,
            http=f"{self.settings.http.host}:{self.http.port}" if self.http.port else None,
            workers=self.settings.smtp.workers,
        )

    async def _start_acceptors(self) -> None:
        """The other `smtp.workers - 1` processes, on the port this one bound."""
        smtp = self.settings.smtp.model_copy(update={"port": self.port})
        settings = self.settings.model_copy(update={"smtp": smtp})
        self.acceptors = Acceptors(
            settings, self.settings.smtp.workers - 1, self.queue.submit, self.metrics.add_report
        )
        await self.acceptors.start()

    async def _start_acceptor(self) -> None:
        """An acceptor: rules, journal and spool as the gateway has them; it listens, and the
        rest (delivery, control, HTTP, retention, watching the rules) is the gateway's."""
        self._warm_up()
        await self._listen()
        gc.freeze()
        log.info("acceptor_listening", port=self.port, pid=os.getpid(),
                 rules_version=self.ruleset.fingerprint)  # fmt: skip

    def _count_reply(self, code: str) -> None:
        self.metrics.count_reply(code)

    def _rules(self) -> Ruleset:
        return self.ruleset

    async def _listen(self) -> None:
        smtp = self.settings.smtp
        handler = GatewayHandler(self)
        tls = self._tls_context()

        def session() -> GatewaySMTP:
            return GatewaySMTP(
                handler,
                limit=self.limit,
                hostname=smtp.hostname,
                data_size_limit=smtp.max_message_size,
                enable_SMTPUTF8=True,
                decode_data=False,
                tls_context=tls,
                timeout=smtp.timeout,
                command_call_limit=smtp.command_call_limit,
                spill_dir=self.spool.tmp,
                large_gate=self.large_gate,
                on_reply=self._count_reply,
            )

        self.server = await asyncio.get_running_loop().create_server(
            session, smtp.host, smtp.port, reuse_port=smtp.workers > 1 or None
        )

    def _sample_check(self) -> None:
        """The rules' samples at start-up: a failure is logged loudly, but the gateway starts
        (these are the rules deployed; a reload is where a failing sample refuses)."""
        failed = [r.describe() for r in run_samples(self.ruleset) if not r.passed]
        if failed:
            log.error("rules_samples_failing", rules_version=self.ruleset.fingerprint,
                      problems=failed[:50])  # fmt: skip

    def _warm_up(self) -> None:
        """Decide one made-up message before listening, so the first sender does not pay for
        loading the holiday calendar, the address validator and the rest."""
        front_door = self.ruleset.mailboxes.front_door[0]
        sample = (
            "From: Warm Up <warm.up@example.co.uk.cjsm.net>\r\n"
            f"To: <{front_door}>\r\nSubject: URN 20AB1234521 Walsall MC\r\n\r\n"
            "Defendant: A SAMPLE\r\nDOB: 01/01/1990\r\nHearing date: 01/01/2030\r\n"
            "Request: warm-up\r\n"
        ).encode()
        envelope = Envelope("warm.up@example.co.uk.cjsm.net", (front_door,), "127.0.0.1")
        decide(envelope, sample, self.ruleset, dt.datetime.now(dt.UTC), recent_urns=())

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def recover(self) -> None:
        """After a crash: half-written spool files (never answered 250) go. The delivery side
        makes the journal whole again when it starts (DeliveryQueue.recover)."""
        discarded = await asyncio.to_thread(self.spool.discard_temporary)
        log.info("spool_checked", discarded_partial=discarded)

    async def serve(self) -> None:
        """Run until SIGTERM/SIGINT; SIGHUP reloads the rules."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopped.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload_rules)
        await self._stopped.wait()
        await self.stop()

    def request_stop(self) -> None:
        self._stopped.set()

    async def stop(self, grace: float = 30.0) -> None:
        log.info("stopping", sessions=self.limit.active, backlog=self.queue.backlog)
        for task in (self._watcher, self._purger, self._refresher):
            if task is not None:
                task.cancel()
        await self.control.stop()
        await self.http.stop()
        if self.puller is not None:
            await self.puller.stop()  # what it took is in the journal; the rest waits
        if self.server is not None:
            self.server.close()  # no new connections
            self.limit.close_all()  # 421 to each session, once a message under way is done
            if self.acceptors is not None:
                await self.acceptors.stop(grace)  # theirs likewise, while ids still reach delivery
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.limit.idle.wait(), grace)
        await self.queue.stop(grace)
        if self.notice_sender is not None:
            await self.notice_sender.stop()
        for transport in self.transports.values():
            await transport.close()
        await self.journal.close()
        self.spool.close()
        self.outbox.close()
        if self.lock is not None:
            self.lock.release()
        self.decide_pool.shutdown(wait=False)
        log.info("stopped")

    def reload_rules(self) -> ReloadOutcome:
        """Swap in the rules on disk if they load, validate and pass all their samples; the
        running rules stay otherwise. The outcome is kept (`last_reload`) and logged."""
        rules, outcome = reload.candidate(self.settings.rules_dir, self.ruleset)
        self.last_reload = outcome  # before the swap: whoever sees the new rules sees why
        self.metrics.reloads.labels(result="accepted" if rules is not None else "refused").inc()
        if rules is not None:
            self.metrics.running(rules.fingerprint)
            self.ruleset = rules  # one assignment: a session sees the old or the new, whole
            self.recent.window_days = rules.settings.resubmission_window_days
            log.info("rules_reloaded", rules_version=rules.fingerprint)
            if self.acceptors is not None:
                self.acceptors.signal(signal.SIGHUP)  # each loads and checks the same files
        else:
            log.error("rules_reload_refused", rules_version=outcome.running,
                      candidate=outcome.version, problems=list(outcome.problems))  # fmt: skip
        return outcome

    async def _watch_rules(self) -> None:
        """Reload when a file under the rules directory changes (`rules.watch`); a refused
        edit is not tried again until the files change once more."""
        seen = _snapshot(self.settings.rules_dir)
        while True:
            await asyncio.sleep(self.settings.rules.watch_seconds)
            now = await asyncio.to_thread(_snapshot, self.settings.rules_dir)
            if now != seen:
                seen = now
                self.reload_rules()

    # --- the accept path (called by the SMTP handler) -----------------------------------

    async def accept(self, message_id: str, meta: dict[str, Any], raw: bytes) -> None:
        """Make the message durable; only then may the caller answer 250. Its journal row is
        in `meta` and recorded by the delivery side with its first claim."""
        try:
            await self.journal.run(self.spool_and_keep, message_id, meta, raw)
        except Exception as exc:
            if is_storage_error(exc):
                raise StorageFull(str(exc)) from exc
            raise
        self.queue.submit(message_id)

    async def _metrics(self) -> Response:
        totals = await self.journal("totals", time.time())
        body = await asyncio.to_thread(self.metrics.render, totals)
        return Response(200, body, METRICS_TYPE)

    def spool_and_keep(self, message_id: str, meta: dict[str, Any], raw: bytes) -> None:
        """Write the spool file (blocking: call it in a thread), and retain the message."""
        self.spool.write(message_id, meta, raw)
        try:
            path = self.spool.path(message_id)
            if path is not None:
                self.retention.link(path, message_id, meta["received_at"])
            else:
                self.retention.keep(message_id, meta, raw)
        except OSError as exc:  # retention is a record, never a reason to refuse mail
            log.warning("retention_failed", id=message_id, error=str(exc))

    async def record_refusal(
        self, row: dict[str, Any], meta: dict[str, Any] | None = None, raw: bytes = b""
    ) -> None:
        try:
            await self.journal("record", row)
        except Exception:
            log.exception("journal_record_failed", id=row.get("id"), action=row.get("action"))
        if meta is not None:
            await self.keep_refused(row["id"], meta, raw)

    async def keep_refused(self, message_id: str, meta: dict[str, Any], raw: bytes) -> None:
        """Retain a refused message (for replay); never a reason to fail."""
        if not self.retention.enabled:
            return
        try:
            await asyncio.to_thread(self.retention.keep, message_id, meta, raw)
        except OSError as exc:
            log.warning("retention_failed", id=message_id, error=str(exc))

    async def _purge_retained(self) -> None:
        """Drop retained messages past `retention.days`, and refusals before a decision past
        `trace.refusals_days`, at start and then every hour."""
        while True:
            try:
                removed = await asyncio.to_thread(self.retention.purge)
                before = time.time() - self.settings.trace.refusals_days * 86400
                forgotten = await self.journal("prune_refusals", before)
            except (OSError, *DatabaseError) as exc:
                log.warning("retention_purge_failed", error=str(exc))
            else:
                if removed or forgotten:
                    log.info("retention_purged", messages=removed, refusals=forgotten)
            await asyncio.sleep(3600)

    # --- parts ----------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext | None:
        smtp = self.settings.smtp
        if smtp.tls_cert is None or smtp.tls_key is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(smtp.tls_cert, smtp.tls_key)
        return context


def _snapshot(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What the rules directory holds: (path, size, mtime) of every file in it."""
    found = []
    for path in sorted(directory.rglob("*")):
        with contextlib.suppress(OSError):
            if path.is_file():
                stat = path.stat()
                found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(found)


def _shown(target: str | Path) -> str:
    """Where the journal is, without a password a URL may carry."""
    if isinstance(target, Path):
        return str(target)
    scheme, _, rest = target.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def _address(sockname: Any) -> str:
    host, port = sockname[0], sockname[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


async def run(settings: Settings, *, listen: bool = True, pull: bool | None = None) -> None:
    gateway = Gateway(settings, listen=listen, pull=pull)
    await gateway.start()
    await gateway.serve()
