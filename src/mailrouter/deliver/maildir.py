"""Maildir delivery: one Maildir per route under the maildir root (the embedded default).

The file is written to tmp/, fsynced, renamed into new/ and the directory fsynced, as the
Maildir convention and "never lose mail" both ask (deliveries finishing together share one
directory fsync, as in the spool). Its name is the gateway id and the node's name, so a
repeated attempt, by this node or by another that took the message over, finds the earlier
copy (in new/, or in cur/ once a reader has seen it) and does not deliver twice.
`deliver_blocking` is for callers already on a worker thread (the delivery queue runs a whole
attempt there); `deliver` runs it in a thread.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from pathlib import Path

from mailrouter.deliver.base import Delivery, TemporaryDeliveryError
from mailrouter.paths import private_dir
from mailrouter.store.spool import DirectorySync


class MaildirTransport:
    name = "maildir"

    def __init__(self, root: Path, host: str | None = None) -> None:
        self.root = root
        host = host or socket.gethostname()
        # Maildir names must not contain "/" or ":" (the flag separator).
        self._host = host.replace("/", "\\057").replace(":", "\\072")
        self._syncs: dict[Path, DirectorySync] = {}
        self._lock = threading.Lock()

    def folder(self, route: str) -> Path:
        return self.root / route

    def file_name(self, message_id: str) -> str:
        return f"{message_id}.{self._host}"

    async def deliver(self, delivery: Delivery) -> str:
        return await asyncio.to_thread(self.deliver_blocking, delivery)

    async def close(self) -> None:
        with self._lock:
            for sync in self._syncs.values():
                sync.close()
            self._syncs.clear()

    def deliver_blocking(self, delivery: Delivery) -> str:
        """The delivery itself, for a caller already on a worker thread."""
        folder = self.folder(delivery.route)
        name = self.file_name(delivery.id)
        base = str(folder)
        try:
            new = self._new_directory(folder)
            # A repeated attempt looks for the copy an earlier one may have left: by any node
            # (its name ends in that node's name), in new/ or, once read, in cur/.
            if delivery.maybe_delivered:
                earlier = self._already_there(folder, delivery.id)
                if earlier is not None:
                    return f"already in {folder.name}/ as {earlier}"
            temporary = os.path.join(base, "tmp", name)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(delivery.message)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temporary, os.path.join(base, "new", name))
            new.sync()
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                self._forget(folder)  # removed under us: made again on the next attempt
            # A full disk, a permission slip, a read-only mount: our side, fixable by ops, so
            # retried (and parked only after the configured time), never charged to the sender.
            raise TemporaryDeliveryError(f"maildir {folder}: {exc.strerror or exc}") from exc
        return f"delivered to {folder.name}/new/{name}"

    def _new_directory(self, folder: Path) -> DirectorySync:
        with self._lock:
            sync = self._syncs.get(folder)
            if sync is None:
                private_dir(self.root)
                private_dir(folder)
                for sub in ("tmp", "new", "cur"):
                    private_dir(folder / sub)
                sync = self._syncs[folder] = DirectorySync(folder / "new")
            return sync

    def _forget(self, folder: Path) -> None:
        with self._lock:
            sync = self._syncs.pop(folder, None)
        if sync is not None:
            sync.close()

    @staticmethod
    def _already_there(folder: Path, message_id: str) -> str | None:
        """The name of a copy of the message in new/ or cur/ (a reader moves new/NAME to
        cur/NAME:2,FLAGS), delivered by whichever node; None if there is none."""
        prefix = f"{message_id}."
        for sub in ("new", "cur"):
            with os.scandir(folder / sub) as entries:
                for entry in entries:
                    if entry.name.startswith(prefix):
                        return entry.name.split(":", 1)[0]
        return None
