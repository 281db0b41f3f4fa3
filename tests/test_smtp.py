"""The gateway on the wire: real sockets on 127.0.0.1, smtplib as the client (DESIGN §2, §7)."""

from __future__ import annotations

import email
import smtplib
import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from conftest import CORPUS, FRONT_DOOR, SENDER, STANDARD_BODY, build_message
from gateway_helpers import RunningGateway, delivered_files, gateway_settings, wait_for
from mailrouter.deliver.process import DeliveryProcess

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)


@pytest.fixture(params=["child process", "in process"])
def gateway(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[RunningGateway]:
    """Every test runs with delivery in a child process (the default) and in the gateway's
    own process (delivery.separate_process = false)."""
    separate = request.param == "child process"
    settings = gateway_settings(tmp_path / "var", delivery={"separate_process": separate})
    with RunningGateway(settings) as running:
        assert running.gateway is not None
        assert isinstance(running.gateway.queue, DeliveryProcess) == separate
        yield running


def send(gateway: RunningGateway, raw: bytes, sender: str = SENDER, rcpt: str = FRONT_DOOR):
    with gateway.smtp() as client:
        code, _ = client.mail(sender)
        assert code == 250
        code, text = client.rcpt(rcpt)
        if code != 250:
            return code, text
        client.putcmd("data")
        code, text = client.getreply()
        assert code == 354
        client.send(raw + (b"" if raw.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        return client.getreply()


def test_ehlo_advertises_the_extensions(gateway: RunningGateway) -> None:
    with gateway.smtp() as client:
        for extension in ("size", "8bitmime", "smtputf8", "pipelining", "enhancedstatuscodes"):
            assert client.has_extn(extension), extension
        assert not client.has_extn("auth")
        assert client.esmtp_features["size"] == str(25 * 1024 * 1024)


def test_deliver_lands_in_the_route_maildir_with_headers_and_tag(gateway: RunningGateway) -> None:
    raw = (CORPUS / "mags-idpc-plain.eml").read_bytes()
    code, text = send(gateway, raw, sender="h.quillfield@quillfielddace.co.uk.cjsm.net")
    assert code == 250 and text.startswith(b"2.0.0 Ok: queued as ")
    gateway_id = text.rsplit(b" ", 1)[1].decode()
    (path,) = wait_for(lambda: delivered_files(gateway.maildir("magistrates")))
    assert path.name.startswith(gateway_id)
    delivered = path.read_bytes()
    message = email.message_from_bytes(delivered)
    assert message["X-Mailrouter-Id"] == gateway_id
    assert message["X-Mailrouter-Route"] == "magistrates"
    assert message["X-Mailrouter-URN"] == "20BW1047326"
    assert message["X-Mailrouter-Court"] == "Birmingham Magistrates' Court"
    assert message["X-Mailrouter-Hearing-Date"] == "2026-12-15"
    assert message["Subject"].startswith("[MAGS 20BW1047326] URN 20BW1047326")
    assert message["Received"].startswith("from client.test ([127.0.0.1])")
    # The original message follows our headers byte for byte, bar the subject tag.
    assert delivered.endswith(raw.replace(b"Subject: URN", b"Subject: [MAGS 20BW1047326] URN"))
    wait_for(lambda: gateway.state(gateway_id) == "delivered")
    assert gateway.row(gateway_id)["urn"] == "20BW1047326"
    assert not gateway.gateway.spool.exists(gateway_id)  # type: ignore[union-attr]


def test_hold_goes_to_triage(gateway: RunningGateway) -> None:
    raw = (CORPUS / "hold-birmingham-ambiguous.eml").read_bytes()
    code, _ = send(gateway, raw, sender="kofi.riley@ashcombeRiley.co.uk.cjsm.net")
    assert code == 250
    (path,) = wait_for(lambda: delivered_files(gateway.maildir("triage")))
    assert b"X-Mailrouter-Route: triage" in path.read_bytes()


def test_bounce_names_what_is_missing(gateway: RunningGateway) -> None:
    raw = build_message("URN 20WV5512326", "Client: Kyle DAWSON\n\nPlease send the IDPC.\n")
    code, text = send(gateway, raw)
    assert code == 550
    lines = text.decode().splitlines()
    assert all(line.startswith("5.6.0") for line in lines)
    body = "\n".join(lines)
    assert "court centre, date of birth, hearing date" in body
    assert "Subject: URN 20WV5512326 - Birmingham Magistrates' Court - R v SURNAME" in body
    assert "DAWSON" not in body  # never echo a defendant's name
    assert len(lines) <= 12 and all(len(line) <= 500 for line in lines)


def test_reject_at_data_when_from_is_not_the_envelope_domain(gateway: RunningGateway) -> None:
    raw = build_message(from_header="Someone <someone@gmail.com>")
    code, text = send(gateway, raw)
    assert (code, text[:5]) == (550, b"5.7.1") and b"CJSM" in text


@pytest.mark.parametrize(
    "sender,rcpt,code,status",
    [
        ("rachel.denby.law@gmail.com", FRONT_DOOR, 550, b"5.7.1"),
        ("h.moss@xcjsm.net", FRONT_DOOR, 550, b"5.7.1"),
        (SENDER, "someone@example.com", 550, b"5.1.1"),
        (SENDER, "defence.westmidlands@cps.gov.uk.evil.example", 550, b"5.1.1"),
        (SENDER, "postmaster@cps.gov.uk", 550, b"5.1.1"),
    ],
    ids=["gmail", "lookalike", "other-domain", "lookalike-front-door", "other-local-part"],
)
def test_refused_at_rcpt(
    gateway: RunningGateway, sender: str, rcpt: str, code: int, status: bytes
) -> None:
    with gateway.smtp() as client:
        assert client.mail(sender)[0] == 250
        reply = client.rcpt(rcpt)
        assert reply[0] == code and reply[1].startswith(status)


def test_null_sender_is_taken_at_mail_and_refused_at_rcpt(gateway: RunningGateway) -> None:
    with gateway.smtp() as client:
        assert client.mail("<>") == (250, b"2.1.0 Sender OK")
        code, text = client.rcpt(FRONT_DOOR)
        assert code == 550 and text.startswith(b"5.7.1")


@pytest.mark.parametrize(
    "mutate,status",
    [
        (lambda raw: b"X-Mailrouter-Id: 20260101.abc\r\n" + raw, b"5.4.6"),
        (lambda raw: b"X-Mailrouter-Route: ccu\r\n" + raw, b"5.4.6"),
        (
            lambda raw: b"Received: from x by y; Mon, 1 Jan 2026 00:00:00 +0000\r\n" * 51 + raw,
            b"5.4.6",
        ),
        (lambda raw: raw.replace(b"Hearing date:", b"Hearing\ndate:"), b"5.6.0"),
        (lambda raw: raw.replace(b"Hearing date:", b"Hearing\rdate:"), b"5.6.0"),
        (lambda raw: raw + b"\n.\nMAIL FROM:<a@b>\r\n", b"5.6.0"),
    ],
    ids=["loop-id", "forged-route", "too-many-hops", "bare-lf", "bare-cr", "smuggling"],
)
def test_refused_at_data(gateway: RunningGateway, mutate, status: bytes) -> None:  # type: ignore[no-untyped-def]
    code, text = send(gateway, mutate(build_message()))
    assert code in (550, 554) and text.startswith(status)
    assert wait_for(lambda: delivered_files(gateway.maildir("magistrates")), timeout=0.5) == []


def test_message_too_big(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path / "var", smtp={"max_message_size": 20_000})
    with RunningGateway(settings) as gateway:
        with gateway.smtp() as client:
            assert client.mail(SENDER, ["SIZE=50000"])[0] == 552
        code, text = send(gateway, build_message(body=STANDARD_BODY + ("x" * 70 + "\n") * 400))
        assert (code, text[:5]) == (552, b"5.3.4")


def test_long_lines_are_accepted(gateway: RunningGateway) -> None:
    # Postfix passes lines of up to 2048 octets; HTML bodies can have longer ones.
    long_line = "<p>" + "word " * 1500 + "</p>\n"
    raw = build_message(body=STANDARD_BODY + long_line, content_type="text/plain; charset=utf-8")
    assert send(gateway, raw)[0] == 250


def test_session_cap(tmp_path: Path) -> None:
    with RunningGateway(gateway_settings(tmp_path / "var", smtp={"max_sessions": 2})) as gateway:
        first, second = gateway.smtp(), gateway.smtp()
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as third:
            assert third.recv(200).startswith(b"421 4.3.2")
        first.quit()
        wait_for(lambda: gateway.gateway.limit.active == 1)  # type: ignore[union-attr]
        fourth = gateway.smtp()  # room again
        fourth.quit()
        second.quit()


def test_pipelined_transaction(gateway: RunningGateway) -> None:
    raw = build_message()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"220")
        sock.sendall(b"EHLO pipe.test\r\n")
        while not reader.readline().startswith(b"250 "):
            pass
        sock.sendall(f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<{FRONT_DOOR}>\r\nDATA\r\n".encode())
        assert reader.readline().startswith(b"250 2.1.0")
        assert reader.readline().startswith(b"250 2.1.5")
        assert reader.readline().startswith(b"354")
        sock.sendall(raw + b"\r\n.\r\nQUIT\r\n")
        assert reader.readline().startswith(b"250 2.0.0 Ok: queued as")
        assert reader.readline().startswith(b"221")


def test_protocol_errors_carry_enhanced_codes(gateway: RunningGateway) -> None:
    with gateway.smtp() as client:
        assert client.docmd("RCPT TO:<x@y>")[1].startswith(b"5.5.1")  # no MAIL yet: 503
        assert client.docmd("MAIL FROM:<>")[0] == 250
        assert client.docmd("MAIL FROM:<>")[1].startswith(b"5.5.1")  # nested MAIL: 503
        code, text = client.docmd("FROB")
        assert code == 500 and text.startswith(b"5.5.2")
        code, text = client.docmd("NOOP")
        assert (code, text[:5]) == (250, b"2.0.0")


def test_internal_fault_is_451_not_500(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path / "var")
    with RunningGateway(settings) as gateway:
        if settings.journal_url is not None:  # the database refuses the message
            with psycopg.connect(settings.journal_url, autocommit=True) as db:
                db.execute("ALTER TABLE spool RENAME TO spool_gone")
        else:
            spool_dir = gateway.gateway.spool.msg  # type: ignore[union-attr]
            spool_dir.rename(spool_dir.with_name("moved"))
            spool_dir.write_text("not a directory")  # the spool can no longer take files
        code, text = send(gateway, build_message())
        assert (code, text) == (451, b"4.3.0 Temporary failure on our side, please try again later")


def test_the_gateway_relays_for_nobody(gateway: RunningGateway) -> None:
    domains = ["example.com", "gmail.com", "cps.gov.uk.attacker.example", "cjsm.net", "localhost"]
    with gateway.smtp() as client:
        client.mail(SENDER)
        for domain in domains:
            code, _ = client.rcpt(f"victim@{domain}")
            assert code == 550, domain
        for address in [
            "defence.westmidlands@cps.gov.uk@evil.example",
            "@evil.example:x@cps.gov.uk",
        ]:
            assert client.rcpt(address)[0] >= 500


def test_rules_reload_keeps_good_rules_on_a_bad_file(tmp_path: Path) -> None:
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(Path(__file__).parents[1] / "routing_rules", rules)
    with RunningGateway(gateway_settings(tmp_path / "var", rules_dir=rules)) as gateway:
        running = gateway.gateway
        assert running is not None
        before = running.ruleset
        (rules / "rules.yaml").write_text("rules: [}\n")
        assert not running.reload_rules().accepted and running.ruleset is before
        assert send(gateway, build_message())[0] == 250
        text = rules / "mailboxes.yaml"
        shutil.copy(
            Path(__file__).parents[1] / "routing_rules" / "rules.yaml", rules / "rules.yaml"
        )
        text.write_text(text.read_text().replace("subject_tag: MAGS", "subject_tag: MAGISTRATES"))
        assert running.reload_rules().accepted and running.ruleset is not before
        send(gateway, build_message())
        files = wait_for(lambda: len(delivered_files(gateway.maildir("magistrates"))) == 2)
        assert files
        tags = sorted(
            f.read_bytes().split(b"Subject: ")[1][:14]
            for f in delivered_files(gateway.maildir("magistrates"))
        )
        assert tags == [b"[MAGISTRATES 2", b"[MAGS 20AB1234"]


def test_smtplib_sendmail_end_to_end(gateway: RunningGateway) -> None:
    with gateway.smtp() as client:
        refused = client.sendmail(SENDER, [FRONT_DOOR], build_message())
    assert refused == {}
    assert wait_for(lambda: delivered_files(gateway.maildir("magistrates")))


def test_quit_and_rset(gateway: RunningGateway) -> None:
    client = smtplib.SMTP("127.0.0.1", gateway.port, timeout=10)
    client.ehlo()
    assert client.rset()[1].startswith(b"2.0.0")
    assert client.quit()[0] == 221
