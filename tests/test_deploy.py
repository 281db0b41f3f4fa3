"""deploy/, each file tested (issue 13): the systemd unit passes systemd-analyze verify; the
Postfix snippets pass postfix check; and a real Postfix configured from them, with the gateway
as its before-queue filter, delivers defence mail to the team, refuses a bounce in the
sending client's own session with the gateway's text, and queues nothing for it."""

from __future__ import annotations

import re
import shutil
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import FRONT_DOOR, ROOT, SENDER, build_message
from gateway_helpers import RunningGateway, delivered_files, wait_for
from peers import Postfix, postfix_missing
from test_postfix import Catch, postfix_in_front

DEPLOY = ROOT / "deploy"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (DEPLOY / "systemd" / "mailrouter.service").read_text()
    assert "User=mailrouter" in unit and "NoNewPrivileges=yes" in unit
    assert "ProtectSystem=strict" in unit and "StateDirectory=mailrouter" in unit
    assert re.search(r"^AmbientCapabilities=CAP_NET_BIND_SERVICE$", unit, re.M)
    assert re.search(r"^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$", unit, re.M)
    # The installed path of the command, here this checkout's.
    here = unit.replace(
        "/opt/mailrouter/bin/mailrouter", str(Path(sys.executable).parent / "mailrouter")
    )
    copy = tmp_path / "mailrouter.service"
    copy.write_text(here)
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mailrouter.service" not in result.stderr, result.stderr


def _filter_entry(gateway_port: int) -> str:
    """deploy/postfix/master.cf's smtpd, pointed at this test's gateway, unchrooted."""
    text = (DEPLOY / "postfix" / "master.cf").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    lines[0] = re.sub(r"^smtp\s+inet\s+n\s+-\s+y", "{port} inet n - n", lines[0])
    return "\n".join(lines).replace("127.0.0.1:2525", f"127.0.0.1:{gateway_port}") + "\n"


def _main_cf() -> str:
    text = (DEPLOY / "postfix" / "main.cf").read_text()
    return (
        "\n"
        + "\n".join(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
        + "\n"
    )


needs_postfix = pytest.mark.skipif(postfix_missing() is not None, reason=postfix_missing() or "")


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[tuple[Postfix, RunningGateway, Catch]]:
    with postfix_in_front(tmp_path, _filter_entry, _main_cf()) as running:
        yield running


@needs_postfix
def test_the_postfix_snippets_pass_postfix_check(
    edge: tuple[Postfix, RunningGateway, Catch],
) -> None:
    postfix, _, _ = edge
    result = postfix.check()
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr.lower(), result.stderr


@needs_postfix
def test_postfix_in_front_with_the_gateway_as_its_before_queue_filter(
    edge: tuple[Postfix, RunningGateway, Catch],
) -> None:
    postfix, gateway, catch = edge
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=60) as client:
        assert client.sendmail(SENDER, [FRONT_DOOR], build_message()) == {}
    assert wait_for(lambda: delivered_files(gateway.maildir("magistrates")), timeout=30)
    # A bounce: refused in this client's own session, with the gateway's words.
    bounce = build_message("URN 20AB1234521 - R v SMITH")
    with (
        smtplib.SMTP("127.0.0.1", postfix.port, timeout=60) as client,
        pytest.raises(smtplib.SMTPDataError) as refused,
    ):
        client.sendmail(SENDER, [FRONT_DOOR], bounce)
    assert refused.value.smtp_code == 550
    text = refused.value.smtp_error.decode()
    assert "5.6.0" in text and "court centre" in text
    # Postfix took nothing on itself: no queue file, no bounce written to anyone.
    assert postfix.queued() == []
    assert catch.messages == []
