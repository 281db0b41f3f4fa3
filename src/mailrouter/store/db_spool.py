"""The spool in the journal's database (PostgreSQL), for gateways that share one journal.

The same interface as the file spool (store/spool.py): the message is durable, and any node may
deliver it, once `write` returns; its journal row is written in the same transaction, so the
delivery sides of every node see it as queued at once. Only DATA that arrives larger than the
session keeps in memory passes through a local directory (`tmp`) before it is decided.
Blocking calls: run them on the journal's pool, never on the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mailrouter.config import Settings
from mailrouter.deliver.worker import journal_row
from mailrouter.paths import private_dir
from mailrouter.store.journal import Journal, JournalPool
from mailrouter.store.spool import MessageSpool, Spool, SpoolError


class DatabaseSpool:
    def __init__(self, journal: Callable[[], Journal], local_root: Path) -> None:
        """`journal`: the calling thread's connection (JournalPool.here, or one Journal)."""
        self._journal = journal
        self.root = local_root
        self.tmp = local_root / "tmp"
        for directory in (local_root, self.tmp):
            private_dir(directory)

    def path(self, message_id: str) -> None:
        return None  # not a file: retention keeps a copy instead of a link

    def write(self, message_id: str, meta: dict[str, Any], raw: bytes) -> None:
        head = json.dumps(meta, separators=(",", ":"), ensure_ascii=True)
        self._journal().spool_write(message_id, head, raw, journal_row(meta))

    def read(self, message_id: str) -> tuple[dict[str, Any], bytes]:
        found = self._journal().spool_read(message_id)
        if found is None:
            raise FileNotFoundError(message_id)
        head, raw = found
        try:
            meta = json.loads(head)
        except ValueError as exc:
            raise SpoolError(f"{message_id}: unreadable metadata") from exc
        return meta, raw

    def exists(self, message_id: str) -> bool:
        return self._journal().spool_has(message_id)

    def remove(self, message_id: str) -> None:
        self._journal().spool_remove(message_id)

    def ids(self) -> list[str]:
        return self._journal().spool_ids()

    def discard_temporary(self) -> int:
        """DATA spilled to `tmp` by sessions a crash cut short."""
        count = 0
        for entry in self.tmp.iterdir():
            entry.unlink()
            count += 1
        return count

    def close(self) -> None:
        pass


def open_spool(settings: Settings, journal: JournalPool) -> MessageSpool:
    """The spool the settings name: in the journal's PostgreSQL database, or files."""
    if journal.in_database:
        return DatabaseSpool(journal.here, settings.spool_dir)
    return Spool(settings.spool_dir)


def open_journal(settings: Settings, threads: int) -> JournalPool:
    """The journal the settings name, with up to `threads` connections (PostgreSQL: at most
    `journal_connections`)."""
    if settings.journal_url is not None:
        threads = min(threads, settings.journal_connections)
    return JournalPool(
        settings.journal_target, settings.node, threads,
        lease_seconds=settings.delivery.lease_seconds,
    )  # fmt: skip
