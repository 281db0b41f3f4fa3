"""Checks on the raw DATA before any decision: things no legitimate message does.

- A bare CR or LF (a line ending that is not CRLF), or a NUL, is how SMTP smuggling hides a
  second message inside the first (RFC 5321 §2.3.8; CVE-2024-27305 in aiosmtpd only fixed the
  end of DATA; a next hop that drops NULs would read `CR LF NUL . CR LF` as the end). Refused,
  never passed on or "normalised".
- A header block over `MAX_HEADER_BYTES` is refused: every check below sees every header
  field, so none can be hidden past the point where a reader stops.
- A message that already carries this gateway's X-Mailrouter-* fields, in any syntax (space
  before the colon, after a line that is not a field), has been here before (a loop) or is
  impersonating a routed message; too many Received lines means a loop elsewhere (RFC 5321
  §6.3; Postfix stops at 50).
Pure functions on bytes.
"""

from __future__ import annotations

from mailrouter.ingest import replies
from mailrouter.parse.headers import MAX_HEADER_BYTES, field_names, header_region

OUR_PREFIX = b"x-mailrouter-"


def has_bare_line_ending(data: bytes) -> bool:
    crlf = data.count(b"\r\n")
    return data.count(b"\n") != crlf or data.count(b"\r") != crlf


def refusal(data: bytes, max_received: int) -> replies.Reply | None:
    """The reply refusing `data` before it is decided, or None if it may go on."""
    if has_bare_line_ending(data):
        return replies.BARE_LINE_ENDING
    if b"\x00" in data:
        return replies.NUL_IN_DATA
    reason = header_reason(data, max_received)
    if reason is None:
        return None
    return _REPLIES[reason]


OURS = "it already carries this gateway's headers"
TOO_MANY_HOPS = "it has passed through too many mail servers"
HEADER_TOO_BIG = "its header is larger than the gateway reads"
NUL = "it contains NUL characters"
_REPLIES = {
    OURS: replies.LOOP,
    TOO_MANY_HOPS: replies.TOO_MANY_HOPS,
    HEADER_TOO_BIG: replies.HEADER_TOO_BIG,
}


def pulled_reason(data: bytes, max_received: int) -> str | None:
    """Why a message read from a mailbox is refused, or None. Its line endings were rewritten
    by the IMAP server, so bare line endings say nothing about smuggling there; a NUL still
    could, at our next hop."""
    if b"\x00" in data:
        return NUL
    return header_reason(data, max_received)


def header_reason(data: bytes, max_received: int) -> str | None:
    """Why the header of `data` is refused, or None."""
    region = header_region(data)
    if len(region) > MAX_HEADER_BYTES:
        return HEADER_TOO_BIG
    names = field_names(region)
    if any(name.startswith(OUR_PREFIX) for name in names):
        return OURS
    if names.count(b"received") > max_received:
        return TOO_MANY_HOPS
    return None
