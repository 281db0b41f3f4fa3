"""Hostile messages and sessions (SECURITY.md "Relay abuse", "Smuggling", "Resource
exhaustion", "Unusable charsets"): relay tricks, STARTTLS command injection, messages built
to be costly (too big, 10,000 parts, 1,000-deep nesting, megabyte lines), and every codec name
Python knows as a charset. Each ends in a clear refusal or a decision, the session stays in
step, and a canary from another client is still served."""

from __future__ import annotations

import encodings
import encodings.aliases
import pkgutil
import socket
import ssl
from collections.abc import Iterator

import pytest
import trustme

from conftest import FRONT_DOOR, NOW, SENDER, STANDARD_BODY, build_message
from gateway_helpers import RunningGateway, gateway_settings
from mailrouter.decide import decide
from mailrouter.model import Action, Envelope
from mailrouter.rules.ruleset import Ruleset
from wire import Wire, canary

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    tmp = tmp_path_factory.mktemp("hostile")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(tmp / "cert.pem"))
    cert.private_key_pem.write_to_path(str(tmp / "key.pem"))
    smtp = {"tls_cert": tmp / "cert.pem", "tls_key": tmp / "key.pem", "max_message_size": 4_000_000}
    with RunningGateway(gateway_settings(tmp / "var", smtp=smtp)) as running:
        running.ca = ca  # type: ignore[attr-defined]
        yield running


@pytest.mark.parametrize(
    "rcpt",
    [
        "victim@example.org",  # plain relaying
        f"victim%example.org@{FRONT_DOOR.partition('@')[2]}",  # the percent hack
        f"@{FRONT_DOOR.partition('@')[2]}:victim@example.org",  # a source route through us
        f'"{FRONT_DOOR}"@example.org',  # our address as a quoted local part elsewhere
        f"{FRONT_DOOR}.example.org",  # our address as a prefix of another domain
        f"{FRONT_DOOR.partition('@')[0]}@cps.gov.uk.example.org",
        "postmaster",  # no domain at all
    ],
)
def test_relay_tricks_are_refused(gateway: RunningGateway, rcpt: str) -> None:
    with Wire(gateway.port) as wire:
        wire.greet()
        assert wire.cmd(f"MAIL FROM:<{SENDER}>")[0] == 250
        code, _ = wire.cmd(f"RCPT TO:<{rcpt}>")
        assert code in (550, 553, 501)
        assert wire.cmd("DATA")[0] == 503  # no recipient was taken


def test_commands_pipelined_with_starttls_are_discarded(gateway: RunningGateway) -> None:
    context = ssl.create_default_context()
    gateway.ca.configure_trust(context)  # type: ignore[attr-defined]
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"220")
        sock.sendall(b"EHLO client.test\r\n")
        while not reader.readline().startswith(b"250 "):
            pass
        # The injected MAIL arrives in the same packet as STARTTLS (CVE-2011-0411 and kin).
        sock.sendall(b"STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\n")
        assert reader.readline().startswith(b"220")
        with context.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            tls_reader = tls.makefile("rb")
            tls.sendall(b"EHLO client.test\r\n")
            first = tls_reader.readline()
            assert first.startswith(b"250-"), first  # the EHLO's, not the injected MAIL's
            while not tls_reader.readline().startswith(b"250 "):
                pass
            tls.sendall(b"RCPT TO:<" + FRONT_DOOR.encode() + b">\r\n")
            assert tls_reader.readline().startswith(b"503")  # no MAIL was ever taken


def _parts(count: int) -> bytes:
    body = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nPart %d\r\n" % n for n in range(count))
    return build_message(
        content_type='multipart/mixed; boundary="b"', body_bytes=body + b"--b--\r\n"
    )


def _nested(depth: int) -> bytes:
    inner = b"Content-Type: text/plain\r\n\r\n" + STANDARD_BODY.replace("\n", "\r\n").encode()
    for n in range(depth):
        boundary = b"n%d" % n
        inner = (
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--' + boundary
            + b"\r\n" + inner + b"\r\n--" + boundary + b"--\r\n"
        )  # fmt: skip
    head, _, body = inner.partition(b"\r\n\r\n")
    return build_message(content_type=head.split(b": ", 1)[1].decode(), body_bytes=body)


COSTLY = {
    "too-big": (build_message(body=STANDARD_BODY + ("x" * 998 + "\n") * 4200), (552,)),
    "10000-parts": (_parts(10_000), (550, 250)),
    "1000-deep": (_nested(1_000), (550, 250)),
    "megabyte-line": (build_message(body="x" * 1_000_000 + "\n" + STANDARD_BODY), (500,)),
    "many-long-lines": (build_message(body=("y" * 60_000 + "\n") * 50 + STANDARD_BODY), (550, 250)),
}


@pytest.mark.parametrize("data,codes", COSTLY.values(), ids=COSTLY.keys())
def test_costly_messages_end_in_a_reply(
    gateway: RunningGateway, data: bytes, codes: tuple[int, ...]
) -> None:
    with Wire(gateway.port) as wire:
        wire.greet()
        code, text = wire.transaction(data)
        assert code in codes, (code, text)
        assert wire.cmd("NOOP")[0] == 250  # still in step with the client
    assert canary(gateway.port)[0] == 250


def _codec_names() -> list[str]:
    names = set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values())
    names |= {m.name for m in pkgutil.iter_modules(encodings.__path__)}
    names |= {"undefined", "punycode", "idna", "x-unknown", "utf-99", "", "utf-8\x00", "ébcdic"}
    return sorted(names - {"aliases"})


def test_every_codec_name_as_a_charset_still_gives_a_decision(ruleset: Ruleset) -> None:
    names = _codec_names()
    assert len(names) > 300
    envelope = Envelope(SENDER, (FRONT_DOOR,), "127.0.0.1", {})
    body = STANDARD_BODY.replace("John", "Jöhn").encode("utf-8")
    for name in names:
        for raw in (
            build_message(content_type=f'text/plain; charset="{name}"', body_bytes=body),
            build_message(content_type=f"text/html; charset={name}", body_bytes=b"<p>" + body),
            build_message(f"=?{name}?q?URN_20AB1234521=E9?= Walsall MC", body_bytes=body),
            build_message(f"=?{name}?b?VVJOIDIwQUIxMjM0NTIx?= Walsall MC", body_bytes=body),
        ):
            decision = decide(envelope, raw, ruleset, NOW)
            assert decision.action in tuple(Action)
    # A lying declaration falls back to reading the bytes as they are.
    raw = build_message(content_type='text/plain; charset="undefined"', body_bytes=body)
    assert decide(envelope, raw, ruleset, NOW).action is Action.DELIVER
