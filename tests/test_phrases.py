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
     "s.16", "client", "x", "_", "-", " ", "  ", ".", ",", "é", "\n", "9", "Client", "\u01c2"]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=25).map("".join))
@settings(max_examples=3000, deadline=None)
def test_text_phrases_find_what_the_plain_pattern_finds(text: str) -> None:
    lowered = text.lower()
    expected = [(m.start(1), m.end(1), m.group(1)) for m in _PLAIN.finditer(lowered)]
    assert _FOUND.find_all(lowered) == expected
    assert _FOUND.found_in(lowered) is bool(expected)


@given(st.lists(st.lists(_PIECES, max_size=8).map("".join), max_size=8))
@settings(max_examples=600, deadline=None)
def test_text_phrases_find_each_is_find_all_of_each(texts: list[str]) -> None:
    """One pass over many texts finds in each exactly what a search of it alone finds: no
    phrase runs from one text into the next ("… date of" then "birth …")."""
    lowered = [text.lower() for text in texts]
    assert _FOUND.find_each(lowered) == [_FOUND.find_all(text) for text in lowered]


def test_text_phrases_find_each_keeps_texts_apart() -> None:
    assert _FOUND.find_each(["date of", "birth", "born-", "x dob"]) == [
        [],
        [],
        [(0, 4, "born")],
        [(2, 5, "dob")],
    ]
    assert _FOUND.find_each([]) == []
    assert TextPhrases([]).find_each(["dob"]) == [[]]


def test_text_phrases_examples() -> None:
    found = _FOUND.find_all("my client, date-of-birth 1/2/90, s.16")
    assert [p for _, _, p in found] == ["client", "date-of-birth", "s.16"]
    assert _FOUND.find_all("co-accused") == []
    assert _FOUND.find_all("dob") == [(0, 3, "dob")]
    assert not TextPhrases([]).found_in("anything")
