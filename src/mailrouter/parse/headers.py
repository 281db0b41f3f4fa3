"""The top-level header block of a raw message, split without building a Message object.

Every message's headers are read here, one way: lines up to the first empty line, each
field with its folded continuation lines, values left as bytes until someone reads them. A
field name may have white space before its colon (RFC 5322 §4.5, obsolete syntax that mail
clients still read). A line that is neither a header nor a continuation ends the header block,
as in the standard library; the checks that guard against forged headers look past it, up to
the first empty line, with `field_names` (a mail client may read further than we do).
`content_type` parses a Content-Type value just far enough for the decision: the media
type and the `charset`, `format`, `delsp` and `boundary` parameters.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Patterns start with a literal newline (one is put before the block) so the engine jumps from
# line to line instead of trying every byte.
# One header field: its name, and its value with any folded continuation lines.
# A value runs over its continuation lines, without the line break that ends it.
_VALUE = rb"([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)"
_FIELD = re.compile(rb"\n([\x21-\x39\x3b-\x7e]+)[ \t]*:[ \t]*" + _VALUE)
# A line that starts neither a field nor a continuation.
_NOT_A_FIELD = re.compile(rb"\n(?![\x21-\x39\x3b-\x7e]+[ \t]*:|[ \t])")
_FIELD_NAME = re.compile(rb"\n([\x21-\x39\x3b-\x7e]+)[ \t]*:")
_MBOX_FROM = re.compile(rb"From (?![ \t]*:)[^\n]*\n")  # an mbox separator, not "From :"
_PARAM = re.compile(r';\s*([A-Za-z0-9!#$%&\'*+.^_`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')
MAX_HEADER_BYTES = 256 * 1024


def split_message(raw: bytes) -> tuple[list[tuple[str, bytes]], bytes]:
    """(every header in order as (name, raw value), body bytes). Values keep their folding;
    decoding is left to whoever reads one."""
    block, body = header_block(raw)
    fields = _FIELD.finditer(b"\n" + block)
    return [(m.group(1).decode("ascii"), m.group(2)) for m in fields], body


def header_block(raw: bytes) -> tuple[bytes, bytes]:
    """(the header block, the body): the block ends at the first empty line, or at the first
    line that is neither a header field nor a continuation (the standard library's rule)."""
    end, gap = raw.find(b"\r\n\r\n"), 4
    lf_end = raw.find(b"\n\n", 0, end if end >= 0 else len(raw))
    if lf_end >= 0:
        end, gap = lf_end, 2
    block = raw if end < 0 else raw[:end]
    if len(block) > MAX_HEADER_BYTES:
        block = block[:MAX_HEADER_BYTES]
    start = _MBOX_FROM.match(block)
    if start is not None:
        block, raw = block[start.end() :], raw[start.end() :]
    stray = _NOT_A_FIELD.search(b"\n" + block) if block else None
    if stray is not None:  # offsets are one more than in `block`, for the newline added
        return block[: max(0, stray.start() - 1)], raw[stray.start() :]
    return block, (b"" if end < 0 else raw[len(block) + gap :])


def header_region(raw: bytes) -> bytes:
    """Everything before the first empty line, however long, stray lines included."""
    end = raw.find(b"\r\n\r\n")
    lf_end = raw.find(b"\n\n", 0, end if end >= 0 else len(raw))
    if lf_end >= 0:
        end = lf_end
    return raw if end < 0 else raw[:end]


def field_names(region: bytes) -> list[bytes]:
    """The lower-cased name of every line in `region` that a lenient reader would take for a
    header field (white space before the colon allowed, stray lines skipped, no length cap)."""
    return _FIELD_NAME.findall(b"\n" + region.lower())


def count_field(region: bytes, name: str) -> int:
    """How many fields of `region` a lenient reader would take for `name` (as `field_names`)."""
    return len(_named(name).findall(b"\n" + region))


@lru_cache(maxsize=16)
def _named(name: str) -> re.Pattern[bytes]:
    return re.compile(rb"\n" + re.escape(name.encode()) + rb"[ \t]*:", re.IGNORECASE)


def wanted_fields(block: bytes, names: frozenset[str]) -> list[tuple[bytes, bytes]]:
    """Only the named fields of a header block, in order, as (lower-case name, raw value):
    the regex engine skips the rest (Received, ARC, X-headers…) without Python looking."""
    return [(name.lower(), value) for name, value in _pattern(names).findall(b"\n" + block)]


@lru_cache(maxsize=16)
def _pattern(names: frozenset[str]) -> re.Pattern[bytes]:
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rb"\n(" + alternation.encode() + rb")[ \t]*:[ \t]*" + _VALUE, re.IGNORECASE)


def text_value(value: bytes) -> str:
    """A raw header value as str, 8-bit bytes kept as surrogates (compat32's convention)."""
    return value.decode("ascii", "surrogateescape")


@lru_cache(maxsize=512)
def content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """(type/subtype in lower case, parameters); text/plain when absent or malformed.
    Cached (the same few values recur), so the returned dict must not be changed."""
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
