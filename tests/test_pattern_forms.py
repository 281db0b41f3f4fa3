"""Patterns written to begin at a digit or a capital, so that the regex engine skips to where
a match can start, must find exactly what their plain statements (a look-behind first) find."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mailrouter.parse.dates import _DAY_MONTH
from mailrouter.parse.people import _CAPITAL, _CAPS_WORD
from mailrouter.parse.urn import _GAP, _URN

_PLAIN_URN = re.compile(
    rf"(?<![A-Za-z0-9])(\d\d){_GAP}([A-Za-z][A-Za-z0-9]){_GAP}(\d{{5}}){_GAP}(\d\d)(?![A-Za-z0-9])"
)
_PLAIN_DAY_MONTH = re.compile(r"(?<![\w/.])(?P<d>\d{1,2})[/.](?P<m>\d{1,2})(?![\w/]|[./-]\d)")
_PLAIN_CAPS_WORD = re.compile(rf"(?<![^\W\d_])[{_CAPITAL}][{_CAPITAL}'’\-]+(?![^\W\d_])")

_TEXT = st.lists(
    st.sampled_from(
        ["1", "2", "20", "AB", "ab", "12345", "21", " ", "/", ".", "-", "x", "Q", "É", "é", "'",
         "SMITH", "Mc", "_", "\n", "  "]
    ),
    max_size=30,
).map("".join)  # fmt: skip


def _found(pattern: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], tuple]]:
    return [(m.span(), m.groups()) for m in pattern.finditer(text)]


@given(_TEXT)
@settings(max_examples=3000, deadline=None)
def test_skipping_patterns_find_what_the_plain_ones_find(text: str) -> None:
    assert _found(_URN, text) == _found(_PLAIN_URN, text)
    assert _found(_DAY_MONTH, text) == _found(_PLAIN_DAY_MONTH, text)
    assert _found(_CAPS_WORD, text) == _found(_PLAIN_CAPS_WORD, text)
