"""What a team receives: the original message, unaltered in body, with our headers in front.

Prepended: a Received line (RFC 5321 §4.4) and X-Mailrouter-Id, -Route, -URN, -Court,
-Hearing-Date, -Tags, -Rule, -Rules (the ruleset's version) and (for a held message) -Held,
so mail clients can sort, search and prioritise (DESIGN §7). The Subject gets the route's
tag ("[MAGS 20AB1234521] …", "[HOLD two URNs] …") spliced into the original bytes of the
field, unless it carries one of ours already (a reply); nothing else in the message is
touched, and it is never re-serialised.

Values reaching a header are one line of printable text (control characters dropped), and
non-ASCII text is RFC 2047 encoded: nothing taken from a message can start a new header.
A field of the original named like ours, in any syntax, is renamed `X-Sender-Mailrouter-…`
(the SMTP and pull checks refuse such mail; this holds even for a message that got past
them), so a team's mail client sorts only by what the gateway wrote.
"""

from __future__ import annotations

import datetime as dt
import re
from email.header import Header
from email.utils import format_datetime
from typing import Any

from mailrouter.notices import clean
from mailrouter.parse.headers import header_block, header_region

MAX_LINE = 998  # RFC 5322 §2.1.1
_SUBJECT = re.compile(rb"(?:^|\n)subject:[ \t]*", re.IGNORECASE)
_FIELD_END = re.compile(rb"\r?\n(?![ \t])")
_HELO = re.compile(r"[^A-Za-z0-9.\-\[\]:_]")
_OURS = re.compile(rb"(^|\n)(x-mailrouter-)(?=[\x21-\x39\x3b-\x7e]*[ \t]*:)", re.IGNORECASE)


def compose(raw: bytes, meta: dict[str, Any]) -> bytes:
    decision = meta.get("decision", {})
    lines = [_received(meta)]
    fields = (
        ("X-Mailrouter-Id", meta["id"]),
        ("X-Mailrouter-Route", decision.get("route")),
        ("X-Mailrouter-URN", decision.get("urn")),
        ("X-Mailrouter-Court", decision.get("court")),
        ("X-Mailrouter-Hearing-Date", decision.get("hearing_date")),
        ("X-Mailrouter-Tags", ", ".join(decision.get("tags") or ())),
        ("X-Mailrouter-Rule", decision.get("rule")),
        ("X-Mailrouter-Held", decision.get("held")),
        ("X-Mailrouter-Rules", decision.get("rules")),
    )
    lines.extend(header_line(name, value) for name, value in fields if value)
    tagged = tag_subject(rename_ours(raw), meta.get("subject_tag") or "", meta.get("tag_pattern"))
    return b"".join(lines) + tagged


def rename_ours(raw: bytes) -> bytes:
    """`raw` with any header field named like ours renamed (the body untouched)."""
    region = header_region(raw)
    if b"mailrouter-" not in region.lower():
        return raw
    return _OURS.sub(rb"\1X-Sender-Mailrouter-", region) + raw[len(region) :]


def header_line(name: str, value: str) -> bytes:
    text = clean(str(value))
    if not text.isascii():
        text = Header(text, "utf-8", maxlinelen=76, header_name=name).encode()
    return f"{name}: {text}\r\n".encode("ascii")


def tag_subject(raw: bytes, tag: str, already: str | None = None) -> bytes:
    """`raw` with `tag` put at the start of its Subject (one is added if there is none);
    unchanged when the Subject carries a tag of ours already (`already`: a pattern for any),
    as a reply to a routed message does."""
    tag_bytes = clean(tag).encode("ascii", "replace")
    if not tag_bytes:
        return raw
    _, body = header_block(raw)
    m = _SUBJECT.search(raw, 0, len(raw) - len(body))
    if m is None:
        return b"Subject: " + tag_bytes + b"\r\n" + raw
    start = m.end()
    if raw[start : start + len(tag_bytes)] == tag_bytes:
        return raw  # already tagged (a reply to a tagged message)
    if already:
        value = _FIELD_END.search(raw, start)
        text = raw[start : value.start() if value else len(raw)].decode("ascii", "replace")
        if re.search(already, text):
            return raw
    line_end = raw.find(b"\n", start)
    first_line = (line_end if line_end >= 0 else len(raw)) - m.start()
    joint = b" " if first_line + len(tag_bytes) + 1 <= MAX_LINE else b"\r\n "
    return raw[:start] + tag_bytes + joint + raw[start:]


def _received(meta: dict[str, Any]) -> bytes:
    helo = _HELO.sub("", str(meta.get("helo") or "unknown"))[:255] or "unknown"
    peer = clean(str(meta.get("peer_ip") or "unknown"))
    protocol = _HELO.sub(
        "", str(meta.get("protocol") or ("ESMTPS" if meta.get("tls") else "ESMTP"))
    )
    rcpt = meta.get("rcpt") or []
    for_clause = f"\r\n\tfor <{clean(rcpt[0])}>" if len(rcpt) == 1 else ""
    when = format_datetime(dt.datetime.fromtimestamp(float(meta["received_at"]), dt.UTC))
    text = (
        f"Received: from {helo} ([{peer}])\r\n\tby {clean(str(meta.get('hostname', 'localhost')))} "
        f"(mailrouter) with {protocol} id {meta['id']}{for_clause};\r\n\t{when}\r\n"
    )
    return text.encode("ascii", "replace")
