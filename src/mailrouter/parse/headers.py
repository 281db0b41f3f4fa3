"""The top-level header block of a raw message, split without building a Message object.

Every message's headers are read here, one way: lines up to the first empty line, each
field with its folded continuation lines, values left as bytes until someone reads them. A
line that is neither a header nor a continuation ends the header block, as in the standard
library. `content_type` parses a Content-Type value just far enough for the
decision: the media type and the `charset`, `format`, `delsp` and `boundary` parameters.
"""

from __future__ import annotations

import re

# One header field: its name, and its value with any folded continuation lines.
_FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)(?:\n|$)")
_MBOX_FROM = re.compile(rb"From [^\n]*\n")
_PARAM = re.compile(r';\s*([A-Za-z0-9!#$%&\'*+.^_`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')
MAX_HEADER_BYTES = 256 * 1024


def split_message(raw: bytes) -> tuple[list[tuple[str, bytes]], bytes]:
    """(headers in order as (name, raw value), body bytes). Values keep their folding; most
    are never looked at, so decoding them is left to whoever reads one."""
    end, gap = raw.find(b"\r\n\r\n"), 4
    lf_end = raw.find(b"\n\n", 0, end if end >= 0 else len(raw))
    if lf_end >= 0:
        end, gap = lf_end, 2
    block = raw if end < 0 else raw[:end]
    if len(block) > MAX_HEADER_BYTES:
        block = block[:MAX_HEADER_BYTES]
    start = _MBOX_FROM.match(block)
    position = start.end() if start else 0
    headers: list[tuple[str, bytes]] = []
    for m in _FIELD.finditer(block, position):
        if m.start() != position:
            break  # a line that is neither a header nor a continuation: the body starts there
        headers.append((m.group(1).decode("ascii"), m.group(2)))
        position = m.end()
    if position < len(block):
        return headers, raw[position:].lstrip(b"\r\n") if end < 0 else raw[position:]
    return headers, b"" if end < 0 else raw[end + gap :]


def text_value(value: bytes) -> str:
    """A raw header value as str, 8-bit bytes kept as surrogates (compat32's convention)."""
    return value.decode("ascii", "surrogateescape")


def content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """(type/subtype in lower case, parameters); text/plain when absent or malformed."""
    if not value:
        return "text/plain", {}
    value = " ".join(value.split())
    head, _, _ = value.partition(";")
    ctype = head.strip().lower()
    if ctype.count("/") != 1 or not all(ctype.split("/")):
        ctype = "text/plain"  # RFC 2045 §5.2: an invalid type is treated as text/plain
    params: dict[str, str] = {}
    for key, raw in _PARAM.findall(value):
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params.setdefault(key.lower(), raw)
    return ctype, params
