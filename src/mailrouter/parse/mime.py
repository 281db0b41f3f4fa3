"""Read the parts of a raw message that a decision needs, quickly and defensively.

The standard library's modern header parser (`policy.default`) is over ten times slower than
the compat32 machinery, so the message is parsed with compat32 and only the few headers and
the one body part we read are decoded: RFC 2047 words, declared charsets (with a fallback when
the declaration lies), quoted-printable, base64 and format=flowed. Nothing here raises on
hostile input: a part that cannot be read is recorded in `notes` and skipped.

Never re-serialise a message from this view: delivery uses the original bytes.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from mailrouter.parse.html import html_to_text

# Bounds that keep a hostile message from costing more than a normal one.
MAX_HEADER_CHARS = 4_000  # a decoded header value we look at
MAX_BODY_BYTES = 2_000_000  # encoded body part we are willing to decode
MAX_TEXT_CHARS = 200_000  # decoded text we hand to the extractors
MAX_PARTS = 200  # MIME parts we visit looking for the body
MAX_DEPTH = 12  # multipart nesting we follow

_PARSER = BytesParser(policy=compat32)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")
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


@dataclass(slots=True)
class MessageView:
    """The decoded pieces of a message, each already bounded and free of control characters."""

    subject: str = ""
    from_values: list[str] = field(default_factory=list)
    message_id: str | None = None
    auth_results: list[str] = field(default_factory=list)
    has_dkim_signature: bool = False
    body: str = ""
    body_is_html: bool = False
    notes: list[str] = field(default_factory=list)


def read_message(raw: bytes) -> MessageView:
    view = MessageView()
    try:
        msg = _PARSER.parsebytes(raw)
    except RecursionError:
        # Thousands of nested multiparts: read the headers, refuse to walk the structure.
        msg = BytesParser(policy=compat32).parsebytes(raw, headersonly=True)
        view.notes.append("the message nests too many MIME parts to read its body")
        _read_headers(msg, view)
        return view
    _read_headers(msg, view)
    part = _find_body_part(msg, view)
    if part is not None:
        text, is_html = _part_text(part, view)
        view.body = text
        view.body_is_html = is_html
    elif not view.notes:
        view.notes.append("the message has no readable text part")
    return view


def _read_headers(msg: Message, view: MessageView) -> None:
    for name, value in msg.raw_items():
        key = name.lower()
        if key == "subject" and not view.subject:
            view.subject = header_text(value)
        elif key == "from":
            view.from_values.append(header_text(value, decode_words=False))
        elif key == "message-id" and view.message_id is None:
            view.message_id = header_text(value, decode_words=False).strip() or None
        elif key == "authentication-results":
            view.auth_results.append(header_text(value, decode_words=False))
        elif key == "dkim-signature":
            view.has_dkim_signature = True


def header_text(value: str, *, decode_words: bool = True) -> str:
    """A header value as one line of text: raw 8-bit recovered, RFC 2047 decoded, unfolded,
    and with every control character (CR, LF and NUL included) turned into a space."""
    if len(value) > MAX_HEADER_CHARS:
        value = value[:MAX_HEADER_CHARS]
    if _has_surrogates(value):
        value = decode_bytes(value.encode("ascii", "surrogateescape"), "utf-8")
    value = _FOLD.sub(" ", value)
    if decode_words and "=?" in value:
        value = _decode_words(value)
    value = _CONTROL.sub(" ", value)
    return _SPACES.sub(" ", value).strip()


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
        except UnicodeDecodeError:
            pass
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _known_charset(declared: str | None) -> str | None:
    if not declared:
        return None
    name = declared.strip().strip('"').lower()
    if name in ("us-ascii", "ascii"):
        return "utf-8"  # a superset; true ASCII decodes identically
    name = _CHARSET_SUBSTITUTES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _is_attachment(part: Message) -> bool:
    disposition = part.get("content-disposition", "")
    return isinstance(disposition, str) and disposition.strip().lower().startswith("attachment")


def _find_body_part(msg: Message, view: MessageView) -> Message | None:
    """The part holding the sender's own text: text/plain preferred within an alternative,
    the first inline text part of a mixed or related message; attachments and forwarded
    message/rfc822 parts are never the body."""
    budget = [MAX_PARTS]

    def visit(part: Message, depth: int) -> Message | None:
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_DEPTH:
            if "the message has too many MIME parts to read them all" not in view.notes:
                view.notes.append("the message has too many MIME parts to read them all")
            return None
        ctype = part.get_content_type()
        if part.is_multipart():
            children = part.get_payload()
            if not isinstance(children, list):
                return None
            if ctype == "multipart/alternative":
                found = [visit(c, depth + 1) for c in children]
                found = [f for f in found if f is not None]
                plain = [f for f in found if f.get_content_type() == "text/plain"]
                usable = [f for f in plain if _has_content(f)] or found
                return usable[0] if usable else None
            for child in children:
                hit = visit(child, depth + 1)
                if hit is not None:
                    return hit
            return None
        if ctype in ("text/plain", "text/html") and not _is_attachment(part):
            return part
        return None

    return visit(msg, 0)


def _has_content(part: Message) -> bool:
    payload = part.get_payload()
    return isinstance(payload, str) and bool(payload.strip())


def _part_text(part: Message, view: MessageView) -> tuple[str, bool]:
    payload = part.get_payload()
    if isinstance(payload, str) and len(payload) > MAX_BODY_BYTES:
        view.notes.append("only the first part of a very long body was read")
        part.set_payload(payload[:MAX_BODY_BYTES])
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken transfer encoding
        data = None
    if not isinstance(data, bytes):
        view.notes.append("the body's transfer encoding could not be decoded")
        return "", False
    text = decode_bytes(data, part.get_param("charset") if _param_ok(part) else None)
    is_html = part.get_content_type() == "text/html"
    if is_html:
        text = html_to_text(text)
    else:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if str(part.get_param("format", "")).lower() == "flowed":
            text = _unflow(text, str(part.get_param("delsp", "")).lower() == "yes")
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
    return text, is_html


def _param_ok(part: Message) -> bool:
    charset = part.get_param("charset")
    return isinstance(charset, str)


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
