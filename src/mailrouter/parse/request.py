"""Read a defence request: the URN and court from the subject (or the body), and from the
newest part of the body the defendants with their dates of birth, the hearing date and the
nature of the request (DESIGN §4, §4a).

The body is read as a clerk reads it: laid out into blocks (parse.blocks), every date given a
role by the evidence around it (parse.date_roles), names anchored by evidence
(parse.defendants). What is missing is recorded with the reason, in words that go back to
the sender. What was read, and why, is kept as notes for `mailrouter route`.

Reasons and details never contain a defendant's name or date of birth (they reach logs and
SMTP replies); URNs and court names may appear. Notes may; they stay in the CLI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mailrouter.model import Court, Defendant, quoted
from mailrouter.parse import urn as urns
from mailrouter.parse.blocks import Block, segment
from mailrouter.parse.court import CourtFinding, Gazetteer, Status
from mailrouter.parse.date_roles import (
    LABEL,
    BlockText,
    DateFinding,
    Role,
    find_date_roles,
    read_blocks,
    subject_dates,
)
from mailrouter.parse.dates import resolve_hearing
from mailrouter.parse.defendants import Limits, read_defendants
from mailrouter.parse.evidence import Notes
from mailrouter.parse.history import split_history
from mailrouter.parse.mime import MessageView
from mailrouter.parse.people import capital_words
from mailrouter.parse.text import fold
from mailrouter.parse.vocabulary import CueKind, LabelKind, Vocabulary

MAX_NATURE_CHARS = 240
MAX_READ_CHARS = 60_000  # of the body, looked at for where the sender's own words end
MAX_CORE_CHARS = 20_000  # of the sender's own words, read at most
MAX_CORE_LINES = 600
HEARING_HORIZON_DAYS = 3 * 366  # a hearing more than this far ahead is not plausible

# In `details` when the court named is one outside the area: the bounce then says where the
# mail should go instead of showing one of this area's courts as the example.
OUTSIDE_AREA = "court_outside_area"

__all__ = ["DEFAULT_LIMITS", "OUTSIDE_AREA", "Limits", "RequestFacts", "read_request"]


@dataclass(slots=True)
class RequestFacts:
    urn: str | None = None
    urn_ambiguous: bool = False
    # A bound on reading was reached (a very long message, too many parts): what was not read
    # might change the decision, so a person decides, like any ambiguity.
    read_in_part: bool = False
    court: Court | None = None
    court_status: Status = Status.NONE
    defendants: list[Defendant] = field(default_factory=list)
    hearing_date: dt.date | None = None
    nature: str | None = None
    missing: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    notes: Notes = field(default_factory=lambda: Notes(False))
    subject_folded: str = ""
    core: str = ""  # the sender's own words as read
    _body_folded: str | None = None

    @property
    def ambiguous(self) -> bool:
        return self.urn_ambiguous or self.read_in_part or self.court_status is Status.AMBIGUOUS

    def why_unsettled(self) -> str | None:
        """A few words on what leaves the reading unsettled, for a held message's tag."""
        if self.urn_ambiguous:
            return "two URNs"
        if self.court_status is Status.AMBIGUOUS:
            return "ambiguous court"
        if self.read_in_part:
            return "too long to read"
        return None

    @property
    def body_folded(self) -> str:
        """The core folded (parse.text.fold), for keyword lists and courts named in the body;
        folded on first use, since a message bounced for a missing item needs neither."""
        if self._body_folded is None:
            self._body_folded = fold(self.core)
        return self._body_folded


DEFAULT_LIMITS = Limits()


@dataclass(slots=True)
class _Message:
    """The message laid out for reading, shared by the item readers below."""

    subject: str
    blocks: list[Block]
    texts: list[BlockText]
    findings: list[DateFinding]
    vocabulary: Vocabulary
    gazetteer: Gazetteer
    _subject_findings: list[DateFinding] | None = None

    @property
    def subject_findings(self) -> list[DateFinding]:
        """The subject's dates, read on first use: a hearing the body gives with a label or a
        cue word is one no date in the subject can outrank."""
        if self._subject_findings is None:
            self._subject_findings = subject_dates(self.subject, self.vocabulary, self.gazetteer)
        return self._subject_findings


