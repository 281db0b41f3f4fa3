"""deploy/, each file tested (issue 13): the systemd unit passes systemd-analyze verify; the
Postfix snippets pass postfix check; a real Postfix configured from them, with the gateway as
its before-queue filter, delivers defence mail to the team, refuses a bounce in the sending
client's own session with the gateway's text, and queues nothing for it; Dovecot started from
its sample takes the gateway's mail; the sample configuration loads; the compose file passes
compose's own check and the Containerfiles copy what exists."""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from conftest import FRONT_DOOR, ROOT, SENDER, build_message
from gateway_helpers import RunningGateway, delivered_files, gateway_settings, wait_for
from mailrouter.config import load_settings
from peers import Dovecot, Postfix, dovecot_missing, postfix_missing
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


# --- the configuration, the images and the compose file ---------------------------------------


def test_the_sample_configuration_loads_as_the_gateway_would_load_it() -> None:
    settings = load_settings(DEPLOY / "mailrouter.toml")
    assert settings.smtp.workers == 2 and settings.delivery.transport == "imap"
    assert settings.journal_url is None  # the secret comes from the environment
    # The filter address is the one deploy/postfix/master.cf hands mail to.
    master = (DEPLOY / "postfix" / "master.cf").read_text()
    assert f"smtpd_proxy_filter={settings.smtp.host}:{settings.smtp.port}" in master


_INSTRUCTIONS = {"FROM", "RUN", "COPY", "ENV", "USER", "VOLUME", "EXPOSE", "HEALTHCHECK",
                 "ENTRYPOINT", "CMD", "WORKDIR"}  # fmt: skip


@pytest.mark.parametrize(
    ("containerfile", "context"),
    [(DEPLOY / "Containerfile", ROOT), (DEPLOY / "postfix" / "Containerfile", DEPLOY / "postfix")],
)
def test_each_containerfile_copies_files_that_exist(containerfile: Path, context: Path) -> None:
    """No image builder here: each instruction is one a builder knows, and every file COPY
    names is in the build context the compose file gives it."""
    text = re.sub(r"\\\n", " ", containerfile.read_text())
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert {line.split()[0] for line in lines} <= _INSTRUCTIONS
    assert lines[0].startswith("FROM ")
    copied = [part for line in lines if line.startswith("COPY ") for part in line.split()[1:-1]]
    assert copied and all((context / source).exists() for source in copied), copied


def _compose() -> list[str] | None:
    for command in (["docker-compose"], ["podman-compose"], ["docker", "compose"]):
        if (
            shutil.which(command[0])
            and subprocess.run([*command, "version"], capture_output=True).returncode == 0
        ):
            return command
    return None


@pytest.mark.skipif(_compose() is None, reason="no docker-compose or podman-compose")
def test_the_compose_file_passes_compose_config(tmp_path: Path) -> None:
    compose = _compose()
    assert compose is not None
    checked = subprocess.run([*compose, "-f", str(DEPLOY / "compose.yaml"), "config", "-q"],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    # The same check refuses a file with a mistake in it: it is a check.
    broken = DEPLOY / f".broken-{tmp_path.name}.yaml"
    broken.write_text((DEPLOY / "compose.yaml").read_text().replace(
        "service_completed_successfully", "service_finished"))  # fmt: skip
    try:
        refused = subprocess.run([*compose, "-f", str(broken), "config", "-q"],
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
    finally:
        broken.unlink()
    assert refused.returncode != 0 and "service_finished" in refused.stderr


# --- Dovecot for the team mailboxes ------------------------------------------------------------


@pytest.mark.skipif(dovecot_missing() is not None, reason=dovecot_missing() or "")
def test_dovecot_from_the_deploy_config_takes_the_gateways_mail(tmp_path: Path) -> None:
    """deploy/dovecot/dovecot.conf, its paths moved under a temporary directory and its
    port changed: the gateway appends to the route's folder, which the team account sees."""
    dovecot = Dovecot(trustme.CA())
    root, nobody = dovecot.root, pwd.getpwnam("nobody")
    password = "deploy-test-secret"
    hashed = subprocess.run(["doveadm", "pw", "-s", "SHA512-CRYPT", "-p", password],
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    (root / "etc" / "private").mkdir(parents=True)
    (root / "etc" / "users").write_text(f"cps-defence:{hashed}\n")
    pem = root / "server.pem"
    for name in ("mail.pem", "mail.key"):
        shutil.copy(pem, root / "etc" / "private" / name)
    (root / "mail").mkdir()
    os.chown(root / "mail", nobody.pw_uid, nobody.pw_gid)
    conf = (DEPLOY / "dovecot" / "dovecot.conf").read_text()
    for old, new in (("/etc/dovecot/", f"{root}/etc/"), ("/var/mail/cps", f"{root}/mail"),
                     ("mail_uid = vmail", "mail_uid = nobody"),
                     ("mail_gid = vmail", f"mail_gid = {grp.getgrgid(nobody.pw_gid).gr_name}"),
                     ("port = 993", f"port = {dovecot.port}"),
                     ("listen = *", "listen = 127.0.0.1")):  # fmt: skip
        assert old in conf
        conf = conf.replace(old, new)
    run_here = f"base_dir = {root}/run\nstate_dir = {root}/state\nlog_path = {root}/dovecot.log\n"
    (root / "dovecot.conf").write_text(run_here + conf)
    dovecot.USER, dovecot.PASSWORD = "cps-defence", password  # type: ignore[misc]
    dovecot.start()
    try:
        ca_file = tmp_path / "ca.pem"
        dovecot.ca.cert_pem.write_to_path(str(ca_file))
        imap = {"host": "127.0.0.1", "port": dovecot.port, "username": "cps-defence",
                "password": password, "ca_file": str(ca_file), "timeout": 5}  # fmt: skip
        settings = gateway_settings(tmp_path / "var", delivery={"transport": "imap", "imap": imap})
        with RunningGateway(settings) as gateway:
            message_id = gateway.accept()
            delivered = wait_for(lambda: gateway.state(message_id) == "delivered", timeout=30)
        assert delivered, (root / "dovecot.log").read_text(errors="replace")[-2000:]
        assert dovecot.count("magistrates", message_id) == 1
        listed = dovecot.client().lsub('""', "*")[1]  # the team sees its folders subscribed
        assert any(b"crown_court" in line for line in listed), listed
    finally:
        dovecot.close()
