"""Versioned schema of the journal, for SQLite and PostgreSQL alike.

Each step has a number and runs once, in a transaction, recorded in `schema_version`.
`mailrouter db upgrade` applies the steps a database lacks. On PostgreSQL, shared by several
nodes, a gateway checks the version at start and refuses to run on a database that is behind
(or ahead: an older mailrouter must not write a newer schema); the upgrade is a deliberate step
of a release, taken once for all nodes. A SQLite journal belongs to one gateway and is brought
up to date when it is opened.

SQL is written once, with `{real}` (a float column: SQLite's REAL is 8 bytes, PostgreSQL's is 4,
so there it is DOUBLE PRECISION) and `{blob}` for the dialect's types.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mailrouter.store.database import POSTGRESQL, SQLITE, dialect_of

_TYPES = {
    SQLITE: {"real": "REAL", "blob": "BLOB"},
    POSTGRESQL: {"real": "DOUBLE PRECISION", "blob": "BYTEA"},
}


@dataclass(frozen=True)
class Step:
    version: int
    description: str
    statements: tuple[str, ...] = ()
    dialects: tuple[str, ...] = (SQLITE, POSTGRESQL)
    then: Callable[[Any], None] | None = None  # after the statements, for what SQL cannot say


def _columns_added_before_versions(db: Any) -> None:
    """SQLite journals made before the schema had versions lack columns added since; the
    CREATE TABLE IF NOT EXISTS of step 1 left their tables as they were."""
    have = {row[1] for row in db.execute("PRAGMA table_info(messages)")}
    for name in ("audit", "sender", "rules_version", "hearing_date", "missing"):
        if name not in have:
            db.execute(f"ALTER TABLE messages ADD COLUMN {name} TEXT")


STEPS: tuple[Step, ...] = (
    Step(
        1,
        "messages, attempts, pulled, notices, refusals, health",
        (
            """CREATE TABLE IF NOT EXISTS messages (
                id TEXT PRIMARY KEY, received_at {real} NOT NULL, node TEXT NOT NULL, peer TEXT,
                sender_domain TEXT, message_id TEXT, urn TEXT, court TEXT, route TEXT,
                mailbox TEXT, action TEXT NOT NULL, rule TEXT, reasons TEXT, tags TEXT,
                audit TEXT, size INTEGER, state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at {real},
                maybe_delivered INTEGER NOT NULL DEFAULT 0, last_error TEXT,
                delivered_at {real}, sender TEXT, rules_version TEXT, hearing_date TEXT,
                missing TEXT)""",
            "CREATE INDEX IF NOT EXISTS messages_urn ON messages (urn, received_at)",
            "CREATE INDEX IF NOT EXISTS messages_due ON messages (state, next_attempt_at)",
            "CREATE INDEX IF NOT EXISTS messages_received ON messages (received_at)",
            """CREATE TABLE IF NOT EXISTS attempts (
                message_id TEXT NOT NULL, at {real} NOT NULL, node TEXT NOT NULL,
                transport TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT)""",
            "CREATE INDEX IF NOT EXISTS attempts_message ON attempts (message_id, at)",
            """CREATE TABLE IF NOT EXISTS pulled (
                source TEXT NOT NULL, uidvalidity BIGINT NOT NULL, uid BIGINT NOT NULL,
                id TEXT NOT NULL, state TEXT NOT NULL, target TEXT, at {real} NOT NULL,
                PRIMARY KEY (source, uidvalidity, uid))""",
            "CREATE INDEX IF NOT EXISTS pulled_state ON pulled (source, uidvalidity, state)",
            """CREATE TABLE IF NOT EXISTS notices (
                message_id TEXT NOT NULL, kind TEXT NOT NULL, recipient TEXT NOT NULL,
                created_at {real} NOT NULL, state TEXT NOT NULL, done_at {real}, detail TEXT,
                PRIMARY KEY (message_id, kind))""",
            "CREATE INDEX IF NOT EXISTS notices_recipient ON notices (recipient, created_at)",
            """CREATE TABLE IF NOT EXISTS refusals (
                at {real} NOT NULL, node TEXT NOT NULL, peer TEXT, stage TEXT NOT NULL,
                sender_domain TEXT, sender TEXT, recipient_domain TEXT, reason TEXT NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS refusals_at ON refusals (at)",
            """CREATE TABLE IF NOT EXISTS health (
                id INTEGER PRIMARY KEY, at {real} NOT NULL, node TEXT)""",
        ),
        then=lambda db: _columns_added_before_versions(db) if dialect_of(db) == SQLITE else None,
    ),
    Step(
        2,
        "delivery claims with a lease: who holds one, and until when",
        (
            "ALTER TABLE messages ADD COLUMN claimed_by TEXT",
            "ALTER TABLE messages ADD COLUMN lease_until {real}",
        ),
    ),
    Step(
        3,
        "the spool in the database (PostgreSQL: any node can deliver what another accepted)",
        (
            """CREATE TABLE spool (
                id TEXT PRIMARY KEY, meta TEXT NOT NULL, body {blob} NOT NULL)""",
        ),
        dialects=(POSTGRESQL,),
    ),
)
LATEST = STEPS[-1].version


class SchemaMismatch(Exception):
    """The database's schema is not the one this mailrouter writes."""


def _ensure_version_table(db: Any) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at {real} NOT NULL)"
        .format(**_TYPES[dialect_of(db)])
    )  # fmt: skip


def _has_version_table(db: Any) -> bool:
    if dialect_of(db) == POSTGRESQL:
        (found,) = db.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
        return bool(found)
    found = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    return found is not None


def version(db: Any) -> int:
    """The schema version of `db` (0: none yet). Reads only."""
    if not _has_version_table(db):
        return 0
    (found,) = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    return int(found)


def upgrade(db: Any) -> list[Step]:
    """Apply the steps `db` lacks, each in its own transaction; the steps applied."""
    dialect = dialect_of(db)
    begin = "BEGIN" if dialect == POSTGRESQL else "BEGIN IMMEDIATE"
    applied: list[Step] = []
    for step in STEPS:
        db.execute(begin)
        try:
            if dialect == POSTGRESQL:  # two nodes upgrading at once take turns
                db.execute("SELECT pg_advisory_xact_lock(7366531)")
            _ensure_version_table(db)
            (done,) = db.execute(
                "SELECT COUNT(*) FROM schema_version WHERE version = ?", (step.version,)
            ).fetchone()
            if not done:
                if dialect in step.dialects:
                    for statement in step.statements:
                        db.execute(statement.format(**_TYPES[dialect]))
                    if step.then is not None:
                        step.then(db)
                db.execute(
                    "INSERT INTO schema_version (version, description, applied_at) "
                    "VALUES (?, ?, ?)",
                    (step.version, step.description, time.time()),
                )
                applied.append(step)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return applied


def check(db: Any) -> None:
    """Raise SchemaMismatch unless `db` is at the version this mailrouter writes."""
    found = version(db)
    if found < LATEST:
        raise SchemaMismatch(
            f"the journal's schema is at version {found}, this mailrouter needs {LATEST}: "
            "run `mailrouter db upgrade` (once, from any node)"
        )
    if found > LATEST:
        raise SchemaMismatch(
            f"the journal's schema is at version {found}, newer than this mailrouter knows "
            f"({LATEST}): run the newer mailrouter, or restore the database"
        )
