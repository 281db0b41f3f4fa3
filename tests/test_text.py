"""Folding text for word and phrase matching."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailrouter.parse.text import _COMMON_MARKS, _TOKEN, fold

# The plain statement of folding that the fast paths must agree with.
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
_MARKS_TABLE = str.maketrans(_COMMON_MARKS)


@pytest.mark.parametrize(
    "text,folded",
    [
        ("B'ham Mags", " bham mags "),
        ("Magistrates' Court", " magistrates court "),
        ("enforcement receiver's application", " enforcement receiver application "),
        ("s.41(3) POCA", " s 41 3 poca "),
        ("S16 Statement", " s 16 statement "),
        ("Stoke-on-Trent", " stoke on trent "),
        ("O’Brien — Zoë", " obrien zoë "),
        ("under_score\tand\nnewline", " under score and newline "),
        ("", "  "),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_ascii_and_unicode_paths_agree() -> None:
    text = "Birmingham MC s16 statement, 20AB1234521; R v SMITH"
    assert fold(text + " é").removesuffix(" é ") + " " == fold(text)


@given(st.text(max_size=300))
@settings(max_examples=1500, deadline=None)
def test_fast_and_unicode_paths_agree(text: str) -> None:
    # The fast paths (byte tables, possessives found by their apostrophe, marks replaced
    # one by one) must give exactly what the plain statement gives.
    lowered = text.lower()
    if "'" in lowered or "’" in lowered:
        lowered = _POSSESSIVE.sub("", lowered).replace("'", "").replace("’", "")
    lowered = lowered.translate(_MARKS_TABLE)
    expected = f" {' '.join(_TOKEN.findall(lowered))} "
    assert fold(text) == expected


def test_marks_and_mixed_tokens() -> None:
    assert (
        fold("URN 22KM0217326 – Kidderminster MC “IDPC”")
        == " urn 22 km 0217326 kidderminster mc idpc "
    )
    assert fold("mg6c 10am 1st") == " mg 6 c 10 am 1 st "
