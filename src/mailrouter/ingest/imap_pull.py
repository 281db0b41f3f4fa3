"""IMAP pull mode: route the mail that lands in a shared mailbox, where no SMTP session exists.

The puller watches one folder (IDLE, or polling when the server lacks it). Each message there
goes through the same path as SMTP mail: decide(), then the spool and the delivery queue; a
bounce becomes a notice to the sender (RFC 3834 rules, notify.outbox), a reject a quiet move.
The original is then filed: Routed or Held once the journal says its delivery is done (never
before), Bounced or Rejected once the decision and any notice are recorded. A parked message
stays where it is until ops retry it.

Restart-safe: a message is known by (source, UIDVALIDITY, UID) in the journal. Its gateway id
is recorded before anything else happens to it (`pull_take`), so a crash mid-way takes it again
under the same id: the spool write and the notice admission are idempotent by id, so nothing is
delivered or told twice, and nothing is skipped. A new UIDVALIDITY means the server renumbered
the folder: what is still in it is taken afresh (`pull_take` keys include UIDVALIDITY).

Every IMAP call is bounded (mailrouter.imap); any failure (dropped connection, BYE, a hung
command) tears the connection down and reconnects with back-off, from 1 s up to a minute.

A message the gateway cannot handle (a fault while deciding or recording it, not a fault of
the server or of our storage) is a poison message: it is filed in the Failed folder with a
journal row saying so, counted, and the rest of the folder goes on. It is never retried in a
loop that would stop every message after it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import aioimaplib

from mailrouter import imap, logs
from mailrouter.aio import cancel_and_wait
from mailrouter.decide import decide
from mailrouter.dnskeys import lookup_keys_async
from mailrouter.ingest import checks
from mailrouter.ingest.handler import is_storage_error
from mailrouter.ingest.records import journal_row, spool_meta
from mailrouter.model import Action, Envelope
from mailrouter.notify import autoreply
from mailrouter.notify.build import Origin
from mailrouter.parse.headers import header_block, wanted_fields
from mailrouter.parse.mime import header_text
from mailrouter.policy.addresses import mailbox_from_header
from mailrouter.policy.auth import dkim_key_names, peer_is_trusted
from mailrouter.store.journal import DECIDED, DELIVERED, PARKED, REFUSED, TAKEN, Pulled
from mailrouter.store.spool import new_id

if TYPE_CHECKING:
    from mailrouter.gateway import Gateway

log = logs.get("mailrouter.pull")

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)
_FETCH_SIZE = re.compile(rb"UID (\d+).*RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+).*UID (\d+)")
_MAX_BACKOFF = 60.0
_FROM = frozenset({"from"})


class ImapPuller:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.settings = gateway.settings.pull
        pull = self.settings
        self.source = f"{pull.username}@{pull.host}:{pull.port}/{pull.folder}"
        self._tls = imap.tls_context(pull)
        self._task: asyncio.Task[None] | None = None
        self.sweeps = 0  # completed sweeps, for tests and logs
        self.failed = 0  # poison messages filed in the Failed folder

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="imap-pull")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    # --- connection ---------------------------------------------------------------------

    async def _run(self) -> None:
        pause = 1.0
        while True:
            connection = imap.client(self.settings, self._tls)
            sweeps = self.sweeps
            try:
                await self._session(connection)  # returns only by raising
            except (*imap.FAILURES, imap.ImapRefused) as exc:
                log.warning("pull_connection_lost", source=self.source, error=repr(exc)[:200])
            except Exception:
                log.exception("pull_failed", source=self.source)
            finally:
                await imap.drop(connection)
            if self.sweeps > sweeps:
                pause = 1.0  # that connection worked for a while: start the back-off afresh
            log.info("pull_reconnecting", source=self.source, retry_in=pause)
            await asyncio.sleep(pause)
            pause = min(_MAX_BACKOFF, pause * 2)

    async def _session(self, connection: aioimaplib.IMAP4_SSL) -> None:
        pull = self.settings
        await imap.log_in(connection, pull)
        for folder in self._targets():
            await imap.bounded(connection.create(imap.quote(folder)), pull)  # NO if it exists
        selected = await imap.bounded(connection.select(imap.quote(pull.folder)), pull)
        if selected.result != "OK":
            raise imap.ImapRefused(f"SELECT {pull.folder}: {imap.text(selected)}")
        found = _UIDVALIDITY.search(b"\n".join(imap.lines(selected)))
        if found is None:
            raise imap.ImapRefused(f"SELECT {pull.folder} gave no UIDVALIDITY")
        uidvalidity = int(found.group(1))
        idle = connection.has_capability("IDLE")
        log.info("pull_connected", source=self.source, uidvalidity=uidvalidity, idle=idle)
        while True:
            waiting = await self.sweep(connection, uidvalidity)
            self.sweeps += 1
            if waiting:
                wait = pull.recheck_seconds
            else:
                wait = pull.idle_seconds if idle else pull.poll_seconds
            if idle:
                await self._idle(connection, wait)
            else:
                await asyncio.sleep(wait)

    async def _idle(self, connection: aioimaplib.IMAP4_SSL, seconds: float) -> None:
        """Wait up to `seconds` for the server to announce new mail (RFC 2177)."""
        pull = self.settings
        task = await imap.bounded(connection.idle_start(timeout=seconds), pull)
        try:
            while True:
                async with asyncio.timeout(seconds + pull.timeout):
                    push = await connection.wait_server_push()
                if push == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                if any(b"EXISTS" in line or b"BYE" in line for line in _as_lines(push)):
                    break
        finally:
            if connection.has_pending_idle():
                connection.idle_done()
        async with asyncio.timeout(pull.timeout):
            done = await task
        if done.result != "OK":
            raise imap.ImapRefused(f"IDLE: {imap.text(done)}")

    # --- one pass over the folder --------------------------------------------------------

    async def sweep(self, connection: aioimaplib.IMAP4_SSL, uidvalidity: int) -> bool:
        """Take what is new, file what is done. True if some originals still wait for their
        delivery (so the caller looks again soon)."""
        pull = self.settings
        journal = self.gateway.journal
        reply = await imap.bounded(connection.uid_search("ALL", charset=None), pull)
        if reply.result != "OK":
            raise imap.ImapRefused(f"UID SEARCH: {imap.text(reply)}")
        uids = sorted(
            {int(n) for line in imap.lines(reply)[:-1] for n in line.split() if n.isdigit()}
        )
        known: dict[int, Pulled] = await journal("pulled", self.source, uidvalidity, uids)
        fresh = [uid for uid in uids if uid not in known or known[uid].state == TAKEN]
        if fresh:
            sizes = await self._sizes(connection, fresh[: pull.batch])
            for uid in fresh[: pull.batch]:
                await self._take_or_file(connection, uidvalidity, uid, sizes.get(uid, 0))
            known = await journal("pulled", self.source, uidvalidity, uids)
        return await self._file(connection, uidvalidity, known) or len(fresh) > pull.batch

    async def _sizes(self, connection: aioimaplib.IMAP4_SSL, uids: list[int]) -> dict[int, int]:
        reply = await imap.bounded(
            connection.uid("fetch", _uid_set(uids), "(UID RFC822.SIZE)"), self.settings
        )
        sizes: dict[int, int] = {}
        for line in imap.lines(reply):
            found = _FETCH_SIZE.search(line)
            if found is not None:
                uid, size = (found.group(1), found.group(2)) if found.group(1) else (
                    found.group(4), found.group(3))  # fmt: skip
                sizes[int(uid)] = int(size)
        return sizes

    async def _fetch(self, connection: aioimaplib.IMAP4_SSL, uid: int) -> bytes | None:
        reply = await imap.bounded(
            connection.uid("fetch", str(uid), "(BODY.PEEK[])"), self.settings
        )
        if reply.result != "OK":
            raise imap.ImapRefused(f"UID FETCH {uid}: {imap.text(reply)}")
        literals = [bytes(line) for line in reply.lines if isinstance(line, bytearray)]
        return literals[0] if literals else None  # None: gone meanwhile (another client)

    async def _take_or_file(
        self, connection: aioimaplib.IMAP4_SSL, uidvalidity: int, uid: int, size: int
    ) -> None:
        try:
            await self._take(connection, uidvalidity, uid, size)
        except (*imap.FAILURES, imap.ImapRefused):
            raise  # the server's fault: reconnect and take it again
        except Exception as exc:
            if is_storage_error(exc):
                raise  # ours (a full disk): take it again once there is room
            self.failed += 1
            now = dt.datetime.now(dt.UTC)
            gateway_id: str = await self.gateway.journal(
                "pull_take", self.source, uidvalidity, uid, new_id(now.timestamp()),
                now.timestamp(),
            )  # fmt: skip
            log.error("pull_message_failed", id=gateway_id, uid=uid, error=type(exc).__name__,
                      exc_info=exc)  # fmt: skip
            why = f"the gateway could not handle this message ({type(exc).__name__})"
            await self._decided(uidvalidity, uid, self.settings.failed_folder, gateway_id,
                                "failed", now, why, action="hold")  # fmt: skip

    async def _take(
        self, connection: aioimaplib.IMAP4_SSL, uidvalidity: int, uid: int, size: int
    ) -> None:
        gateway = self.gateway
        pull = self.settings
        now = dt.datetime.now(dt.UTC)
        gateway_id: str = await gateway.journal(
            "pull_take", self.source, uidvalidity, uid, new_id(now.timestamp()), now.timestamp()
        )
        if size > gateway.settings.smtp.max_message_size:
            log.warning("pull_too_big", id=gateway_id, uid=uid, size=size)
            await self._decided(uidvalidity, uid, pull.held_folder, gateway_id, "too-big", now,
                                f"{size} bytes: larger than the gateway takes")  # fmt: skip
            return
        raw = await self._fetch(connection, uid)
        if raw is None:
            return
        max_received = gateway.settings.smtp.max_received_headers
        refused = checks.pulled_reason(raw, max_received)
        if refused is not None:
            rule = "loop" if refused in (checks.OURS, checks.TOO_MANY_HOPS) else "malformed"
            log.warning("pull_refused", id=gateway_id, uid=uid, why=refused)
            await self._decided(uidvalidity, uid, pull.rejected_folder, gateway_id, rule, now,
                                refused)  # fmt: skip
            return

        ruleset = gateway.ruleset
        return_path = autoreply.return_path(raw)
        header_from = _header_from(raw)
        mail_from = return_path if return_path is not None else header_from
        rcpt = pull.recipient or ruleset.mailboxes.front_door[0]
        keys: dict[str, bytes] = {}
        names = dkim_key_names(raw) if ruleset.senders.verify_dkim else []
        if names and not peer_is_trusted(pull.peer_ip, ruleset.senders.trusted_relays):
            keys = await lookup_keys_async(names)  # DKIM is evidence here as over SMTP
        envelope = Envelope(mail_from, (rcpt,), pull.peer_ip, keys)
        decision = await asyncio.get_running_loop().run_in_executor(
            gateway.decide_pool,
            lambda: decide(envelope, raw, ruleset, now, recent_urns=gateway.recent),
        )
        gateway.recent.note(decision.urn, now.timestamp())
        row = journal_row(gateway_id, now.timestamp(), pull.host, mail_from, decision, len(raw),
                          ruleset.fingerprint)  # fmt: skip
        if gateway.settings.trace.keep_addresses:
            row["sender"] = mail_from[:320]
        origin = Origin(gateway_id, decision.message_id, now.timestamp())
        action = decision.action
        meta = spool_meta(
            gateway_id, now.timestamp(), decision, ruleset,
            helo=pull.host, peer_ip=pull.peer_ip or pull.host, protocol="IMAP",
            hostname=gateway.settings.smtp.hostname, mail_from=mail_from, rcpt=[rcpt],
        )  # fmt: skip
        meta["journal"] = row
        if keys:
            meta["dkim_keys"] = {name: key.decode("ascii", "replace") for name, key in keys.items()}
        if action in (Action.DELIVER, Action.HOLD):
            if not await asyncio.to_thread(gateway.spool.exists, gateway_id) and not (
                await gateway.journal("known", [gateway_id])
            ):
                await gateway.journal.run(gateway.spool_and_keep, gateway_id, meta, raw)
            target = pull.held_folder if action is Action.HOLD else pull.routed_folder
            await gateway.journal("pull_decided", self.source, uidvalidity, uid, target, None)
            gateway.queue.submit(gateway_id)
            await gateway.notifier.acknowledge(meta, raw, decision, mail_from)
        elif action is Action.BOUNCE:
            # The notice first: admitting it again after a crash is a no-op (one per message).
            await gateway.notifier.bounce(decision, raw, origin, mail_from)
            await gateway.journal(
                "pull_decided", self.source, uidvalidity, uid, pull.bounced_folder, row
            )
            await gateway.keep_refused(gateway_id, meta, raw)
        else:  # reject: no electronic reply at all (seeds/000)
            await gateway.journal(
                "pull_decided", self.source, uidvalidity, uid, pull.rejected_folder, row
            )
            await gateway.keep_refused(gateway_id, meta, raw)
        log.info("pulled", id=gateway_id, uid=uid, action=action.value, route=decision.route,
                 rule=decision.rule, urn=decision.urn, missing=decision.missing or None,
                 size=len(raw))  # fmt: skip

    async def _decided(
        self,
        uidvalidity: int,
        uid: int,
        target: str,
        gateway_id: str,
        rule: str,
        now: dt.datetime,
        why: str,
        *,
        action: str | None = None,
    ) -> None:
        """File a message that was never decided (too big, a loop, a poison message), with a
        journal row."""
        row = {
            "id": gateway_id,
            "received_at": now.timestamp(),
            "peer": self.settings.host,
            "action": action or ("hold" if target == self.settings.held_folder else "reject"),
            "rule": rule,
            "reasons": [why],
            "state": REFUSED,
        }
        await self.gateway.journal("pull_decided", self.source, uidvalidity, uid, target, row)

    async def _file(
        self, connection: aioimaplib.IMAP4_SSL, uidvalidity: int, known: dict[int, Pulled]
    ) -> bool:
        """Move the originals whose fate is settled; True if others still wait."""
        ready: dict[str, list[int]] = {}
        waiting = False
        for uid, entry in known.items():
            if entry.state != DECIDED or entry.target is None:
                continue
            if entry.message_state in (REFUSED, DELIVERED):
                ready.setdefault(entry.target, []).append(uid)
            elif entry.message_state != PARKED:
                waiting = True
        for folder, uids in ready.items():
            await self._move(connection, sorted(uids), folder)
            await self.gateway.journal("pull_filed", self.source, uidvalidity, uids)
            log.info("pull_filed", folder=folder, count=len(uids))
        return waiting

    async def _move(self, connection: aioimaplib.IMAP4_SSL, uids: list[int], folder: str) -> None:
        pull = self.settings
        uid_set = _uid_set(uids)
        if connection.has_capability("MOVE"):
            reply = await imap.bounded(connection.uid("move", uid_set, imap.quote(folder)), pull)
            if reply.result != "OK":
                raise imap.ImapRefused(f"UID MOVE to {folder}: {imap.text(reply)}")
            return
        # RFC 3501 without MOVE (RFC 6851): copy, flag deleted, expunge those (UIDPLUS) or all.
        copied = await imap.bounded(connection.uid("copy", uid_set, imap.quote(folder)), pull)
        if copied.result != "OK":
            raise imap.ImapRefused(f"UID COPY to {folder}: {imap.text(copied)}")
        await imap.bounded(connection.uid("store", uid_set, "+FLAGS.SILENT", r"(\Deleted)"), pull)
        if connection.has_capability("UIDPLUS"):
            await imap.bounded(connection.uid("expunge", uid_set), pull)
        else:
            await imap.bounded(connection.expunge(), pull)

    def _targets(self) -> list[str]:
        pull = self.settings
        return [pull.routed_folder, pull.bounced_folder, pull.rejected_folder, pull.held_folder,
                pull.failed_folder]  # fmt: skip


def _uid_set(uids: list[int]) -> str:
    return ",".join(str(uid) for uid in uids)


def _as_lines(push: Any) -> list[bytes]:
    if isinstance(push, list):
        return [bytes(item) if isinstance(item, bytes | bytearray) else b"" for item in push]
    return [bytes(push)] if isinstance(push, bytes | bytearray) else []


def _header_from(raw: bytes) -> str:
    """The one From address, read as decide reads it; "" if there is not exactly one."""
    block, _ = header_block(raw)
    values = wanted_fields(block, _FROM)
    if len(values) != 1:
        return ""
    return mailbox_from_header(header_text(values[0][1], decode_words=False)) or ""
