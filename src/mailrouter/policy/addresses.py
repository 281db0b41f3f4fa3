"""Mail addresses as the sender check needs them: one mailbox out of a From header, strictly,
and its syntax and domain checked by email-validator (which also applies IDNA, so a Unicode
look-alike of `cjsm.net` comes out as an `xn--` domain and cannot pass for the real one).

A From header that holds anything but exactly one mailbox (a group, a list, an unbalanced
quote or bracket) yields no address: the message is then not from a verifiable sender.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email


@dataclass(frozen=True, slots=True)
class Address:
    text: str  # local@domain as written, domain lower-cased
    domain: str  # ASCII (IDNA) form, lower case
    ascii_only: bool  # the address was written entirely in ASCII


# The usual shape, `Display Name <local@domain>` or `"Name" <local@domain>`, read in one step;
# anything else goes through the full scanner below.
_ATOMS = r'[^<>()"\[\],;:\s\\@]+'
_SIMPLE = re.compile(rf'^\s*(?:"[^"\\]*"|[^"<>()\[\],;:@\\]*)\s*<({_ATOMS}@{_ATOMS})>\s*$')


def mailbox_from_header(value: str) -> str | None:
    """The addr-spec of a From header holding exactly one mailbox, else None."""
    simple = _SIMPLE.match(value)
    if simple is not None:
        return simple.group(1)
    angle: list[str] = []
    outside: list[str] = []
    in_quote = escaped = False
    comment_depth = 0
    angle_depth = 0
    angles_seen = 0
    closed = False
    bare_at = 0  # unquoted "@" before an angle-addr: a second mailbox, not a display name
    for ch in value:
        if escaped:
            escaped = False
            (angle if angle_depth else outside).append(ch)
            continue
        if ch == "\\" and (in_quote or comment_depth):
            escaped = True
            continue
        if in_quote:
            if ch == '"':
                in_quote = False
            (angle if angle_depth else outside).append(ch)
            continue
        if comment_depth:
            if ch == "(":
                comment_depth += 1
            elif ch == ")":
                comment_depth -= 1
            continue
        if ch == "(":
            comment_depth = 1
        elif ch == '"':
            in_quote = True
            (angle if angle_depth else outside).append(ch)
        elif ch == "<":
            if angle_depth or closed:
                return None
            angle_depth, angles_seen = 1, angles_seen + 1
        elif ch == ">":
            if not angle_depth:
                return None
            angle_depth, closed = 0, True
        elif angle_depth:
            angle.append(ch)
        else:
            if closed and not ch.isspace():
                return None  # text after the angle-addr: a second mailbox or a trick
            outside.append(ch)
            if ch == "@" and angles_seen == 0:
                bare_at += 1
    if in_quote or comment_depth or angle_depth:
        return None
    if angles_seen == 1:
        if bare_at:
            return None
        spec = "".join(angle).strip()
    elif angles_seen == 0:
        spec = "".join(outside).strip()
        if any(ch in spec for ch in ",;:") or " " in spec:
            return None
    else:
        return None
    return spec or None


@lru_cache(maxsize=8192)
def parse_address(spec: str) -> Address | None:
    """Validate an addr-spec; None when it is not a deliverable-looking mailbox address."""
    if not spec or len(spec) > 320 or spec.count("@") != 1:
        return None
    try:
        valid = validate_email(
            spec, check_deliverability=False, allow_smtputf8=True, allow_quoted_local=True
        )
    except EmailNotValidError:
        return None
    domain = (valid.ascii_domain or valid.domain).lower()
    local, _, written_domain = spec.rpartition("@")
    return Address(f"{local}@{written_domain.lower()}", domain, spec.isascii())


def domain_under(domain: str, suffix: str) -> bool:
    """`domain` is `suffix` or a subdomain of it, label by label (never a mere string suffix:
    `xcjsm.net` is not under `cjsm.net`)."""
    return domain == suffix or domain.endswith("." + suffix)
