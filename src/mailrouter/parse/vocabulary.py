"""The reader's vocabulary (routing_rules/reader.yaml), compiled once per ruleset.

It answers four questions the reader asks of a message, each by looking words up rather than
by matching whole sentences (DESIGN §4a):

- what does a label say its value is ("Defendant's date of birth" -> a date of birth)?
- which cue words are in a piece of text, and where (a date's role comes from the nearest)?
- does a sentence ask for something?
- may a word be part of a defendant's name?

Phrases are folded (parse.text.fold) before they are compared, so case, apostrophes and
punctuation never matter. Cue phrases are found in the original text (lower-cased with its
offsets kept), because the reader measures how far a cue is from a date or a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from mailrouter.parse.people import NameWords, word_key
from mailrouter.parse.phrases import TextPhrases, phrase_regex
from mailrouter.parse.text import fold
from mailrouter.rules.schema import Reader

Problem = tuple[tuple[str | int, ...], str]  # (path in reader.yaml, what is wrong)


class LabelKind(StrEnum):
    """What a label says its value is."""

    DEFENDANT = "defendant"
    SURNAME = "surname"
    FORENAMES = "forenames"
    DOB = "dob"
    HEARING = "hearing"
    NATURE = "nature"
    COURT = "court"
    URN = "urn"
    OTHER = "other"


class CueKind(StrEnum):
    BIRTH = "birth"
    HEARING = "hearing"
    EVENT = "event"
    DEADLINE = "deadline"
    CLIENT = "client"


class Cue(NamedTuple):
    start: int
    end: int
    kind: CueKind
    phrase: str  # as written in the text


_LABEL_CACHE_SIZE = 4096
_UNKNOWN = object()
_FIRST_WORD = re.compile(r"[^\W_]+")
_MAX_LABEL_WORDS = 6
_JOINED = re.compile(r"/|&|\band\b|\+", re.IGNORECASE)
# Most particular first: a label naming two kinds of thing at once means the first listed.
_PARTICULAR = [
    LabelKind.OTHER,
    LabelKind.URN,
    LabelKind.DOB,
    LabelKind.HEARING,
    LabelKind.SURNAME,
    LabelKind.FORENAMES,
    LabelKind.COURT,
    LabelKind.NATURE,
    LabelKind.DEFENDANT,
]
_PLURAL = re.compile(r"\((?:s|es)\)", re.IGNORECASE)  # "Forename(s)", "Defendant(s)"
# Words that join the phrases of a label without changing what it says.
_JOINING_WORDS = frozenset("of the a an for in on to at and or his her their our your my".split())


@dataclass(frozen=True, slots=True)
class Vocabulary:
    labels: dict[str, LabelKind]
    label_regex: re.Pattern[str] | None
    cue_kinds: dict[str, CueKind]
    cue_phrases: TextPhrases
    request_phrases: TextPhrases
    topic_phrases: TextPhrases
    pointer_phrases: TextPhrases
    subject_request_regex: re.Pattern[str] | None
    empty_values: frozenset[str]  # folded: "tbc", "n a", "see below"
    names: NameWords
    date_label_starts: frozenset[str]  # the first words of date-of-birth and hearing labels
    _label_cache: dict[str, tuple[LabelKind | None, bool]] = field(
        default_factory=dict, compare=False
    )
    _cue_cache: dict[str, CueKind | None] = field(default_factory=dict, compare=False)

    # --- labels ----------------------------------------------------------------------------

    def label(self, text: str, *, alone: bool = False) -> LabelKind | None:
        """What the label `text` says its value is, or None when it is not a label this
        vocabulary knows (the line is then read as prose). Label phrases must make up the
        whole of `text`, but for joining words and one word more: "Date of birth of
        defendant", "Date of the next hearing" and "Newton hearing" are labels, "Our client is
        charged with" is not. A label `alone` on its line (no colon or tab after it) has no
        word of its own: "Request IDPC" is not a label. The longest phrase
        decides; a tie between an `other` phrase and a field is `other` ("Client ref"), and
        a tie between two fields ("Name/DOB") is no single field (read as prose)."""
        cached = self._label_cache.get(text)
        if cached is None:
            cached = self._classify_label(text)
            if len(self._label_cache) >= _LABEL_CACHE_SIZE:
                self._label_cache.clear()
            self._label_cache[text] = cached
        kind, extra = cached
        return None if alone and extra else kind

    def _classify_label(self, text: str) -> tuple[LabelKind | None, bool]:
        """(what the label says, whether it has a word of its own beyond label phrases)."""
        folded = fold(_PLURAL.sub("", text))
        words = folded.split()
        if self.label_regex is None or not 0 < len(words) <= _MAX_LABEL_WORDS:
            return None, False
        best = 0
        kinds: set[LabelKind] = set()
        every: set[LabelKind] = set()
        covered = sum(word in _JOINING_WORDS for word in words)
        for m in self.label_regex.finditer(folded):
            phrase = m.group(1)
            size = phrase.count(" ") + 1
            covered += size - sum(word in _JOINING_WORDS for word in phrase.split())
            every.add(self.labels[phrase])
            if size > best:
                best, kinds = size, {self.labels[phrase]}
            elif size == best:
                kinds.add(self.labels[phrase])
        # Every word in a label phrase or a joining word; a longer label may add one word of
        # its own ("Newton hearing", "Confiscation hearing").
        if not kinds or covered < len(words) - (1 if len(words) > 1 else 0):
            return None, False
        extra = covered < len(words)
        # Two kinds joined ("Name/DOB", "Name and date of birth") label a value holding both:
        # it is read as text. Otherwise the longest phrase decides, and on a tie the more
        # particular kind, since one qualifies the other ("Client DOB", "Client ref").
        if len(every - {LabelKind.OTHER}) > 1 and _JOINED.search(text):
            return None, extra
        if len(kinds) == 1:
            return next(iter(kinds)), extra
        return min(kinds, key=_PARTICULAR.index), extra

    # --- cues ------------------------------------------------------------------------------

    def cues(self, lowered: str) -> list[Cue]:
        """Every cue phrase in `lowered` (text lower-cased with its offsets kept)."""
        return self._cues(self.cue_phrases.find_all(lowered))

    def cues_each(self, lowered_texts: Sequence[str]) -> list[list[Cue]]:
        """cues() of each text, searched in one pass."""
        return [self._cues(found) for found in self.cue_phrases.find_each(lowered_texts)]

    def _cues(self, found: list[tuple[int, int, str]]) -> list[Cue]:
        out: list[Cue] = []
        cache = self._cue_cache
        for start, end, phrase in found:
            kind = cache.get(phrase, _UNKNOWN)
            if kind is _UNKNOWN:
                kind = self.cue_kinds.get(fold(phrase).strip())
                if len(cache) >= _LABEL_CACHE_SIZE:
                    cache.clear()
                cache[phrase] = kind
            if kind is not None:
                out.append(Cue(start, end, kind, phrase))  # type: ignore[arg-type]
        return out

    def may_start_date_label(self, word: str) -> bool:
        """Whether `word` can begin a date-of-birth or hearing label ("DOB", "Next")."""
        first = _FIRST_WORD.search(word.lower())
        return first is not None and first.group(0) in self.date_label_starts

    # --- requests --------------------------------------------------------------------------

    def asks(self, lowered: str) -> bool:
        """Whether a sentence asks for something ("please", "could you", "we invite")."""
        return self.request_phrases.found_in(lowered)

    def names_a_request(self, lowered: str) -> bool:
        """Whether a sentence names something defence firms ask for ("IDPC", "adjourn")."""
        return self.topic_phrases.found_in(lowered)

    def only_points(self, lowered: str) -> bool:
        """ "Please see below": a sentence whose request words only point elsewhere."""
        return self.pointer_phrases.found_in(lowered)

    def subject_request(self, folded_subject: str) -> str | None:
        if self.subject_request_regex is None:
            return None
        m = self.subject_request_regex.search(folded_subject)
        return m.group(1) if m else None

    def is_empty_value(self, value: str) -> bool:
        """ "TBC", "N/A", "see below": a labelled value that gives nothing."""
        if len(value) > 40:
            return False  # a sentence's worth is no placeholder
        folded = fold(value).strip()
        return not folded or folded in self.empty_values


def lowered(text: str) -> str:
    """`text` in lower case with every offset unchanged (str.lower can lengthen a few
    characters, such as 'İ'; those keep their case)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)


