"""Run a real gateway for a test: 127.0.0.1, a free port, its own event loop on a thread."""

from __future__ import annotations

import asyncio
import json
import os
import smtplib
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from conftest import FRONT_DOOR, RULES_DIR, SENDER, build_message
from mailrouter.config import Settings
from mailrouter.gateway import Gateway
from mailrouter.store.journal import Journal

T = TypeVar("T")


def gateway_settings(var_dir: Path, **overrides: Any) -> Settings:
    smtp = {"host": "127.0.0.1", "port": 0, "hostname": "gateway.test", **overrides.pop("smtp", {})}
    delivery = {
        "scan_seconds": 0.2,
        "retry_initial_seconds": 0.3,
        "retry_max_seconds": 2.0,
        **overrides.pop("delivery", {}),
    }
    http = {"port": 0, **overrides.pop("http", {})}  # a free port: tests may run side by side
    if os.environ.get("MAILROUTER_TEST_BACKEND") == "postgresql" and "journal_url" not in overrides:
        from postgres import fresh_journal_url  # the same test, on a shared PostgreSQL journal

        overrides["journal_url"] = fresh_journal_url()
        overrides.setdefault("journal_connections", 8)
    return Settings(
        var_dir=var_dir, rules_dir=overrides.pop("rules_dir", RULES_DIR),
        node=overrides.pop("node", "test-node"),
        smtp=smtp, delivery=delivery, http=http, **overrides,
    )  # fmt: skip


class RunningGateway:
    def __init__(self, settings: Settings, **options: Any) -> None:
        """`options`: for Gateway (listen, pull)."""
        self.settings = settings
        self.options = options
        self.loop = asyncio.new_event_loop()
        self.gateway: Gateway | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> RunningGateway:
        self._thread.start()

        async def start() -> Gateway:
            gateway = Gateway(self.settings, **self.options)
            await gateway.start()
            return gateway

        self.gateway = self.run(start)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.gateway is not None:
            self.run(lambda: self.gateway.stop(grace=5))  # type: ignore[union-attr]
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def run(self, factory: Callable[[], Coroutine[Any, Any, T]], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(factory(), self.loop).result(timeout)

    @property
    def port(self) -> int:
        assert self.gateway is not None
        return self.gateway.port

    def smtp(self) -> smtplib.SMTP:
        client = smtplib.SMTP("127.0.0.1", self.port, timeout=30)
        client.ehlo("client.test")
        return client

    def accept(self, subject: str | None = None) -> str:
        """Send a defence request (build_message's, with `subject` if given); it must get
        its 250, whose gateway id is returned."""
        raw = build_message() if subject is None else build_message(subject)
        with self.smtp() as client:
            client.mail(SENDER)
            client.rcpt(FRONT_DOOR)
            code, text = client.data(raw)
        assert code == 250, text
        return text.rsplit(b" ", 1)[1].decode()

    def maildir(self, route: str) -> Path:
        return self.settings.maildir_root / route

    def journal(self, method: str, *args: Any) -> Any:
        assert self.gateway is not None
        return self.run(lambda: self.gateway.journal(method, *args))  # type: ignore[union-attr]

    def state(self, message_id: str) -> str | None:
        """The message's journal state; None until the delivery side has recorded it (just
        after the 250: the SMTP side only writes the spool)."""
        state: str | None = self.journal("state", message_id)
        return state

    def row(self, message_id: str) -> dict[str, Any]:
        """The message's journal row, once recorded."""
        wait_for(lambda: self.state(message_id) is not None)
        row: dict[str, Any] = self.journal("get", message_id)
        return row


def delivered_files(maildir: Path) -> list[Path]:
    found = []
    for sub in ("new", "cur"):
        folder = maildir / sub
        if folder.is_dir():
            found.extend(sorted(folder.iterdir()))
    return found


def wait_for(predicate: Callable[[], T], timeout: float = 15.0, every: float = 0.05) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def is_root() -> bool:
    return os.geteuid() == 0


def cli_config(path: Path, settings: Settings, **extra: str) -> Path:
    """A TOML file for `mailrouter … --config` that names the same var_dir, node and journal
    as `settings` (and `extra` keys, e.g. rules_dir)."""
    values = {"var_dir": str(settings.var_dir), "node": settings.node, **extra}
    if settings.journal_url is not None:
        values["journal_url"] = settings.journal_url
    path.write_text("".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items()))
    return path


def journal_rows(settings: Settings, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of a query on the journal `settings` name, SQLite or PostgreSQL alike (read as it
    is: SchemaMismatch while the gateway has not made it yet)."""
    journal = Journal(settings.journal_target, settings.node, upgrade=False)
    try:
        return [tuple(row) for row in journal._db.execute(sql, params)]
    finally:
        journal.close()
