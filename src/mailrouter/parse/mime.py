"""Read the parts of a raw message that a decision needs, quickly and defensively.

Building a full Message tree costs far more than the decision needs (the modern header
parser is over ten times slower than compat32, and even compat32 builds every part), so the
headers are split once (parse.headers), the body part is found without a tree
(parse.multipart), and only what is read is decoded: RFC 2047 words with the standard
library's decode_header, declared charsets (with a fallback when the declaration lies),
quoted-printable, base64 and format=flowed. Nothing here raises on hostile input: what cannot
be read is recorded in `notes` and skipped.

Never re-serialise a message from this view: delivery uses the original bytes.
"""

from __future__ import annotations

import binascii
import codecs
import re
from dataclasses import dataclass, field, replace
from email.header import decode_header
from functools import lru_cache

from mailrouter.parse.headers import (
    content_type,
    count_field,
    header_block,
    header_region,
    text_value,
    wanted_fields,
)
from mailrouter.parse.html import html_to_text
from mailrouter.parse.multipart import (
    TEXT_TYPES,
    Budget,
    TextPart,
    find_text_parts,
    lenient_base64,
    tabled_html,
)

# Bounds that keep a hostile message from costing more than a normal one.
MAX_HEADER_CHARS = 4_000  # a decoded header value we look at
MAX_BODY_BYTES = 2_000_000  # encoded body part we are willing to decode
MAX_TEXT_CHARS = 200_000  # decoded text we hand to the extractors

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_FOLD = re.compile(r"\r?\n[ \t]+")
_SPACES = re.compile(r"[ \t\u00a0]{2,}")

# Declarations that are routinely wrong in the same direction: Windows mail that says Latin-1
# or ASCII and means Windows-1252 (the WHATWG encoding standard makes the same mapping).
_CHARSET_SUBSTITUTES = {
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
}


# Codecs Python knows that no mail client means by a charset: treated as a lying declaration.
_NOT_CHARSETS = frozenset(("undefined", "punycode", "idna", "unicode-escape", "raw-unicode-escape"))


@dataclass(slots=True)
class MessageView:
    """The decoded pieces of a message, each already bounded and free of control characters."""

    subject: str = ""
    from_values: list[str] = field(default_factory=list)
    # From fields anywhere before the first empty line, in any syntax: more than one, and the
    # From a mail client shows may not be the one a signature covers.
    from_fields: int = 0
    message_id: str | None = None
    auth_results: list[str] = field(default_factory=list)
    has_dkim_signature: bool = False
    body: str = ""
    body_is_html: bool = False
    notes: list[str] = field(default_factory=list)
    partial: bool = False  # a bound was reached: some of the message was not read
    # The HTML alternatives beside a plain text that was read instead, still encoded: looked
    # at only if the plain text leaves something missing (see `html_alternative`).
    html_beside: tuple[TextPart, ...] = ()

    def html_alternative(self) -> MessageView | None:
        """This view with an HTML alternative that holds a table as its body, or None when
        there is none."""
        part = tabled_html(self.html_beside)
        if part is None:
            return None
        other = replace(self, notes=list(self.notes), html_beside=())
        other.body, other.body_is_html = _text(part.payload, part.ctype, part.params, other)
        return other


def read_message(raw: bytes) -> MessageView:
    view = MessageView()
    block, body = header_block(raw)
    mime = _read_headers(wanted_fields(block, _WANTED), view)
    view.from_fields = count_field(header_region(raw), "from")
    ctype, params = content_type(mime.get("content-type"))
    if ctype.startswith("multipart/"):
        budget = Budget()
        part, view.html_beside = find_text_parts(body, ctype, params, budget)
        if budget.exhausted:
            view.notes.append("the message has too many MIME parts to read them all")
            view.partial = True
        if part is None:
            view.notes.append("the message has no readable text part")
            return view
        data = _transfer_decode(part.payload, part.encoding, view)
        text, is_html = _text(data, part.ctype, part.params, view)
    elif ctype in TEXT_TYPES and not _is_attachment(mime.get("content-disposition")):
        encoding = (mime.get("content-transfer-encoding") or "").strip().lower()
        text, is_html = _text(_transfer_decode(body, encoding, view), ctype, params, view)
    else:
        view.notes.append("the message has no readable text part")
        return view
    view.body, view.body_is_html = text, is_html
    return view


_MIME_HEADERS = {
    b"content-type": "content-type",
    b"content-transfer-encoding": "content-transfer-encoding",
    b"content-disposition": "content-disposition",
}
_WANTED = frozenset(
    (*_MIME_HEADERS.values(), "subject", "from", "message-id", "authentication-results",
     "dkim-signature")
)  # fmt: skip