def read_request(
    view: MessageView,
    gazetteer: Gazetteer,
    forces: frozenset[str],
    vocabulary: Vocabulary,
    today: dt.date,
    limits: Limits = DEFAULT_LIMITS,
    *,
    explain: bool = False,
) -> RequestFacts:
    """What the message says of each required item. With `explain`, also notes of what was
    read and turned down, for `mailrouter route`."""
    facts = RequestFacts(notes=Notes(explain))
    signer = _display_name(view.from_values[0]) if view.from_values else ""
    parts = split_history(view.body[:MAX_READ_CHARS], signer)
    if parts.cut:
        facts.reasons.append("quoted or forwarded history below the newest message was not read")
    facts.reasons.extend(view.notes)
    lines, core_end, shortened = _bounded(parts.lines, parts.core_start, parts.core_end)
    if shortened:
        facts.reasons.append("only the first part of a very long message was read")
    facts.read_in_part = shortened or view.partial
    blocks = segment(lines, parts.core_start, core_end, vocabulary)
    texts = read_blocks(blocks, vocabulary)
    findings = find_date_roles(blocks, texts, vocabulary, gazetteer)
    message = _Message(view.subject, blocks, texts, findings, vocabulary, gazetteer)
    # Fold each text once: the court reader and the keyword lists share it.
    facts.subject_folded = fold(view.subject)
    facts.core = "\n".join(lines[parts.core_start : core_end])

    _read_urn(facts, message, forces)
    _read_court(facts, message, gazetteer)
    births = _read_defendants(facts, message, vocabulary, gazetteer, signer, today, limits)
    _read_hearing(facts, message, births, today)
    _read_nature(facts, message, vocabulary)
    return facts


def _bounded(lines: list[str], start: int, end: int) -> tuple[list[str], int, bool]:
    """(the lines to read, where reading stops, whether that is short of the end): after
    MAX_CORE_CHARS of the sender's own words (the last line cut short) or MAX_CORE_LINES
    lines. A request's own words are a few hundred characters, a long letter a few thousand;
    the bound keeps a hostile message from costing more than a long real one."""
    size = 0
    stop = min(end, start + MAX_CORE_LINES)
    for index in range(start, stop):
        size += len(lines[index]) + 1
        if size > MAX_CORE_CHARS:
            keep = len(lines[index]) - (size - MAX_CORE_CHARS)
            return [*lines[:index], lines[index][: max(keep, 0)]], index + 1, True
    return lines, stop, stop < end


# --- URN ---------------------------------------------------------------------------------------


