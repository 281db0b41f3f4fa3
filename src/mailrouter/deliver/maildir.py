"""Maildir delivery: one Maildir per route under the maildir root (the embedded default).

The file is written to tmp/, fsynced, renamed into new/ and the directory fsynced, as the
Maildir convention and "never lose mail" both ask. Its name is fixed by the gateway id, so a
repeated attempt finds the earlier copy (in new/, or in cur/ once a reader has seen it) and
does not deliver twice. `deliver_blocking` is for callers already on a worker thread (the
delivery queue runs a whole attempt there); `deliver` runs it in a thread.
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

from mailrouter.deliver.base import Delivery, TemporaryDeliveryError


class MaildirTransport:
    name = "maildir"

    def __init__(self, root: Path, host: str | None = None) -> None:
        self.root = root
        host = host or socket.gethostname()
        # Maildir names must not contain "/" or ":" (the flag separator).
        self._host = host.replace("/", "\\057").replace(":", "\\072")

    def folder(self, route: str) -> Path:
        return self.root / route

    def file_name(self, message_id: str) -> str:
        return f"{message_id}.{self._host}"

    async def deliver(self, delivery: Delivery) -> str:
        return await asyncio.to_thread(self.deliver_blocking, delivery)

    async def close(self) -> None:
        return None

    def deliver_blocking(self, delivery: Delivery) -> str:
        """The delivery itself, for a caller already on a worker thread."""
        folder = self.folder(delivery.route)
        name = self.file_name(delivery.id)
        try:
            for sub in ("tmp", "new", "cur"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
            if self._already_there(folder, name, delivery.maybe_delivered):
                return f"already in {folder.name}/ as {name}"
            temporary = folder / "tmp" / name
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(delivery.message)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temporary, folder / "new" / name)
            directory = os.open(folder / "new", os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            # A full disk, a permission slip, a read-only mount: our side, fixable by ops, so
            # retried (and parked only after the configured time), never charged to the sender.
            raise TemporaryDeliveryError(f"maildir {folder}: {exc.strerror or exc}") from exc
        return f"delivered to {folder.name}/new/{name}"

    @staticmethod
    def _already_there(folder: Path, name: str, look_in_cur: bool) -> bool:
        if (folder / "new" / name).exists():
            return True
        if not look_in_cur:
            return False
        # A reader moves new/NAME to cur/NAME:2,FLAGS; only scan cur/ when in doubt.
        with os.scandir(folder / "cur") as entries:
            return any(entry.name.split(":", 1)[0] == name for entry in entries)
