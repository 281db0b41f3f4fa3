"""Find the sender's own text in a multipart body without building a Message tree.

RFC 2046 §5.1: parts are separated by lines `--boundary` and the last is followed by
`--boundary--`; text before the first delimiter (preamble) and after the last (epilogue) is
not content. Nested multiparts are followed to a bounded depth and a bounded number of parts,
so a hostile structure costs no more than a normal one. Attachments and message/rfc822 parts
(forwarded mail: older messages, not this one) are never the body. Within
multipart/alternative the plain text is preferred when it has content; otherwise the first
readable alternative (usually HTML) is used. The HTML alternatives beside a plain text are
kept aside, undecoded, for when the plain text leaves something missing (`tabled_html`).
"""

from __future__ import annotations

import binascii
import re
from typing import NamedTuple

from mailrouter.parse.headers import content_type, split_message, text_value

MAX_PARTS = 200
MAX_DECODED = 4_000_000  # encoded bytes of an alternative decoded to look at it
MAX_DEPTH = 12
TEXT_TYPES = ("text/plain", "text/html")
_TABLE = re.compile(rb"<table", re.IGNORECASE)
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]+")


class TextPart(NamedTuple):
    ctype: str
    params: dict[str, str]
    encoding: str  # Content-Transfer-Encoding, lower case
    payload: bytes  # still transfer-encoded, unless `encoding` is "" (decoded already)


class Budget:
    """Parts left to look at; when it runs out the walk stops and says so."""

    def __init__(self, parts: int = MAX_PARTS) -> None:
        self.parts = parts
        self.exhausted = False

    def take(self) -> bool:
        self.parts -= 1
        if self.parts < 0:
            self.exhausted = True
        return not self.exhausted


def find_text_parts(
    body: bytes, ctype: str, params: dict[str, str], budget: Budget, depth: int = 0
) -> tuple[TextPart | None, tuple[TextPart, ...]]:
    """(the body part to read, the HTML alternatives beside it, still encoded: read only if
    the chosen part leaves something missing, see `tabled_html`)."""
    boundary = params.get("boundary", "")
    if not boundary or depth > MAX_DEPTH:
        budget.exhausted = budget.exhausted or depth > MAX_DEPTH
        return None, ()
    found: list[TextPart] = []
    beside: tuple[TextPart, ...] = ()
    for chunk in split_parts(body, boundary.encode("ascii", "replace")):
        if not budget.take():
            break
        headers, part_body = split_message(chunk)
        mime = {name.lower(): value for name, value in reversed(headers)}
        part_type, part_params = content_type(_text(mime.get("content-type")))
        if _text(mime.get("content-disposition")).strip().lower().startswith("attachment"):
            continue
        if part_type.startswith("multipart/"):
            hit, inner = find_text_parts(part_body, part_type, part_params, budget, depth + 1)
            beside = beside or inner
        elif part_type in TEXT_TYPES:
            encoding = _text(mime.get("content-transfer-encoding")).strip().lower()
            hit = TextPart(part_type, part_params, encoding, part_body)
        else:
            hit = None  # images, PDFs, forwarded message/rfc822 and the like
        if hit is None:
            continue
        if ctype != "multipart/alternative":
            return hit, beside  # mixed, related, signed…: the first readable part is the body
        found.append(hit)
    beside = (*beside, *(part for part in found if part.ctype == "text/html"))
    readable: list[TextPart] = []
    for part in found:
        decoded = _decoded(part)
        if decoded.payload.strip():
            if decoded.ctype == "text/plain":
                return decoded, beside
            readable.append(decoded)
    chosen = (readable or found or [None])[0]
    return chosen, (beside if chosen is None or chosen.ctype != "text/html" else ())


def tabled_html(parts: tuple[TextPart, ...]) -> TextPart | None:
    """The first of `parts` (HTML alternatives) that holds a table, decoded: a plain rendering
    of a table puts every cell on a line of its own, and where that loses which value sits
    under which heading, the HTML still has it. Quoted-printable keeps "<table" as it is, so
    only base64 needs decoding to look."""
    for part in parts:
        seen = _decoded(part) if part.encoding == "base64" else part
        if _has_table(seen.payload):
            return _decoded(seen)
    return None


def split_parts(body: bytes, boundary: bytes) -> list[bytes]:
    """The contents of each body part between delimiter lines (without the CRLF that
    belongs to the following delimiter)."""
    delimiter = b"--" + boundary
    marks: list[tuple[int, int, bool]] = []  # (delimiter start, content start, closing)
    at = body.find(delimiter)
    while at >= 0:
        if at == 0 or body[at - 1 : at] == b"\n":
            line_end = body.find(b"\n", at)
            tail_end = line_end if line_end >= 0 else len(body)
            tail = body[at + len(delimiter) : tail_end].rstrip(b"\r \t")
            if tail in (b"", b"--"):
                marks.append((at, tail_end + 1, tail == b"--"))
                if tail == b"--":
                    break
        at = body.find(delimiter, at + len(delimiter))
    parts: list[bytes] = []
    for index, (_, start, closing) in enumerate(marks):
        if closing:
            break
        end = marks[index + 1][0] if index + 1 < len(marks) else len(body)
        chunk = body[start:end]
        if index + 1 < len(marks):
            chunk = chunk[:-2] if chunk.endswith(b"\r\n") else chunk.removesuffix(b"\n")
        parts.append(chunk)
    return parts


def _text(value: bytes | None) -> str:
    return text_value(value) if value is not None else ""


def _decoded(part: TextPart) -> TextPart:
    """The part with its transfer encoding undone (quoted-printable and base64 only; lenient
    about base64, as mail clients are). Its `encoding` becomes "" so it is not undone twice."""
    if part.encoding == "quoted-printable":
        return part._replace(payload=binascii.a2b_qp(part.payload[:MAX_DECODED]), encoding="")
    if part.encoding == "base64":
        payload = lenient_base64(part.payload[:MAX_DECODED])
        return part._replace(payload=payload or b"", encoding="")
    return part


def lenient_base64(body: bytes) -> bytes | None:
    """Base64 decoded as mail clients do: stray characters skipped, a broken last quantum
    dropped rather than the whole body lost. None when nothing can be decoded."""
    data = _NOT_BASE64.sub(b"", body).rstrip(b"=")
    data = data[: len(data) - len(data) % 4] if len(data) % 4 == 1 else data
    try:
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    except binascii.Error:
        return None


def _has_table(payload: bytes) -> bool:
    return _TABLE.search(payload) is not None