def _read_urn(facts: RequestFacts, message: _Message, forces: frozenset[str]) -> None:
    in_subject = urns.scan_urns(message.subject, forces)
    # The body's URNs: a labelled one ("URN: …") if any, else any in its text.
    labelled = " \n".join(b.text for b in message.blocks if b.kind is LabelKind.URN)
    body_text = " \n".join(b.text for b in message.blocks)
    body_urns = urns.scan_urns(labelled, forces, near_misses=False).urns if labelled else []
    if not body_urns:
        body_urns = urns.scan_urns(body_text, forces, near_misses=False).urns
    if len(in_subject.urns) == 1:
        facts.urn = in_subject.urns[0]
        facts.notes.add("urn", True, facts.urn, "subject", "a URN's shape and force code")
        # Only a URN the body gives as the case's contradicts the subject ("URN: …", "the
        # correct URN is …"); one mentioned in passing ("linked to …") does not.
        given = []
        if body_urns:
            given = urns.scan_urns(labelled, forces, near_misses=False).urns if labelled else []
            given += urns.presented_urns(body_text, forces)
        others = [u for u in given if u != facts.urn]
        if others:
            facts.urn_ambiguous = True
            facts.reasons.append(
                f"the subject's URN {facts.urn} differs from the URN {others[0]} given in the "
                "body; a person should check which case this is"
            )
            facts.notes.add("urn", False, others[0], "body", "contradicts the subject")
            return
        facts.reasons.append(f"URN {facts.urn} (from the subject)")
        return
    if len(in_subject.urns) > 1:
        facts.urn_ambiguous = True
        facts.reasons.append(f"two different URNs in the subject: {', '.join(in_subject.urns)}")
        return
    if len(body_urns) == 1:
        facts.urn = body_urns[0]
        facts.reasons.append(f"URN {facts.urn} (from the body; the subject has none)")
        facts.notes.add("urn", True, facts.urn, "body", "a URN's shape and force code")
        return
    if len(body_urns) > 1:
        facts.urn_ambiguous = True
        facts.reasons.append(
            f"several URNs in the body and none in the subject: {', '.join(body_urns)}"
        )
        return
    in_body = urns.scan_urns(labelled or body_text, forces)
    facts.missing.append("urn")
    near = in_subject.near_misses or in_body.near_misses
    unknown = in_subject.unknown_forces or in_body.unknown_forces
    # The detail goes to the sender, who wrote the value; the reason quotes it as message text.
    if near:
        value = near[0]
        size = len(urns.normalise(value))
        detail = f"'{value}' is not a URN: it has {size} characters, not 11."
        reason = f"{quoted(value)} is not a URN: it has {size} characters, not 11."
    elif unknown:
        detail = f"'{unknown[0]}' does not start with a police force code."
        reason = f"{quoted(unknown[0])} does not start with a police force code."
    else:
        detail = reason = "No URN was found in the subject."
    facts.details["urn"] = detail
    facts.reasons.append(f"URN missing: {reason}")


# --- court -------------------------------------------------------------------------------------


def _read_court(facts: RequestFacts, message: _Message, gazetteer: Gazetteer) -> None:
    court_values = [fold(b.text) for b in message.blocks if b.kind is LabelKind.COURT]

    def hearing_context() -> list[str]:
        """Where the body talks about the hearing, a town alone names its court ("listed in
        Birmingham on 15 January"): the hearing's own value and the sentences that date it."""
        blocks = {f.block for f in message.findings if f.role is Role.HEARING}
        blocks.update(
            index
            for index, text in enumerate(message.texts)
            if any(cue.kind is CueKind.HEARING for cue in text.cues)
        )
        return [
            fold(message.blocks[i].text)
            for i in sorted(blocks)
            if message.blocks[i].kind in (None, LabelKind.HEARING)
        ]

    finding: CourtFinding = gazetteer.resolve(
        facts.subject_folded, court_values, lambda: facts.body_folded, hearing_context
    )
    facts.court_status = finding.status
    facts.reasons.append(finding.reason)
    found = finding.status is Status.FOUND and finding.court is not None
    value = finding.court.name if found and finding.court else ", ".join(finding.candidates)
    where = "body" if "from the body" in finding.reason else "subject"
    facts.notes.add("court", found, value or "-", where, finding.reason)
    if finding.status is Status.FOUND:
        facts.court = finding.court
    elif finding.status is not Status.AMBIGUOUS:
        facts.missing.append("court")
        facts.details["court"] = _sentence(finding.reason)
        if finding.status is Status.OUTSIDE:
            facts.details[OUTSIDE_AREA] = _sentence(finding.reason)


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


# --- defendants --------------------------------------------------------------------------------


def _read_defendants(
    facts: RequestFacts,
    message: _Message,
    vocabulary: Vocabulary,
    gazetteer: Gazetteer,
    signer: str,
    today: dt.date,
    limits: Limits,
) -> set[int]:
    """Fill in the defendants; return the ids of the date findings read as dates of birth
    (so that the hearing is not looked for among them)."""
    reading = read_defendants(
        message.blocks,
        message.texts,
        message.findings,
        vocabulary.names,
        gazetteer,
        signer=signer,
        subject_surnames=_capitalised_words(message.subject),
        today=today,
        limits=limits,
        notes=facts.notes,
    )
    facts.defendants = reading.defendants
    named = [d for d in reading.defendants if d.name]
    if not named:
        facts.missing.append("defendant_name")
        facts.details["defendant_name"] = "No defendant's name was found in the body."
    if not reading.defendants or any(d.dob is None for d in reading.defendants):
        facts.missing.append("dob")
        facts.details["dob"] = (
            f"The date of birth given is not plausible: a defendant must be at least "
            f"{limits.min_age} and under {limits.max_age} years old."
            if reading.implausible
            else "No date of birth was found for "
            + ("every defendant." if len(reading.defendants) > 1 else "the defendant.")
        )
    count = len(named)
    if count:
        facts.reasons.append(
            f"{count} defendant{'s' if count > 1 else ''} named"
            + (", each with a date of birth" if "dob" not in facts.missing else "")
        )
    if reading.implausible:
        facts.reasons.append("a date of birth was implausible and counts as missing")
    return {
        id(f)
        for f in message.findings
        if f.role is Role.BIRTH or any(_is_dob_of(f, d) for d in reading.defendants)
    }


