"""Who may send (DESIGN §5): CJSM and police classes, look-alikes, alignment, and the three
kinds of authentication (trusted relay, trusted Authentication-Results, DKIM)."""

from __future__ import annotations

import dkim
import pytest

from conftest import STANDARD_BODY, Decider, KeyPair, RulesMaker, build_message
from mailrouter.model import Action, SenderClass
from mailrouter.policy.addresses import mailbox_from_header
from mailrouter.policy.auth import aligned, auth_results_pass, dkim_key_names, peer_is_trusted
from mailrouter.rules.ruleset import Ruleset

UNTRUSTED = "203.0.113.7"


@pytest.mark.parametrize(
    "address,klass",
    [
        ("jane.smith@smithlaw.co.uk.cjsm.net", SenderClass.CJSM),
        ("some.user@some.solicitors.cjsm.net", SenderClass.CJSM),
        ("Jane.Smith@SmithLaw.CO.UK.CJSM.NET", SenderClass.CJSM),
        ("declan.hurst@west-midlands.pnn.police.uk", SenderClass.POLICE),
        ("officer@kent.police.uk", SenderClass.POLICE),
        ("officer@west-midlands.pnn.police.uk.cjsm.net", SenderClass.POLICE),
        ("rachel.denby.law@gmail.com", SenderClass.OTHER),
        ("a@cps.gov.uk", SenderClass.OTHER),
        ("a@cjsm.net", SenderClass.OTHER),  # a suffix alone names no firm or force
        ("pc@police.uk", SenderClass.OTHER),
        ("pc@police.uk.cjsm.net", SenderClass.OTHER),
    ],
)
def test_sender_classes(route: Decider, address: str, klass: SenderClass) -> None:
    decision = route(sender=address, mail_from=address)
    assert decision.sender.sender_class is klass
    expected = Action.REJECT if klass is SenderClass.OTHER else Action.DELIVER
    assert decision.action is expected


LOOKALIKES = {
    "suffix-then-more": "p.varga@tallispenrose.co.uk.cjsm.net.example.com",
    "cjsm-net-evil": "x@cjsm.net.evil.example",
    "prefix-glued": "h.moss@xcjsm.net",
    "hyphen-for-dot": "x@firm.cjsm-net.example",
    "cyrillic-e": "x@firm.cjsm.n\u0435t",
    "cyrillic-c": "x@firm.\u0441jsm.net",
    "fullwidth-dot": "x@firm.cjsm\uff0enet",
    "police-lookalike": "x@police.uk.example.com",
}


