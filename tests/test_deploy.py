"""deploy/, each file tested (issue 13): the systemd unit passes systemd-analyze verify, and
the gateway run with the unit's privileges (nobody, CAP_NET_BIND_SERVICE alone) binds a port
below 1024 and delivers; the
Postfix snippets pass postfix check; a real Postfix configured from them, with the gateway as
its before-queue filter, delivers defence mail to the team, refuses a bounce in the sending
client's own session with the gateway's text, and queues nothing for it; Dovecot started from
its sample takes the gateway's mail; the sample configuration loads; the compose file passes
compose's own check and the Containerfiles copy what exists."""

from __future__ import annotations

import grp
import os
import pwd
import random
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from conftest import FRONT_DOOR, ROOT, SENDER, build_message
from gateway_helpers import (
    RunningGateway,
    delivered_files,
    gateway_settings,
    listening,
    wait_for,
)
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


# --- the unit's privileges, for real -------------------------------------------------------

_UNPRIVILEGED = ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--no-new-privs"]
_BIND_ONLY = [  # AmbientCapabilities= and CapabilityBoundingSet=CAP_NET_BIND_SERVICE
    "--inh-caps=+net_bind_service", "--ambient-caps=+net_bind_service",
    "--bounding-set=-all,+net_bind_service",
]  # fmt: skip
_CAP_NET_BIND_SERVICE = 1 << 10


def _system_python() -> str:
    """A Python the unprivileged user can run, with this checkout and its packages on its
    path (this venv's own interpreter may sit in root's home, which nobody may enter)."""
    python = shutil.which("python3", path="/usr/bin:/usr/local/bin")
    if python is None:
        pytest.skip("no system python3")
    found = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"],
                           capture_output=True, text=True)  # fmt: skip
    if found.stdout.strip() != str(tuple(sys.version_info[:2])):
        pytest.skip(f"the system python3 is not Python {sys.version_info[:2]}")
    return python


def _free_privileged_port() -> int:
    for port in random.sample(range(600, 1024), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port below 1024")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv (util-linux)")  # fmt: skip
def test_the_gateway_takes_port_25s_kind_as_nobody_with_only_the_units_capability() -> None:
    """What the unit gives the gateway, given with setpriv: an unprivileged user, no new
    privileges, and of all capabilities only CAP_NET_BIND_SERVICE (ambient). It binds a
    port below 1024, keeps no other privilege, takes a message and its delivery child
    delivers it; without the capability the same start is refused."""
    python = _system_python()
    site = sysconfig.get_paths()["purelib"]  # this venv's packages
    var = Path(tempfile.mkdtemp(prefix="mailrouter-unit-"))  # outside pytest's root-only tmp
    try:
        nobody = pwd.getpwnam("nobody").pw_uid
        os.chown(var, nobody, grp.getgrnam("nogroup").gr_gid)
        port = _free_privileged_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": f"{ROOT / 'src'}:{site}",
            "MAILROUTER_VAR_DIR": str(var / "state"),
            "MAILROUTER_RULES_DIR": str(ROOT / "routing_rules"),
            "MAILROUTER_SMTP__PORT": str(port),
            "MAILROUTER_HTTP__PORT": "0",
            "MAILROUTER_DELIVERY__SCAN_SECONDS": "0.2",
        }
        serve = [
            python,
            "-c",
            "import sys; from mailrouter.cli import main; sys.exit(main(['serve']))",
        ]
        reachable = subprocess.run(["setpriv", *_UNPRIVILEGED, python, "-c", "import mailrouter"],
                                   env=env, capture_output=True, text=True)  # fmt: skip
        if reachable.returncode != 0:
            pytest.skip(f"nobody cannot import this checkout: {reachable.stderr[-200:]}")

        refused = subprocess.run(["setpriv", *_UNPRIVILEGED, *serve], env=env,
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
        assert refused.returncode != 0
        said = refused.stdout + refused.stderr
        assert f"{port}" in said and ("Permission denied" in said or "Errno 13" in said), said

        log = var / "gateway.log"  # a file, not a pipe nobody reads until the end
        with log.open("wb") as output:
            gateway = subprocess.Popen(["setpriv", *_UNPRIVILEGED, *_BIND_ONLY, *serve], env=env,
                                       stdout=output, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            wait_for(lambda: listening(port) or gateway.poll() is not None, timeout=60)
            assert gateway.poll() is None, log.read_text()[-2000:]
            status = _status(gateway.pid)
            assert status["Uid"].split()[:2] == [str(nobody)] * 2
            assert int(status["CapEff"], 16) == _CAP_NET_BIND_SERVICE
            assert int(status["CapBnd"], 16) == _CAP_NET_BIND_SERVICE
            assert status["NoNewPrivs"] == "1"
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                assert client.sendmail(SENDER, [FRONT_DOOR], build_message()) == {}
            mail = var / "state" / "mail" / "magistrates"
            files = wait_for(lambda: delivered_files(mail), timeout=30)
            assert files and all(f.stat().st_uid == nobody for f in files)
            children = Path(f"/proc/{gateway.pid}/task/{gateway.pid}/children").read_text().split()
            assert children and all(_status(int(c))["Uid"].split()[0] == str(nobody)
                                    for c in children)  # fmt: skip
        finally:
            gateway.terminate()
            gateway.wait(60)
        assert gateway.returncode == 0
    finally:
        shutil.rmtree(var, ignore_errors=True)


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


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
