"""Find the newest part of a message: the sender's own words, without quoted history.

A reply or forward carries older messages below the new text, and an older URN or defendant
in them is not this message's (DESIGN §4). We cut at the first reply/forward header that the
common clients write (Outlook's "From: … Sent: …" block under a rule, "-----Original
Message-----", "On … wrote:", forwarded-message banners), drop ">"-quoted lines, and stop at
a signature delimiter. The core further drops the greeting and everything from the valediction
down (signature blocks and disclaimers), which is where the request itself lives.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_ORIGINAL = re.compile(r"^-{2,} ?original message ?-{2,}$", re.IGNORECASE)
_FORWARDED = re.compile(
    r"^(?:-{2,} ?forwarded message ?-{2,}|begin forwarded message:?|-{2,} ?forwarded by\b.*)$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^_{8,}$")
_FROM_LINE = re.compile(r"^\*?from:\*?\s", re.IGNORECASE)
_SENT_LINE = re.compile(r"^\*?(?:sent|date):\*?\s", re.IGNORECASE)
_WROTE = re.compile(r"\bwrote:$", re.IGNORECASE)
_ON_LINE = re.compile(r"^on\s", re.IGNORECASE)
_MOBILE_SIGNATURE = re.compile(r"^sent from my \w+", re.IGNORECASE)
_HISTORY_HINTS = ("\n>", "Original Message", "\nFrom:", " wrote:", "Forwarded message")
_HISTORY_STARTS = frozenset("-_*FfOoBbSs")  # the first characters of every marker above

_VALEDICTION = re.compile(
    r"^(?:(?:with )?(?:kind(?:est)?|best|warm(?:est)?|many)? ?regards|best wishes|"
    r"(?:many )?thanks(?: again| in advance)?|thank you(?: in advance)?|with thanks|"
    r"yours (?:faithfully|sincerely|truly)|all the best|cheers)[\s,.!]*$",
    re.IGNORECASE,
)
_LONGEST_VALEDICTION = 40
_GREETING = re.compile(
    r"^(?:dear\b.{0,60}|good (?:morning|afternoon|evening)\b.{0,40}|hi\b.{0,40}|hello\b.{0,40}|"
    r"to whom it may concern[,.]?)$",
    re.IGNORECASE,
)


class Parts(NamedTuple):
    lines: list[str]  # the newest part, line by line (as split, not stripped), at least
    # as far as its core's end
    cut: bool  # whether quoted or forwarded history was found and left out
    core_start: int  # the core (the newest part without greeting, sign-off, signature or
    core_end: int  # disclaimer) is lines[core_start:core_end]


def split_history(text: str, signer: str = "") -> Parts:
    """Split a body into its newest part and, within it, the core (one pass over the lines,
    ending where the core ends: what follows is signature, disclaimer or history). A line
    that is the sender's own name (`signer`, from the From header) starts the signature even
    where no sign-off comes before it."""
    signer = " ".join(signer.casefold().split())
    lines = text.split("\n")
    kept: list[str] = []
    cut = False
    core_start: int | None = None
    for index, raw_line in enumerate(lines):
        line = raw_line.strip()
        if line.startswith(">"):
            cut = True
            continue
        if line == "--":
            break  # the signature delimiter ("-- ", RFC 3676 §4.3), however it was trimmed
        if line and line[0] in _HISTORY_STARTS:
            if _starts_history(line, lines, index):
                cut = True
                break
            if _MOBILE_SIGNATURE.match(line):
                break
        if core_start is None:
            if line and not _is_greeting(line):
                core_start = len(kept)
        elif len(line) < _LONGEST_VALEDICTION and (
            _VALEDICTION.match(line) or (signer and " ".join(line.casefold().split()) == signer)
        ):
            # The sign-off: the core ends here. Whether history follows is worth a reason
            # line only, so a cheap look for its commonest marks does.
            rest = text[sum(len(x) + 1 for x in lines[:index]) :]
            cut = cut or any(mark in rest for mark in _HISTORY_HINTS)
            return Parts(kept, cut, core_start, len(kept))
        kept.append(raw_line)
    start = len(kept) if core_start is None else core_start
    return Parts(kept, cut, start, len(kept))


def _is_greeting(line: str) -> bool:
    """ "Dear Sir/Madam,", "Good morning", "Hi all": short, and nothing else on the line
    ("Hi, client is Ella PEARSON dob …" is the request itself)."""
    return line.count(" ") < 5 and _GREETING.match(line) is not None


def _starts_history(line: str, lines: list[str], index: int) -> bool:
    if _ORIGINAL.match(line) or _FORWARDED.match(line):
        return True
    if _RULE.match(line):
        return _from_follows(lines, index + 1, within=3)
    if _FROM_LINE.match(line):
        return _sent_follows(lines, index + 1, within=4)
    if _ON_LINE.match(line):
        if _WROTE.search(line):
            return True
        following = _next_nonblank(lines, index + 1)
        return following is not None and len(line) < 200 and _WROTE.search(following) is not None
    return False


def _next_nonblank(lines: list[str], start: int) -> str | None:
    for line in lines[start : start + 2]:
        if line.strip():
            return line.strip()
    return None


def _from_follows(lines: list[str], start: int, within: int) -> bool:
    seen = 0
    for line in lines[start:]:
        stripped = line.strip()
        if not stripped:
            continue
        seen += 1
        if _FROM_LINE.match(stripped):
            return True
        if seen >= within:
            return False
    return False


def _sent_follows(lines: list[str], start: int, within: int) -> bool:
    return any(_SENT_LINE.match(line.strip()) for line in lines[start : start + within])
