"""Folding text for matching words and phrases, whatever the punctuation and case.

`fold("B'ham Mags – s.41(3) POCA")` is `" bham mags s 41 3 poca "`: lower case, apostrophes
dropped and possessives too (so "Magistrates'", "Magistrates" and the "receiver's" of
"enforcement receiver's" agree), every other non-word character a space, letters and digits
split apart ("s16" reads as "s 16"), and padded with spaces so that a phrase is found with a
plain substring search for `" phrase "` (fast, and linear).

ASCII text (most mail, once dashes, curly quotes and the like are mapped) is folded with byte
translation tables, which run at C speed; other text with a regular expression over Unicode
letters and digits. Both give the same result.
"""

from __future__ import annotations

import re

_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
_TOKEN = re.compile(r"[^\W\d_]+|\d+")  # a run of letters, or a run of digits
# Punctuation that often makes otherwise-ASCII mail non-ASCII: spaces to the folder.
_COMMON_MARKS = str.maketrans(
    dict.fromkeys("\u00a0\u2002\u2003\u2009\u200b\u2010\u2011\u2012\u2013\u2014\u2015"
                  "\u2022\u2026\u201c\u201d\u201e\u00ab\u00bb\u00b7\u2212", " ")
    | dict.fromkeys("‘`´", "")
)  # fmt: skip
# Bytes: letters and digits stay, everything else becomes a space ...
_ALNUM = bytes(c if chr(c).isascii() and chr(c).isalnum() else 32 for c in range(256)).lower()
# ... and the shape of the text: a letter is "a", a digit "0", anything else a space.
_SHAPE = bytes(97 if chr(c).isalpha() else 48 if chr(c).isdigit() else 32 for c in range(128))
_SHAPE += b" " * 128


def fold(text: str) -> str:
    lowered = text.lower()
    if "'" in lowered or "’" in lowered:
        lowered = _POSSESSIVE.sub("", lowered).replace("'", "").replace("’", "")
    if not lowered.isascii():
        lowered = lowered.translate(_COMMON_MARKS)
        if not lowered.isascii():
            return f" {' '.join(_TOKEN.findall(lowered))} "
    data = lowered.encode("ascii").translate(_ALNUM, b"`")
    shape = data.translate(_SHAPE)
    if b"a0" in shape or b"0a" in shape:
        data = _split_letters_from_digits(data, shape)
    while b"  " in data:  # each pass halves every run of spaces
        data = data.replace(b"  ", b" ")
    return f" {data.strip().decode('ascii')} "


def _split_letters_from_digits(data: bytes, shape: bytes) -> bytes:
    cuts: list[int] = []
    for boundary in (b"a0", b"0a"):
        at = shape.find(boundary)
        while at >= 0:
            cuts.append(at + 1)
            at = shape.find(boundary, at + 1)
    cuts.sort()
    starts = [0, *cuts]
    ends = [*cuts, len(data)]
    return b" ".join(data[a:b] for a, b in zip(starts, ends, strict=True))
