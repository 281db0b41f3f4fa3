"""Who the defendants are, each with a date of birth (DESIGN §4a, point 3).

A name counts only where evidence anchors it, strongest first:

3. a labelled value or table column that says defendant, client, accused, respondent or name
   (and a surname with forenames);
2. in prose: right after a client cue ("we act for", "R v", "Re:"), or right before a date of
   birth ("Van Minh NGUYEN dob …");
1. a surname the writer marked in capitals, after a title or a given name ("Mr Tyrone
   WALKER's hearing"): looked for only when nothing above names anyone (a surname the
   subject also names counts as 2).

Court towns, words that are never names, police officers ("PC 2210 ASHWORTH"), other people
("the complainant, Anne COLE") and the sender's own name are turned down, with the reason
kept for `mailrouter route`. Each date of birth then pairs with the name written with it
(the same value, line or table row), else the nearest name before it that has none, else the
nearest after. Mentions of one person ("Mr KOWALCZYK", "Łukasz KOWALCZYK") merge. A prose
name without a date of birth, in a message whose other defendants have theirs, is someone
else mentioned (a co-accused, a witness) and is left out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import NamedTuple

from mailrouter.model import Defendant
from mailrouter.parse.blocks import Block
from mailrouter.parse.court import Gazetteer
from mailrouter.parse.date_roles import BlockText, DateFinding, Role
from mailrouter.parse.dates import age_on, resolve_dob
from mailrouter.parse.evidence import Notes
from mailrouter.parse.people import (
    NameWords,
    Phrase,
    is_caps,
    marked_names,
    may_hold_capitals,
    name_after,
    name_before,
    split_names,
    tokenize,
    word_key,
)
from mailrouter.parse.text import fold
from mailrouter.parse.vocabulary import CueKind, LabelKind

FIELD, ANCHORED, MARKED = 3, 2, 1
MAX_CANDIDATES = 40
MAX_ANCHORS = 60
_MARKED_READ = 4000  # characters of a block looked through for surnames in capitals
_REACH = 120  # characters read before a date of birth for the name beside it
_NAME_REACH = 80  # characters read after a client cue: a name is six words at most
_NEXT_WORD = re.compile(r"[\s:,\-–—]*(\w+)")
# Lower-case words a name may follow after a client cue ("client is John SMITH", "mr smith").
_MAY_LEAD = frozenset(("is", "was", "named", "called", "namely", "mr", "mrs", "ms", "miss"))
_JOINED = re.compile(r"^[\s,.)]*(?:;|&|\band\b)\s*", re.IGNORECASE)


class Limits(NamedTuple):
    min_age: int = 10
    max_age: int = 110


@dataclass(slots=True)
class Candidate:
    name: str  # "Given SURNAME"
    strength: int
    evidence: str
    block: Block  # where it was read
    order: tuple[int, int]  # (block, offset): reading order
    dob: DateFinding | None = None

    @property
    def group(self) -> int:
        return self.block.group

    @property
    def where(self) -> str:
        return self.block.where()

    @property
    def surname(self) -> str:
        return self.name.rsplit(" ", 1)[-1].casefold() if " " in self.name else self.name.casefold()

    @property
    def given(self) -> list[str]:
        parts = self.name.split()
        # The surname is the run of capitals at the end ("Jan VAN DER BERG").
        end = len(parts)
        while end > 1 and parts[end - 1].isupper() and parts[end - 2].isupper():
            end -= 1
        return [p.casefold().rstrip(".") for p in parts[: end - 1]]


class Reading(NamedTuple):
    defendants: list[Defendant]
    implausible: bool  # a date of birth was found but gives an impossible age


@dataclass(slots=True)
class _Context:
    blocks: list[Block]
    texts: list[BlockText]
    words: NameWords
    gazetteer: Gazetteer
    signer: str  # the sender's own name, folded
    subject_surnames: frozenset[str]
    anchors: int = 0  # anchors read so far in the message


def read_defendants(
    blocks: list[Block],
    texts: list[BlockText],
    findings: list[DateFinding],
    words: NameWords,
    gazetteer: Gazetteer,
    *,
    signer: str,
    subject_surnames: frozenset[str],
    today: dt.date,
    limits: Limits,
    notes: Notes,
) -> Reading:
    context = _Context(blocks, texts, words, gazetteer, signer.casefold(), subject_surnames)
    candidates: list[Candidate] = []
    by_block: dict[int, list[DateFinding]] = {}
    for finding in findings:
        by_block.setdefault(finding.block, []).append(finding)
    surnames: list[int] = []
    forenames: list[int] = []
    for index, block in enumerate(blocks):
        in_block = by_block.get(index, [])
        if block.kind is LabelKind.DEFENDANT:
            candidates.extend(_field_names(index, block, in_block, context, today, limits))
        elif block.kind is LabelKind.SURNAME:
            surnames.append(index)
        elif block.kind is LabelKind.FORENAMES:
            forenames.append(index)
        elif block.kind in (None, LabelKind.NATURE):
            candidates.extend(_prose_names(index, block, in_block, context, notes, today, limits))
        if len(candidates) >= MAX_CANDIDATES:
            break
    candidates.extend(_surname_fields(blocks, surnames, forenames, words))
    if not candidates:
        # Nothing anchors a name: a surname the writer marked in capitals is the last resort.
        for index, block in enumerate(blocks):
            if block.kind in (None, LabelKind.NATURE):
                candidates.extend(_marked_names(index, block, context))
            if len(candidates) >= MAX_CANDIDATES:
                break
    births = [f for f in findings if f.role is Role.BIRTH and f.block >= 0]
    _pair(candidates, births, blocks)
    chosen = _choose(_merge(candidates), notes)
    return _finish(chosen, births, blocks, subject_surnames, notes, today, limits)


# --- sources of names ---------------------------------------------------------------------------


def _field_names(
    index: int,
    block: Block,
    in_block: list[DateFinding],
    context: _Context,
    today: dt.date,
    limits: Limits,
) -> list[Candidate]:
    """Names in a labelled value, each with the date of birth written after it ("Andre
    FOSTER, DOB 02/05/1999"; "Jack HOLLAND – 28/02/1990")."""
    out: list[Candidate] = []
    evidence = f"labelled '{block.label}'"
    dated = [
        f
        for f in in_block
        if f.role is Role.BIRTH or (f.role is Role.NONE and _plausible_dob(f, today, limits))
    ]
    at = 0
    for finding in dated:
        cut = finding.mention.start
        if at <= finding.cue_start < cut:
            cut = finding.cue_start
        names = split_names(block.text[at:cut], context.words)
        for offset, name in enumerate(names):
            out.append(Candidate(name, FIELD, evidence, block, (index, at + offset)))
        if len(names) == 1:
            out[-1].dob = finding
        at = finding.mention.end
    rest = block.text[at:]
    if dated:
        # After the last date of birth, only a further name joined on ("…, DOB 01/02/1990
        # and Nathan GREEN, DOB …") is another defendant; the rest is prose.
        joined = _JOINED.match(rest)
        rest = rest[joined.end() :] if joined else ""
    for offset, name in enumerate(split_names(rest, context.words)):
        out.append(Candidate(name, FIELD, evidence, block, (index, at + offset)))
    return out


def _surname_fields(
    blocks: list[Block], surnames: list[int], forenames: list[int], words: NameWords
) -> list[Candidate]:
    """ "Surname: SMITH" with "Forenames: John": each surname with the forenames of its
    table row, else the next forenames not yet taken."""
    out: list[Candidate] = []
    free = list(forenames)
    for index in surnames:
        block = blocks[index]
        given = next((i for i in free if blocks[i].group == block.group), None)
        if given is None and free:
            given = free[0]
        if given is not None:
            free.remove(given)
        value = f"{block.text}, {blocks[given].text}" if given is not None else block.text
        for name in split_names(value, words)[:1]:
            out.append(Candidate(name, FIELD, "surname and forenames", block, (index, 0)))
    return out


def _prose_names(
    index: int,
    block: Block,
    in_block: list[DateFinding],
    context: _Context,
    notes: Notes,
    today: dt.date,
    limits: Limits,
) -> list[Candidate]:
    cues = [cue for cue in context.texts[index].cues if cue.kind is CueKind.CLIENT]
    dated = [f for f in in_block if f.role in (Role.BIRTH, Role.NONE)]
    if not cues and not dated:
        return []  # nothing here anchors a name
    text = block.text
    words = context.words
    found: dict[tuple[int, int], Candidate] = {}

    def offer(phrase: Phrase | None, strength: int, evidence: str, dob: DateFinding | None) -> None:
        if phrase is None:
            return
        key = (phrase.start, phrase.end)
        held = found.get(key)
        if held is not None and held.strength >= strength:
            if dob is not None and held.dob is None:
                held.dob = dob
            return
        refusal = _refusal(phrase, strength, context)
        if refusal is not None:
            if notes.enabled:
                notes.add("defendant_name", False, phrase.text, block.where(), refusal)
            return
        names = split_names(phrase.text, words)
        if not names:
            return
        found[key] = Candidate(names[0], strength, evidence, block, (index, phrase.start), dob)

    # Each anchor reads only the words next to it: after a client cue, before a date of birth.
    # A message reads at most MAX_ANCHORS of them (a real one has a handful).
    budget = MAX_ANCHORS - context.anchors
    cues, dated = cues[:budget], dated[: max(0, budget - len(cues))]
    context.anchors += len(cues) + len(dated)
    for cue in cues:
        first = _NEXT_WORD.match(text, cue.end)
        if first is None or (first.group(1).islower() and first.group(1) not in _MAY_LEAD):
            continue  # "act for both defendants": no name follows, no need to read on
        tokens = tokenize(text, cue.end, cue.end + _NAME_REACH)
        offer(name_after(text, tokens, 0, words), ANCHORED, f"after '{cue.phrase}'", None)
    for finding in dated:
        phrase = None
        if finding.role is Role.BIRTH and 0 <= finding.cue_start < finding.mention.start:
            # "Van Minh NGUYEN dob 01/01/1998": the name before the cue.
            anchor = finding.cue_start
            tokens = tokenize(text, max(0, anchor - _REACH), anchor)
            phrase = name_before(text, tokens, len(tokens), words)
            if phrase is not None:
                offer(phrase, ANCHORED, "written before a date of birth", finding)
        if phrase is None and (
            finding.role is Role.BIRTH or _plausible_dob(finding, today, limits)
        ):
            # "Jack HOLLAND – 28/02/1990", "DOB: SMITH, John, 09/11/2008": the name right
            # before the date itself.
            anchor = finding.mention.start
            tokens = tokenize(text, max(0, anchor - _REACH), anchor)
            phrase = name_before(text, tokens, len(tokens), words)
            if phrase is not None and _adjacent(text, phrase.end, anchor):
                offer(phrase, ANCHORED, "written right before a date of birth", finding)
    return sorted(found.values(), key=lambda c: c.order)


def _marked_names(index: int, block: Block, context: _Context) -> list[Candidate]:
    """Names marked only by a surname in capitals ("Mr Tyrone WALKER's hearing")."""
    text = block.text[:_MARKED_READ]
    out: list[Candidate] = []
    if not may_hold_capitals(text, context.words):
        return out
    for phrase in marked_names(text, tokenize(text), context.words)[:MAX_CANDIDATES]:
        if _refusal(phrase, MARKED, context) is not None:
            continue
        names = split_names(phrase.text, context.words)
        if not names:
            continue
        surname = phrase.text.split()[-1].casefold().rstrip(",")
        confirmed = surname in context.subject_surnames
        out.append(
            Candidate(
                names[0],
                ANCHORED if confirmed else MARKED,
                "a surname in capitals" + (", also in the subject" if confirmed else ""),
                block,
                (index, phrase.start),
            )
        )
    return out


def _adjacent(text: str, end: int, start: int) -> bool:
    """Only marks and spaces between a name and the date after it."""
    between = text[end:start]
    return len(between) <= 6 and not any(ch.isalnum() for ch in between)


def _refusal(phrase: Phrase, strength: int, context: _Context) -> str | None:
    """Why a name-shaped phrase in prose is not a defendant's name, or None."""
    if phrase.role == "officer":
        return "a police officer (a rank stands before the name)"
    if phrase.role == "other":
        return "someone other than the defendant (a complainant, witness or relative)"
    words = phrase.text.replace(",", " ").split()
    keys = [word_key(w) for w in words]
    if all(context.gazetteer.is_place(fold(k).strip()) or k in context.words.never for k in keys):
        return "names a court or a place, not a person"
    if " ".join(keys) == context.signer or (
        len(keys) >= 2 and context.signer.endswith(" ".join(keys[-2:]))
    ):
        return "the sender's own name"
    if len(words) == 1 and not phrase.titled and not is_caps(words[0]):
        return "a single word with no title or capitals to mark it as a surname"
    return None


def _plausible_dob(finding: DateFinding, today: dt.date, limits: Limits) -> bool:
    dob = resolve_dob(finding.mention, today)
    return dob is not None and limits.min_age <= age_on(dob, today) < limits.max_age


# --- putting them together ----------------------------------------------------------------------


def _pair(candidates: list[Candidate], births: list[DateFinding], blocks: list[Block]) -> None:
    """Give each date of birth not yet written with a name to the name in its table row or
    line, else the nearest name before it without one, else the nearest after."""
    taken = {id(c.dob) for c in candidates if c.dob is not None}
    ordered = sorted(candidates, key=lambda c: c.order)
    for finding in births:
        if id(finding) in taken:
            continue
        block = blocks[finding.block]
        position = (finding.block, finding.mention.start)
        free = [c for c in ordered if c.dob is None]
        target = next((c for c in free if c.group == block.group), None)
        if target is None:
            # The nearest block before it with a name still free, and its first such name
            # ("Defendants: A and B" then "DOB: … and …" pair in order).
            before = [c for c in free if c.order < position]
            if before:
                nearest = before[-1].order[0]
                target = next(c for c in before if c.order[0] == nearest)
            else:
                target = next(iter(free), None)
        if target is not None:
            target.dob = finding
            taken.add(id(finding))


def _same_person(a: Candidate, b: Candidate) -> bool:
    if a.surname != b.surname:
        return False
    if a.dob is not None and b.dob is not None and a.dob.mention[:3] != b.dob.mention[:3]:
        return False
    given_a, given_b = a.given, b.given
    if not given_a or not given_b:
        return True
    if given_a[0] != given_b[0]:
        return False
    short, long = sorted((given_a, given_b), key=len)
    return all(any(g == h or (len(g) == 1 and h.startswith(g)) for h in long) for g in short)


def _merge(candidates: list[Candidate]) -> list[Candidate]:
    """One candidate per person: the strongest evidence and the fullest name win."""
    merged: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: c.order):
        for index, held in enumerate(merged):
            if not _same_person(held, candidate):
                continue
            better = max(held, candidate, key=lambda c: (c.strength, len(c.name.split())))
            other = candidate if better is held else held
            if better.dob is None:
                better.dob = other.dob
            better.order = min(held.order, candidate.order)
            merged[index] = better
            break
        else:
            merged.append(candidate)
    return merged


