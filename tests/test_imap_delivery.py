"""IMAP APPEND delivery into a real Dovecot: folders created on demand, retries while Dovecot
is down, exactly one copy of each message once it is back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from conftest import SENDER, build_message
from gateway_helpers import RunningGateway, gateway_settings, wait_for
from mailrouter.config import ImapSettings
from mailrouter.deliver.base import Delivery, TemporaryDeliveryError
from mailrouter.deliver.imap_append import ImapAppendTransport
from peers import Dovecot, dovecot_missing

pytestmark = [
    pytest.mark.storage,
    pytest.mark.skipif(dovecot_missing() is not None, reason=dovecot_missing() or ""),
]


def imap_settings(dovecot: Dovecot, tmp_path: Path) -> ImapSettings:
    ca_file = tmp_path / "ca.pem"
    dovecot.ca.cert_pem.write_to_path(str(ca_file))
    return ImapSettings(
        host="127.0.0.1",
        port=dovecot.port,
        username=Dovecot.USER,
        password=Dovecot.PASSWORD,
        ca_file=ca_file,
        timeout=5,
    )


def test_appended_to_the_route_folder(dovecot: Dovecot, tmp_path: Path) -> None:
    imap = imap_settings(dovecot, tmp_path).model_dump()
    settings = gateway_settings(tmp_path / "var", delivery={"transport": "imap", "imap": imap})
    with RunningGateway(settings) as gateway:
        crown = gateway.accept("URN 20AB1234521 - Birmingham Crown Court - R v SMITH")
        mags = gateway.accept("URN 20AB1234526 - Walsall MC - R v SMITH")
        for message_id in (crown, mags):
            wait_for(lambda m=message_id: gateway.state(m) == "delivered")
    assert dovecot.count("crown_court", crown) == 1
    assert dovecot.count("magistrates", mags) == 1
    assert dovecot.count("magistrates", crown) == 0


def test_dovecot_down_means_retries_not_loss_and_no_duplicates(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    imap = imap_settings(dovecot, tmp_path).model_dump()
    settings = gateway_settings(tmp_path / "var", delivery={"transport": "imap", "imap": imap})
    with RunningGateway(settings) as gateway:
        before = [gateway.accept(f"URN 20AB12{n:03d}26 - Walsall MC") for n in range(3)]
        for message_id in before:
            wait_for(lambda m=message_id: gateway.state(m) == "delivered")
        dovecot.stop()
        during = [gateway.accept(f"URN 20AB12{n:03d}26 - Walsall MC") for n in range(3, 8)]
        wait_for(
            lambda: all(
                any(a["outcome"] == "temporary" for a in gateway.journal("attempts", m))
                for m in during
            ),
            timeout=30,
        )
        assert all(gateway.state(m) != "delivered" for m in during)
        dovecot.start()
        for message_id in during:
            wait_for(lambda m=message_id: gateway.state(m) == "delivered", timeout=30)
    for message_id in before + during:
        assert dovecot.count("magistrates", message_id) == 1, message_id
    assert dovecot.folder_size("magistrates") == 8


def test_a_retry_after_an_unknown_outcome_does_not_duplicate(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    transport = ImapAppendTransport(imap_settings(dovecot, tmp_path))
    raw = b"X-Mailrouter-Id: 20261123000000000.feedbeef01\r\n" + build_message()
    delivery = Delivery("20261123000000000.feedbeef01", "ccu", None, SENDER, raw, False)
    first = asyncio.run(transport.deliver(delivery))
    assert "ccu" in first
    again = asyncio.run(transport.deliver(delivery._replace(maybe_delivered=True)))
    assert "already there" in again
    assert dovecot.count("ccu", delivery.id) == 1


def test_wrong_password_is_temporary(dovecot: Dovecot, tmp_path: Path) -> None:
    settings = imap_settings(dovecot, tmp_path).model_copy(update={"password": "wrong"})
    delivery = Delivery("20261123000000000.feedbeef02", "ccu", None, SENDER, b"x\r\n", False)
    with pytest.raises(TemporaryDeliveryError):
        asyncio.run(ImapAppendTransport(settings).deliver(delivery))


def test_untrusted_certificate_is_temporary_and_sends_nothing(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    settings = imap_settings(dovecot, tmp_path).model_copy(update={"ca_file": None})
    delivery = Delivery("20261123000000000.feedbeef03", "ccu", None, SENDER, b"x\r\n", False)
    with pytest.raises(TemporaryDeliveryError):
        asyncio.run(ImapAppendTransport(settings).deliver(delivery))
    assert dovecot.folder_size("ccu") == 0
