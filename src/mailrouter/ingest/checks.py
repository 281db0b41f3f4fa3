"""Checks on the raw DATA before any decision: things no legitimate message does.

- A bare CR or LF (a line ending that is not CRLF) is how SMTP smuggling hides a second
  message inside the first (RFC 5321 §2.3.8; CVE-2024-27305 in aiosmtpd only fixed the end of
  DATA). It is refused, never passed on or "normalised".
- A message that already carries this gateway's X-Mailrouter-* headers has been here before
  (a loop) or is impersonating a routed message; too many Received lines means a loop
  elsewhere (RFC 5321 §6.3; Postfix stops at 50).
Pure functions on bytes.
"""

from __future__ import annotations

import re

from mailrouter.ingest import replies
from mailrouter.parse.headers import header_block

_OUR_HEADER = re.compile(rb"\nx-mailrouter-[a-z-]*:", re.IGNORECASE)
_RECEIVED = re.compile(rb"\nreceived:", re.IGNORECASE)


def has_bare_line_ending(data: bytes) -> bool:
    crlf = data.count(b"\r\n")
    return data.count(b"\n") != crlf or data.count(b"\r") != crlf


def refusal(data: bytes, max_received: int) -> replies.Reply | None:
    """The reply refusing `data` before it is decided, or None if it may go on."""
    if has_bare_line_ending(data):
        return replies.BARE_LINE_ENDING
    reason = loop_reason(data, max_received)
    if reason is None:
        return None
    return replies.LOOP if reason == OURS else replies.TOO_MANY_HOPS


OURS = "it already carries this gateway's headers"
TOO_MANY_HOPS = "it has passed through too many mail servers"


def loop_reason(data: bytes, max_received: int) -> str | None:
    """Why `data` looks like a mail loop, or None. (Pull mode uses this alone: a message read
    from a mailbox has had its line endings rewritten by the server, so bare line endings say
    nothing about smuggling there.)"""
    block, _ = header_block(data)
    block = b"\n" + block
    if _OUR_HEADER.search(block):
        return OURS
    if len(_RECEIVED.findall(block)) > max_received:
        return TOO_MANY_HOPS
    return None
