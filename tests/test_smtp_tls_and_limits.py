"""STARTTLS, TLS required from remote peers, idle timeouts, and a full disk (real tmpfs)."""

from __future__ import annotations

import asyncio
import contextlib
import email
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from aiosmtpd.smtp import Session

from conftest import FRONT_DOOR, SENDER, STANDARD_BODY, build_message
from gateway_helpers import RunningGateway, delivered_files, gateway_settings, is_root, wait_for
from mailrouter.ingest.handler import GatewayHandler

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_gateway(tmp_path: Path, ca: trustme.CA) -> Iterator[RunningGateway]:
    cert = ca.issue_cert("127.0.0.1", "localhost", "gateway.test")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    settings = gateway_settings(tmp_path / "var", smtp={"tls_cert": cert_file, "tls_key": key_file})
    with RunningGateway(settings) as running:
        yield running


def test_starttls(tls_gateway: RunningGateway, ca: trustme.CA) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with tls_gateway.smtp() as client:
        assert client.has_extn("starttls")
        assert client.starttls(context=context)[0] == 220
        client.ehlo("client.test")
        assert not client.has_extn("starttls")
        refused = client.sendmail(SENDER, [FRONT_DOOR], build_message())
    assert refused == {}
    (path,) = wait_for(lambda: delivered_files(tls_gateway.maildir("magistrates")))
    received = email.message_from_bytes(path.read_bytes())["Received"]
    assert "with ESMTPS id" in received


def test_plaintext_still_allowed_from_loopback_by_default(tls_gateway: RunningGateway) -> None:
    with tls_gateway.smtp() as client:
        assert client.mail(SENDER)[0] == 250


def test_tls_required_from_remote_peers(tmp_path: Path, ca: trustme.CA) -> None:
    cert = ca.issue_cert("gateway.test")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    settings = gateway_settings(
        tmp_path / "var",
        smtp={"tls_cert": cert_file, "tls_key": key_file, "require_tls_from_remote": True},
    )
    with RunningGateway(settings) as running:
        handler = GatewayHandler(running.gateway)  # type: ignore[arg-type]

        async def mail_from(peer: str, tls: bool) -> str:
            session = Session(asyncio.get_running_loop())
            session.peer = (peer, 40000)
            session.ssl = {"cipher": "TLS_AES_256_GCM_SHA384"} if tls else None
            return await handler.handle_MAIL(None, session, SmtpEnvelope(), SENDER, [])

        assert running.run(lambda: mail_from("203.0.113.9", tls=False)).startswith("530 5.7.0")
        assert running.run(lambda: mail_from("203.0.113.9", tls=True)).startswith("250 2.1.0")
        assert running.run(lambda: mail_from("127.0.0.1", tls=False)).startswith("250 2.1.0")
        assert running.run(lambda: mail_from("::1", tls=False)).startswith("250 2.1.0")


def test_idle_session_times_out(tmp_path: Path) -> None:
    with RunningGateway(gateway_settings(tmp_path / "var", smtp={"timeout": 0.5})) as gateway:
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
            assert sock.recv(200).startswith(b"220")
            time.sleep(1.5)
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(200) == b""  # the gateway closed the idle session
        wait_for(lambda: gateway.gateway.limit.active == 0)  # type: ignore[union-attr]
        assert gateway.gateway.limit.active == 0  # type: ignore[union-attr]


@pytest.mark.skipif(not is_root(), reason="mounting a small tmpfs needs root")
def test_disk_full_gives_452_and_no_250(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(var)], check=True)
    try:
        with RunningGateway(gateway_settings(var)) as gateway:
            big = build_message(body=STANDARD_BODY + ("x" * 76 + "\n") * 60_000)
            with gateway.smtp() as client:
                client.mail(SENDER)
                client.rcpt(FRONT_DOOR)
                code, text = client.data(big)
            assert (code, text[:5]) == (452, b"4.3.1")
            assert gateway.gateway.spool.ids() == []  # type: ignore[union-attr]
            assert list(gateway.gateway.spool.tmp.iterdir()) == []  # type: ignore[union-attr]
            # Room for a normal message is still there: it is taken.
            with gateway.smtp() as client:
                assert client.sendmail(SENDER, [FRONT_DOOR], build_message()) == {}
    finally:
        subprocess.run(["umount", "-l", str(var)], check=False)