def build_vocabulary(spec: Reader) -> tuple[Vocabulary, list[Problem]]:
    problems: list[Problem] = []

    labels: dict[str, LabelKind] = {}
    for kind in LabelKind:
        entries = getattr(spec.labels, kind.value)
        _collect(entries, ("labels", kind.value), kind, labels, problems, "labels")

    cue_kinds: dict[str, CueKind] = {}
    for kind in (CueKind.BIRTH, CueKind.HEARING, CueKind.EVENT, CueKind.DEADLINE):
        entries = getattr(spec.cues, kind.value)
        _collect(entries, ("cues", kind.value), kind, cue_kinds, problems, "date cues")
    client: dict[str, CueKind] = {}
    _collect(spec.cues.client, ("cues", "client"), CueKind.CLIENT, client, problems, "client")
    # A client cue may also be a date cue's word only if it is not one: keep the date cue.
    for phrase, kind in client.items():
        cue_kinds.setdefault(phrase, kind)

    request: dict[str, str] = {}
    _collect(spec.request.asking, ("request", "asking"), "asking", request, problems, "request")
    topics: dict[str, str] = {}
    _collect(spec.request.topics, ("request", "topics"), "topics", topics, problems, "request")
    pointers: dict[str, str] = {}
    _collect(spec.request.pointers, ("request", "pointers"), "p", pointers, problems, "pointers")
    subject: dict[str, str] = {}
    _collect(spec.request.subject, ("request", "subject"), "s", subject, problems, "subject")
    empty: dict[str, str] = {}
    _collect(spec.request.empty, ("request", "empty"), "e", empty, problems, "empty")

    words: dict[str, frozenset[str]] = {}
    for name in ("titles", "particles", "ranks", "never", "others"):
        words[name] = _single_words(getattr(spec.names, name), ("names", name), problems)

    vocabulary = Vocabulary(
        labels=labels,
        label_regex=phrase_regex(labels),
        cue_kinds=cue_kinds,
        cue_phrases=TextPhrases(cue_kinds),
        request_phrases=TextPhrases(request),
        topic_phrases=TextPhrases(topics),
        pointer_phrases=TextPhrases(pointers),
        subject_request_regex=phrase_regex(subject),
        empty_values=frozenset(empty),
        date_label_starts=frozenset(
            phrase.split()[0]
            for phrase, kind in labels.items()
            if kind in (LabelKind.DOB, LabelKind.HEARING)
        ),
        # The words of client cues ("represent", "instructed") are never part of a name either.
        names=NameWords(
            words["titles"],
            words["particles"],
            words["ranks"],
            words["never"] | {word_key(word) for phrase in client for word in phrase.split()},
            words["others"],
        ),
    )
    return vocabulary, problems


def _collect(
    entries: Sequence[str],
    path: tuple[str | int, ...],
    kind: object,
    into: dict,
    problems: list[Problem],
    group: str,
) -> None:
    """Fold each phrase into `into`, reporting empty phrases and phrases listed twice."""
    for index, entry in enumerate(entries):
        phrase = fold(str(entry)).strip()
        if not phrase:
            problems.append(((*path, index), f"{entry!r} has no letters or digits"))
            continue
        if phrase in into:
            where = "this list" if into[phrase] == kind else f"{group} {into[phrase]}"
            problems.append(((*path, index), f"{entry!r} is already listed in {where}"))
            continue
        into[phrase] = kind


def _single_words(
    entries: Iterable[str], path: tuple[str | int, ...], problems: list[Problem]
) -> frozenset[str]:
    out: set[str] = set()
    for index, entry in enumerate(entries):
        word = word_key(str(entry).strip())
        if not word or " " in word:
            problems.append(((*path, index), f"{entry!r} must be one word"))
            continue
        out.add(word)
    return frozenset(out)
