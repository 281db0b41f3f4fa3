"""The rough edges a new operator hit (issue 11), each kept from coming back."""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from conftest import (
    FRONT_DOOR,
    NOW,
    RULES_DIR,
    SENDER,
    STANDARD_BODY,
    Decider,
    build_message,
    copy_rules,
)
from gateway_helpers import RunningGateway, delivered_files, free_port, gateway_settings, wait_for
from mailrouter.deliver.compose import compose
from mailrouter.ingest.records import spool_meta
from mailrouter.notices import bounce_lines, bounce_paragraphs
from mailrouter.rules.ruleset import Ruleset

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)

MAILROUTER = str(Path(sys.executable).with_name("mailrouter"))
SAMPLES = RULES_DIR / "samples"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MAILROUTER, *args], capture_output=True, text=True, timeout=120)


def _rules(tmp_path: Path, *edits: tuple[str, str, str]) -> Path:
    return copy_rules(tmp_path / "rules", edits)


# --- rules check ------------------------------------------------------------------------------


def test_an_unknown_area_is_reported_at_the_courts_own_line(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    courts = rules / "courts.yaml"
    lines = courts.read_text().splitlines()
    second = [n for n, line in enumerate(lines, 1) if line.strip() == "area: west-midlands"][1]
    lines[second - 1] = lines[second - 1].replace("west-midlands", "narnia")
    courts.write_text("\n".join(lines) + "\n")
    result = run("rules", "check", str(rules))
    assert result.returncode == 1
    assert f"courts.yaml:{second}: courts[1].area: unknown area 'narnia'" in result.stderr


def test_an_alias_naming_two_courts_of_one_type_is_refused(tmp_path: Path) -> None:
    alias = ("courts.yaml", "aliases: [Much Park Street]", "aliases: [Much Park Street, QEII]")
    rules = _rules(tmp_path, alias)
    result = run("rules", "check", str(rules))
    assert result.returncode == 1
    assert "alias 'QEII' already names Birmingham Crown Court" in result.stderr


def test_a_rule_after_the_catch_all_is_warned_of(tmp_path: Path) -> None:
    rules = _rules(tmp_path)
    path = rules / "rules.yaml"
    path.write_text(path.read_text() + "\n  - name: too-late\n    when: {court_type: [crown]}\n"
                    "    route: crown_court\n")  # fmt: skip
    result = run("rules", "check", str(rules))
    assert result.returncode == 0  # a warning, not a refusal
    assert "warning: rule too-late comes after the catch-all rule unrouted" in result.stdout


# --- configuration ----------------------------------------------------------------------------


def test_a_configuration_error_is_one_line_per_problem(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[smtp]\nport = "lots"\nmax_sesions = 3\n[delivery]\ntransport = "pigeon"\n')
    result = run("serve", "--config", str(config))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    problems = result.stderr.splitlines()[1:]
    assert len(problems) == 3
    assert problems[0].strip().startswith(f"{config}: smtp.port (or MAILROUTER_SMTP__PORT):")
    assert "delivery.transport" in problems[2] and "'pigeon'" in problems[2]


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("mailrouter 0.")


# --- what the teams see -----------------------------------------------------------------------


def _delivered_subject(gateway: RunningGateway, route: str, raw: bytes) -> email.message.Message:
    before = len(delivered_files(gateway.maildir(route)))
    with gateway.smtp() as client:
        client.sendmail("m.hale@haleostrow.co.uk.cjsm.net", [FRONT_DOOR], raw)
    files = wait_for(lambda: len(delivered_files(gateway.maildir(route))) > before
                     and delivered_files(gateway.maildir(route)))  # fmt: skip
    newest = max(files, key=lambda p: p.stat().st_mtime_ns)
    return email.message_from_bytes(newest.read_bytes())


def test_held_copy_says_why_and_a_reply_is_not_tagged_twice(tmp_path: Path) -> None:
    with RunningGateway(gateway_settings(tmp_path / "var")) as gateway:
        held = _delivered_subject(gateway, "triage", (SAMPLES / "two-urns-held.eml").read_bytes())
        assert held["Subject"].startswith("[HOLD two URNs] URN 20WS0417226 and")
        assert held["X-Mailrouter-Held"] == "two URNs"
        original = (SAMPLES / "magistrates-complete.eml").read_bytes()
        reply = original.replace(b"Subject: URN", b"Subject: RE: [MAGS 20WS0417226] RE: URN")
        tagged = _delivered_subject(gateway, "magistrates", reply)
        assert (
            tagged["Subject"]
            == "RE: [MAGS 20WS0417226] RE: URN 20WS0417226 - Walsall MC - R v PELLING"
        )


def test_an_urgent_hearing_is_tagged_in_the_subject(route: Decider, ruleset: Ruleset) -> None:
    body = STANDARD_BODY.replace("15/12/2026", "24/11/2026")  # NOW is Monday 23 November
    decision = route(body=body)
    assert decision.tags == ["urgent"]
    where = {"helo": "h", "peer_ip": "127.0.0.1", "protocol": "ESMTP", "hostname": "gw"}
    meta = spool_meta(
        "x", NOW.timestamp(), decision, ruleset, **where, mail_from=SENDER, rcpt=[FRONT_DOOR]
    )
    delivered = email.message_from_bytes(compose(build_message(body=body), meta))
    assert delivered["Subject"].startswith("[URGENT] [MAGS 20AB1234521] URN 20AB1234521")


def test_an_out_of_area_court_is_told_where_to_go(route: Decider, ruleset: Ruleset) -> None:
    decision = route(raw=(SAMPLES / "out-of-area-court.eml").read_bytes(),
                     mail_from="m.hale@haleostrow.co.uk.cjsm.net")  # fmt: skip
    assert decision.missing == ["court"]
    for text in ("\n".join(bounce_paragraphs(decision, ruleset.notices)),
                 "\n".join(bounce_lines(decision, ruleset.notices))):  # fmt: skip
        flat = " ".join(text.split())
        assert "Leeds" in flat and "not a court centre of this CPS area" in flat
        assert "send your request to the CPS area that covers that court" in flat
        assert "Birmingham Magistrates' Court" not in flat and "Subject: URN" not in flat


# --- on the wire ------------------------------------------------------------------------------


def test_bare_lf_over_64_kb_is_refused_as_bare_lf_and_logged(tmp_path: Path) -> None:
    raw = build_message(body=STANDARD_BODY + ("x" * 70 + "\n") * 1500)  # about 107 KB
    raw = raw.replace(b"\r\n", b"\n")  # every line ends with a bare LF
    with (
        RunningGateway(gateway_settings(tmp_path / "var")) as gateway,
        capture_logs() as logs,
        socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock,
    ):
        reader = sock.makefile("rb")
        reader.readline()
        commands = f"EHLO c\r\nMAIL FROM:<{SENDER}>\r\nRCPT TO:<{FRONT_DOOR}>\r\nDATA\r\n"
        sock.sendall(commands.encode())
        while not reader.readline().startswith(b"354"):
            pass
        sock.sendall(raw + b"\r\n.\r\n")
        answer = reader.readline()
    assert answer.startswith(b"550 5.6.0 Bare CR or LF"), answer
    refused = [e for e in logs if e["event"] == "data_refused"]
    assert refused and refused[0]["reply"] == answer.decode().strip()


def test_sigterm_says_421_to_open_sessions_and_the_banner_names_no_software(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {**os.environ, "MAILROUTER_VAR_DIR": str(tmp_path / "var"),
           "MAILROUTER_RULES_DIR": str(RULES_DIR), "MAILROUTER_SMTP__PORT": str(port)}  # fmt: skip
    process = subprocess.Popen([MAILROUTER, "serve"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        sock = wait_for(lambda: _connect(port), timeout=30)
        assert sock is not None
        with sock:
            reader = sock.makefile("rb")
            banner = reader.readline()
            assert banner.startswith(b"220 ") and b"Python" not in banner
            assert b"1.4" not in banner and b"aiosmtpd" not in banner.lower()
            sock.sendall(b"EHLO client.test\r\n")
            while not reader.readline().startswith(b"250 "):
                pass
            process.send_signal(signal.SIGTERM)
            assert reader.readline().startswith(b"421 4.3.2")
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def _connect(port: int) -> socket.socket | None:
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError:
        return None
