"""Notices the gateway sends itself: RFC 3834 discipline, RFC 3464 DSNs, acknowledgements, the
outbox and its rate limit, and header injection. Delivery of notices is checked on a real SMTP
server on 127.0.0.1 (aiosmtpd) that records what it receives."""

from __future__ import annotations

import email
import time
from email import policy
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from conftest import FRONT_DOOR, NOW, SENDER, Decider, build_message
from gateway_helpers import RunningGateway, gateway_settings, wait_for
from mailrouter.deliver.compose import compose
from mailrouter.notify import autoreply, build
from mailrouter.rules.ruleset import Ruleset
from mailrouter.store.journal import NOTICE_LIMITED, NOTICE_QUEUED, NOTICE_SENT, Journal
from peers import Downstream, smtp_server

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)

US = build.Sender(FRONT_DOOR, "CPS defence mail gateway", "gateway.test")
ORIGIN = build.Origin("20261123100000000.00000000aa", "<test@smithlaw.co.uk>", NOW.timestamp())
# A Subject whose encoded word decodes to a line break and a Bcc header.
AUTOMATIC = "Auto-Submitted: auto-generated"
INJECTING_SUBJECT = "=?utf-8?q?URN_20AB1234521_Walsall_MC=0D=0ABcc:_victim@evil.example?="


def parse(data: bytes) -> Message:
    return email.message_from_bytes(data, policy=policy.default)


def top_header_names(data: bytes) -> list[str]:
    return [name.lower() for name in email.message_from_bytes(data)]


# --- RFC 3834: when a reply may go -------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "recipient", "why"),
    [
        ([], SENDER, None),
        (["Auto-Submitted: no"], SENDER, None),
        ([], "", "null"),
        ([], "<>", "null"),
        (["Auto-Submitted: auto-replied"], SENDER, "Auto-Submitted"),
        (["Auto-Submitted: auto-generated; owner-email=x@y.z"], SENDER, "Auto-Submitted"),
        (["Precedence: bulk"], SENDER, "Precedence"),
        (["Precedence: list"], SENDER, "Precedence"),
        (["List-Id: <defence.lists.example>"], SENDER, "list"),
        (["List-Unsubscribe: <mailto:leave@example.com>"], SENDER, "list"),
        (["X-Auto-Response-Suppress: DR, AutoReply"], SENDER, "no automatic"),
        (["X-Mailrouter-Notice: bounce; 1"], SENDER, "ours"),
        ([], "MAILER-DAEMON@firm.co.uk.cjsm.net", "mail system"),
        ([], "owner-defence@firm.co.uk.cjsm.net", "mail system"),
        ([], "noreply@firm.co.uk.cjsm.net", "mail system"),
        ([], "not an address", "valid"),
    ],
)
def test_when_an_automatic_reply_may_go(extra: list[str], recipient: str, why: str | None) -> None:
    verdict = autoreply.refusal(build_message(extra_headers=extra), recipient)
    if why is None:
        assert verdict is None
    else:
        assert verdict is not None and why in verdict


def test_return_path() -> None:
    raw = build_message()
    assert autoreply.return_path(raw) is None
    assert autoreply.return_path(b"Return-Path: <>\r\n" + raw) == ""
    assert autoreply.return_path(b"Return-Path: <a@b.cjsm.net>\r\n" + raw) == "a@b.cjsm.net"


# --- what the notices say ----------------------------------------------------------------


def test_bounce_notice(route: Decider, ruleset: Ruleset) -> None:
    decision = route("R v SMITH - please help")
    data = build.bounce_notice(decision, ruleset.notices, ORIGIN, SENDER, US, NOW)
    notice = parse(data)
    assert notice["To"].addresses[0].addr_spec == SENDER
    assert notice["From"].addresses[0].addr_spec == FRONT_DOOR
    assert notice["Auto-Submitted"] == "auto-replied"  # RFC 3834 §5
    assert notice["In-Reply-To"] == notice["References"] == "<test@smithlaw.co.uk>"
    assert notice["Subject"].startswith("Auto: ")
    text = notice.get_content()
    assert "URN" in text and "court centre" in text and ORIGIN.gateway_id in text
    assert "Subject: URN 20AB1234521 - Birmingham Magistrates' Court - R v SURNAME" in text
    # Nothing of the defendant, nothing of the original body.
    for personal in ("SMITH", "01/02/1990", "IDPC"):
        assert personal not in data.decode()


