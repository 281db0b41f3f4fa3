"""`smtp.workers`: several acceptor processes on one port, one delivery side. The gateway runs
as a real process (`mailrouter serve --workers N`); connections are spread by the kernel
(SO_REUSEPORT), a killed acceptor is replaced, a reload reaches every acceptor, and a stop
leaves no process behind."""

from __future__ import annotations

import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import FRONT_DOOR, RULES_DIR, SENDER, build_message
from gateway_helpers import delivered_files, free_port, wait_for
from test_crash import Gateway, backend_settings, wait_listening
from test_metrics import Samples, scrape_url

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)

MAILROUTER = str(Path(sys.executable).with_name("mailrouter"))


def _listeners(port: int) -> set[int]:
    """Pids with a socket listening on `port`."""
    shown = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True)
    return {int(pid) for pid in re.findall(r"pid=(\d+)", shown.stdout)}


def _serving(port: int) -> dict[int, int]:
    """Established connections to `port`, by the pid that holds them."""
    shown = subprocess.run(["ss", "-Htnp", "state", "established", f"sport = :{port}"],
                           capture_output=True, text=True)  # fmt: skip
    counts: dict[int, int] = {}
    for pid in re.findall(r"pid=(\d+)", shown.stdout):
        counts[int(pid)] = counts.get(int(pid), 0) + 1
    return counts


def _send(port: int, subject: str) -> str:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("workers.test")
        client.mail(SENDER)
        client.rcpt(FRONT_DOOR)
        code, text = client.data(build_message(subject=subject))
    assert code == 250, text
    return text.decode().rsplit(" ", 1)[-1]


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    if shutil.which("ss") is None:
        pytest.skip("needs ss (iproute2)")
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    node = Gateway(tmp_path / "var", free_port(), SMTP__WORKERS="3", RULES_DIR=str(rules),
                   HTTP__PORT=str(free_port()), **backend_settings())  # fmt: skip
    node.start()
    wait_listening(node.port)
    wait_for(lambda: len(_listeners(node.port)) == 3, timeout=30)
    yield node
    node.stop()


def _metrics(gateway: Gateway) -> Samples:
    return scrape_url(f"http://127.0.0.1:{gateway.env['MAILROUTER_HTTP__PORT']}/metrics")


def _replies(gateway: Gateway, code: str) -> float:
    return _metrics(gateway).get(("mailrouter_smtp_replies_total", (("code", code),)), 0.0)


def test_connections_are_spread_over_the_workers_and_all_mail_delivered(gateway: Gateway) -> None:
    """…and the gateway's /metrics counts the sessions, replies and decisions of every one."""
    assert gateway.process is not None
    acceptors = _listeners(gateway.port) - {gateway.process.pid}
    assert len(acceptors) == 2 and acceptors <= set(gateway.children())
    # Thirty sessions open at once: the kernel hands them to all three processes.
    clients = [smtplib.SMTP("127.0.0.1", gateway.port, timeout=30) for _ in range(30)]
    try:
        for client in clients:
            client.ehlo("workers.test")
        serving = _serving(gateway.port)
        assert set(serving) == _listeners(gateway.port), serving
        sessions = ("mailrouter_smtp_sessions", ())
        assert wait_for(lambda: _metrics(gateway).get(sessions) == 30, timeout=15)
        for number, client in enumerate(clients):
            client.mail(SENDER)
            client.rcpt(FRONT_DOOR)
            subject = f"URN 20AB12345{number:02d} - Walsall MC - R v SMITH"
            assert client.data(build_message(subject=subject))[0] == 250
    finally:
        for client in clients:
            client.quit()
    mail = gateway.var / "mail" / "magistrates"
    assert len(wait_for(lambda: len(delivered_files(mail)) == 30 and delivered_files(mail))) == 30
    assert wait_for(lambda: _replies(gateway, "221") == 30, timeout=15)
    samples = _metrics(gateway)
    assert _replies(gateway, "354") == 30
    assert samples[("mailrouter_decide_seconds_count", ())] == 30
    assert samples[("mailrouter_smtp_sessions", ())] == 0


def test_a_killed_acceptor_is_replaced_and_a_reload_reaches_every_one(
    gateway: Gateway, tmp_path: Path
) -> None:
    assert gateway.process is not None
    before = _listeners(gateway.port) - {gateway.process.pid}
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(_listeners(gateway.port) - {gateway.process.pid, victim}) == 2, 30)
    # The teams' tag changes; `mailrouter reload` takes it up in the gateway and its acceptors.
    mailboxes = tmp_path / "rules" / "mailboxes.yaml"
    mailboxes.write_text(mailboxes.read_text().replace("subject_tag: MAGS", "subject_tag: MC"))
    reloaded = subprocess.run([MAILROUTER, "reload"], env=gateway.env, capture_output=True,
                              text=True, timeout=30)  # fmt: skip
    assert reloaded.returncode == 0, reloaded.stderr
    time.sleep(1.0)  # the acceptors load and check the rules on their SIGHUP
    ids = [_send(gateway.port, f"URN 20AB12346{n:02d} - Walsall MC - R v SMITH") for n in range(12)]
    mail = gateway.var / "mail" / "magistrates"
    files = wait_for(lambda: len(delivered_files(mail)) == 12 and delivered_files(mail))
    subjects = [re.search(rb"^Subject: (.*)$", p.read_bytes(), re.M) for p in files]
    assert all(s is not None and s.group(1).startswith(b"[MC ") for s in subjects), subjects
    assert len(ids) == len(set(ids)) == 12


def test_stopping_the_gateway_stops_every_acceptor(gateway: Gateway) -> None:
    assert gateway.process is not None
    acceptors = _listeners(gateway.port) - {gateway.process.pid}
    gateway.stop()
    assert gateway.process.returncode == 0
    assert wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in acceptors), 15)
    assert _listeners(gateway.port) == set()