def _is_dob_of(finding: DateFinding, defendant: Defendant) -> bool:
    mention = finding.mention
    dob = defendant.dob
    return dob is not None and (mention.day, mention.month) == (dob.day, dob.month)


def _display_name(from_value: str) -> str:
    """The name part of a From value ("Helen Marsh <h.marsh@…>" is Helen Marsh)."""
    name = from_value.split("<", 1)[0] if "<" in from_value else ""
    return " ".join(name.replace('"', " ").split())


def _capitalised_words(subject: str) -> frozenset[str]:
    """Surnames a subject marks in capitals ("R v BAILEY and DOYLE"), folded."""
    return frozenset(word.casefold() for word in capital_words(subject))


# --- hearing date ------------------------------------------------------------------------------


def _read_hearing(facts: RequestFacts, message: _Message, births: set[int], today: dt.date) -> None:
    """The hearing: the strongest evidence wins (a label, then a cue word, then a court named
    before a date), the body's before the subject's, the first written among equals; and
    last, the one future date left in a message about a hearing."""
    horizon = today + dt.timedelta(days=HEARING_HORIZON_DAYS)
    candidates: list[tuple[tuple[int, int], dt.date, DateFinding]] = []
    for order, finding in enumerate(message.findings):
        _consider_hearing(facts, message, finding, order, today, horizon, candidates)
    best = min(candidates, key=lambda c: c[0], default=None)
    # A subject's date counts one step weaker than the same evidence in the body, so none
    # outranks a body hearing read by a label or a cue word: the subject's dates are read
    # only when one might, or to explain.
    if best is None or -best[0][0] < LABEL - 1 or facts.notes.enabled:
        first = len(message.findings)
        for order, finding in enumerate(message.subject_findings, start=first):
            _consider_hearing(facts, message, finding, order, today, horizon, candidates)
        best = min(candidates, key=lambda c: c[0], default=None)
    if best is not None:
        _, date, finding = best
        facts.hearing_date = date
        if finding.block < 0:
            source = "subject"
        else:
            source = "labelled field" if finding.strength == LABEL else "text of the body"
        facts.reasons.append(f"hearing date from the {source}")
        why = f"a hearing by '{finding.cue}'"
        facts.notes.add("hearing_date", True, date.isoformat(), _where(message, finding), why)
        return
    labelled = [b for b in message.blocks if b.kind is LabelKind.HEARING]
    if not labelled:
        court_named = facts.court_status in (Status.FOUND, Status.AMBIGUOUS)
        date, finding = _only_future_date(message, births, court_named, today, horizon)
        if date is not None and finding is not None:
            facts.hearing_date = date
            facts.reasons.append("hearing date: the one future date in a message about a hearing")
            facts.notes.add(
                "hearing_date",
                True,
                date.isoformat(),
                _where(message, finding),
                "the only future date, in a message about a hearing",
            )
            return
    facts.missing.append("hearing_date")
    facts.details["hearing_date"] = (
        "The hearing is mentioned but no date is given for it."
        if labelled
        else "No hearing date was found in the body."
    )