def test_delivery_status_notification_is_rfc_3464_with_headers_only() -> None:
    original = build_message("URN 20AB1234521 - Walsall MC - R v SMITH")
    data = build.delivery_status(
        ORIGIN, SENDER, FRONT_DOOR, original, "550 5.1.1 <team@cps.gov.uk>: no such user",
        US, NOW,
    )  # fmt: skip
    report = parse(data)
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    assert report["Auto-Submitted"] == "auto-replied"
    assert report["From"].addresses[0].addr_spec == "MAILER-DAEMON@gateway.test"
    human, status, headers = report.iter_parts()
    assert human.get_content_type() == "text/plain"
    assert ORIGIN.gateway_id in human.get_content()
    assert status.get_content_type() == "message/delivery-status"
    per_message, per_recipient = status.get_payload()
    assert per_message["Reporting-MTA"] == "dns; gateway.test"
    assert per_message["Arrival-Date"]
    assert per_recipient["Final-Recipient"] == f"rfc822; {FRONT_DOOR}"
    assert per_recipient["Action"] == "failed"
    assert per_recipient["Status"] == "5.1.1"
    assert per_recipient["Diagnostic-Code"].startswith("smtp; 550 5.1.1")
    assert headers.get_content_type() == "text/rfc822-headers"
    quoted = headers.get_payload()
    assert "Subject: URN 20AB1234521 - Walsall MC - R v SMITH" in quoted
    assert "Date of birth" not in data.decode() and "IDPC" not in data.decode()


def test_a_reason_without_a_reply_code_gives_a_generic_status() -> None:
    data = build.delivery_status(
        ORIGIN, SENDER, FRONT_DOOR, build_message(), "undeliverable for too long: timed out",
        US, NOW,
    )  # fmt: skip
    _, status, _ = parse(data).iter_parts()
    _, per_recipient = status.get_payload()
    assert per_recipient["Status"] == "5.0.0" and per_recipient["Diagnostic-Code"] is None


def test_acknowledgement() -> None:
    data = build.acknowledgement(
        ORIGIN, SENDER, US, NOW, urn="20AB1234521", team="Crown Court unit",
        route="crown_court", hearing_date="2026-12-15",
    )  # fmt: skip
    ack = parse(data)
    assert ack["Auto-Submitted"] == "auto-replied"
    assert "20AB1234521" in ack["Subject"] and "Crown Court unit" in ack["Subject"]
    assert ORIGIN.gateway_id in ack.get_content() and "Route: crown_court" in ack.get_content()


# --- nothing from a message can add a header ----------------------------------------------


def test_an_encoded_newline_in_the_subject_cannot_add_a_header(
    route: Decider, ruleset: Ruleset
) -> None:
    raw = build_message(INJECTING_SUBJECT, extra_headers=[])
    decision = route(raw=raw)
    origin = build.Origin(ORIGIN.gateway_id, "<a@b>\r\nBcc: victim@evil.example", NOW.timestamp())
    notices = [
        build.bounce_notice(
            route(raw=build_message(INJECTING_SUBJECT, "nothing\n")), ruleset.notices, origin,
            SENDER, US, NOW,
        ),
        build.acknowledgement(
            origin, SENDER, US, NOW, urn="20AB1234521\x00\r\nBcc: victim@evil.example",
            team="Magistrates\nBcc: victim@evil.example", route="magistrates\r\nBcc: x@y",
            hearing_date=None,
        ),
        build.delivery_status(origin, SENDER, "a@b\r\nBcc: x@y", raw, "550\r\nBcc: x", US, NOW),
    ]  # fmt: skip
    for data in notices:
        assert b"\x00" not in data
        assert "bcc" not in top_header_names(data)
        assert b"\r\nBcc:" not in data.split(b"\r\n\r\n", 1)[0]
        assert "In-Reply-To" not in parse(data)  # not a well-formed msg-id: left out

    # What the team receives: our headers and the tagged Subject, from the same message.
    meta = {
        "id": ORIGIN.gateway_id, "received_at": NOW.timestamp(), "helo": "x\r\nBcc: y",
        "peer_ip": "127.0.0.1", "rcpt": [FRONT_DOOR], "hostname": "gateway.test",
        "subject_tag": "[MAGS 20AB1234521]\r\nBcc: victim@evil.example",
        "decision": {"route": "magistrates", "urn": decision.urn,
                     "court": "Walsall\r\nBcc: victim@evil.example"},
    }  # fmt: skip
    delivered = compose(raw, meta)
    names = top_header_names(delivered)
    assert "bcc" not in names
    assert names.count("subject") == 1


