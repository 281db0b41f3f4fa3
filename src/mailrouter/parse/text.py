"""Folding text for matching words and phrases, whatever the punctuation and case.

`fold("B'ham Mags – s.41(3) POCA")` is `" bham mags s 41 3 poca "`: lower case, apostrophes
dropped (so "Magistrates'" and "Magistrates" agree), every other non-word character a space,
letters and digits split apart ("s16" reads as "s 16"), and padded with spaces so that a
phrase is found with a plain substring search for `" phrase "` (fast, and linear).
"""

from __future__ import annotations

import re

_APOSTROPHES = str.maketrans("", "", "'’‘`´")
_NON_WORD = re.compile(r"[\W_]+")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


def fold(text: str) -> str:
    folded = _NON_WORD.sub(" ", text.lower().translate(_APOSTROPHES))
    folded = _LETTER_DIGIT.sub(" ", folded)
    return f" {' '.join(folded.split())} "
