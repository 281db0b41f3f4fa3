"""Real Postfix in front of the gateway: it relays defence mail in; for a bounce, Postfix writes
its own bounce message carrying our text (so the gateway sends no backscatter)."""

from __future__ import annotations

import contextlib
import email
import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from conftest import FRONT_DOOR, SENDER, build_message
from gateway_helpers import RunningGateway, delivered_files, gateway_settings, wait_for
from peers import Postfix, free_port, postfix_missing

pytestmark = pytest.mark.skipif(postfix_missing() is not None, reason=postfix_missing() or "")


class Catch:
    """Every other domain's mail (here: Postfix's bounces to the sender)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            {"from": envelope.mail_from, "to": envelope.rcpt_tos, "data": envelope.content}
        )
        return "250 2.0.0 caught"


@contextlib.contextmanager
def postfix_in_front(
    tmp_path: Path, smtpd: Callable[[int], str] | None = None, extra_main: str = ""
) -> Iterator[tuple[Postfix, RunningGateway, Catch]]:
    """A gateway, a Postfix relaying its domain to it, and a sink for every other domain.
    `smtpd(gateway_port)`: the Postfix smtpd's master.cf entry (default: a plain one)."""
    catch = Catch()
    sink = Controller(catch, hostname="127.0.0.1", port=free_port())
    sink.start()
    with RunningGateway(gateway_settings(tmp_path / "var")) as gateway:
        entry = smtpd(gateway.port) if smtpd is not None else None
        postfix = Postfix(gateway.port, sink.port, entry, extra_main)
        postfix.start()
        try:
            yield postfix, gateway, catch
        finally:
            postfix.close()
            sink.stop()


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[tuple[Postfix, RunningGateway, Catch]]:
    with postfix_in_front(tmp_path) as running:
        yield running


def submit(postfix: Postfix, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as client:
        assert client.sendmail(SENDER, [FRONT_DOOR], raw) == {}


def test_postfix_relays_defence_mail_into_the_gateway(
    chain: tuple[Postfix, RunningGateway, Catch],
) -> None:
    postfix, gateway, _ = chain
    submit(postfix, build_message())
    found = wait_for(lambda: delivered_files(gateway.maildir("magistrates")), timeout=30)
    assert found, postfix.log()[-3000:]
    delivered = email.message_from_bytes(found[0].read_bytes())
    assert delivered["X-Mailrouter-Route"] == "magistrates"
    # Postfix's own Received line is kept below ours: the original bytes are untouched.
    received = delivered.get_all("Received")
    assert received[0].startswith("from mta.test") and "by mta.test" in received[1]
    assert "status=sent" in postfix.log()


def test_bounce_is_written_by_postfix_with_our_text(
    chain: tuple[Postfix, RunningGateway, Catch],
) -> None:
    postfix, gateway, catch = chain
    submit(postfix, build_message("URN 20WV5512326", "Client: Kyle DAWSON\n\nPlease send IDPC.\n"))
    wait_for(lambda: catch.messages, timeout=30)
    assert catch.messages, postfix.log()[-3000:]
    (bounce,) = catch.messages
    assert bounce["from"] in ("", "<>") and bounce["to"] == [SENDER]
    data = bounce["data"] if isinstance(bounce["data"], str) else bounce["data"].decode()
    text = " ".join(data.split())  # Postfix rewraps the reply text
    assert "said: 550-5.6.0 Not accepted" in text and "Status: 5.6.0" in text
    assert "court centre, date of birth, hearing date" in text
    assert "Subject: URN 20WV5512326 - Birmingham Magistrates' Court - R v SURNAME" in text
    assert "DAWSON" not in text.split("Content-Type: message/rfc822")[0]  # not in our text
    assert delivered_files(gateway.maildir("magistrates")) == []
    assert "status=bounced" in postfix.log()


def test_non_cjsm_sender_is_refused_through_postfix(
    chain: tuple[Postfix, RunningGateway, Catch],
) -> None:
    postfix, gateway, _catch = chain
    raw = build_message(from_header="X <someone@gmail.com>")
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as client:
        client.sendmail("someone@gmail.com", [FRONT_DOOR], raw)
    wait_for(lambda: "status=bounced" in postfix.log(), timeout=30)
    assert "550 5.7.1" in postfix.log() or "550-5.7.1" in postfix.log()
    assert delivered_files(gateway.maildir("magistrates")) == []
