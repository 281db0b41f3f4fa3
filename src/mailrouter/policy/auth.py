"""Was the message really sent by the domain in its From? (DESIGN §5)

Three kinds of evidence, any one of which is enough:
- it arrived from a configured trusted relay (the edge MTA in front of the gateway);
- an `Authentication-Results` header written by a configured authserv-id (the edge must strip
  any that arrive from outside with the same id, RFC 8601 §5) reports a dmarc=pass *result*
  for the From domain, or a dkim=pass result for an aligned `header.d`. The header is parsed
  with RFC 8601's grammar (the `authres` library), so a "dmarc=pass" inside a comment, a
  quoted string, a reason or a property value is text, never a result. SPF says nothing about
  the From, so it is not evidence;
- a DKIM signature verifies (dkimpy) for a domain aligned with the From domain.

Aligned means the From's own domain or its organisational domain by the Public Suffix List
(`cjsm.net` for every CJSM mailbox), never some parent in between: `co.uk.cjsm.net` vouches
for nobody. Signatures we will not take are never verified, nor their keys looked up: by an
unaligned domain (attacker-chosen DNS queries), with rsa-sha1 (RFC 8301), or with `l=` (a body
length lets anyone append text after the signed part). At most a few are tried.

Pure: DKIM keys are passed in (`Envelope.dkim_keys`), looked up at the edge beforehand.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import authres
import dkim
from publicsuffixlist import PublicSuffixList

from mailrouter.parse.headers import header_block, wanted_fields
from mailrouter.parse.mime import header_text
from mailrouter.policy.addresses import mailbox_from_header, parse_address

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_SIGNATURES = 3  # DKIM signatures tried per message (keys looked up, hashes computed)
_PSL = PublicSuffixList()  # the list bundled with the package, no network
_DKIM_TAGS = re.compile(rb"(?:^|;)\s*([a-z]+)\s*=\s*([^;]*)", re.IGNORECASE)
_SPACE = re.compile(rb"\s+")
_KEY_FIELDS = frozenset(("from", "dkim-signature"))
_ALGORITHMS = frozenset((b"rsa-sha256", b"ed25519-sha256"))  # not rsa-sha1 (RFC 8301)
_QUIET = logging.getLogger("mailrouter.dkim")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@lru_cache(maxsize=4096)
def aligned(signing_domain: str, from_domain: str) -> bool:
    """The signing domain is the From domain itself or the From's organisational domain (the
    Public Suffix List's registrable domain): `cjsm.net` signs for every CJSM mailbox."""
    signing_domain = signing_domain.lower().rstrip(".")
    from_domain = from_domain.lower().rstrip(".")
    if not signing_domain:
        return False
    return signing_domain == from_domain or signing_domain == _PSL.privatesuffix(from_domain)


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
        lowered = header.lower()
        if not any(authserv in lowered for authserv in trusted):
            continue  # no trusted id anywhere in it: not worth parsing
        parsed = _parse_auth_results(header)
        if parsed is None or (parsed.authserv_id or "").lower() not in trusted:
            continue
        authserv = parsed.authserv_id.lower()
        for result in parsed.results:
            if (result.result or "").lower() != "pass":
                continue
            method = (result.method or "").lower()
            props = {
                f"{p.type}.{p.name}".lower(): _unquote(p.value).lower()
                for p in result.properties
                if p.type and p.name and p.value
            }
            if method == "dmarc" and props.get("header.from") == from_domain:
                return f"{authserv} reports dmarc=pass for {from_domain}"
            if method == "dkim":
                domain = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
                if domain and aligned(domain, from_domain):
                    return f"{authserv} reports dkim=pass for {domain}"
    return None


def _parse_auth_results(header: str) -> authres.AuthenticationResultsHeader | None:
    """The header by RFC 8601's grammar, or None when it does not follow it (then it vouches
    for nothing). Deeply nested comments are refused before the recursive parser sees them."""
    if _comment_depth(header) > 8:
        return None
    try:
        return authres.AuthenticationResultsHeader.parse_value(header)
    except Exception:  # noqa: BLE001 - authres raises its own SyntaxError and others
        return None


def _comment_depth(text: str) -> int:
    if "(" not in text:
        return 0
    depth = deepest = 0
    for ch in text:
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")" and depth:
            depth -= 1
    return deepest


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def dkim_key_names(raw: bytes) -> list[str]:
    """DNS names of the keys that the message's acceptable DKIM signatures need
    (`s._domainkey.d`), so the edge can fetch them before deciding: only for signatures by a
    domain aligned with the one From (no lookups an attacker chooses), at most a few."""
    block, _ = header_block(raw)
    fields = wanted_fields(block, _KEY_FIELDS)
    froms = [value for name, value in fields if name == b"from"]
    from_domain = _from_domain(froms)
    if from_domain is None:
        return []
    names: list[str] = []
    for name, value in fields:
        if name != b"dkim-signature":
            continue
        tags = signature_tags(value)
        if acceptable_signature(tags, from_domain) is None:
            try:
                names.append(key_name(tags[b"s"].decode("ascii"), tags[b"d"].decode("ascii")))
            except (KeyError, UnicodeDecodeError):
                continue
        if len(names) == MAX_SIGNATURES:
            break
    return names


def signature_tags(value: bytes) -> dict[bytes, bytes]:
    """A DKIM-Signature's tags, names lower-cased, values with their white space removed."""
    return {k.lower(): _SPACE.sub(b"", v) for k, v in _DKIM_TAGS.findall(value)}


def acceptable_signature(tags: Mapping[bytes, bytes], from_domain: str) -> str | None:
    """Why a signature cannot vouch for `from_domain`, or None when it may be verified."""
    domain = tags.get(b"d", b"").decode("ascii", "replace").lower()
    if not domain or not aligned(domain, from_domain):
        return f"signed by {domain or 'no domain'}, which is not aligned with {from_domain}"
    if tags.get(b"a", b"").lower() not in _ALGORITHMS:
        return "signed with an algorithm other than rsa-sha256 or ed25519-sha256 (RFC 8301)"
    if b"l" in tags:
        return "signs only part of the body (l=), so text could be added after it"
    return None


def _from_domain(values: list[bytes]) -> str | None:
    if len(values) != 1:
        return None
    spec = mailbox_from_header(header_text(values[0], decode_words=False))
    address = parse_address(spec) if spec else None
    return address.domain if address is not None else None


def key_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}".lower().rstrip(".")


def dkim_pass(raw: bytes, from_domain: str, keys: Mapping[str, bytes]) -> str | None:
    """The evidence line when an acceptable DKIM signature by an aligned domain verifies."""
    if not keys:
        return None

    def lookup(name: bytes | str, timeout: float = 5) -> bytes | None:
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        return keys.get(text.lower().rstrip("."))

    try:
        signer = dkim.DKIM(raw, logger=_QUIET, minkey=1024)
    except Exception:  # noqa: BLE001 - unparseable message: no DKIM evidence
        return None
    signatures = [value for name, value in signer.headers if name.lower() == b"dkim-signature"]
    usable = [
        index
        for index, value in enumerate(signatures)
        if acceptable_signature(signature_tags(value), from_domain) is None
    ]
    for index in usable[:MAX_SIGNATURES]:
        try:
            ok = signer.verify(idx=index, dnsfunc=lookup)
        except Exception:  # noqa: BLE001 - malformed signature or key: this one fails
            continue
        domain = (signer.domain or b"").decode("ascii", "replace").lower()
        if ok and aligned(domain, from_domain):
            return f"DKIM signature by {domain} verified"
    return None
