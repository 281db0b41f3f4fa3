"""Delivery after acceptance: SMTP relay, retries with back-off, parking, and the queue commands.

The downstream mail server is a real SMTP server on 127.0.0.1 (aiosmtpd's Controller) whose
answers each test scripts: a peer, not the thing under test.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller

from conftest import FRONT_DOOR, SENDER, build_message
from gateway_helpers import RunningGateway, cli_config, free_port, gateway_settings, wait_for
from mailrouter.config import DeliverySettings
from mailrouter.deliver.base import Delivery
from mailrouter.deliver.maildir import MaildirTransport
from mailrouter.deliver.worker import DeliveryQueue, backoff
from mailrouter.store.journal import JournalPool
from mailrouter.store.spool import Spool
from peers import Downstream

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)

MAILROUTER = str(Path(sys.executable).with_name("mailrouter"))


def relay_settings(tmp_path: Path, port: int, **delivery: Any) -> Any:
    smtp = {"host": "127.0.0.1", "port": port, "starttls": "off", **delivery.pop("smtp", {})}
    return gateway_settings(
        tmp_path / "var", delivery={"transport": "smtp", "smtp": smtp, **delivery}
    )


def outcomes(gateway: RunningGateway, message_id: str) -> list[str]:
    return [row["outcome"] for row in gateway.journal("attempts", message_id)]


def test_relay_to_the_route_mailbox(tmp_path: Path, downstream: tuple[Downstream, int]) -> None:
    sink, port = downstream
    with RunningGateway(relay_settings(tmp_path, port)) as gateway:
        message_id = gateway.accept()
        wait_for(lambda: sink.received)
        (received,) = sink.received
        assert received["rcpt"] == ["wm.magistrates.defence@cps.gov.uk"]
        assert received["mail_from"] == SENDER
        assert f"X-Mailrouter-Id: {message_id}".encode() in received["data"]
        wait_for(lambda: gateway.state(message_id) == "delivered")
        assert outcomes(gateway, message_id) == ["delivered"]


def test_temporary_failure_is_retried(tmp_path: Path, downstream: tuple[Downstream, int]) -> None:
    sink, port = downstream
    sink.answers = ["451 4.3.0 try later", "421 4.3.2 busy"]
    with RunningGateway(relay_settings(tmp_path, port)) as gateway:
        message_id = gateway.accept()
        wait_for(lambda: gateway.state(message_id) == "delivered", timeout=20)
        assert outcomes(gateway, message_id) == ["temporary", "temporary", "delivered"]
        assert len(sink.received) == 3
        row = gateway.journal("get", message_id)
        assert row["attempts"] == 3 and row["last_error"] is None


def test_destination_down_is_retried_not_lost(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here yet
    with RunningGateway(relay_settings(tmp_path, port)) as gateway:
        message_id = gateway.accept()
        wait_for(lambda: "temporary" in outcomes(gateway, message_id))
        assert gateway.gateway.spool.exists(message_id)  # type: ignore[union-attr]
        sink = Downstream()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            wait_for(lambda: gateway.state(message_id) == "delivered", timeout=20)
            assert len(sink.received) == 1
        finally:
            controller.stop()


def test_permanent_refusal_parks_and_ops_can_retry(
    tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    sink, port = downstream
    sink.answers = ["550 5.1.1 no such mailbox"]
    settings = relay_settings(tmp_path, port)
    config = cli_config(tmp_path / "mailrouter.toml", settings)
    with RunningGateway(settings) as gateway:
        message_id = gateway.accept()
        wait_for(lambda: gateway.state(message_id) == "parked")
        assert "5.1.1" in gateway.journal("get", message_id)["last_error"]

        listing = run_cli("queue", "--config", str(config), "list")
        assert message_id in listing.stdout and "parked" in listing.stdout
        shown = json.loads(run_cli("queue", "--config", str(config), "show", message_id).stdout)
        assert shown["state"] == "parked" and shown["attempts_log"][0]["outcome"] == "parked"

        assert run_cli("queue", "--config", str(config), "retry", message_id).returncode == 0
        wait_for(lambda: gateway.state(message_id) == "delivered")
        assert len(sink.received) == 2
        delivered = run_cli("queue", "--config", str(config), "list", "--state", "delivered")
        assert message_id in delivered.stdout
        assert run_cli("queue", "--config", str(config), "retry", message_id).returncode == 1


def test_parked_after_too_long(tmp_path: Path, downstream: tuple[Downstream, int]) -> None:
    sink, port = downstream
    sink.answers = ["451 4.3.0 try later"] * 100
    settings = relay_settings(tmp_path, port, park_after_hours=1 / 3600)  # one second
    with RunningGateway(settings) as gateway:
        message_id = gateway.accept()
        wait_for(lambda: gateway.state(message_id) == "parked", timeout=20)
        assert "undeliverable for too long" in gateway.journal("get", message_id)["last_error"]


def test_queue_park_by_hand(tmp_path: Path) -> None:
    settings = relay_settings(tmp_path, free_port())  # a destination that is down
    config = cli_config(tmp_path / "mailrouter.toml", settings)
    with RunningGateway(settings) as gateway:
        message_id = gateway.accept()
        wait_for(lambda: "temporary" in outcomes(gateway, message_id))
        wait_for(lambda: gateway.state(message_id) == "queued")
        assert run_cli("queue", "--config", str(config), "park", message_id).returncode == 0
        assert gateway.state(message_id) == "parked"


def test_relay_over_required_starttls(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    sink, port = Downstream(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, tls_context=context)
    controller.start()
    try:
        settings = relay_settings(tmp_path, port, smtp={"starttls": "required", "ca_file": ca_file})
        with RunningGateway(settings) as gateway:
            message_id = gateway.accept()
            wait_for(lambda: gateway.state(message_id) == "delivered")
            assert sink.received[0]["tls"] is True
    finally:
        controller.stop()


def test_relay_refuses_to_send_in_clear_when_tls_required(
    tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    sink, port = downstream  # offers no STARTTLS
    with RunningGateway(relay_settings(tmp_path, port, smtp={"starttls": "required"})) as gateway:
        message_id = gateway.accept()
        wait_for(lambda: "temporary" in outcomes(gateway, message_id))
        assert sink.received == []


@pytest.mark.parametrize("attempts", [1, 2, 3, 8, 30])
def test_backoff_grows_with_jitter_and_a_ceiling(attempts: int) -> None:
    delays = [backoff(attempts, 30, 1800) for _ in range(200)]
    base = min(1800, 30 * 2 ** (attempts - 1))
    assert all(0.8 * base <= d <= 1.2 * base for d in delays)
    assert len({round(d, 6) for d in delays}) > 100  # jittered, not lock-step


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MAILROUTER, *args], capture_output=True, text=True, timeout=60)


def test_a_batch_with_mixed_fates(tmp_path: Path) -> None:
    """Messages taken together: each meets its own fate, and one that cannot be read does not
    hold up the others. (Two delivered to Maildir, one whose spool file is gone parked, one
    already delivered left alone.)"""

    async def run() -> dict[str, str | None]:
        spool = Spool(tmp_path / "spool")
        journal = JournalPool(tmp_path / "journal.sqlite3", "node", threads=2)
        parked: list[str] = []

        async def on_parked(message_id: str, reason: str) -> None:
            parked.append(f"{message_id}: {reason}")

        queue = DeliveryQueue(
            DeliverySettings(), spool, journal,
            {"maildir": MaildirTransport(tmp_path / "mail", "node")}, on_parked=on_parked,
        )  # fmt: skip
        rows = {}
        for name in ("a", "b", "gone", "done"):
            meta = {"id": name, "received_at": 1.0, "mail_from": SENDER, "rcpt": [FRONT_DOOR],
                    "decision": {"route": "magistrates", "action": "deliver"}}  # fmt: skip
            rows[name] = meta
            if name != "gone":
                spool.write(name, meta, build_message())
        lost = {"id": "gone", "received_at": 1.0, "route": "magistrates",
                        "action": "deliver", "state": "queued"}  # fmt: skip
        await journal("record", lost)
        await queue.attempt(["done"])
        assert await journal("state", "done") == "delivered"
        await queue.attempt(["a", "gone", "b", "done"])
        states = {name: await journal("state", name) for name in rows}
        assert parked == ["gone: spool file missing"]
        await journal.close()
        spool.close()
        return states

    states = asyncio.run(run())
    assert states == {"a": "delivered", "b": "delivered", "gone": "parked", "done": "delivered"}
    delivered = list((tmp_path / "mail" / "magistrates" / "new").iterdir())
    assert sorted(p.name.split(".")[0] for p in delivered) == ["a", "b", "done"]
    assert not any((tmp_path / "spool" / "msg").iterdir())


def test_a_message_another_node_delivered_is_not_delivered_again(tmp_path: Path) -> None:
    """A claim taken over from a node that died: its copy (named after it) is found, in new/
    or in cur/ once read, and this node does not write a second."""
    node_a = MaildirTransport(tmp_path / "mail", "node-a")
    node_b = MaildirTransport(tmp_path / "mail", "node-b")
    first = Delivery("20261202101010000.00000000aa", "magistrates", None, SENDER, b"x", False)
    second = first._replace(id="20261202101010000.00000000bb")
    node_a.deliver_blocking(first)
    node_a.deliver_blocking(second)
    new = tmp_path / "mail" / "magistrates" / "new"
    read = new / f"{second.id}.node-a"
    read.rename(new.parent / "cur" / f"{read.name}:2,S")  # a reader has seen the second
    for delivery in (first, second):
        said = node_b.deliver_blocking(delivery._replace(maybe_delivered=True))
        assert said == f"already in magistrates/ as {delivery.id}.node-a"
    assert not list(new.glob("*.node-b")) and not list((new.parent / "cur").glob("*.node-b"))
    # Without the flag (a first attempt), nothing is looked for.
    node_b.deliver_blocking(first)
    assert (new / f"{first.id}.node-b").exists()
