"""Every date in a message, found once and classified by the evidence around it (DESIGN §4a,
point 2).

A date's role comes, strongest first, from:

1. its label: the first date under "DOB" is a date of birth, under "Next hearing" the hearing,
   under "Date of offence" neither;
2. the nearest cue word before it in the same clause ("born", "listed", "arrested"); words of
   a deadline ("by", "until") count only right before the date; with none before it, a cue
   right after it ("05/02/2027 (PTPH)");
3. a court named just before it ("Walsall MC on 9 March"), a weak sign of a hearing.

A date with none of these has no role yet: whether it is a date of birth (beside a name) or
the hearing (the one future date left) is decided with the rest of the message in mind, by
parse.request and parse.defendants. Plausibility (an age in range, a hearing not in the past)
is checked there too, since it needs `today`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import NamedTuple

from mailrouter.parse.blocks import Block
from mailrouter.parse.court import Gazetteer
from mailrouter.parse.dates import (
    DateMention,
    find_dates,
    find_dates_and_day_months,
    find_relative_days,
)
from mailrouter.parse.text import fold
from mailrouter.parse.vocabulary import Cue, CueKind, LabelKind, Vocabulary, lowered

MAX_DATES = 200  # dates read in one message: a message of nothing but dates costs no more
_WINDOW = 100  # characters before a date in which a cue may stand
_AFTER = 30  # characters after it
# A clause ends at a sentence's full stop (before a capital), a semicolon or a line break.
_CLAUSE_END = re.compile(r"[.!?]\s+[\"'(]?[A-Z]|[;\n]")
_DIGIT = re.compile(r"\d")
_ADJACENT = re.compile(r"^[\s,:(\-–—]{0,4}$")
_AFTER_GAP = re.compile(r"^[\s,:(\-–—]{0,6}(?:the\s|a\s|for\s|at\s)?[\s(]*$", re.IGNORECASE)


class Role(StrEnum):
    BIRTH = "date of birth"
    HEARING = "hearing"
    EVENT = "another event"
    NONE = "no cue"


# Strength of the evidence for a role.
LABEL, CUE, WEAK, NOTHING = 3, 2, 1, 0

_CUE_ROLE = {
    CueKind.BIRTH: Role.BIRTH,
    CueKind.HEARING: Role.HEARING,
    CueKind.EVENT: Role.EVENT,
    CueKind.DEADLINE: Role.EVENT,
}
_LABEL_ROLE = {LabelKind.DOB: Role.BIRTH, LabelKind.HEARING: Role.HEARING}


class DateFinding(NamedTuple):
    mention: DateMention  # offsets within the block's text
    block: int  # index into the blocks; -1 for the subject
    role: Role
    strength: int
    cue: str  # the label or cue word that decided, for `mailrouter route`
    cue_start: int  # where that cue starts in the block's text (-1: a label, or none)


class BlockText(NamedTuple):
    """A block's text with what the reader finds in it, computed once."""

    lowered: str
    cues: list[Cue]


# Values whose label says what they are: their words are read for cues only when they hold
# more than one date (the first date takes the label's role).
_SELF_EXPLAINED = frozenset(
    (LabelKind.DOB, LabelKind.HEARING, LabelKind.OTHER, LabelKind.URN, LabelKind.COURT,
     LabelKind.SURNAME, LabelKind.FORENAMES)
)  # fmt: skip
_UNREAD = BlockText("", [])


def read_blocks(blocks: list[Block], vocabulary: Vocabulary) -> list[BlockText]:
    out: list[BlockText] = [_UNREAD] * len(blocks)
    read = [index for index, block in enumerate(blocks) if block.kind not in _SELF_EXPLAINED]
    lows = [lowered(blocks[index].text) for index in read]
    for index, low, cues in zip(read, lows, vocabulary.cues_each(lows), strict=True):
        out[index] = BlockText(low, cues)
    return out


def find_date_roles(
    blocks: list[Block], texts: list[BlockText], vocabulary: Vocabulary, gazetteer: Gazetteer
) -> list[DateFinding]:
    """Every date in the blocks with its role. `texts` gains the cues of a labelled value
    that holds several dates, which read_blocks left unread."""
    found: list[DateFinding] = []
    for index, block in enumerate(blocks):
        mentions: list[DateMention] = []
        day_months: list[DateMention] = []
        if _DIGIT.search(block.text):
            mentions, day_months = find_dates_and_day_months(block.text)
        if "to" in block.text.lower():  # "today", "tomorrow"
            mentions = _merge(mentions, find_relative_days(block.text))
        text = texts[index]
        if text is _UNREAD and (len(mentions) > 1 or (mentions and block.kind is LabelKind.OTHER)):
            low = lowered(block.text)
            text = texts[index] = BlockText(low, vocabulary.cues(low))
        if day_months:
            mentions = _merge(mentions, _day_months(block, text, mentions, day_months))
        for order, mention in enumerate(mentions):
            found.append(_classify(index, block, text, mentions, order, mention, gazetteer))
            if len(found) >= MAX_DATES:
                return found
    return found


