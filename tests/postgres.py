"""A real PostgreSQL server for the tests: started once per test run (initdb into a temporary
directory, listening on 127.0.0.1 on a free port), one schema per test, stopped at exit.

As root, the server runs as the `postgres` user the Debian package creates (PostgreSQL refuses
to run as root). Tests that need it skip, with the reason, where no server is installed.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg

from gateway_helpers import free_port
from mailrouter.store import migrations
from mailrouter.store.database import PgConnection

BACKEND = os.environ.get("MAILROUTER_TEST_BACKEND", "sqlite")


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).resolve().parent if on_path else None


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


class Server:
    def __init__(self) -> None:
        binaries = _binaries()
        if binaries is None:
            raise RuntimeError("no PostgreSQL server installed (Debian: postgresql)")
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="mailrouter-pg-"))
        self.data = self.root / "data"
        self._as: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL will not run as root
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(str(binaries / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")  # fmt: skip
        settings = (
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.root}'\nmax_connections = 400\n"
            "shared_buffers = 64MB\nfsync = on\nsynchronous_commit = on\n"
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(settings)
        self._run(str(binaries / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "start")  # fmt: skip
        self._pg_ctl = str(binaries / "pg_ctl")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as, *command], check=True, capture_output=True, timeout=120)

    def schema_url(self) -> str:
        """A URL whose tables are in a schema of their own, new and empty."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url, autocommit=True) as db:
            db.execute(f"CREATE SCHEMA {name}")
        return f"{self.url}?options={quote(f'-c search_path={name}')}"

    def restart(self) -> None:
        """A fast restart: every connection is cut, as in a failover."""
        self._run(self._pg_ctl, "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-m", "fast", "-w", "restart")  # fmt: skip

    def stop(self) -> None:
        subprocess.run([*self._as, self._pg_ctl, "-D", str(self.data), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


_server: Server | None = None
_problem: str | None = None
_lock = threading.Lock()


def server() -> Server:
    """The run's server, started on first use; raises RuntimeError if it cannot start."""
    global _server, _problem
    with _lock:
        if _server is None and _problem is None:
            try:
                _server = Server()
                atexit.register(_server.stop)
            except (RuntimeError, OSError, subprocess.SubprocessError, KeyError) as exc:
                _problem = f"PostgreSQL could not start: {exc}"
        if _server is None:
            raise RuntimeError(_problem)
        return _server


def available() -> str | None:
    """None if a server runs (starting it now), else why not."""
    try:
        server()
    except RuntimeError as exc:
        return str(exc)
    return None


def fresh_journal_url() -> str:
    """A new, empty schema brought to the current version (as `mailrouter db upgrade` does)."""
    url = server().schema_url()
    db = PgConnection(url)
    try:
        migrations.upgrade(db)
    finally:
        db.close()
    return url