def _choose(merged: list[Candidate], notes: Notes) -> list[Candidate]:
    """The defendants among the candidates (see the module docstring)."""
    if any(c.strength >= ANCHORED for c in merged):
        weak = [c for c in merged if c.strength < ANCHORED and c.dob is None]
        for c in weak:
            notes.add(
                "defendant_name",
                False,
                c.name,
                c.where,
                "only a surname in capitals, and better evidence names another",
            )
        merged = [c for c in merged if c.strength >= ANCHORED or c.dob is not None]
    if any(c.dob is not None for c in merged):
        for c in merged:
            if c.dob is None and c.strength < FIELD:
                notes.add(
                    "defendant_name",
                    False,
                    c.name,
                    c.where,
                    "named without a date of birth, beside defendants with one",
                )
        merged = [c for c in merged if c.dob is not None or c.strength >= FIELD]
    return merged


def _finish(
    chosen: list[Candidate],
    births: list[DateFinding],
    blocks: list[Block],
    subject_surnames: frozenset[str],
    notes: Notes,
    today: dt.date,
    limits: Limits,
) -> Reading:
    implausible = False
    defendants: list[Defendant] = []
    for candidate in chosen:
        dob = _checked_dob(candidate.dob, blocks, notes, today, limits)
        implausible = implausible or (candidate.dob is not None and dob is None)
        name = _subject_order(candidate.name, subject_surnames)
        if notes.enabled:
            notes.add("defendant_name", True, name, candidate.where, candidate.evidence)
        defendants.append(Defendant(name, dob))
    if not chosen and births:
        # A date of birth with no name beside it ("Our client, born 12/03/1990, …").
        finding = births[0]
        dob = _checked_dob(finding, blocks, notes, today, limits)
        implausible = dob is None
        defendants.append(Defendant(None, dob))
    return Reading(defendants, implausible)