@pytest.mark.parametrize("address", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_lookalike_domains_are_other(route: Decider, address: str) -> None:
    decision = route(sender=address, mail_from=address)
    assert decision.sender.sender_class is SenderClass.OTHER
    assert decision.action is Action.REJECT and decision.route is None


def test_display_name_that_contains_a_cjsm_address(route: Decider) -> None:
    decision = route(
        from_header='"h.quillfield@quillfielddace.co.uk.cjsm.net" <h.q.law@outlook.com>',
        mail_from="h.q.law@outlook.com",
    )
    assert decision.sender.sender_class is SenderClass.OTHER and decision.action is Action.REJECT


def test_envelope_sender_in_another_domain(route: Decider) -> None:
    decision = route(mail_from="a.kerr@wexcombelaw.co.uk.cjsm.net")
    assert decision.sender.sender_class is SenderClass.OTHER and decision.action is Action.REJECT
    assert any("differs" in r for r in decision.reasons)


def test_null_envelope_sender(route: Decider) -> None:
    assert route(mail_from="").action is Action.REJECT


def test_two_from_headers(route: Decider) -> None:
    raw = build_message(extra_headers=["From: other@smithlaw.co.uk.cjsm.net"])
    assert route(raw=raw).action is Action.REJECT


@pytest.mark.parametrize(
    "value,expected",
    [
        ("A Solicitor <a@x.cjsm.net>", "a@x.cjsm.net"),
        ("a@x.cjsm.net", "a@x.cjsm.net"),
        ("a@x.cjsm.net (A Solicitor)", "a@x.cjsm.net"),
        ('"Smith, Jane" <j@x.cjsm.net>', "j@x.cjsm.net"),
        ("a@x.com, b@y.cjsm.net", None),
        ("a@x.com, B <b@y.cjsm.net>", None),
        ("<a@x.com> <b@y.cjsm.net>", None),
        ("Group: a@x.cjsm.net;", None),
        ("<a@x.cjsm.net> trailing", None),
        ('"unterminated <a@x.cjsm.net>', None),
    ],
)
def test_from_header_holds_exactly_one_mailbox(value: str, expected: str | None) -> None:
    assert mailbox_from_header(value) == expected


# --- authentication -----------------------------------------------------------------------


def test_untrusted_peer_is_rejected(route: Decider) -> None:
    decision = route(peer_ip=UNTRUSTED)
    assert decision.sender.sender_class is SenderClass.CJSM and not decision.sender.verified
    assert decision.action is Action.REJECT and decision.rule == "not-authenticated"


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_trusted_relays(ruleset: Ruleset, peer: str) -> None:
    assert peer_is_trusted(peer, ruleset.senders.trusted_relays)


@pytest.mark.parametrize("peer", ["203.0.113.7", "::2", "not-an-ip", ""])
def test_untrusted_peers(ruleset: Ruleset, peer: str) -> None:
    assert not peer_is_trusted(peer, ruleset.senders.trusted_relays)


def test_alignment() -> None:
    assert aligned("smithlaw.co.uk.cjsm.net", "smithlaw.co.uk.cjsm.net")
    assert aligned("cjsm.net", "smithlaw.co.uk.cjsm.net")
    assert not aligned("net", "smithlaw.co.uk.cjsm.net")
    assert not aligned("co.uk", "smithlaw.co.uk")
    assert not aligned("other.cjsm.net", "smithlaw.co.uk.cjsm.net")
    assert not aligned("evil-cjsm.net", "smithlaw.co.uk.cjsm.net")
    # Only the From's own domain or its organisational domain: no parent in between.
    assert not aligned("co.uk.cjsm.net", "smithlaw.co.uk.cjsm.net")
    assert aligned("kent.police.uk", "mail.kent.police.uk")
    assert not aligned("police.uk", "kent.police.uk")


DOMAIN = "smithlaw.co.uk.cjsm.net"


@pytest.mark.parametrize(
    "header,ok",
    [
        (f"mx.cps.test; dmarc=pass header.from={DOMAIN}", True),
        ("mx.cps.test; dkim=pass (2048-bit key) header.d=cjsm.net header.s=s1", True),
        (f"mx.cps.test; spf=pass smtp.mailfrom=a@{DOMAIN}", False),  # SPF: not the From
        (f"mx.cps.test 1; dmarc=pass header.from={DOMAIN}", True),
        (f"mx.cps.test; dmarc=fail header.from={DOMAIN}", False),
        ("mx.cps.test; dkim=pass header.d=evil.example", False),
        (f"attacker.example; dmarc=pass header.from={DOMAIN}", False),
        ("mx.cps.test; dmarc=pass header.from=other.cjsm.net", False),
    ],
)
def test_authentication_results(header: str, ok: bool) -> None:
    assert (auth_results_pass([header], ["mx.cps.test"], DOMAIN) is not None) is ok


def test_trusted_authentication_results_authenticates(
    route: Decider, tmp_rules: RulesMaker
) -> None:
    rules = tmp_rules(
        {"senders.yaml": ("trusted_authserv_ids: []", "trusted_authserv_ids: [mx.cps.test]")}
    )
    header = f"Authentication-Results: mx.cps.test; dmarc=pass header.from={DOMAIN}"
    raw = build_message(extra_headers=[header])
    decision = route(raw=raw, peer_ip=UNTRUSTED, rules=rules)
    assert decision.sender.verified and decision.action is Action.DELIVER


# --- DKIM ---------------------------------------------------------------------------------


def _signed(private: bytes, domain: str, raw: bytes | None = None) -> bytes:
    message = raw or build_message()
    signature = dkim.sign(
        message, b"s1", domain.encode(), private, include_headers=[b"from", b"subject", b"to"]
    )
    return signature + message


@pytest.mark.parametrize("domain", [DOMAIN, "cjsm.net"])
def test_valid_aligned_dkim_authenticates(
    route: Decider, signing_key: KeyPair, domain: str
) -> None:
    private, txt = signing_key
    raw = _signed(private, domain)
    assert dkim_key_names(raw) == [f"s1._domainkey.{domain}"]
    decision = route(raw=raw, peer_ip=UNTRUSTED, dkim_keys={f"s1._domainkey.{domain}": txt})
    assert decision.sender.verified and decision.action is Action.DELIVER
    assert any("DKIM" in r for r in decision.reasons)


def test_dkim_by_an_unaligned_domain_does_not(route: Decider, signing_key: KeyPair) -> None:
    private, txt = signing_key
    raw = _signed(private, "evil.example")
    decision = route(raw=raw, peer_ip=UNTRUSTED, dkim_keys={"s1._domainkey.evil.example": txt})
    assert not decision.sender.verified and decision.action is Action.REJECT


def test_tampered_message_fails_dkim(route: Decider, signing_key: KeyPair) -> None:
    private, txt = signing_key
    raw = _signed(private, DOMAIN).replace(b"please serve IDPC", b"please serve nothing")
    decision = route(raw=raw, peer_ip=UNTRUSTED, dkim_keys={f"s1._domainkey.{DOMAIN}": txt})
    assert not decision.sender.verified and decision.action is Action.REJECT


def test_dkim_without_the_key_does_not_authenticate(route: Decider, signing_key: KeyPair) -> None:
    private, _ = signing_key
    decision = route(raw=_signed(private, DOMAIN), peer_ip=UNTRUSTED)
    assert not decision.sender.verified


def test_refused_sender_is_decided_without_reading_the_body(route: Decider) -> None:
    decision = route(sender="x@gmail.com", mail_from="x@gmail.com")
    assert decision.action is Action.REJECT
    assert decision.urn is None and decision.defendants == [] and decision.missing == []
    assert any("body was not read" in r for r in decision.reasons)


def test_a_rule_before_the_sender_check_can_still_read_the_request(
    route: Decider, tmp_rules: RulesMaker
) -> None:
    rule = (
        "rules:\n"
        "  - name: police-poca\n"
        "    when: {sender_class: [other], matches: [poca]}\n"
        "    action: hold\n"
    )
    rules = tmp_rules({"rules.yaml": ("rules:\n", rule)})
    body = STANDARD_BODY.replace("please serve IDPC.", "confiscation timetable")
    decision = route(body=body, sender="x@gmail.com", mail_from="x@gmail.com", rules=rules)
    assert decision.rule == "police-poca" and decision.action is Action.HOLD
    assert decision.urn == "20AB1234521"
