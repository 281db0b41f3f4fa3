"""Sender forgery (SECURITY.md "Spoofed defence senders"): tricky Authentication-Results from
the trusted authserv-id, DKIM by the wrong domain, over a changed body, with l=, with rsa-sha1,
a From added after signing, look-alike and bare-suffix domains."""

from __future__ import annotations

from collections.abc import Iterator

import dkim
import pytest

from conftest import SENDER, Decider, KeyPair, RulesMaker, build_message, copy_rules
from gateway_helpers import RunningGateway, gateway_settings
from mailrouter.model import Action, SenderClass
from mailrouter.policy.auth import dkim_key_names
from mailrouter.rules.ruleset import Ruleset
from wire import Wire

pytestmark = pytest.mark.storage  # runs on PostgreSQL too (make test)

UNTRUSTED = "203.0.113.7"
DOMAIN = SENDER.rpartition("@")[2]
AUTHSERV = "mx.cps.test"


@pytest.fixture
def trusting(tmp_rules: RulesMaker) -> Ruleset:
    return tmp_rules(
        {"senders.yaml": ("trusted_authserv_ids: []", f"trusted_authserv_ids: [{AUTHSERV}]")}
    )


# Each header is stamped by the trusted server, and each says the check failed: a pass hides
# in a comment, a nested comment, a quoted string, a quoted local part, a reason, a property.
HIDDEN_PASSES = {
    "comment": f"{AUTHSERV}; spf=fail (dmarc=pass header.from={DOMAIN}) smtp.mailfrom={DOMAIN}",
    "nested-comment": (
        f"{AUTHSERV}; dkim=fail (bad (dmarc=pass header.from={DOMAIN}; x) sig) header.d={DOMAIN}"
    ),
    "semicolon-in-comment": (
        f"{AUTHSERV}; dkim=fail (x; dmarc=pass header.from={DOMAIN}) header.d=x"
    ),
    "quoted-local-part": (
        f'{AUTHSERV}; spf=fail smtp.mailfrom="x; dmarc=pass header.from={DOMAIN}"@evil.example'
    ),
    "reason": (
        f'{AUTHSERV}; dmarc=fail reason="dmarc=pass header.from={DOMAIN}" header.from={DOMAIN}'
    ),
    "property-value": f'{AUTHSERV}; dkim=fail header.b="dmarc=pass" header.d={DOMAIN}',
    "dkim-pass-for-a-parent": f"{AUTHSERV}; dkim=pass header.d=co.uk.cjsm.net",
    "spf-pass-alone": f"{AUTHSERV}; spf=pass smtp.mailfrom=a@{DOMAIN}",
    "other-authserv": f"mx.attacker.example; dmarc=pass header.from={DOMAIN}",
    "authserv-in-comment": f"(mx.cps.test) mx.attacker.example; dmarc=pass header.from={DOMAIN}",
    "deep-nesting": f"{AUTHSERV}; dmarc=pass " + "(" * 3000 + ")" * 3000,
    "unbalanced": f"{AUTHSERV}; dmarc=pass (header.from={DOMAIN}",
}


@pytest.mark.parametrize("header", HIDDEN_PASSES.values(), ids=HIDDEN_PASSES.keys())
def test_a_pass_that_is_not_a_result_vouches_for_nothing(
    route: Decider, trusting: Ruleset, header: str
) -> None:
    raw = build_message(extra_headers=[f"Authentication-Results: {header}"])
    decision = route(raw=raw, peer_ip=UNTRUSTED, rules=trusting)
    assert not decision.sender.verified
    assert decision.action is Action.REJECT


@pytest.mark.parametrize(
    "header",
    [
        f"{AUTHSERV}; spf=fail smtp.mailfrom=x@y; dmarc=pass (p=none) header.from={DOMAIN}",
        f"{AUTHSERV} 1; dkim=pass (2048-bit key; unprotected) header.d=cjsm.net header.s=s1",
        f'{AUTHSERV}; dkim=pass header.d="{DOMAIN}"',
    ],
)
def test_a_real_pass_result_still_vouches(route: Decider, trusting: Ruleset, header: str) -> None:
    raw = build_message(extra_headers=[f"Authentication-Results: {header}"])
    decision = route(raw=raw, peer_ip=UNTRUSTED, rules=trusting)
    assert decision.sender.verified and decision.action is Action.DELIVER


def _sign(private: bytes, raw: bytes, domain: str = DOMAIN, **options: object) -> bytes:
    headers = [b"from", b"subject", b"to"]
    return dkim.sign(raw, b"s1", domain.encode(), private, include_headers=headers, **options) + raw


def _keys(txt: bytes, domain: str = DOMAIN) -> dict[str, bytes]:
    return {f"s1._domainkey.{domain}": txt}


def test_dkim_over_a_changed_body_fails(route: Decider, signing_key: KeyPair) -> None:
    private, txt = signing_key
    raw = _sign(private, build_message()).replace(b"IDPC", b"ABE ")
    decision = route(raw=raw, peer_ip=UNTRUSTED, dkim_keys=_keys(txt))
    assert not decision.sender.verified


