"""Labelled fields in a message body: "Defendant: John SMITH", "D.O.B. 01/02/1990",
"Listed for - 09/12/2026", "Nature of request: …", and the Outlook table that reads
"Defendant:<TAB>Daniel FIELDING" once converted.

A label starts a line (after an optional bullet or number) and is followed by a separator (a
colon, a spaced dash, a tab, "=" or "|"); date labels may also be followed directly by the date
("DOB 01/02/1990"). A label with nothing after it takes the next line when that line is a plain
value, so "Defendant:" on one line and the name on the next still reads. A second label inside
the value ("Defendant: John SMITH  DOB: 01/02/1990") starts a field of its own.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NamedTuple


class Label(StrEnum):
    DEFENDANT = "defendant"
    SURNAME = "surname"
    FORENAMES = "forenames"
    DOB = "dob"
    HEARING = "hearing"
    NATURE = "nature"
    COURT = "court"
    URN = "urn"


_LABELS: dict[Label, str] = {
    Label.DEFENDANT: (
        r"(?:(?:(?:the |our |my )?(?:defendant(?:'?s)?|client(?:'?s)?|accused))"
        r"(?: (?:full )?names?)?"
        r"|defendants|clients|name of (?:the )?(?:defendant|client)|(?:full )?name)"
        r"(?: *[(#]?\d{1,2}\)?(?![\d/.]))?|d ?\d{1,2}"  # "Defendant 2", "Defendant (2)", "D1"
    ),
    Label.SURNAME: r"surname|family name|last name",
    Label.FORENAMES: r"fore ?names?|first names?|given names?|christian names?",
    Label.DOB: r"d\.? ?o\.? ?b\.?s?|dates? of birth|birth ?dates?|born",
    Label.HEARING: (
        # Longer forms first: the first alternative that fits is the one tried.
        r"(?:date of (?:the )?(?:next )?(?:hearing|trial|appearance)"
        r"|hearing (?:type|details)(?: and date)?|(?:next )?hearing(?: date)?"
        r"|next (?:court )?(?:date|appearance|listing)|listed(?: for| on| date)?"
        r"|listing(?: date)?|court date|trial date|date listed|first appearance)"
    ),
    Label.NATURE: (
        r"nature(?: of (?:the )?(?:request|enquiry|inquiry|query|application|email))?"
        r"|(?:our )?request(?: type| details)?|type of request|details of (?:the )?request"
        r"|(?:our )?enquiry|query|purpose(?: of (?:the )?(?:email|request|enquiry))?"
        r"|reason(?: for (?:the )?(?:email|request|enquiry))?|action required|application"
    ),
    Label.COURT: r"court(?: centre| center| name| location)?|venue|location",
    Label.URN: r"(?:cps |police )?urn|(?:your|cps|case) ref(?:erence)?",
}

_PREFIX = r"^[ \t>*•·]*(?:\(?\d{1,2}[.)][ \t]+|[-–][ \t]+)?\*?"
# A separator, or (for date labels only, checked in code) plain space before the value.
_SEPARATOR = r"\*? *(?P<sep>[:=|]|\t|[ \t][-–—][ \t]|[-–—](?=[ \t]))?\*?[ \t]*"
_LINE = {
    label: re.compile(rf"{_PREFIX}(?P<label>{pattern}){_SEPARATOR}(?P<value>.*)$", re.IGNORECASE)
    for label, pattern in _LABELS.items()
}
# The first word of each label's forms (keep in step with _LABELS; test_fields checks every
# form). A line's first word picks the few patterns worth trying, in _LABELS order.
_FIRST_WORDS_OF = {
    Label.DEFENDANT: "the our my defendant defendants client clients accused name full d",
    Label.SURNAME: "surname family last",
    Label.FORENAMES: "fore forename forenames first given christian",
    Label.DOB: "d dob dobs date dates birth birthdate born",
    Label.HEARING: "date hearing next listed listing court trial first",
    Label.NATURE: "nature our request type details enquiry query purpose reason action application",
    Label.COURT: "court venue location",
    Label.URN: "cps police urn your case",
}
_CANDIDATES: dict[str, tuple[Label, ...]] = {}
for _label in _LABELS:
    for _word in _FIRST_WORDS_OF[_label].split():
        _CANDIDATES[_word] = (*_CANDIDATES.get(_word, ()), _label)
_FIRST_WORD = re.compile(r"[\W\d_]*([^\W\d_]+)")
# The start of a line (after the newline put before the text) whose first word is a candidate.
_CANDIDATE = re.compile(
    r"\n[^a-z\n]{0,12}(?:" + "|".join(sorted(_CANDIDATES, key=len, reverse=True)) + r")(?![a-z])"
)
_DIGITS = re.compile(r"\d+")
# A further label inside a value needs a colon: "… SMITH  DOB: 01/02/1990".
_INNER = re.compile(
    r"(?:^|[\s,;(])(?P<label>d\.? ?o\.? ?b\.?|date of birth|hearing(?: date)?|next hearing"
    r"|nature of request|request|court)[ \t]*:",
    re.IGNORECASE,
)
_INNER_LABEL = {
    "date of birth": Label.DOB,
    "hearing": Label.HEARING,
    "hearing date": Label.HEARING,
    "next hearing": Label.HEARING,
    "nature of request": Label.NATURE,
    "request": Label.NATURE,
    "court": Label.COURT,
}
_DATE_START = re.compile(
    r"^(?:\d|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct"
    r"|nov|dec)[a-z]*\b|today|tomorrow)",
    re.IGNORECASE,
)
_DATE_LABELS = frozenset((Label.DOB, Label.HEARING))
# Words that make a line a sentence rather than a label line ("Request a copy of …").
_SENTENCE_WORDS = re.compile(r"^(?:is|was|has|have|will|would|can|to|that|of|in)\b", re.IGNORECASE)


class Field(NamedTuple):
    label: Label
    value: str
    line: int  # index of the line the label is on
    ordinal: int | None = None  # "Defendant 2"


def find_fields(lines: list[str]) -> list[Field]:
    fields: list[Field] = []
    consumed: set[int] = set()
    for index in _candidate_lines(lines):
        if index in consumed:
            continue
        hit = _match_label(lines[index])
        if hit is None:
            continue
        label, value, ordinal = hit
        if not value:
            following = _next_value_line(lines, index + 1)
            if following is not None:
                value = lines[following].strip()
                consumed.add(following)
        if label is Label.NATURE and value:
            value = _continue_value(lines, value, index + 1, consumed)
        fields.extend(_split_inner(label, value, index, ordinal))
    return fields


def _candidate_lines(lines: list[str]) -> list[int]:
    """Indexes of the lines whose first word may start a label. The regex engine finds them
    in one pass over the lower-cased text (a line starting with any other letter fails on its
    first character), so Python visits only those lines."""
    text = "\n" + "\n".join(lines).lower()  # lower() never adds or removes a newline
    found: list[int] = []
    line, position = -1, 0
    for m in _CANDIDATE.finditer(text):
        line += text.count("\n", position, m.start() + 1)
        position = m.start() + 1
        found.append(line)
    return found


def _match_label(line: str) -> tuple[Label, str, int | None] | None:
    if not line or len(line) > 2000:
        return None
    word = _FIRST_WORD.match(line)
    if word is None:
        return None
    for label in _CANDIDATES.get(word.group(1).lower(), ()):
        m = _LINE[label].match(line)
        if m is None:
            continue
        value = m.group("value").strip()
        sep = m.group("sep")
        if sep is None:
            # No separator: only a date label directly followed by a date reads as a field.
            if label not in _DATE_LABELS or not _DATE_START.match(value):
                continue
        elif sep.strip() in ("-", "–", "—") and _SENTENCE_WORDS.match(value):
            continue
        ordinal = None
        if label is Label.DEFENDANT:
            digits = _DIGITS.search(m.group("label"))
            ordinal = int(digits.group(0)) if digits else None
        return label, value, ordinal
    return None


def _next_value_line(lines: list[str], start: int) -> int | None:
    if start >= len(lines):
        return None
    candidate = lines[start].strip()
    if not candidate or _match_label(candidate) is not None:
        return None
    return start


def _continue_value(lines: list[str], value: str, start: int, consumed: set[int]) -> str:
    """A free-text value runs on over the following lines until a blank line or a label."""
    parts = [value]
    for index in range(start, min(len(lines), start + 12)):
        line = lines[index].strip()
        if not line or _match_label(line) is not None:
            break
        parts.append(line)
        consumed.add(index)
    return " ".join(parts)


def _split_inner(label: Label, value: str, line: int, ordinal: int | None) -> list[Field]:
    if ":" not in value:
        return [Field(label, value, line, ordinal)]
    out: list[Field] = []
    current_label, current_start = label, 0
    for m in _INNER.finditer(value):
        inner = _INNER_LABEL.get(m.group("label").lower(), Label.DOB)
        if inner is current_label or (label is Label.NATURE):
            continue
        out.append(
            Field(current_label, value[current_start : m.start()].strip(" ,;"), line, ordinal)
        )
        current_label, current_start = inner, m.end()
    out.append(Field(current_label, value[current_start:].strip(" ,;"), line, ordinal))
    return out
