"""On the wire (SECURITY.md "Smuggling" and "Injection into our headers"): exact bytes over a
real socket to a running gateway. Each attack ends in a refusal or a safe delivery, the
gateway keeps serving, and nothing the sender wrote can pass for a header of ours."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator

import pytest

from conftest import FRONT_DOOR, SENDER, build_message
from gateway_helpers import RunningGateway, delivered_files, gateway_settings, wait_for
from mailrouter.deliver.compose import compose
from mailrouter.logs import escape_controls
from wire import Wire, canary, deliver

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    settings = gateway_settings(tmp_path_factory.mktemp("smuggling") / "var")
    with RunningGateway(settings) as running:
        yield running


def _with_header(line: bytes, where: str = "top") -> bytes:
    raw = build_message()
    if where == "top":
        return line + b"\r\n" + raw
    if where == "after-stray":
        stray = b"\r\nthis line is not a header\r\n"
        return raw.replace(b"\r\n\r\n", stray + line + b"\r\n\r\n", 1)
    padding = b"".join(b"X-Pad-%05d: %s\r\n" % (i, b"p" * 70) for i in range(3800))  # ~300 KB
    return raw.replace(b"\r\n\r\n", b"\r\n" + padding + line + b"\r\n\r\n", 1)


REFUSED = {
    "nul-then-second-transaction": (
        build_message() + b"\r\n\x00.\r\nMAIL FROM:<x@evil.example>\r\nRCPT TO:<victim@x>\r\n",
        b"5.6.0",
    ),
    "nul-in-a-header": (build_message().replace(b"Subject: ", b"Subject: \x00"), b"5.6.0"),
    "bare-lf-dot": (build_message() + b"\n.\nMAIL FROM:<a@b>\r\n", b"5.6.0"),
    "bare-cr-dot": (build_message() + b"\r.\rMAIL FROM:<a@b>\r\n", b"5.6.0"),
    "cr-lf-dot-lf": (build_message() + b"\r\n.\nMAIL FROM:<a@b>\r\n", b"5.6.0"),
    "our-header-space-before-colon": (_with_header(b"X-Mailrouter-Route : crown_court"), b"5.4.6"),
    "our-header-tab-before-colon": (_with_header(b"x-mailrouter-urn\t: 01XX9999999"), b"5.4.6"),
    "our-header-after-stray-line": (
        _with_header(b"X-Mailrouter-Route: poca", "after-stray"),
        b"5.4.6",
    ),
    "our-header-after-300kb": (_with_header(b"X-Mailrouter-Tags: urgent", "late"), b"5.3.4"),
    "received-51-late": (
        build_message().replace(
            b"\r\n\r\n",
            b"\r\n" + b"Received : from x by y; Mon, 1 Jan 2026 00:00:00 +0000\r\n" * 51 + b"\r\n",
            1,
        ),
        b"5.4.6",
    ),
}


@pytest.mark.parametrize("data,status", REFUSED.values(), ids=REFUSED.keys())
def test_refused_at_data(gateway: RunningGateway, data: bytes, status: bytes) -> None:
    with Wire(gateway.port) as wire:
        wire.greet()
        code, text = wire.transaction(data)
        assert code in (550, 552, 554) and text.startswith(status), (code, text)
        # the session is still in step: nothing smuggled ran as a command
        assert wire.cmd("NOOP")[0] == 250
        assert wire.cmd("RSET")[0] == 250
    assert canary(gateway.port)[0] == 250


@pytest.mark.parametrize(
    "path",
    [
        f"<{FRONT_DOOR}\r>",
        f"<{FRONT_DOOR}\x0b>",
        f"<{FRONT_DOOR}\x0c>",
        f"<{FRONT_DOOR}\xa0>",
        f"<\u2028{FRONT_DOOR}>",
        f"<{FRONT_DOOR}\x85>",
        f"<{FRONT_DOOR}\x00>",
    ],
    ids=["cr", "vt", "ff", "nbsp", "u2028", "u0085", "nul"],
)
def test_odd_white_space_in_a_path_is_malformed(gateway: RunningGateway, path: str) -> None:
    with Wire(gateway.port) as wire:
        wire.greet()
        assert wire.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        code, text = wire.cmd(b"RCPT TO:" + path.encode("utf-8"))
        assert code in (501, 553), (code, text)


def test_a_header_of_ours_is_renamed_in_anything_delivered() -> None:
    # Belt and braces behind the refusal: compose renames, in any syntax, before delivery.
    raw = _with_header(b"X-Mailrouter-Route : crown_court", "after-stray")
    meta = {"id": "abc", "received_at": 0, "decision": {"route": "magistrates"}}
    out = compose(raw, meta)
    head = out.split(b"\r\n\r\n")[0].split(b"\r\n")
    names = [line.split(b":")[0].strip().lower() for line in head]
    assert names.count(b"x-mailrouter-route") == 1  # ours alone
    assert b"X-Sender-Mailrouter-Route : crown_court" in out


def test_encoded_crlf_in_the_subject_cannot_add_a_header(gateway: RunningGateway) -> None:
    # =?utf-8?q?...=0D=0AX-Mailrouter-Route:_ccu?= decodes to CR LF: it must stay inside
    # the Subject (we splice our tag into the original bytes; nothing decoded is written).
    subject = "URN 20AB1234521 Birmingham MC =?utf-8?q?x=0D=0AX-Mailrouter-Route:_ccu=0D=0A?="
    code, text = deliver(gateway.port, build_message(subject=subject))
    assert code == 250, text
    found = wait_for(lambda: delivered_files(gateway.maildir("magistrates")))
    message = email.message_from_bytes(found[-1].read_bytes())
    assert message.get_all("X-Mailrouter-Route") == ["magistrates"]


def test_console_logs_escape_control_bytes() -> None:
    event = escape_controls(None, "info", {"event": "x", "peer": "ev\x00il\x08\x1b[2J\x7f"})
    assert event["peer"] == "ev\\x00il\\x08\\x1b[2J\\x7f"


def test_nothing_from_the_message_reaches_file_names_or_our_received_line(
    gateway: RunningGateway,
) -> None:
    raw = build_message(
        "URN 20AB1234521 Birmingham MC ../../../etc/passwd",
        extra_headers=[],
    ).replace(b"Message-ID: <test@smithlaw.co.uk>", b"Message-ID: <../../x/y\x7f@evil>")
    with Wire(gateway.port) as wire:
        assert wire.reply()[0] == 220
        assert wire.cmd(b"EHLO evil\x7f(host)[x];rm -rf")[0] == 250
        code, text = wire.transaction(raw)
    assert code == 250, text
    gateway_id = text.rsplit(b" ", 1)[1].decode()
    found = wait_for(
        lambda: [p for p in delivered_files(gateway.maildir("magistrates")) if gateway_id in p.name]
    )
    (path,) = found
    assert path.parent.parent == gateway.maildir("magistrates")
    assert re.fullmatch(r"[0-9]+\.[0-9a-f]+[A-Za-z0-9.,:=_-]*", path.name)
    received = path.read_bytes().split(b"\r\n\t", 1)[0]
    assert received == b"Received: from evilhost[x]rm-rf ([127.0.0.1])"  # HELO's safe characters
