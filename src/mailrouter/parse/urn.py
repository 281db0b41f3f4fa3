"""The police/CPS Unique Reference Number (URN), as people actually type it.

Eleven characters: a 2-digit force code, a station/unit code (a letter, then a letter or a
digit: West Midlands has units such as `P1`), a 5-digit serial and a 2-digit year, with no
check character: `20AB1234521`. Written with spaces, slashes, dashes or dots between the groups
(`20 AB 12345 21`, `20/AB/12345/21`), in any case. A candidate counts only when its force code
is a real one, which keeps phone numbers, PNC ids (`YY/NNNNNNNL`), court case numbers and
custody numbers out. A labelled value that is *almost* a URN (`URN 20AB123421`, ten
characters) is reported as a near miss so the bounce can say what a URN looks like.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Container
from typing import NamedTuple

_GAP = r"(?: ?[./-] ?| {1,2})?"
# No letter or digit may stand before the force code; that is checked after its first digit
# (the look-behind spans both), so that the pattern begins with a digit and the regex engine
# skips in C to the next digit instead of starting at every character.
_URN = re.compile(
    rf"(\d(?<![A-Za-z0-9]\d)\d){_GAP}([A-Za-z][A-Za-z0-9]){_GAP}(\d{{5}}){_GAP}(\d\d)"
    r"(?![A-Za-z0-9])"
)
# What follows a URN label: the token(s) the sender meant as the URN, right or wrong.
_LABELLED = re.compile(
    r"\b(?:urn|cps urn|police urn|pti ?urn|your ref(?:erence)?|our ref(?:erence)?|ref(?:erence)?"
    r"|case ref(?:erence)?)s?\b\.?(?: no\.?| number)?[:#.]?[ \t]*"
    r"(?P<value>[A-Za-z0-9][A-Za-z0-9 ./-]{5,24}[A-Za-z0-9])",
    re.IGNORECASE,
)
_PRESENTED = re.compile(
    r"\b(?:urn|ref(?:erence)?|case (?:no|number))s?\b[^\n]{0,24}?" + _URN.pattern,
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"[\s./-]+")
_FIVE_DIGITS = re.compile(r"\d{5}")
_VALID = re.compile(r"^\d\d[A-Z][A-Z0-9]\d{7}$")


class UrnScan(NamedTuple):
    urns: list[str]  # distinct valid URNs, in order of first appearance
    near_misses: list[str]  # labelled values that look meant as a URN but are not one
    unknown_forces: list[str]  # well-formed but with a force code that does not exist


def normalise(text: str) -> str:
    return _SEPARATORS.sub("", text).upper()


def is_urn(value: str, forces: Container[str]) -> bool:
    compact = normalise(value)
    return bool(_VALID.match(compact)) and compact[:2] in forces


def presented_urns(text: str, forces: Container[str]) -> list[str]:
    """URNs the text presents as the case's URN: a URN or reference word shortly before it
    ("URN 20AB1234521", "the correct URN is 20AB 12345 21", "Your ref: …"); a URN-shaped
    number mentioned in passing ("linked to 20AB7654321") is not one."""
    if _FIVE_DIGITS.search(text) is None:
        return []
    out: dict[str, None] = {}
    for m in _PRESENTED.finditer(text):
        compact = "".join(m.group(1, 2, 3, 4)).upper()
        if compact[:2] in forces:
            out.setdefault(compact)
    return list(out)


def scan_urns(text: str, forces: Container[str], *, near_misses: bool = True) -> UrnScan:
    """The URNs in `text`; with `near_misses`, also what a label offers as a URN that is not
    one (looked for only when there is no URN)."""
    # Dicts keep first-appearance order and look up in constant time: a text of thousands of
    # URN-shaped tokens costs linear time, never quadratic.
    urns: dict[str, None] = {}
    unknown: dict[str, None] = {}
    starts: list[int] = []
    ends: list[int] = []
    for m in _URN.finditer(text):
        compact = "".join(m.groups()).upper()
        starts.append(m.start())
        ends.append(m.end())
        if compact[:2] not in forces:
            unknown.setdefault(compact)
            continue
        urns.setdefault(compact)
    near: dict[str, str] = {}
    lowered = text.lower() if near_misses and not urns else ""  # only without a URN
    if "ref" in lowered or "urn" in lowered:
        for m in _LABELLED.finditer(text):
            start = m.start("value")
            inside = bisect.bisect_right(starts, start) - 1  # the last URN starting at or before
            if inside >= 0 and start < ends[inside]:
                continue
            value = _trim_label_value(m.group("value"))
            compact = normalise(value)
            if _looks_meant_as_urn(compact):
                near.setdefault(compact, value)
    return UrnScan(list(urns), list(near.values()), list(unknown))


def _trim_label_value(value: str) -> str:
    # Stop at the first word that is plainly not part of a reference ("20AB12345 Birmingham").
    parts = value.split()
    kept: list[str] = []
    for part in parts:
        if kept and part.isalpha() and len(part) > 2:
            break
        kept.append(part)
    return " ".join(kept).strip(" ./-")


def _looks_meant_as_urn(compact: str) -> bool:
    """Digits then letters then digits, 8 to 14 characters: the shape of a mistyped URN."""
    if not 8 <= len(compact) <= 14 or not compact[:2].isdigit():
        return False
    letters = sum(ch.isalpha() for ch in compact)
    return 1 <= letters <= 3 and not _VALID.match(compact)