def _read_headers(headers: list[tuple[bytes, bytes]], view: MessageView) -> dict[str, str]:
    """Fill the view from the headers it needs; return the first of each MIME header."""
    mime: dict[str, str] = {}
    for key, value in headers:
        if key == b"subject":
            if not view.subject:
                view.subject = header_text(value)
        elif key == b"from":
            view.from_values.append(header_text(value, decode_words=False))
        elif key in _MIME_HEADERS:
            mime.setdefault(_MIME_HEADERS[key], text_value(value))
        elif key == b"message-id":
            if view.message_id is None:
                view.message_id = header_text(value, decode_words=False) or None
        elif key == b"authentication-results":
            view.auth_results.append(header_text(value, decode_words=False))
        elif key == b"dkim-signature":
            view.has_dkim_signature = True
    return mime


def header_text(raw: bytes, *, decode_words: bool = True) -> str:
    """A header value as one line of text: 8-bit bytes decoded (UTF-8, else Windows-1252),
    RFC 2047 words decoded, unfolded, and every control character (CR, LF and NUL included)
    turned into a space."""
    raw = raw[:MAX_HEADER_CHARS]
    value = raw.decode("ascii") if raw.isascii() else decode_bytes(raw, "utf-8")
    if decode_words and "=?" in value:
        value = _decode_words(_FOLD.sub(" ", value))
    if not value.isprintable():  # CR, LF, TAB, NUL and the rest: each run one space
        value = _CONTROL.sub(" ", value)
    if "  " in value:
        value = _SPACES.sub(" ", value)
    return value.strip()


def _decode_words(value: str) -> str:
    try:
        chunks = decode_header(value)
    except Exception:  # noqa: BLE001 - malformed encoded words: keep the raw text
        return value
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
        else:
            out.append(decode_bytes(chunk, charset))
    return "".join(out)


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode text whose declared charset may be missing, unknown or wrong."""
    charset = _known_charset(declared)
    if charset is not None:
        try:
            return data.decode(charset)
        except (UnicodeError, LookupError):  # UnicodeError: codecs such as punycode raise it
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


@lru_cache(maxsize=256)
def _known_charset(declared: str | None) -> str | None:
    if not declared:
        return None
    name = declared.strip().strip('"').lower()
    if name in ("us-ascii", "ascii"):
        return "utf-8"  # a superset; true ASCII decodes identically
    name = _CHARSET_SUBSTITUTES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):  # unknown, or a name with a NUL in it
        return None
    # Only a character set names text: not a bytes-to-bytes codec (base64, zlib), nor one that
    # is a transformation rather than a charset (`undefined` always fails, `punycode` and
    # `idna` read domain labels, the escape codecs turn `\x00` into NUL).
    if not info._is_text_encoding or info.name in _NOT_CHARSETS:  # type: ignore[attr-defined]
        return None
    return info.name


def _is_attachment(disposition: object) -> bool:
    return isinstance(disposition, str) and disposition.strip().lower().startswith("attachment")


def _transfer_decode(body: bytes, encoding: str, view: MessageView) -> bytes:
    if len(body) > MAX_BODY_BYTES * 2:
        view.notes.append("only the first part of a very long body was read")
        view.partial = True
        body = body[: MAX_BODY_BYTES * 2]
    if encoding == "base64":
        return _base64(body, view)
    if encoding == "quoted-printable":
        return binascii.a2b_qp(body)
    return body  # 7bit, 8bit, binary, or an encoding we do not know: the bytes as sent


def _base64(body: bytes, view: MessageView) -> bytes:
    data = lenient_base64(body)
    if data is None:
        view.notes.append("the body's base64 could not be decoded")
        return b""
    return data


def _text(data: bytes, ctype: str, params: dict[str, str], view: MessageView) -> tuple[str, bool]:
    if len(data) > MAX_BODY_BYTES:
        view.notes.append("only the first part of a very long body was read")
        view.partial = True
        data = data[:MAX_BODY_BYTES]
    text = decode_bytes(data, params.get("charset"))
    is_html = ctype == "text/html"
    if is_html:
        noted = len(view.notes)
        text = html_to_text(text, view.notes)
        view.partial = view.partial or len(view.notes) > noted  # its one note: the tag bound
    else:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if params.get("format", "").lower() == "flowed":
            text = _unflow(text, params.get("delsp", "").lower() == "yes")
    return text[:MAX_TEXT_CHARS], is_html


def _unflow(text: str, delsp: bool) -> str:
    """Join RFC 3676 soft line breaks (a line ending in a space continues on the next)."""
    out: list[str] = []
    carry = ""
    for line in text.split("\n"):
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line.endswith(" ") and line != "-- ":
            carry += line[:-1] if delsp else line
            continue
        out.append(carry + line)
        carry = ""
    if carry:
        out.append(carry)
    return "\n".join(out)
