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

_APOSTROPHE_S = re.compile(r"['’]s\b")
_TOKEN = re.compile(r"[^\W\d_]+|\d+")  # a run of letters, or a run of digits
_MAY_MARK = re.compile(r"[^\x00-\x5f\x61-\x7f]")  # any non-ASCII character, and "`"
# Punctuation that often makes otherwise-ASCII mail non-ASCII: spaces to the folder (or
# nothing, for the marks that sit inside a word).
_COMMON_MARKS = (
    dict.fromkeys("\u00a0\u2002\u2003\u2009\u200b\u2010\u2011\u2012\u2013\u2014\u2015"
                  "\u2022\u2026\u201c\u201d\u201e\u00ab\u00bb\u00b7\u2212\u00a3\u20ac", " ")
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
        lowered = _drop_possessives(lowered).replace("'", "").replace("’", "")
    if not lowered.isascii():
        lowered = _map_common_marks(lowered)
        if not lowered.isascii():
            return f" {' '.join(_TOKEN.findall(lowered))} "
    data = lowered.encode("ascii").translate(_ALNUM, b"`")
    shape = data.translate(_SHAPE)
    if b"a0" in shape or b"0a" in shape:  # letters against digits: "s16" reads "s 16"
        data = _split_letters_from_digits(data, shape)
    return f" {b' '.join(data.split()).decode('ascii')} "


def _map_common_marks(text: str) -> str:
    """Each distinct mark is replaced once over the whole text: a text has few of them, and
    `str.translate` with a mapping looks up every character instead, several times slower."""
    for mark in set(_MAY_MARK.findall(text)):
        replacement = _COMMON_MARKS.get(mark)
        if replacement is not None:
            text = text.replace(mark, replacement)
    return text


def _drop_possessives(text: str) -> str:
    """ "receiver's" → "receiver": an apostrophe-s that ends a word (a word character before
    it). Found by its apostrophe, which is rare, rather than by a look-behind tried at every
    character, which costs more than the rest of folding."""

    def drop(match: re.Match[str]) -> str:
        at = match.start()
        before = text[at - 1] if at else " "
        return "" if before.isalnum() or before == "_" else match.group(0)

    return _APOSTROPHE_S.sub(drop, text)


def _split_letters_from_digits(data: bytes, shape: bytes) -> bytes:
    """A space at each place a letter meets a digit, found in the shape with `bytes.find`
    (a regular expression tried at every byte costs several times more)."""
    cuts: list[int] = []
    for boundary in (b"a0", b"0a"):
        at = shape.find(boundary)
        while at >= 0:
            cuts.append(at + 1)
            at = shape.find(boundary, at + 1)
    cuts.sort()
    return b" ".join(data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True))