def subject_dates(subject: str, vocabulary: Vocabulary, gazetteer: Gazetteer) -> list[DateFinding]:
    """Dates in the subject line, classified the same way ("PTPH 05/01/2027")."""
    low = lowered(subject)
    mentions = find_dates(subject) if _DIGIT.search(subject) else []
    if "to" in low:
        mentions = _merge(mentions, find_relative_days(subject))
    if not mentions:
        return []
    block = Block("", None, subject, -1, 0)
    text = BlockText(low, vocabulary.cues(low))
    return [
        _classify(-1, block, text, mentions, order, mention, gazetteer)
        for order, mention in enumerate(mentions[:MAX_DATES])
    ]


def _day_months(
    block: Block, text: BlockText, dates: list[DateMention], day_months: list[DateMention]
) -> list[DateMention]:
    """ "Hearing: 15/12", "trial 22/3": a day and month with no year, taken as a date where
    the value is the hearing's or a hearing cue stands right before it."""
    out: list[DateMention] = []
    for mention in day_months:
        if any(d.start <= mention.start < d.end for d in dates):
            continue  # part of a full date, or a weekday's date already found
        if (block.kind is LabelKind.HEARING and not dates) or any(
            cue.kind is CueKind.HEARING and 0 <= mention.start - cue.end <= 4 for cue in text.cues
        ):
            out.append(mention)
    return out


def _merge(dates: list[DateMention], relative: list[DateMention]) -> list[DateMention]:
    if not relative:
        return dates
    return sorted([*dates, *relative], key=lambda m: m.start)


def _classify(
    index: int,
    block: Block,
    text: BlockText,
    mentions: list[DateMention],
    order: int,
    mention: DateMention,
    gazetteer: Gazetteer,
) -> DateFinding:
    # The first date under a date label takes the label's role; under an "other" label
    # ("Date of offence") every date is another event.
    role = _LABEL_ROLE.get(block.kind) if block.kind is not None else None
    if role is not None and order == 0:
        return DateFinding(mention, index, role, LABEL, block.label, -1)
    start = mentions[order - 1].end if order else 0
    start = max(start, mention.start - _WINDOW)
    before = _cue_before(text, start, mention)
    if block.kind is LabelKind.OTHER:
        # "Date of offence: 14/07/2026" is another event; but "Bail: bailed to appear on
        # 15/12/2026" names the hearing in a value of its own.
        if before is not None and before.kind in (CueKind.HEARING, CueKind.BIRTH):
            return DateFinding(mention, index, _CUE_ROLE[before.kind], CUE, before.phrase,
                               before.start)  # fmt: skip
        return DateFinding(mention, index, Role.EVENT, LABEL, block.label, -1)
    if before is not None:
        return DateFinding(mention, index, _CUE_ROLE[before.kind], CUE, before.phrase, before.start)
    if _court_before(block.text[start : mention.start], gazetteer):
        return DateFinding(mention, index, Role.HEARING, WEAK, "a court named before it", -1)
    following = mentions[order + 1] if order + 1 < len(mentions) else None
    end = following.start if following is not None else len(block.text)
    after = _cue_after(text, mention, min(end, mention.end + _AFTER))
    if after is not None and following is not None and _leads_to(text, after, following):
        after = None  # "03/06/85 - trial Walsall 11/12/26": the cue is the next date's
    if after is not None:
        return DateFinding(mention, index, _CUE_ROLE[after.kind], CUE, after.phrase, after.start)
    # A later date under a date-of-birth label with no cue of its own is another date of
    # birth ("DOB: 01/01/1990 and 02/02/1992"); under a hearing label it has no role.
    if role is Role.BIRTH:
        return DateFinding(mention, index, Role.BIRTH, LABEL, block.label, -1)
    return DateFinding(mention, index, Role.NONE, NOTHING, block.label if role else "", -1)


def _cue_before(text: BlockText, start: int, mention: DateMention) -> Cue | None:
    """The nearest date cue before the mention, in its clause and window."""
    for cue in reversed(text.cues):
        if cue.end > mention.start:
            continue
        if cue.start < start:
            break
        if cue.kind is CueKind.CLIENT:
            continue
        between = text.lowered[cue.end : mention.start]
        if cue.kind is CueKind.DEADLINE:
            if _ADJACENT.match(between):
                return cue
            continue
        if _CLAUSE_END.search(between):
            break
        return cue
    return None


def _cue_after(text: BlockText, mention: DateMention, end: int) -> Cue | None:
    """A date cue right after the mention: "05/02/2027 (PTPH)", "26/01/2027 - trial"."""
    for cue in text.cues:
        if cue.start < mention.end:
            continue
        if cue.start >= end:
            break
        if cue.kind in (CueKind.CLIENT, CueKind.DEADLINE):
            continue
        if _AFTER_GAP.match(text.lowered[mention.end : cue.start]):
            return cue
        break
    return None


def _leads_to(text: BlockText, cue: Cue, following: DateMention) -> bool:
    """Whether `cue` stands before `following` in the same clause, within its reach: then it
    is that date's cue, not the one before it."""
    between = text.lowered[cue.end : following.start]
    return len(between) <= _WINDOW and not _CLAUSE_END.search(between)


def _court_before(window: str, gazetteer: Gazetteer) -> bool:
    """A court or court town named in the clause before a date ("at Walsall MC on")."""
    clause = window
    for m in _CLAUSE_END.finditer(window):
        clause = window[m.end() - 1 :]
    return gazetteer.names_a_court(fold(clause[-60:]))