def _subject_order(name: str, subject_surnames: frozenset[str]) -> str:
    """A name written all in capitals ("O'CONNOR JAMIE") gives no sign which word is the
    surname; if the subject names one of the given names as a surname ("R v O'CONNOR") and
    not the last word, that word is the surname."""
    parts = name.split()
    if len(parts) < 2 or parts[-1].casefold() in subject_surnames:
        return name
    for part in parts[:-1]:
        if part.casefold() in subject_surnames:
            given = [p[:1] + p[1:].lower() if p.isupper() else p for p in parts if p != part]
            return " ".join([*given, part.upper()])
    return name


def _checked_dob(
    finding: DateFinding | None,
    blocks: list[Block],
    notes: Notes,
    today: dt.date,
    limits: Limits,
) -> dt.date | None:
    if finding is None:
        return None
    where = blocks[finding.block].where() if notes.enabled else ""
    dob = resolve_dob(finding.mention, today)
    if dob is None:
        notes.add("dob", False, _raw(finding, blocks), where, "not a whole date")
        return None
    age = age_on(dob, today)
    if not limits.min_age <= age < limits.max_age:
        notes.add(
            "dob",
            False,
            dob.isoformat(),
            where,
            f"gives an age of {age}, outside {limits.min_age} to {limits.max_age - 1}",
        )
        return None
    if notes.enabled:
        cue = f"'{finding.cue}'" if finding.cue else "its place beside the name"
        notes.add("dob", True, dob.isoformat(), where, f"a date of birth by {cue}")
    return dob


def _raw(finding: DateFinding, blocks: list[Block]) -> str:
    return blocks[finding.block].text[finding.mention.start : finding.mention.end]
