"""/healthz and /readyz (issue 10): ready, and not ready with the reason, when the spool's
filesystem is full (a small tmpfs), the journal cannot be written (the filesystem remounted
read-only), the delivery child is killed, or a route's deliveries keep failing; ready again
once each is put right."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import FRONT_DOOR, SENDER, build_message
from gateway_helpers import RunningGateway, free_port, gateway_settings, is_root, wait_for
from mailrouter.deliver.process import DeliveryProcess

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)


def get(gateway: RunningGateway, path: str) -> tuple[int, dict[str, Any]]:
    assert gateway.gateway is not None and gateway.gateway.http.port
    url = f"http://127.0.0.1:{gateway.gateway.http.port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_alive_ready_and_nothing_else(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path / "var", http={"min_free_bytes": 0})
    with RunningGateway(settings) as gateway:
        status, body = get(gateway, "/healthz")
        assert status == 200 and body["status"] == "alive"
        status, body = get(gateway, "/readyz")
        assert status == 200 and body["ready"] and body["problems"] == []
        assert set(body["checks"]) == {"rules", "journal", "spool", "delivery", "routes"}
        assert get(gateway, "/nowhere")[0] == 404


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if not is_root():
        pytest.skip("mounting a small tmpfs needs root")
    var = tmp_path / "var"
    var.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(var)], check=True)
    try:
        yield var
    finally:
        while var.is_mount():  # the tmpfs, and a bind mount a failed test may have left on it
            subprocess.run(["umount", "-l", str(var)], check=True)


def test_not_ready_when_the_disk_is_full(small_disk: Path) -> None:
    settings = gateway_settings(small_disk, http={"min_free_bytes": 2 * 1024 * 1024})
    with RunningGateway(settings) as gateway:
        assert get(gateway, "/readyz")[0] == 200
        filler = small_disk / "filler"
        filler.write_bytes(b"x" * (7 * 1024 * 1024))  # room left, but less than needed
        status, body = get(gateway, "/readyz")
        assert status == 503 and not body["ready"]
        assert [p.split(":")[0] for p in body["problems"]] == ["spool"]
        assert "MiB needed" in body["problems"][0]
        if settings.journal_url is not None:
            return  # the journal is not on this disk (see test_postgresql for the database's)
        with filler.open("ab") as grow, contextlib.suppress(OSError):
            while True:  # no room at all: the journal cannot take a write either
                grow.write(b"x" * 65536)
                grow.flush()
        status, body = get(gateway, "/readyz")
        assert status == 503
        assert any(p.startswith("journal: cannot write") for p in body["problems"])
        filler.unlink()
        assert get(gateway, "/readyz")[0] == 200


def test_not_ready_when_the_journal_is_unwritable(small_disk: Path) -> None:
    settings = gateway_settings(small_disk, http={"min_free_bytes": 0})
    if settings.journal_url is not None:
        pytest.skip("the SQLite file's disk; test_postgresql has the database's own")
    with RunningGateway(settings) as gateway:
        assert get(gateway, "/readyz")[0] == 200
        # The data directory turns read-only under the running gateway (a bind mount of it
        # over itself, read-only: what a filesystem remounted after an error looks like).
        subprocess.run(["mount", "--bind", str(small_disk), str(small_disk)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(small_disk)], check=True)
            status, body = get(gateway, "/readyz")
            assert status == 503
            assert any(p.startswith("journal: cannot write") and "Read-only" in p
                       for p in body["problems"]), body["problems"]  # fmt: skip
        finally:
            subprocess.run(["umount", "-l", str(small_disk)], check=True)  # the bind mount
        assert get(gateway, "/readyz")[0] == 200


def test_not_ready_while_the_delivery_child_is_dead(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path / "var", http={"min_free_bytes": 0})
    with RunningGateway(settings) as gateway:
        queue = gateway.gateway.queue  # type: ignore[union-attr]
        assert isinstance(queue, DeliveryProcess) and queue.pid
        os.kill(queue.pid, signal.SIGKILL)
        body = wait_for(lambda: (r := get(gateway, "/readyz"))[0] == 503 and r[1], timeout=10)
        assert "delivery: the delivery process is not running" in body["problems"][0]
        assert wait_for(lambda: get(gateway, "/readyz")[0] == 200, timeout=15)  # restarted


def test_not_ready_when_a_route_keeps_failing(tmp_path: Path) -> None:
    dead = free_port()  # nothing listens: every delivery attempt fails
    settings = gateway_settings(
        tmp_path / "var",
        delivery={"transport": "smtp", "smtp": {"host": "127.0.0.1", "port": dead,
                                                "starttls": "off"}},
        http={"min_free_bytes": 0, "route_failing_minutes": 0.02},
    )  # fmt: skip
    with RunningGateway(settings) as gateway:
        with gateway.smtp() as client:
            client.sendmail(SENDER, [FRONT_DOOR], build_message())
        body = wait_for(lambda: (r := get(gateway, "/readyz"))[0] == 503 and r[1], timeout=20)
        assert any(p.startswith("routes: magistrates: every delivery failing")
                   for p in body["problems"])  # fmt: skip
