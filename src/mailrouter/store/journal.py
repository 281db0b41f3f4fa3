"""The journal: every decision and every delivery attempt, searchable (by URN among others).

SQLite in WAL mode (the embedded default), so `mailrouter queue …` can read and change it while
the gateway runs; or PostgreSQL (`journal_url`), shared by several nodes (store/database.py
gives both one interface; store/migrations.py holds the schema). A row never holds a
defendant's name or date of birth: ids, sender domain, Message-ID, URN, court, route, action,
rule, reasons (written without personal data) and delivery state.

States of a message:
    refused     bounced or rejected in the SMTP session; never spooled, nothing to deliver
    queued      spooled and waiting for its next attempt (next_attempt_at)
    delivering  an attempt is under way, claimed by a node (claimed_by) until lease_until;
                after a crash it goes back to queued with maybe_delivered set, so the
                transport checks before delivering again (by this node at its start-up, by
                another once the lease has run out)
    delivered   in the team's mailbox; the spool file is removed
    parked      given up on (permanent refusal, or too long undeliverable); kept for ops

The spool file is what makes a message accepted; the journal follows it. The SMTP side only
writes the spool (the row to record travels in the spool file's metadata); the delivery side
records the row in the same transaction as its first claim, and at start-up adopts spool files
the journal does not know yet and puts interrupted attempts back in the queue. With the spool
in PostgreSQL the message and its row are written in one transaction (db_spool.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mailrouter.paths import private_dir
from mailrouter.store import migrations
from mailrouter.store.database import (
    PgConnection,
    connect_sqlite,
    is_postgresql,
)

T = TypeVar("T")

# What a new decision changes in a message's row (queue requeue).
_REDECIDED = ("urn", "court", "route", "mailbox", "action", "rule", "reasons", "tags", "audit",
              "rules_version", "hearing_date", "missing")  # fmt: skip

QUEUED, DELIVERING, DELIVERED, PARKED, REFUSED = (
    "queued",
    "delivering",
    "delivered",
    "parked",
    "refused",
)
DELETED = "deleted"  # by ops, with their reason in the attempts log; the row stays
STATES = (QUEUED, DELIVERING, DELIVERED, PARKED, REFUSED, DELETED)
# A pulled message (IMAP pull mode): taken (an id is assigned; a crash here means take it
# again, with the same id), decided (spooled or refused; waiting to be filed away), filed.
TAKEN, DECIDED, FILED = "taken", "decided", "filed"
# What became of a notice: admitted to the outbox, sent, failed for good, or not sent
# because it was a duplicate or over the sender's rate limit.
NOTICE_QUEUED, NOTICE_SENT, NOTICE_FAILED, NOTICE_LIMITED = "queued", "sent", "failed", "limited"


@dataclass(frozen=True, slots=True)
class Pulled:
    """One message of the watched IMAP folder, as the journal knows it."""

    uid: int
    id: str
    state: str
    target: str | None
    message_state: str | None  # the messages row's state, once there is one


@dataclass(frozen=True, slots=True)
class Claim:
    """A message taken for one delivery attempt."""

    id: str
    route: str
    mailbox: str | None
    attempts: int  # including this one
    received_at: float
    maybe_delivered: bool


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """What `mailrouter trace` looks for; None matches anything."""

    since: float
    until: float
    message_id: str | None = None  # the gateway id
    urn: str | None = None
    sender: str | None = None  # a domain, or an address (kept only with trace.keep_addresses)
    header_id: str | None = None  # the Message-ID
    action: str | None = None
    route: str | None = None
    rule: str | None = None
    limit: int = 100


class Journal:
    """One connection to the journal: `target` is the SQLite file, or a PostgreSQL URL."""

    def __init__(
        self,
        target: Path | str,
        node: str,
        *,
        timeout: float = 10.0,
        lease_seconds: float = 600.0,
        upgrade: bool = True,
    ) -> None:
        """`upgrade`: bring a SQLite journal's schema up to date (PostgreSQL's is only
        checked: `mailrouter db upgrade` moves it on, once for all nodes)."""
        self.node = node
        self.lease_seconds = lease_seconds
        self._db: Any
        if is_postgresql(target):
            self._path = ""
            self._db = PgConnection(str(target), timeout=timeout)
            self._begin = "BEGIN"
            self._lock_rows = " FOR UPDATE SKIP LOCKED"  # another node's claim is passed over
            migrations.check(self._db)
            return
        path = Path(target)
        private_dir(path.parent)
        if not path.exists():  # SQLite gives its -wal and -shm files the database's mode
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._path = str(path)
        self._db = connect_sqlite(path, timeout)
        self._begin = "BEGIN IMMEDIATE"  # one writer at a time: the whole file is the lock
        self._lock_rows = ""
        if upgrade and migrations.version(self._db) < migrations.LATEST:
            migrations.upgrade(self._db)  # once per journal, not at every connection
        migrations.check(self._db)  # a journal a newer mailrouter wrote is not ours to write

    def close(self) -> None:
        self._db.close()

    # --- decisions --------------------------------------------------------------------------

    def record(self, row: dict[str, Any]) -> None:
        """Insert a decision. `row` holds the columns of `messages` (see _SCHEMA)."""
        row = {**row, "node": row.get("node", self.node)}
        if isinstance(row.get("reasons"), list | tuple):
            row["reasons"] = json.dumps(row["reasons"])
        if isinstance(row.get("tags"), list | tuple):
            row["tags"] = ",".join(row["tags"])
        columns = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        self._db.execute(
            f"INSERT INTO messages ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING", row
        )

    def known(self, ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        chunk: list[str] = []
        for message_id in ids:
            chunk.append(message_id)
            if len(chunk) == 500:
                found |= self._known(chunk)
                chunk = []
        return found | self._known(chunk) if chunk else found

    def _known(self, ids: Sequence[str]) -> set[str]:
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"SELECT id FROM messages WHERE id IN ({marks})", ids)
        return {row[0] for row in rows}

    def recent_urns(self, since: float) -> dict[str, float]:
        rows = self._db.execute(
            "SELECT urn, MAX(received_at) FROM messages "
            "WHERE urn IS NOT NULL AND received_at >= ? GROUP BY urn",
            (since,),
        )
        return {urn: at for urn, at in rows}

    # --- delivery ---------------------------------------------------------------------------

    def claim(
        self, message_id: str, now: float, admit: dict[str, Any] | None = None
    ) -> Claim | None:
        """Take a queued, due message for an attempt; None if it is not there to take.
        `admit`: the message's row, recorded first if the journal does not have it yet."""
        with self._transaction():
            return self._claim(message_id, now, admit)

    def claim_many(
        self, wanted: Sequence[tuple[str, dict[str, Any] | None]], now: float
    ) -> dict[str, Claim]:
        """`claim` for several messages (id, row to admit) in one transaction: the ones
        taken, by id."""
        claims: dict[str, Claim] = {}
        with self._transaction():
            for message_id, admit in wanted:
                claim = self._claim(message_id, now, admit)
                if claim is not None:
                    claims[message_id] = claim
        return claims

    def _claim(self, message_id: str, now: float, admit: dict[str, Any] | None) -> Claim | None:
        if admit is not None:
            self.record(admit)
        # Queued and due; or claimed by a worker or node whose lease ran out (it died, or
        # hangs): then the message may have arrived already, and the transport checks first.
        row = self._db.execute(
            "SELECT route, mailbox, attempts, received_at, maybe_delivered, state FROM messages "
            "WHERE id = ? AND ((state = ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?))"
            f" OR (state = ? AND lease_until < ?)){self._lock_rows}",
            (message_id, QUEUED, now, DELIVERING, now),
        ).fetchone()
        if row is None:
            return None
        taken_over = row["state"] == DELIVERING
        self._db.execute(
            "UPDATE messages SET state = ?, attempts = attempts + 1, claimed_by = ?, "
            "lease_until = ?, maybe_delivered = ? WHERE id = ?",
            (DELIVERING, self.node, now + self.lease_seconds,
             int(taken_over or bool(row["maybe_delivered"])), message_id),
        )  # fmt: skip
        return Claim(
            message_id,
            row["route"],
            row["mailbox"],
            row["attempts"] + 1,
            row["received_at"],
            taken_over or bool(row["maybe_delivered"]),
        )

    def delivered(self, message_id: str, now: float, transport: str, detail: str) -> None:
        self.delivered_many([(message_id, transport, detail)], now)

    def delivered_many(self, done: Sequence[tuple[str, str, str]], now: float) -> None:
        """Record deliveries (id, transport, what the destination said) in one transaction."""
        with self._transaction():
            for message_id, transport, detail in done:
                self._db.execute(
                    "UPDATE messages SET state = ?, delivered_at = ?, last_error = NULL, "
                    "lease_until = NULL WHERE id = ?",
                    (DELIVERED, now, message_id),
                )
                self._attempt(message_id, now, transport, "delivered", detail)

    def retry(
        self, message_id: str, now: float, next_at: float, transport: str, error: str
    ) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE messages SET state = ?, next_attempt_at = ?, last_error = ?, "
                "maybe_delivered = 0, lease_until = NULL WHERE id = ?",
                (QUEUED, next_at, error, message_id),
            )
            self._attempt(message_id, now, transport, "temporary", error)

    def park(self, message_id: str, now: float, transport: str, error: str) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE messages SET state = ?, last_error = ?, lease_until = NULL WHERE id = ?",
                (PARKED, error, message_id),
            )
            self._attempt(message_id, now, transport, "parked", error)

    def due(self, now: float, limit: int = 500) -> list[str]:
        """Ids to attempt now: queued and due, or claimed under a lease that has run out."""
        rows = self._db.execute(
            "SELECT id FROM messages WHERE (state = ? AND (next_attempt_at IS NULL "
            "OR next_attempt_at <= ?)) OR (state = ? AND lease_until < ?) "
            "ORDER BY received_at LIMIT ?",
            (QUEUED, now, DELIVERING, now, limit),
        )
        return [row[0] for row in rows]

    def recover(self) -> int:
        """After a crash of this node's delivery side: the attempts it had under way go back to
        the queue, flagged so the transport first checks whether the message already arrived.
        (Another node's claims are its own; they are taken over only when their lease runs
        out.)"""
        cursor = self._db.execute(
            "UPDATE messages SET state = ?, maybe_delivered = 1, next_attempt_at = NULL, "
            "lease_until = NULL WHERE state = ? AND COALESCE(claimed_by, node) = ?",
            (QUEUED, DELIVERING, self.node),
        )
        return cursor.rowcount

    def state(self, message_id: str) -> str | None:
        row = self._db.execute("SELECT state FROM messages WHERE id = ?", (message_id,)).fetchone()
        return row[0] if row else None

    # --- IMAP pull mode ---------------------------------------------------------------------
    # A message of the watched folder is known by (source, UIDVALIDITY, UID): a new
    # UIDVALIDITY means the server renumbered the folder, and everything in it is new to us.

    def pulled(self, source: str, uidvalidity: int, uids: Sequence[int]) -> dict[int, Pulled]:
        found: dict[int, Pulled] = {}
        for start in range(0, len(uids), 500):
            chunk = uids[start : start + 500]
            rows = self._db.execute(
                "SELECT p.uid, p.id, p.state, p.target, m.state FROM pulled p "
                "LEFT JOIN messages m ON m.id = p.id WHERE p.source = ? AND p.uidvalidity = ? "
                f"AND p.uid IN ({','.join('?' * len(chunk))})",
                (source, uidvalidity, *chunk),
            )
            found.update({row[0]: Pulled(*row) for row in rows})
        return found

    def pull_take(self, source: str, uidvalidity: int, uid: int, new_id: str, now: float) -> str:
        """The gateway id of a pulled message: `new_id` the first time, the same id ever after."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO pulled (source, uidvalidity, uid, id, state, at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (source, uidvalidity, uid, new_id, TAKEN, now),
            )
            row = self._db.execute(
                "SELECT id FROM pulled WHERE source = ? AND uidvalidity = ? AND uid = ?",
                (source, uidvalidity, uid),
            ).fetchone()
        return str(row[0])

    def pull_decided(
        self,
        source: str,
        uidvalidity: int,
        uid: int,
        target: str,
        row: dict[str, Any] | None = None,
    ) -> None:
        """The message is spooled (or refused, with `row` its decision): it may be filed in
        `target` once it is delivered (at once, for a refusal)."""
        with self._transaction():
            if row is not None:
                self.record(row)
            self._db.execute(
                "UPDATE pulled SET state = ?, target = ? "
                "WHERE source = ? AND uidvalidity = ? AND uid = ?",
                (DECIDED, target, source, uidvalidity, uid),
            )

    def pull_filed(self, source: str, uidvalidity: int, uids: Iterable[int]) -> None:
        with self._transaction():
            self._db.executemany(
                "UPDATE pulled SET state = ? WHERE source = ? AND uidvalidity = ? AND uid = ?",
                [(FILED, source, uidvalidity, uid) for uid in uids],
            )

    # --- notices ------------------------------------------------------------------------

    def notice_admit(
        self, message_id: str, kind: str, recipient: str, now: float, per_hour: int | None
    ) -> str:
        """May this notice go? NOTICE_QUEUED if so: the first time for this message and kind,
        or again while that same notice is still waiting to be sent (its outbox file is then
        the same file). "duplicate" once it was sent or given up; NOTICE_LIMITED if
        `recipient` has had `per_hour` in the hour."""
        with self._transaction():
            existing = self.notice_state(message_id, kind)
            if existing is not None:
                return NOTICE_QUEUED if existing == NOTICE_QUEUED else "duplicate"
            state = NOTICE_QUEUED
            if per_hour is not None:
                (recent,) = self._db.execute(
                    "SELECT COUNT(*) FROM notices WHERE recipient = ? AND created_at > ? "
                    "AND state IN (?, ?)",
                    (recipient.lower(), now - 3600, NOTICE_QUEUED, NOTICE_SENT),
                ).fetchone()
                if recent >= per_hour:
                    state = NOTICE_LIMITED
            self._db.execute(
                "INSERT INTO notices (message_id, kind, recipient, created_at, state) "
                "VALUES (?, ?, ?, ?, ?)",
                (message_id, kind, recipient.lower(), now, state),
            )
        return state

    def notice_state(self, message_id: str, kind: str) -> str | None:
        row = self._db.execute(
            "SELECT state FROM notices WHERE message_id = ? AND kind = ?", (message_id, kind)
        ).fetchone()
        return row[0] if row else None

    def notice_done(
        self, message_id: str, kind: str, state: str, now: float, detail: str = ""
    ) -> None:
        self._db.execute(
            "UPDATE notices SET state = ?, done_at = ?, detail = ? "
            "WHERE message_id = ? AND kind = ?",
            (state, now, detail[:500], message_id, kind),
        )

    def notices_of(self, message_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT * FROM notices WHERE message_id = ? ORDER BY created_at", (message_id,)
        )
        return [dict(row) for row in rows]

    # --- for ops (mailrouter queue …) ---------------------------------------------------

    def search(
        self, *, urn: str | None = None, states: Sequence[str] = (), limit: int = 100
    ) -> list[dict[str, Any]]:
        clauses, values = [], []
        if urn:
            clauses.append("urn = ?")
            values.append(urn)
        if states:
            clauses.append(f"state IN ({','.join('?' * len(states))})")
            values.extend(states)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.execute(
            f"SELECT * FROM messages {where} ORDER BY received_at DESC LIMIT ?", (*values, limit)
        )
        return [dict(row) for row in rows]

    def write_check(self, now: float) -> None:
        """Readiness: a real write and commit; for SQLite, also a page written to a new file
        beside the journal (SQLite may reuse its WAL's space, so a full disk shows there
        first). Raises if either fails."""
        self._db.execute(
            "INSERT INTO health (id, at, node) VALUES (1, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET at = excluded.at, node = excluded.node",
            (now, self.node),
        )
        if not self._path:
            return
        probe = f"{self._path}.probe-{os.getpid()}-{threading.get_ident()}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, b"\0" * 4096)
                os.fsync(fd)
            finally:
                os.close(fd)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(probe)

    def failing_routes(self, now: float, longer_than: float) -> dict[str, float]:
        """Routes whose deliveries have all failed for over `longer_than` seconds: route ->
        when the oldest failure still unresolved happened (no delivery on the route since)."""
        rows = self._db.execute(
            "SELECT m.route, MIN(a.at) FROM attempts a JOIN messages m ON m.id = a.message_id "
            "WHERE a.outcome IN ('temporary', 'parked') AND a.transport != 'ops' "
            "AND m.state IN ('queued', 'parked') AND a.at > COALESCE(("
            "  SELECT MAX(d.at) FROM attempts d JOIN messages n ON n.id = d.message_id "
            "  WHERE d.outcome = 'delivered' AND n.route = m.route), 0) "
            "GROUP BY m.route"
        )
        return {route: at for route, at in rows if route and now - at > longer_than}

    def totals(self, now: float) -> dict[str, list[tuple[Any, ...]]]:
        """What /metrics reports from the journal, which every process and node writes: so the
        delivery child's work is counted however many processes did it."""
        db = self._db
        return {
            "messages": db.execute(
                "SELECT action, COALESCE(route, ''), COALESCE(rule, ''), COUNT(*) FROM messages "
                "GROUP BY 1, 2, 3"
            ).fetchall(),
            "queue": db.execute(
                "SELECT state, COALESCE(route, ''), COUNT(*), ? - MIN(received_at) FROM messages "
                "WHERE state IN ('queued', 'delivering', 'parked') GROUP BY 1, 2",
                (now,),
            ).fetchall(),
            "attempts": db.execute(
                "SELECT COALESCE(m.route, ''), a.transport, a.outcome, COUNT(*) FROM attempts a "
                "JOIN messages m ON m.id = a.message_id WHERE a.transport != 'ops' "
                "GROUP BY 1, 2, 3"
            ).fetchall(),
            "notices": db.execute(
                "SELECT kind, state, COUNT(*) FROM notices GROUP BY 1, 2"
            ).fetchall(),
            "refusals": db.execute("SELECT stage, COUNT(*) FROM refusals GROUP BY 1").fetchall(),
        }

    def board(self, day_start: float, first: str, last: str) -> dict[str, list[dict[str, Any]]]:
        """What the status page shows (no names, no dates of birth: the journal has none):
        hearings from `first` to `last` (ISO dates) still coming, and what was refused, held
        and decided by which rule since `day_start`."""

        def rows(sql: str, *args: Any) -> list[dict[str, Any]]:
            return [dict(row) for row in self._db.execute(sql, args)]

        return {
            "hearings": rows(
                "SELECT hearing_date, urn, court, route, state, tags, id FROM messages "
                "WHERE hearing_date BETWEEN ? AND ? AND action IN ('deliver', 'hold') "
                "ORDER BY hearing_date, route, urn LIMIT 200",
                first, last,
            ),
            "refused": rows(
                "SELECT action, rule, COALESCE(missing, '') AS missing, COUNT(*) AS n "
                "FROM messages WHERE received_at >= ? AND action IN ('bounce', 'reject') "
                "GROUP BY 1, 2, 3 ORDER BY n DESC",
                day_start,
            ),
            "early": rows(
                "SELECT stage, reason, COUNT(*) AS n FROM refusals WHERE at >= ? "
                "GROUP BY 1, 2 ORDER BY n DESC",
                day_start,
            ),
            "rules": rows(
                "SELECT COALESCE(rule, '') AS rule, COUNT(*) AS n FROM messages "
                "WHERE received_at >= ? GROUP BY 1 ORDER BY n DESC",
                day_start,
            ),
        }  # fmt: skip

    def prune_refusals(self, before: float) -> int:
        """Forget refusals before `before` (a flood of them must not grow the journal without
        end); how many went."""
        return self._db.execute("DELETE FROM refusals WHERE at < ?", (before,)).rowcount

    def record_refusal(self, row: dict[str, Any]) -> None:
        """A session refused before DATA (at RCPT): `refusals` (at, peer, stage, sender_domain,
        sender, recipient_domain, reason)."""
        row = {**row, "node": row.get("node", self.node)}
        columns = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        self._db.execute(f"INSERT INTO refusals ({columns}) VALUES ({marks})", row)

    def trace(self, query: TraceQuery) -> list[dict[str, Any]]:
        """Messages (every state) and refusals at RCPT matching `query`, newest first."""
        clauses, values = ["received_at >= ?", "received_at < ?"], [query.since, query.until]
        for column, value in (
            ("id", query.message_id), ("urn", query.urn), ("message_id", query.header_id),
            ("action", query.action), ("route", query.route), ("rule", query.rule),
        ):  # fmt: skip
            if value is not None:
                clauses.append(f"{column} = ?")
                values.append(value)
        if query.sender is not None:
            clauses.append("(sender_domain = ? OR sender = ?)")
            values.extend([query.sender.rpartition("@")[2], query.sender])
        rows = [
            {"kind": "message", **dict(row)}
            for row in self._db.execute(
                f"SELECT * FROM messages WHERE {' AND '.join(clauses)} "
                "ORDER BY received_at DESC LIMIT ?",
                (*values, query.limit),
            )
        ]
        wants_refusals = all(
            v is None
            for v in (query.message_id, query.urn, query.header_id, query.route, query.rule)
        ) and query.action in (None, "refused")
        if wants_refusals:
            where, args = ["at >= ?", "at < ?"], [query.since, query.until]
            if query.sender is not None:
                where.append("(sender_domain = ? OR sender = ?)")
                args.extend([query.sender.rpartition("@")[2], query.sender])
            refused = self._db.execute(
                f"SELECT * FROM refusals WHERE {' AND '.join(where)} ORDER BY at DESC LIMIT ?",
                (*args, query.limit),
            )
            rows.extend({"kind": "refused at RCPT", **dict(row)} for row in refused)
        rows.sort(key=lambda r: r.get("received_at") or r.get("at") or 0, reverse=True)
        return rows[: query.limit]

    def get(self, message_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return dict(row) if row else None

    def attempts(self, message_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT * FROM attempts WHERE message_id = ? ORDER BY at", (message_id,)
        )
        return [dict(row) for row in rows]

    def requeue(self, message_id: str, now: float) -> bool:
        """Ops: try a queued or parked message again now."""
        cursor = self._db.execute(
            "UPDATE messages SET state = ?, next_attempt_at = ? WHERE id = ? AND state IN (?, ?)",
            (QUEUED, now, message_id, QUEUED, PARKED),
        )
        return cursor.rowcount == 1

    def ids_in(
        self,
        states: Sequence[str],
        *,
        route: str | None = None,
        received_before: float | None = None,
    ) -> list[str]:
        """Ids of the messages in `states`, oldest first, optionally of one route and received
        before a time."""
        clauses = [f"state IN ({','.join('?' * len(states))})"]
        values: list[Any] = list(states)
        if route is not None:
            clauses.append("route = ?")
            values.append(route)
        if received_before is not None:
            clauses.append("received_at < ?")
            values.append(received_before)
        rows = self._db.execute(
            f"SELECT id FROM messages WHERE {' AND '.join(clauses)} ORDER BY received_at", values
        )
        return [row[0] for row in rows]

    def take_for_ops(self, message_id: str, now: float, what: str) -> bool:
        """Hold a queued or parked message still (parked) while ops change it; False if it is
        not there to take (being delivered, delivered, refused, deleted)."""
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE messages SET state = ? WHERE id = ? AND state IN (?, ?)",
                (PARKED, message_id, QUEUED, PARKED),
            )
            if cursor.rowcount == 1:
                self._attempt(message_id, now, "ops", "held", what)
        return cursor.rowcount == 1

    def redecided(self, message_id: str, row: dict[str, Any], now: float, detail: str) -> None:
        """A message taken for ops, decided again: its new decision, queued for now."""
        fields = {key: row[key] for key in _REDECIDED if key in row}
        if isinstance(fields.get("reasons"), list | tuple):
            fields["reasons"] = json.dumps(fields["reasons"])
        if isinstance(fields.get("tags"), list | tuple):
            fields["tags"] = ",".join(fields["tags"])
        assignments = ", ".join(f"{key} = :{key}" for key in fields)
        with self._transaction():
            self._db.execute(
                f"UPDATE messages SET {assignments}, state = :state, next_attempt_at = :now, "
                "last_error = NULL WHERE id = :id",
                {**fields, "state": QUEUED, "now": now, "id": message_id},
            )
            self._attempt(message_id, now, "ops", "requeued", detail)

    def delete_by_hand(self, message_id: str, now: float, reason: str) -> bool:
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE messages SET state = ?, last_error = ? WHERE id = ? AND state = ?",
                (DELETED, f"deleted by ops: {reason}", message_id, PARKED),
            )
            if cursor.rowcount == 1:
                self._attempt(message_id, now, "ops", "deleted", reason)
        return cursor.rowcount == 1

    def park_by_hand(self, message_id: str, now: float) -> bool:
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE messages SET state = ?, last_error = ? WHERE id = ? AND state = ?",
                (PARKED, "parked by ops", message_id, QUEUED),
            )
            if cursor.rowcount == 1:
                self._attempt(message_id, now, "ops", "parked", "parked by ops")
        return cursor.rowcount == 1

    # --- internals ----------------------------------------------------------------------

    def _attempt(
        self, message_id: str, now: float, transport: str, outcome: str, detail: str
    ) -> None:
        self._db.execute(
            "INSERT INTO attempts (message_id, at, node, transport, outcome, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (message_id, now, self.node, transport, outcome, detail[:500]),
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._begin)

    # --- the spool, where it is in the database (PostgreSQL) -----------------------------
    # The message and its row go in one transaction: once it commits, any node may deliver
    # it, and the gateway may answer 250.

    def spool_write(self, message_id: str, meta: str, raw: bytes, row: dict[str, Any]) -> None:
        """Store a message (again, for ops' requeue: then its metadata and bytes are new)."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO spool (id, meta, body) VALUES (?, ?, ?) ON CONFLICT (id) "
                "DO UPDATE SET meta = excluded.meta, body = excluded.body",
                (message_id, meta, raw),
            )
            self.record(row)

    def spool_read(self, message_id: str) -> tuple[str, bytes] | None:
        row = self._db.execute(
            "SELECT meta, body FROM spool WHERE id = ?", (message_id,)
        ).fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    def spool_remove(self, message_id: str) -> None:
        self._db.execute("DELETE FROM spool WHERE id = ?", (message_id,))

    def spool_ids(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT id FROM spool ORDER BY id")]

    def spool_has(self, message_id: str) -> bool:
        found = self._db.execute("SELECT 1 FROM spool WHERE id = ?", (message_id,)).fetchone()
        return found is not None


class _Transaction:
    def __init__(self, db: Any, begin: str) -> None:
        self._db = db
        self._begin = begin

    def __enter__(self) -> None:
        self._db.execute(self._begin)

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


class JournalPool:
    """A pool of threads for blocking work, each with its own Journal connection (an SQLite
    connection belongs to one thread; WAL lets several write in turn). Work already running on
    the pool (writing the spool, delivering to a Maildir) records its outcome with `here()`,
    without another hand-off back and forth with the event loop.

        await journal("claim", message_id, now)     # a Journal method, from the event loop
        await journal.run(function, *args)           # any blocking function, on the pool
        journal.here().claim(message_id, now)        # from code already running on the pool
    """

    def __init__(
        self, target: Path | str, node: str, threads: int = 32, *, lease_seconds: float = 600.0
    ) -> None:
        self.target = target
        self.node = node
        self.lease_seconds = lease_seconds
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="io")
        self._local = threading.local()
        self._opened: list[Journal] = []
        self._lock = threading.Lock()

    @property
    def in_database(self) -> bool:
        """The journal is PostgreSQL (and the spool is in it)."""
        return is_postgresql(self.target)

    def here(self) -> Journal:
        journal: Journal | None = getattr(self._local, "journal", None)
        if journal is None:
            journal = Journal(self.target, self.node, lease_seconds=self.lease_seconds)
            self._local.journal = journal
            with self._lock:
                self._opened.append(journal)
        return journal

    async def open(self) -> None:
        await self("state", "")  # creates the file and schema before any traffic

    async def __call__(self, method: str, *args: Any) -> Any:
        return await self.run(lambda: getattr(self.here(), method)(*args))

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        call = functools.partial(function, *args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._pool.shutdown, True)
        with self._lock:
            for journal in self._opened:
                journal.close()
            self._opened.clear()