def test_dkim_with_a_body_length_is_not_taken(route: Decider, signing_key: KeyPair) -> None:
    private, txt = signing_key
    raw = _sign(private, build_message(), length=True) + b"Appended after signing.\r\n"
    assert dkim.verify(raw, dnsfunc=lambda *_a, **_k: txt)  # dkimpy itself would accept it
    assert dkim_key_names(raw) == []  # no lookup for a signature we would not take
    decision = route(raw=raw, peer_ip=UNTRUSTED, dkim_keys=_keys(txt))
    assert not decision.sender.verified


def test_rsa_sha1_is_not_taken(route: Decider, signing_key: KeyPair) -> None:
    private, txt = signing_key
    raw = _sign(private, build_message(), signature_algorithm=b"rsa-sha1")
    assert dkim.verify(raw, dnsfunc=lambda *_a, **_k: txt)
    decision = route(raw=raw, peer_ip=UNTRUSTED, dkim_keys=_keys(txt))
    assert not decision.sender.verified


@pytest.mark.parametrize("added", [b"From : ", b"From: ", b"FROM:\t", b"from\t: "])
def test_a_from_added_after_signing_is_refused(
    route: Decider, signing_key: KeyPair, added: bytes
) -> None:
    private, txt = signing_key
    signed = _sign(private, build_message())
    forged = added + b"Someone Else <boss@other-firm.co.uk.cjsm.net>\r\n" + signed
    decision = route(raw=forged, peer_ip=UNTRUSTED, dkim_keys=_keys(txt))
    assert decision.action is Action.REJECT
    assert any("more than one From" in r for r in decision.reasons)
    # and a second From hidden after a line that is not a header, or after 300 KB of them
    stray = signed.replace(b"\r\n\r\n", b"\r\nnot a header\r\nFrom: x@evil.example\r\n\r\n", 1)
    padded = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"y" * 70) for i in range(4000))
    late = signed.replace(b"\r\n\r\n", b"\r\n" + padded + b"From: x@evil.example\r\n\r\n", 1)
    for raw in (stray, late):
        decision = route(raw=raw, peer_ip=UNTRUSTED, dkim_keys=_keys(txt))
        assert decision.action is Action.REJECT


def test_an_obsolete_syntax_from_is_the_one_read(route: Decider) -> None:
    raw = build_message().replace(b"From: ", b"From : ", 1)
    decision = route(raw=raw)
    assert decision.sender.address == SENDER and decision.action is Action.DELIVER


def test_keys_are_looked_up_only_for_aligned_signers(signing_key: KeyPair) -> None:
    private, _ = signing_key
    raw = build_message()
    for domain in ("attacker.example", "co.uk.cjsm.net", "cjsm.net", DOMAIN):
        raw = _sign(private, raw, domain)
    # Aligned: the From's own domain and its organisational domain; at most three in all.
    assert sorted(dkim_key_names(raw)) == [f"s1._domainkey.{d}" for d in ("cjsm.net", DOMAIN)]
    many = raw
    for _ in range(20):
        many = _sign(private, many)
    assert len(dkim_key_names(many)) == 3


@pytest.mark.parametrize(
    "address", ["a@cjsm.net", "pc@police.uk", "x@police.uk.cjsm.net", "x@CJSM.NET"]
)
def test_a_bare_suffix_is_no_firm(route: Decider, address: str) -> None:
    decision = route(sender=address, mail_from=address)
    assert decision.sender.sender_class is SenderClass.OTHER
    assert decision.action is Action.REJECT


@pytest.fixture(scope="module")
def outside_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """A gateway that trusts no relay: every sender here must prove itself in the message."""
    tmp = tmp_path_factory.mktemp("forgery")
    relays = ("senders.yaml", "trusted_relays:\n  - 127.0.0.0/8\n  - ::1/128\n",
              "trusted_relays: []\n")  # fmt: skip
    rules = copy_rules(tmp / "routing_rules", [relays])
    with RunningGateway(gateway_settings(tmp / "var", rules_dir=rules)) as running:
        yield running


OVER_THE_WIRE = {
    "lookalike-suffix": ("x@firm.co.uk.cjsm.net.example.com", None, b"5.7.1"),
    "cyrillic-c": ("x@firm.\u0441jsm.net", None, b"5.7.1"),
    "bare-suffix": ("a@cjsm.net", None, b"5.7.1"),
    "display-name": (
        "x@evil.example",
        "Jane <jane@firm.co.uk.cjsm.net> <x@evil.example>",
        b"5.7.1",
    ),
    "envelope-from-mismatch": (SENDER, "A <boss@other-firm.co.uk.cjsm.net>", b"5.7.1"),
    "cjsm-but-unproven": (SENDER, None, b"5.7.1"),
}


@pytest.mark.parametrize(
    "mail_from,from_header,status", OVER_THE_WIRE.values(), ids=OVER_THE_WIRE.keys()
)
def test_forgery_over_the_wire_is_refused(
    outside_gateway: RunningGateway, mail_from: str, from_header: str | None, status: bytes
) -> None:
    raw = build_message(from_header=from_header)
    with Wire(outside_gateway.port) as wire:
        assert wire.reply()[0] == 220
        assert wire.cmd("EHLO forger.example")[0] == 250
        options = " SMTPUTF8" if not mail_from.isascii() else ""
        code, text = wire.cmd(f"MAIL FROM:<{mail_from}>{options}".encode())
        if code == 250:
            code, text = wire.transaction_after_mail(raw)
        assert code == 550 and text.startswith(status), (code, text)
