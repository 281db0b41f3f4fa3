"""Who sent this, and may they use the defence address? (DESIGN §5)

A sender is `cjsm` when the header From is a CJSM address (`…@firm.co.uk.cjsm.net` or hosted
`…@x.solicitors.cjsm.net`), `police` for `*.police.uk` (and its `.cjsm.net` form), otherwise
`other`. The envelope sender must be in the same domain as the From, and both must be written
in plain ASCII (CJSM and police domains are; a Unicode confusable is not one of them).
Look-alikes (`cjsm.net.evil.example`, `xcjsm.net`, a display name that merely contains a CJSM
address) are `other` because the check is on the real address, label by label.
"""

from __future__ import annotations

from typing import NamedTuple

from mailrouter.model import Envelope, Sender, SenderClass
from mailrouter.parse.mime import MessageView
from mailrouter.policy import auth
from mailrouter.policy.addresses import Address, domain_under, mailbox_from_header, parse_address
from mailrouter.rules.schema import SenderPolicy


class SenderCheck(NamedTuple):
    sender: Sender
    reasons: list[str]


def domain_class(domain: str, policy: SenderPolicy) -> SenderClass:
    """CJSM, police or other. A suffix alone names no organisation: `a@cjsm.net`,
    `pc@police.uk` and `x@police.uk.cjsm.net` are `other`."""
    base = domain
    for suffix in policy.cjsm_suffixes:
        if domain_under(domain, suffix):
            base = domain[: -len(suffix)].rstrip(".")
            break
    if not base or base in policy.police_suffixes:
        return SenderClass.OTHER
    if any(domain_under(base, s) for s in policy.police_suffixes):
        return SenderClass.POLICE
    if base != domain:
        return SenderClass.CJSM
    return SenderClass.OTHER


def check_sender(
    envelope: Envelope, view: MessageView, raw: bytes, policy: SenderPolicy
) -> SenderCheck:
    reasons: list[str] = []
    header_from = _header_from(view, reasons)
    envelope_from = parse_address(envelope.mail_from) if envelope.mail_from else None
    shown = header_from.text if header_from else (envelope.mail_from or "")

    def verdict(klass: SenderClass, verified: bool = False) -> SenderCheck:
        return SenderCheck(Sender(shown, klass, verified), reasons)

    if header_from is None:
        return verdict(SenderClass.OTHER)
    klass = domain_class(header_from.domain, policy)
    if klass is SenderClass.OTHER:
        reasons.append(f"sender domain {header_from.domain} is not a CJSM or police domain")
        return verdict(klass)
    if not header_from.ascii_only:
        reasons.append("the From address is not plain ASCII, so it cannot be a CJSM address")
        return verdict(SenderClass.OTHER)
    if not envelope.mail_from:
        reasons.append("the envelope sender is empty (a bounce), not a defence firm")
        return verdict(SenderClass.OTHER)
    if envelope_from is None or not envelope_from.ascii_only:
        reasons.append("the envelope sender is not a valid plain-ASCII address")
        return verdict(SenderClass.OTHER)
    if envelope_from.domain != header_from.domain:
        reasons.append(
            f"envelope sender domain {envelope_from.domain} differs from "
            f"the From domain {header_from.domain}"
        )
        return verdict(SenderClass.OTHER)
    reasons.append(f"sender is a {klass.value} address ({header_from.domain})")
    evidence = _authentication(envelope, view, raw, header_from, policy)
    if evidence is None:
        reasons.append(
            f"not authenticated: peer {envelope.peer_ip} is not a trusted relay, "
            "and no trusted Authentication-Results or aligned DKIM signature vouches for it"
        )
        return verdict(klass, verified=False)
    reasons.append(f"authenticated: {evidence}")
    return verdict(klass, verified=True)


def _header_from(view: MessageView, reasons: list[str]) -> Address | None:
    if len(view.from_values) > 1 or view.from_fields > 1:
        reasons.append("the message has more than one From header")
        return None
    if not view.from_values:
        reasons.append("the message has no From header among its header fields")
        return None
    spec = mailbox_from_header(view.from_values[0])
    address = parse_address(spec) if spec else None
    if address is None:
        reasons.append("the From header is not a single valid address")
    return address


def _authentication(
    envelope: Envelope, view: MessageView, raw: bytes, sender: Address, policy: SenderPolicy
) -> str | None:
    if auth.peer_is_trusted(envelope.peer_ip, policy.trusted_relays):
        return f"arrived from trusted relay {envelope.peer_ip}"
    evidence = auth.auth_results_pass(view.auth_results, policy.trusted_authserv_ids, sender.domain)
    if evidence is None and policy.verify_dkim and view.has_dkim_signature:
        evidence = auth.dkim_pass(raw, sender.domain, envelope.dkim_keys)
    return evidence
