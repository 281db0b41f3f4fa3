"""Read a defence request: URN and court from the subject, and from the newest part of the
body the defendants (names and dates of birth), the hearing date and the nature of the
request. Records what is missing, and why, in words that go back to the sender.

Reasons and details here never contain a defendant's name or date of birth (they reach logs
and SMTP replies); URNs and court names may appear.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from mailrouter.model import Court, Defendant
from mailrouter.parse import urn as urns
from mailrouter.parse.court import CourtFinding, Gazetteer, Status
from mailrouter.parse.dates import DateMention, age_on, find_dates, resolve_dob, resolve_hearing
from mailrouter.parse.fields import Field, Label, find_fields
from mailrouter.parse.history import split_history
from mailrouter.parse.mime import MessageView
from mailrouter.parse.people import name_tokens_after, normalise_name, split_names
from mailrouter.parse.text import fold

MAX_NATURE_CHARS = 240

# "our client John Smith (born …)", "we act for Aisha Rahman", "on behalf of Mr Smith"
_CLIENT_CUE = re.compile(
    r"\b(?:our client|my client|we act for|acting for|we represent|on behalf of|the defendant"
    r"|your defendant|the accused)[,:]?\s+(?:(?:is|was|named|called)\s+)?",
    re.IGNORECASE,
)
# No leading separator class: "[\s,]*\bdob" would rescan a long run of spaces from every
# position (quadratic); the name before it is trimmed of punctuation anyway.
_INLINE_DOB = re.compile(
    r"\b(?:d\.? ?o\.? ?b\.?|date of birth|born(?: on)?|birth ?date)\b[:.-]?[ \t]{0,3}",
    re.IGNORECASE,
)
_HEARING_CUE = re.compile(
    r"(?:appear|listed|hearing|trial|sentenc|ptph|fcmh|mention|court on|before the court"
    r"|due (?:at|before|in)|attend|adjourned (?:to|until))[^.\n]{0,60}$",
    re.IGNORECASE,
)
_NOT_HEARING = re.compile(
    r"(?:born|d\.? ?o\.? ?b\.?|date of birth|served|dated|sent|received|arrested|charged"
    r"|interview(?:ed)?|offence|incident)[^\n]{0,20}$",
    re.IGNORECASE,
)
_HAS_DIGIT = re.compile(r"\d")
_SEVERAL = re.compile(r"\s*(?:;|\s&\s|\sand\s)\s*")
_RELATIVE_DAY = re.compile(r"^\W*(today|tomorrow)\b", re.IGNORECASE)
_REQUEST_CUE = re.compile(
    r"\b(?:please|kindly|request|grateful|could you|can you|would you|we ask|we invite|we seek"
    r"|seek(?:ing)?|invite|apply|applying|application|confirm|serve|provide|disclos\w*|forward"
    r"|adjourn\w*|vacate|bail|consent|review|discontinu\w*|idpc|advise|let us know|agree|enclose"
    r"|attach\w*)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")
# Request words that, in a subject, say what is being asked for.
_SUBJECT_NATURE = re.compile(
    r"\b(idpc|advance information|disclosure|bail(?: variation| application)?|adjournment"
    r"|adjourn|vacate|defence statement|basis of plea|review|discontinuance|case papers"
    r"|s\.? ?8 application|special measures|confiscation|restraint(?: order)?|s\.? ?1[678] "
    r"statement|custody time limits?|ctl|pet form|s\.? ?10 admissions|expert report)\b",
    re.IGNORECASE,
)


@dataclass(slots=True)
class RequestFacts:
    urn: str | None = None
    urn_ambiguous: bool = False
    court: Court | None = None
    court_status: Status = Status.NONE
    defendants: list[Defendant] = field(default_factory=list)
    hearing_date: dt.date | None = None
    nature: str | None = None
    missing: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    subject_folded: str = ""
    body_folded: str = ""

    @property
    def ambiguous(self) -> bool:
        return self.urn_ambiguous or self.court_status is Status.AMBIGUOUS


class Limits(NamedTuple):
    min_age: int = 10
    max_age: int = 110


DEFAULT_LIMITS = Limits()


def read_request(
    view: MessageView,
    gazetteer: Gazetteer,
    forces: frozenset[str],
    today: dt.date,
    limits: Limits = DEFAULT_LIMITS,
) -> RequestFacts:
    facts = RequestFacts()
    parts = split_history(view.body)
    newest, core, lines = parts.newest, parts.core, parts.lines
    if parts.cut:
        facts.reasons.append("quoted or forwarded history below the newest message was not read")
    facts.reasons.extend(view.notes)
    fields = find_fields(lines)

    # Fold each text once: the court reader and the keyword lists share it. (A URN's unit
    # code, "20CC…", folds to a token of its own after "20": never next to a town.)
    facts.subject_folded = fold(view.subject)
    facts.body_folded = fold(core)

    _read_urn(facts, view.subject, fields, newest, forces)
    _read_court(facts, fields, gazetteer)
    _read_defendants(facts, fields, core, today, limits)
    _read_hearing(facts, fields, core, view.subject, today)
    _read_nature(facts, fields, lines, core, view.subject)
    return facts


# --- URN ------------------------------------------------------------------------------------


def _read_urn(
    facts: RequestFacts, subject: str, fields: list[Field], newest: str, forces: frozenset[str]
) -> None:
    in_subject = urns.scan_urns(subject, forces)
    if len(in_subject.urns) == 1:
        facts.urn = in_subject.urns[0]
        facts.reasons.append(f"URN {facts.urn} (from the subject)")
        return
    if len(in_subject.urns) > 1:
        facts.urn_ambiguous = True
        facts.reasons.append(f"two different URNs in the subject: {', '.join(in_subject.urns)}")
        return
    labelled = " \n".join(f.value for f in fields if f.label is Label.URN)
    in_body = urns.scan_urns(labelled, forces) if labelled else None
    if in_body is None or not in_body.urns:
        in_body = urns.scan_urns(newest, forces)
    if len(in_body.urns) == 1:
        facts.urn = in_body.urns[0]
        facts.reasons.append(f"URN {facts.urn} (from the body; the subject has none)")
        return
    if len(in_body.urns) > 1:
        facts.urn_ambiguous = True
        facts.reasons.append(
            f"several URNs in the body and none in the subject: {', '.join(in_body.urns)}"
        )
        return
    facts.missing.append("urn")
    near = in_subject.near_misses or in_body.near_misses
    unknown = in_subject.unknown_forces or in_body.unknown_forces
    if near:
        value = near[0]
        size = len(urns.normalise(value))
        detail = f"'{value}' is not a URN: it has {size} characters, not 11."
    elif unknown:
        detail = f"'{unknown[0]}' does not start with a police force code."
    else:
        detail = "No URN was found in the subject."
    facts.details["urn"] = detail
    facts.reasons.append(f"URN missing: {detail}")


# --- court ----------------------------------------------------------------------------------


def _read_court(facts: RequestFacts, fields: list[Field], gazetteer: Gazetteer) -> None:
    court_values = [fold(f.value) for f in fields if f.label is Label.COURT]
    finding: CourtFinding = gazetteer.resolve(facts.subject_folded, court_values, facts.body_folded)
    facts.court_status = finding.status
    facts.reasons.append(finding.reason)
    if finding.status is Status.FOUND:
        facts.court = finding.court
    elif finding.status is not Status.AMBIGUOUS:
        facts.missing.append("court")
        facts.details["court"] = _sentence(finding.reason)


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


# --- defendants -----------------------------------------------------------------------------


def _read_defendants(
    facts: RequestFacts, fields: list[Field], core: str, today: dt.date, limits: Limits
) -> None:
    people: list[list] = []  # [name, dob mention]
    orphan_dobs: list[DateMention] = []
    for item in fields:
        if item.label is Label.DEFENDANT:
            for name, dob in _names_with_dobs(item.value):
                people.append([name, dob])
        elif item.label is Label.DOB:
            dates = find_dates(item.value)
            for mention in dates:
                for person in people:
                    if person[1] is None:
                        person[1] = mention
                        break
                else:
                    orphan_dobs.append(mention)
    surnames = [f.value for f in fields if f.label is Label.SURNAME] if not people else []
    if surnames:
        forenames = [f.value for f in fields if f.label is Label.FORENAMES]
        given = forenames[0].split() if forenames else []
        name = normalise_name(given, surname=surnames[0].split())
        if name:
            people.append([name, None])
    if not people:
        for name, dob in _names_in_sentences(core):
            people.append([name, dob])
    if not people and not orphan_dobs:
        # "born 17 June 1998" without a name: still a date of birth.
        for match in _INLINE_DOB.finditer(core):
            dates = find_dates(core[match.end() : match.end() + 40])
            if dates and dates[0].start == 0:
                orphan_dobs.append(dates[0])
                break
    for person in people:
        if person[1] is None and orphan_dobs:
            person[1] = orphan_dobs.pop(0)

    if not people and orphan_dobs:
        people.append([None, orphan_dobs[0]])  # a date of birth with no name beside it

    implausible = False
    defendants: list[Defendant] = []
    for name, mention in people:
        dob = resolve_dob(mention, today) if mention else None
        if dob is not None and not limits.min_age <= age_on(dob, today) < limits.max_age:
            implausible, dob = True, None
        defendants.append(Defendant(name, dob))
    facts.defendants = defendants

    named = [d for d in defendants if d.name]
    if not named:
        facts.missing.append("defendant_name")
        facts.details["defendant_name"] = "No defendant's name was found in the body."
    if not defendants or any(d.dob is None for d in defendants):
        facts.missing.append("dob")
        facts.details["dob"] = (
            f"The date of birth given is not plausible: a defendant must be at least "
            f"{limits.min_age} and under {limits.max_age} years old."
            if implausible
            else "No date of birth was found for "
            + ("every defendant." if len(defendants) > 1 else "the defendant.")
        )
    count = len(named)
    if count:
        facts.reasons.append(
            f"{count} defendant{'s' if count > 1 else ''} named"
            + (", each with a date of birth" if "dob" not in facts.missing else "")
        )
    if implausible:
        facts.reasons.append("a date of birth was implausible and counts as missing")


def _names_with_dobs(value: str) -> list[tuple[str, DateMention | None]]:
    """Names in a defendant field, each with the date of birth written beside it."""
    if not _HAS_DIGIT.search(value):
        return [(name, None) for name in split_names(value)]
    out: list[tuple[str, DateMention | None]] = []
    for chunk in _SEVERAL.split(value):
        dob: DateMention | None = None
        name_part = chunk
        marker = _INLINE_DOB.search(chunk)
        dates = find_dates(chunk)
        if marker is not None:
            name_part = chunk[: marker.start()]
            after = [d for d in dates if d.start >= marker.end()]
            dob = after[0] if after else None
        elif dates:
            name_part = chunk[: dates[0].start]
            dob = dates[0]
        names = split_names(name_part)
        if len(names) == 1:
            out.append((names[0], dob))
        else:  # one date beside several names belongs to none of them for certain
            out.extend((name, None) for name in names)
    return out


def _names_in_sentences(core: str) -> list[tuple[str, DateMention | None]]:
    out: list[tuple[str, DateMention | None]] = []
    for cue in _CLIENT_CUE.finditer(core):
        rest = core[cue.end() : cue.end() + 160]
        tokens = name_tokens_after(rest)
        if len(tokens) < 2:
            continue
        name = normalise_name(tokens)
        if not name or any(name == n for n, _ in out):
            continue
        dob = None
        marker = _INLINE_DOB.search(rest)
        if marker is not None and marker.start() < 80:
            dates = find_dates(rest[marker.end() : marker.end() + 40])
            if dates and dates[0].start == 0:
                dob = dates[0]
        out.append((name, dob))
    return out


# --- hearing date ---------------------------------------------------------------------------


def _read_hearing(
    facts: RequestFacts, fields: list[Field], core: str, subject: str, today: dt.date
) -> None:
    labelled = [f for f in fields if f.label is Label.HEARING]
    for item in labelled:
        dates = find_dates(item.value)
        if dates:
            facts.hearing_date = resolve_hearing(dates[0], today)
        else:
            relative = _RELATIVE_DAY.match(item.value)
            if relative:
                offset = 0 if relative.group(1).lower() == "today" else 1
                facts.hearing_date = today + dt.timedelta(days=offset)
        if facts.hearing_date is not None:
            facts.reasons.append("hearing date from the labelled field")
            return
    for mention in find_dates(core):
        before = core[max(0, mention.start - 80) : mention.start]
        if _HEARING_CUE.search(before) and not _NOT_HEARING.search(before[-30:]):
            facts.hearing_date = resolve_hearing(mention, today)
            if facts.hearing_date is not None:
                facts.reasons.append("hearing date from the text of the body")
                return
    subject_dates = find_dates(subject)
    if subject_dates:
        facts.hearing_date = resolve_hearing(subject_dates[0], today)
        if facts.hearing_date is not None:
            facts.reasons.append("hearing date from the subject")
            return
    facts.missing.append("hearing_date")
    facts.details["hearing_date"] = (
        "The hearing is mentioned but no date is given for it."
        if labelled
        else "No hearing date was found in the body."
    )


# --- nature of the request ------------------------------------------------------------------


def _read_nature(
    facts: RequestFacts, fields: list[Field], lines: list[str], core: str, subject: str
) -> None:
    for item in fields:
        if item.label is Label.NATURE and item.value.strip(" .-:"):
            facts.nature = _short(item.value)
            facts.reasons.append("nature of request from the labelled field")
            return
    labelled = {lines[f.line].strip() for f in fields}
    sentence = _request_sentence(core, labelled)
    if sentence:
        facts.nature = _short(sentence)
        facts.reasons.append("nature of request from the text of the body")
        return
    m = _SUBJECT_NATURE.search(subject)
    if m:
        facts.nature = m.group(0)
        facts.reasons.append("nature of request from the subject")
        return
    facts.missing.append("nature")
    facts.details["nature"] = "The message does not say what is being asked for."


def _request_sentence(core: str, labelled: set[str]) -> str | None:
    """The first sentence outside the labelled fields that asks for something."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in core.split("\n"):
        stripped = line.strip()
        if not stripped or stripped in labelled:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        current.append(stripped)
    if current:
        paragraphs.append(" ".join(current))
    for paragraph in paragraphs:
        for sentence in _SENTENCE_END.split(paragraph):
            if _REQUEST_CUE.search(sentence):
                return sentence.strip()
    return None


def _short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_NATURE_CHARS:
        return text
    cut = text[:MAX_NATURE_CHARS].rsplit(" ", 1)[0]
    return cut + "…"
