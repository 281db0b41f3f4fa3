"""The SQLite journal's schema: brought up to date when opened, including a journal made before
the schema had versions; one written by a newer mailrouter is refused. (PostgreSQL's, which
`mailrouter db upgrade` moves on: test_postgresql.)"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mailrouter.store.journal import Journal
from mailrouter.store.migrations import LATEST, SchemaMismatch

# The journal as the first releases made it: no schema_version, and none of the columns
# added since (sender, rules_version, hearing_date, missing, claimed_by, lease_until).
_FIRST_RELEASE = """
CREATE TABLE messages (id TEXT PRIMARY KEY, received_at REAL NOT NULL, node TEXT NOT NULL,
    peer TEXT, sender_domain TEXT, message_id TEXT, urn TEXT, court TEXT, route TEXT,
    mailbox TEXT, action TEXT NOT NULL, rule TEXT, reasons TEXT, tags TEXT, size INTEGER,
    state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL,
    maybe_delivered INTEGER NOT NULL DEFAULT 0, last_error TEXT, delivered_at REAL);
INSERT INTO messages (id, received_at, node, action, state, route)
    VALUES ('old', 1.0, 'gw1', 'deliver', 'delivering', 'magistrates');
"""


def test_a_journal_from_before_versions_is_brought_up_to_date_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(_FIRST_RELEASE)
    journal = Journal(path, "gw1")
    columns = {row[1] for row in journal._db.execute("PRAGMA table_info(messages)")}
    assert {"audit", "sender", "rules_version", "missing", "claimed_by", "lease_until"} <= columns
    versions = [row[0] for row in journal._db.execute("SELECT version FROM schema_version")]
    assert versions == list(range(1, LATEST + 1))
    # Its interrupted attempt is recovered as before, by the node that accepted it.
    assert journal.recover() == 1 and journal.state("old") == "queued"
    journal.close()
    Journal(path, "gw1").close()  # opened again: nothing more to do, nothing refused


def test_a_journal_a_newer_mailrouter_wrote_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    Journal(path, "gw1").close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_version VALUES (?, 'from the future', 0)", (LATEST + 1,))
    with pytest.raises(SchemaMismatch, match="newer than this mailrouter"):
        Journal(path, "gw1")
