"""Was the message really sent by the domain in its From? (DESIGN §5)

Three kinds of evidence, any one of which is enough:
- it arrived from a configured trusted relay (the edge MTA in front of the gateway);
- an `Authentication-Results` header written by a configured authserv-id (the edge must strip
  any that arrive from outside with the same id, RFC 8601 §5) reports dmarc=pass for the From
  domain, or dkim/spf=pass for an aligned domain;
- a DKIM signature verifies (dkimpy) for a domain aligned with the From domain.

Pure: DKIM keys are passed in (`Envelope.dkim_keys`), looked up at the edge beforehand.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import dkim

from mailrouter.policy.addresses import domain_under

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Registry-controlled names that can never be an organisation's signing domain.
_PUBLIC_SUFFIXES = frozenset(
    "com net org uk co.uk org.uk gov.uk ac.uk police.uk me.uk ltd.uk plc.uk net.uk sch.uk "
    "nhs.uk pnn.police.uk".split()
)
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9-]+)\s*=\s*([a-z]+)\b(.*)$", re.IGNORECASE | re.DOTALL)
# The lookbehind makes a match start only at a token's start, keeping the scan linear.
_PROPERTY = re.compile(
    r"(?<![a-z0-9.-])([a-z0-9-]+)\.([a-z0-9-]+)\s*=\s*(\"[^\"]*\"|[^\s;]+)", re.IGNORECASE
)
_DKIM_TAGS = re.compile(rb"(?:^|;)\s*([a-z])\s*=\s*([^;]*)", re.IGNORECASE)
_QUIET = logging.getLogger("mailrouter.dkim")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def aligned(signing_domain: str, from_domain: str) -> bool:
    """Relaxed alignment (RFC 7489 §3.1): the signing domain is the From domain or a parent of
    it, and is not a public suffix. CJSM signing as `cjsm.net` aligns with every CJSM mailbox."""
    signing_domain = signing_domain.lower().rstrip(".")
    if signing_domain in _PUBLIC_SUFFIXES or "." not in signing_domain:
        return False
    return domain_under(from_domain, signing_domain)


@lru_cache(maxsize=4096)
def peer_is_trusted(peer_ip: str, relays: tuple[IPNetwork, ...]) -> bool:
    address = _ip(peer_ip)
    return address is not None and any(
        address.version == net.version and address in net for net in relays
    )


@lru_cache(maxsize=4096)
def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def auth_results_pass(
    headers: Iterable[str], authserv_ids: Sequence[str], from_domain: str
) -> str | None:
    """The evidence line when a trusted Authentication-Results header vouches for the domain."""
    trusted = {a.lower() for a in authserv_ids}
    if not trusted:
        return None
    for header in headers:
        text = _COMMENT.sub(" ", header)
        parts = [p.strip() for p in text.split(";")]
        if not parts or not parts[0]:
            continue
        authserv = parts[0].split()[0].lower()
        if authserv not in trusted:
            continue
        for resinfo in parts[1:]:
            m = _RESULT.match(resinfo)
            if not m or m.group(2).lower() != "pass":
                continue
            method = m.group(1).lower()
            props = {
                f"{p.lower()}.{k.lower()}": v.strip('"').lower()
                for p, k, v in _PROPERTY.findall(m.group(3))
            }
            if method == "dmarc" and props.get("header.from") == from_domain:
                return f"{authserv} reports dmarc=pass for {from_domain}"
            if method == "dkim":
                domain = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
                if domain and aligned(domain, from_domain):
                    return f"{authserv} reports dkim=pass for {domain}"
            if method == "spf":
                domain = props.get("smtp.mailfrom", "").rpartition("@")[2]
                if domain and domain == from_domain:
                    return f"{authserv} reports spf=pass for {domain}"
    return None


def dkim_key_names(raw: bytes) -> list[str]:
    """DNS names of the keys the message's DKIM signatures need (`s._domainkey.d`), so the
    edge can fetch them before deciding."""
    names: list[str] = []
    header_end = raw.find(b"\r\n\r\n")
    if header_end < 0:
        header_end = raw.find(b"\n\n")
    head = raw if header_end < 0 else raw[:header_end]
    for block in re.split(rb"\r?\n(?=\S)", head):
        if not block[:15].lower().startswith(b"dkim-signature:"):
            continue
        tags = {k.lower(): re.sub(rb"\s+", b"", v) for k, v in _DKIM_TAGS.findall(block[15:])}
        if b"s" in tags and b"d" in tags:
            try:
                names.append(key_name(tags[b"s"].decode("ascii"), tags[b"d"].decode("ascii")))
            except UnicodeDecodeError:
                continue
    return names


def key_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}".lower().rstrip(".")


def dkim_pass(raw: bytes, from_domain: str, keys: Mapping[str, bytes]) -> str | None:
    """The evidence line when a DKIM signature by an aligned domain verifies."""
    if not keys:
        return None

    def lookup(name: bytes | str, timeout: float = 5) -> bytes | None:
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        return keys.get(text.lower().rstrip("."))

    try:
        signer = dkim.DKIM(raw, logger=_QUIET, minkey=1024)
    except Exception:  # noqa: BLE001 - unparseable message: no DKIM evidence
        return None
    count = sum(1 for name, _ in signer.headers if name.lower() == b"dkim-signature")
    for index in range(min(count, 8)):
        try:
            ok = signer.verify(idx=index, dnsfunc=lookup)
        except Exception:  # noqa: BLE001 - malformed signature or key: this one fails
            continue
        domain = (signer.domain or b"").decode("ascii", "replace").lower()
        if ok and aligned(domain, from_domain):
            return f"DKIM signature by {domain} verified"
    return None
