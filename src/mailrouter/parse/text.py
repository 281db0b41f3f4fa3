"""Folding text for matching words and phrases, whatever the punctuation and case.

`fold("B'ham Mags – s.41(3) POCA")` is `" bham mags s 41 3 poca "`: lower case, apostrophes
dropped and possessives too (so "Magistrates'", "Magistrates" and the "receiver's" of
"enforcement receiver's" agree), every other non-word character a space,
letters and digits split apart ("s16" reads as "s 16"), and padded with spaces so that a
phrase is found with a plain substring search for `" phrase "` (fast, and linear).
"""

from __future__ import annotations

import re

_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
_TOKEN = re.compile(r"[^\W\d_]+|\d+")  # a run of letters, or a run of digits
_ASCII_TOKEN = re.compile(r"[a-z]+|[0-9]+")  # the same for ASCII text, which is faster


def fold(text: str) -> str:
    lowered = text.lower()
    if "'" in lowered or "’" in lowered:
        lowered = _POSSESSIVE.sub("", lowered).replace("'", "").replace("’", "")
    for mark in "‘`´":
        if mark in lowered:
            lowered = lowered.replace(mark, "")
    tokens = _ASCII_TOKEN.findall(lowered) if lowered.isascii() else _TOKEN.findall(lowered)
    return f" {' '.join(tokens)} "
