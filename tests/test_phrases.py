"""Trie-shaped phrase patterns (parse.phrases), against the plain statement of what they find."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mailrouter.parse.phrases import TextPhrases, _branches, _trie

PHRASES = ["dob", "date of birth", "born", "listed for", "accused", "s 16", "client"]
_FOUND = TextPhrases(PHRASES)
# What TextPhrases finds, said the plain way: whole words not after a letter, a digit or
# "word-", with any run of punctuation or spaces (or none) between a phrase's words.
_GAP = r"[\W_]*"
_PLAIN = re.compile(rf"(?<![^\W_])(?<!\w-)({_branches(_trie(PHRASES), _GAP)})(?![^\W_])")

_PIECES = st.sampled_from(
    ["dob", "d.o.b.", "date of birth", "born", "listed", "for", "co-accused", "accused", "s16",
     "s.16", "client", "x", "_", "-", " ", "  ", ".", ",", "é", "\n", "9", "Client"]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=25).map("".join))
@settings(max_examples=3000, deadline=None)
def test_text_phrases_find_what_the_plain_pattern_finds(text: str) -> None:
    lowered = text.lower()
    expected = [(m.start(1), m.end(1), m.group(1)) for m in _PLAIN.finditer(lowered)]
    assert _FOUND.find_all(lowered) == expected
    assert _FOUND.found_in(lowered) is bool(expected)


def test_text_phrases_examples() -> None:
    found = _FOUND.find_all("my client, date-of-birth 1/2/90, s.16")
    assert [p for _, _, p in found] == ["client", "date-of-birth", "s.16"]
    assert _FOUND.find_all("co-accused") == []
    assert _FOUND.find_all("dob") == [(0, 3, "dob")]
    assert not TextPhrases([]).found_in("anything")