# --- the journal's part: once per message, and a rate limit -------------------------------


def test_one_notice_per_message_and_a_rate_limit(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3", "node")
    now = NOW.timestamp()
    assert journal.notice_admit("m1", "bounce", SENDER, now, 2) == NOTICE_QUEUED
    # Admitted again while still waiting: the same notice (one outbox file per message and
    # kind); once sent, never again.
    assert journal.notice_admit("m1", "bounce", SENDER, now, 2) == NOTICE_QUEUED
    journal.notice_done("m1", "bounce", NOTICE_SENT, now)
    assert journal.notice_admit("m1", "bounce", SENDER, now, 2) == "duplicate"
    assert journal.notice_admit("m1", "dsn", SENDER, now, None) == NOTICE_QUEUED
    assert journal.notice_admit("m2", "bounce", SENDER.upper(), now + 1, 2) == NOTICE_LIMITED
    assert journal.notice_admit("m3", "bounce", "other@firm.cjsm.net", now, 2) == NOTICE_QUEUED
    assert journal.notice_admit("m4", "bounce", SENDER, now + 3601, 2) == NOTICE_QUEUED
    assert journal.notice_admit("m5", "dsn", SENDER, now + 2, None) == NOTICE_QUEUED


# --- sent for real -------------------------------------------------------------------------


def notice_settings(tmp_path: Path, notice_port: int, **extra: Any) -> Any:
    notices = {"smtp": {"host": "127.0.0.1", "port": notice_port, "starttls": "off"}}
    notices.update(extra.pop("notices", {}))
    return gateway_settings(tmp_path / "var", notices=notices, **extra)


def test_a_message_that_fails_for_good_after_250_gets_a_dsn(
    tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    team, team_port = downstream
    team.answers = ["550 5.1.1 no such mailbox"]
    senders_desk = Downstream()
    with smtp_server(senders_desk) as notice_port:
        settings = notice_settings(
            tmp_path, notice_port,
            delivery={"transport": "smtp",
                      "smtp": {"host": "127.0.0.1", "port": team_port, "starttls": "off"}},
        )  # fmt: skip
        with RunningGateway(settings) as gateway:
            with gateway.smtp() as client:
                client.sendmail(SENDER, [FRONT_DOOR], build_message())
            assert wait_for(lambda: senders_desk.received, timeout=20)
    (dsn,) = senders_desk.received
    assert dsn["mail_from"] == "<>" and dsn["rcpt"] == [SENDER]  # RFC 3464 / 5321 §4.5.5
    report = parse(dsn["data"])
    assert report.get_param("report-type") == "delivery-status"
    assert b"Date of birth" not in dsn["data"]  # headers only, never the body


def test_acknowledgements_when_enabled_once_delivered_and_rate_limited(
    tmp_path: Path, downstream: tuple[Downstream, int]
) -> None:
    desk, port = downstream
    settings = notice_settings(
        tmp_path, port, notices={"acknowledge": True, "per_sender_per_hour": 2}
    )
    with RunningGateway(settings) as gateway:
        with gateway.smtp() as client:
            for n in range(3):
                client.sendmail(
                    SENDER, [FRONT_DOOR], build_message(f"URN 20AB12345{n}1 Walsall MC")
                )
            # An automatic message is routed but never answered (RFC 3834).
            client.sendmail(
                SENDER, [FRONT_DOOR],
                build_message("URN 20AB1234599 Walsall MC", extra_headers=[AUTOMATIC]),
            )  # fmt: skip
        assert wait_for(lambda: len(desk.received) == 2, timeout=20)
        time.sleep(1.0)  # room for a wrong third to arrive
    assert len(desk.received) == 2
    for ack in desk.received:
        assert ack["mail_from"] == "<>" and ack["rcpt"] == [SENDER]
        message = parse(ack["data"])
        assert message["Auto-Submitted"] == "auto-replied"
        assert "Magistrates' Court unit" in message["Subject"]


def test_no_notices_when_turned_off(tmp_path: Path, downstream: tuple[Downstream, int]) -> None:
    desk, port = downstream
    settings = notice_settings(tmp_path, port, notices={"acknowledge": True, "enabled": False})
    with RunningGateway(settings) as gateway:
        with gateway.smtp() as client:
            client.sendmail(SENDER, [FRONT_DOOR], build_message())
        time.sleep(1.5)  # room for a notice that should not come
    assert desk.received == []