def _consider_hearing(
    facts: RequestFacts,
    message: _Message,
    finding: DateFinding,
    order: int,
    today: dt.date,
    horizon: dt.date,
    candidates: list[tuple[tuple[int, int], dt.date, DateFinding]],
) -> None:
    """Add `finding` to the hearing's candidates as ((rank, order), date, finding), lower
    better, if it is a hearing's date within reach; note it if it is turned down."""
    if finding.role is Role.EVENT and facts.notes.enabled:
        date = resolve_hearing(finding.mention, today)
        why = f"another event, by '{finding.cue}'"
        shown = date.isoformat() if date else "?"
        facts.notes.add("hearing_date", False, shown, _where(message, finding), why)
    if finding.role is not Role.HEARING:
        return
    date = resolve_hearing(finding.mention, today)
    if date is None:
        return
    if not today <= date <= horizon:
        why = "is in the past" if date < today else "is years ahead"
        facts.notes.add("hearing_date", False, date.isoformat(), _where(message, finding), why)
        return
    # A subject's date counts as one step weaker than the same evidence in the body.
    rank = -finding.strength + (1 if finding.block < 0 else 0)
    candidates.append(((rank, order), date, finding))


def _only_future_date(
    message: _Message, births: set[int], court_named: bool, today: dt.date, horizon: dt.date
) -> tuple[dt.date | None, DateFinding | None]:
    about_a_hearing = court_named or any(
        cue.kind is CueKind.HEARING for text in message.texts for cue in text.cues
    )
    if not about_a_hearing:
        return None, None
    dates: dict[dt.date, DateFinding] = {}
    for finding in [*message.findings, *message.subject_findings]:
        if (
            finding.role is not Role.NONE
            or id(finding) in births
            or finding.mention.days_from_today is not None
        ):
            continue
        date = resolve_hearing(finding.mention, today)
        if date is not None and today <= date <= horizon:
            dates.setdefault(date, finding)
    if len(dates) != 1:
        return None, None
    ((date, finding),) = dates.items()
    return date, finding


def _where(message: _Message, finding: DateFinding) -> str:
    return "subject" if finding.block < 0 else message.blocks[finding.block].where()


# --- nature of the request ---------------------------------------------------------------------


def _read_nature(facts: RequestFacts, message: _Message, vocabulary: Vocabulary) -> None:
    for block in message.blocks:
        if block.kind is LabelKind.NATURE:
            if vocabulary.is_empty_value(block.text.strip(" .-:")):
                facts.notes.add("nature", False, block.text, block.where(), "the label is empty")
                continue
            facts.nature = _short(block.text)
            facts.reasons.append("nature of request from the labelled field")
            facts.notes.add(
                "nature", True, facts.nature, block.where(), f"labelled '{block.label}'"
            )
            return
    # Otherwise the first sentence that asks for something; failing that, the first that
    # names something asked for ("The CPS to serve IDPC"); a sentence that only points
    # elsewhere ("Please see below") last.
    asking: Block | None = None
    naming: Block | None = None
    pointing: Block | None = None
    for block, text in zip(message.blocks, message.texts, strict=True):
        if block.kind is not None:
            continue
        if vocabulary.asks(text.lowered):
            if not vocabulary.only_points(text.lowered):
                asking = block
                break
            pointing = pointing or block
        elif naming is None and vocabulary.names_a_request(text.lowered):
            naming = block
    chosen = asking or naming or pointing
    if chosen is not None:
        why = (
            "a sentence that asks for something"
            if chosen is asking
            else "a sentence that names what is asked for"
            if chosen is naming
            else "the only sentence that asks for anything"
        )
        _take_nature(facts, chosen, why)
        return
    word = vocabulary.subject_request(facts.subject_folded)
    if word:
        facts.nature = word
        facts.reasons.append("nature of request from the subject")
        facts.notes.add("nature", True, word, "subject", "a request word")
        return
    facts.missing.append("nature")
    facts.details["nature"] = "The message does not say what is being asked for."


def _take_nature(facts: RequestFacts, block: Block, why: str) -> None:
    facts.nature = _short(block.text)
    facts.reasons.append("nature of request from the text of the body")
    facts.notes.add("nature", True, facts.nature, block.where(), why)


def _short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_NATURE_CHARS:
        return text
    cut = text[:MAX_NATURE_CHARS].rsplit(" ", 1)[0]
    return cut + "…"
