"""Folding text for word and phrase matching."""

from __future__ import annotations

import pytest

from mailrouter.parse.text import fold


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
