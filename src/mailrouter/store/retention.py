"""Raw messages kept for `retention.days` after they were decided, for `mailrouter replay`
(what would a rules change have done to real traffic?) and for ops who need the original.

`var/retained/YYYYMMDD/<id>`: one file per message in the spool's format, its metadata the
envelope, the DKIM keys the decision used and the journal row (so a replay decides exactly as
the gateway did, then compares). An accepted message is a hard link to its spool file (no
copy, and still there after delivery removes the spool's name for it); a refused one is
written. Files 0600 in 0700 directories: they hold defence correspondence. Best effort: a
message that cannot be retained is logged, never refused. Whole days are purged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mailrouter.paths import private_dir
from mailrouter.store.spool import SpoolError, encode_head, read_file

DAY = "%Y%m%d"


class Retention:
    def __init__(self, root: Path, days: int) -> None:
        self.root = root
        self.days = days

    @property
    def enabled(self) -> bool:
        return self.days > 0

    def link(self, spool_path: str, message_id: str, received_at: float) -> None:
        """Keep an accepted message: a second name for its spool file."""
        if self.enabled:
            target = self._day(received_at) / message_id
            with contextlib.suppress(FileExistsError):
                os.link(spool_path, target)

    def keep(self, message_id: str, meta: dict[str, Any], raw: bytes) -> None:
        """Keep a refused message (written; no fsync: this is a record, not the mail)."""
        if not self.enabled:
            return
        path = self._day(float(meta["received_at"])) / message_id
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, encode_head(meta) + raw)
        finally:
            os.close(fd)

    def purge(self, now: float | None = None) -> int:
        """Remove the days older than `days`; how many messages went."""
        if not self.root.is_dir():
            return 0
        now = time.time() if now is None else now
        oldest = (dt.datetime.fromtimestamp(now, dt.UTC) - dt.timedelta(days=self.days)).strftime(
            DAY
        )
        removed = 0
        for day in sorted(self.root.iterdir()):
            if day.is_dir() and day.name.isdigit() and (not self.enabled or day.name < oldest):
                removed += sum(1 for _ in day.iterdir())
                shutil.rmtree(day, ignore_errors=True)
        return removed

    def messages(self, since: float) -> Iterator[tuple[dict[str, Any], bytes]]:
        """(metadata, message) of every message retained from `since` on, oldest first."""
        if not self.root.is_dir():
            return
        first = dt.datetime.fromtimestamp(since, dt.UTC).strftime(DAY)
        for day in sorted(self.root.iterdir()):
            if not (day.is_dir() and day.name.isdigit() and day.name >= first):
                continue
            for path in sorted(day.iterdir()):
                with contextlib.suppress(OSError, SpoolError, ValueError):
                    meta, raw = read_file(str(path))
                    if float(meta.get("received_at", 0)) >= since:
                        yield meta, raw

    def _day(self, at: float) -> Path:
        return private_dir(
            private_dir(self.root) / dt.datetime.fromtimestamp(at, dt.UTC).strftime(DAY)
        )
