"""The journal's two databases behind one connection interface.

SQLite (the embedded default) is used as Python's sqlite3 gives it. PostgreSQL, for several
nodes, goes through psycopg 3 behind a thin adapter that takes the journal's SQL as written for
sqlite3 (`?` and `:name` placeholders; the rest of the SQL is common to both) and gives rows
that read like sqlite3.Row (by position and by column name). Each thread of a JournalPool holds
one connection: the pool of threads is the connection pool, sized by `journal_connections`.

PostgreSQL runs in autocommit, like the SQLite connections (isolation_level=None): a
transaction is an explicit BEGIN … COMMIT (`begin` gives the dialect's BEGIN), and a single
statement commits on its own. A COMMIT returns once the WAL is flushed (synchronous_commit),
so a message written to the PostgreSQL spool is durable when `write` returns.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import psycopg

SQLITE, POSTGRESQL = "sqlite", "postgresql"

# What a database may raise when it is down, full or refuses a statement.
DatabaseError: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def is_postgresql(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def dialect_of(db: Any) -> str:
    return POSTGRESQL if isinstance(db, PgConnection) else SQLITE


class Row(tuple):  # type: ignore[type-arg]
    """A result row read by position or by column name, as sqlite3.Row is."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _rows(cursor: Any) -> Any:
    names = [column.name for column in cursor.description or ()]
    index = {name: position for position, name in enumerate(names)}
    return lambda values: Row(values, index)


def translate(sql: str) -> str:
    """sqlite3's placeholders as psycopg's: `?` -> `%s`, `:name` -> `%(name)s`."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%").replace("?", "%s"))


class PgConnection:
    """One PostgreSQL connection that runs the journal's sqlite3-style SQL."""

    begin = "BEGIN"

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self._url, self._timeout = url, max(1, int(timeout))
        self._conn = self._connect()
        self._sql: dict[str, str] = {}
        self._in_transaction = False

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self._url, autocommit=True, row_factory=_rows, connect_timeout=self._timeout
        )

    def _ready(self) -> psycopg.Connection[Any]:
        """The connection, made again if the last use found it lost (the server restarted or
        failed over): the statement that found it so failed, and the next one reconnects, as
        a pool would."""
        if self._conn.broken or self._conn.closed:
            self._conn.close()
            self._conn = self._connect()
        return self._conn

    def _translated(self, sql: str) -> str:
        found = self._sql.get(sql)
        if found is None:
            found = self._sql[sql] = translate(sql)
        return found

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        statement = self._translated(sql)
        in_transaction = self._in_transaction
        if sql in ("COMMIT", "ROLLBACK"):
            self._in_transaction = False  # ended, whether or not the server hears of it
        try:
            cursor = self._ready().execute(statement, params)  # type: ignore[arg-type]
        except psycopg.OperationalError:
            # A statement on its own (or a BEGIN), on a connection found lost: it runs again
            # once on a new connection. The journal's statements on their own may run twice
            # (state updates, inserts ON CONFLICT DO NOTHING; at worst a refusal counted
            # twice). Inside a transaction, its COMMIT included, the whole transaction is lost,
            # and the caller hears of it: never a COMMIT that succeeds on nothing.
            if in_transaction or not self._conn.broken:
                raise
            cursor = self._ready().execute(statement, params)  # type: ignore[arg-type]
        if sql == self.begin:
            self._in_transaction = True
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        cursor = self._ready().cursor()
        cursor.executemany(self._translated(sql), rows)  # type: ignore[arg-type]
        return cursor

    def close(self) -> None:
        self._conn.close()


def connect_sqlite(path: Path, timeout: float) -> sqlite3.Connection:
    # check_same_thread off only so a pool can close its connections at shutdown; each is
    # otherwise used by the one thread that opened it.
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across a crash of this process (the WAL is in the OS cache); the
    # spool file, fsynced before 250, is what survives a power cut.
    db.execute("PRAGMA synchronous=NORMAL")
    return db
