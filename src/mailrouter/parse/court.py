"""Which court centre does a message name? (DESIGN §4)

The gazetteer (routing_rules/courts.yaml) knows each court's towns ("places") and its own
names ("aliases": "Victoria Law Courts", "NSJC"). A mention is a place with an optional
qualifier after it ("Birmingham MC", "Brum Crown", "Wolverhampton CC") or before it ("the
Crown Court at Warwick"), or an alias. A town with one open court needs no qualifier; a town
with both kinds does, unless the message settles it: a Crown-only hearing type (PTPH, FCMH)
or the body naming the same court with a qualifier. The subject is read first and bare town
names count there; in the body only explicit mentions count, because bodies mention towns for
every other reason (addresses, firm names, DX numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from mailrouter.model import Court, CourtType
from mailrouter.parse.text import fold
from mailrouter.rules.schema import Courts, CourtSpec

# Words that cannot be a court's town in "<town> Crown Court" (reading an unknown court name).
_NOT_TOWNS = frozenset(
    """the a an at in to of for before from and or this that our your his her their its r v re
    fw fwd urn ref listed hearing trial ptph fcmh mention sentence next date local same which
    any no by with on please confirm both each court courts crown magistrates mags mc cc youth
    case cases sent send transferred committed committal appeal matter new previous""".split()
)
_CONNECTORS = frozenset(("at", "in", "sitting"))
# Qualifiers that mean a court only right after a town: alone, "the Crown" is the prosecution
# ("whether the Crown will agree"), and "CC"/"MC" are too short to trust.
_WEAK = frozenset((("crown",), ("cc",), ("mc",), ("youth",)))
_NON_CRIMINAL = ("county court", "family court", "civil justice centre", "tribunal")


_TYPE_WORDS = {CourtType.CROWN: "Crown Court", CourtType.MAGISTRATES: "magistrates' court"}


class Status(StrEnum):
    FOUND = "found"
    AMBIGUOUS = "ambiguous"
    CLOSED = "closed"
    OUTSIDE = "outside"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Mention:
    courts: frozenset[int]
    qualifier: CourtType | None
    explicit: bool  # a qualifier or an alias: it names a court, not just a town
    text: str
    outside: bool = False


@dataclass(frozen=True, slots=True)
class CourtFinding:
    status: Status
    court: Court | None
    reason: str
    candidates: tuple[str, ...] = ()


class Gazetteer:
    def __init__(self, spec: Courts) -> None:
        self.specs: list[CourtSpec] = list(spec.courts)
        self.courts: list[Court] = [Court(c.name, c.type, c.area) for c in spec.courts]
        self._places: dict[tuple[str, ...], set[int]] = {}
        self._aliases: dict[tuple[str, ...], set[int]] = {}
        self._outside: set[tuple[str, ...]] = set()
        self._qualifiers: dict[tuple[str, ...], CourtType | None] = {}
        self._hints: list[tuple[re.Pattern[str], CourtType]] = []
        for index, court in enumerate(spec.courts):
            for place in court.places:
                self._places.setdefault(_key(place), set()).add(index)
            for alias in court.aliases:
                self._aliases.setdefault(_key(alias), set()).add(index)
        for place in spec.out_of_area:
            self._outside.add(_key(place))
        for court_type, words in spec.qualifiers.items():
            for word in words:
                self._qualifiers[_key(word)] = court_type
        for word in ("court", "courts", "justice centre", "law courts", "court centre"):
            self._qualifiers.setdefault(_key(word), None)
        for court_type, words in spec.type_hints.items():
            phrases = sorted({fold(w).strip() for w in words}, key=len, reverse=True)
            alternation = "|".join(re.escape(p) for p in phrases)
            self._hints.append((re.compile(f" (?:{alternation})(?= )"), court_type))
        starts: dict[str, int] = {}
        for table in (self._places, self._aliases, self._outside, self._qualifiers):
            for phrase in table:
                starts[phrase[0]] = max(starts.get(phrase[0], 0), len(phrase))
        self._starts = starts

    # --- reading mentions ---------------------------------------------------------------

    def mentions(self, folded: str, *, bare_places: bool) -> tuple[list[Mention], set[CourtType]]:
        """Court mentions in `folded` text (parse.text.fold), and the court types its
        free-standing words point to ("in the Crown Court", "PTPH")."""
        tokens = folded.split()
        found: list[Mention] = []
        hints: set[CourtType] = {t for words, t in self._hints if words.search(folded)}
        pending: tuple[int, CourtType | None] | None = None  # a qualifier awaiting "at <town>"
        starts = self._starts
        i = 0
        for start in [n for n, token in enumerate(tokens) if token in starts]:
            if start < i:
                continue  # inside a phrase already read
            i = start
            length, kind, payload = self._longest(tokens, i, starts[tokens[i]])
            if kind == "qualifier":
                qualifier = payload if isinstance(payload, CourtType) else None
                unknown = self._unknown_court(tokens, i, length, bare_places)
                if unknown is not None:
                    found.append(unknown)
                    if qualifier is not None:
                        hints.add(qualifier)
                elif qualifier is not None and tuple(tokens[i : i + length]) not in _WEAK:
                    hints.add(qualifier)
                    pending = (i + length, qualifier)
                i += length
                continue
            if kind is None:
                i += 1
                continue
            end = i + length
            qualifier, qlen = self._qualifier_at(tokens, end)
            prefixed = pending is not None and _connected(tokens, pending[0], i)
            if qlen == 0 and prefixed and pending is not None:
                qualifier = pending[1]
                if qualifier is not None:
                    hints.discard(qualifier)  # it named this court; it is not a free hint
            text_seen = " ".join(tokens[i : end + qlen])
            if kind == "outside":
                if qlen or prefixed or bare_places:
                    found.append(Mention(frozenset(), qualifier, True, text_seen, outside=True))
            elif self._non_criminal(tokens, end):
                found.append(Mention(frozenset(), None, True, text_seen, outside=True))
            else:
                explicit = kind == "alias" or qlen > 0 or prefixed
                after_v = i > 0 and tokens[i - 1] == "v"  # "R v Dudley": a surname
                if (explicit or bare_places) and not (after_v and not explicit):
                    found.append(
                        Mention(frozenset(payload), qualifier, explicit, text_seen)  # type: ignore[arg-type]
                    )
            pending = None
            i = end + qlen
        return found, hints

    def _longest(self, tokens: list[str], i: int, limit: int) -> tuple[int, str | None, object]:
        for length in range(min(limit, len(tokens) - i), 0, -1):
            phrase = tuple(tokens[i : i + length])
            if phrase in self._aliases:
                return length, "alias", self._aliases[phrase]
            if phrase in self._places:
                return length, "place", self._places[phrase]
            if phrase in self._outside:
                return length, "outside", None
            if phrase in self._qualifiers:
                return length, "qualifier", self._qualifiers[phrase]
        return 1, None, None

    def _qualifier_at(self, tokens: list[str], i: int) -> tuple[CourtType | None, int]:
        best: tuple[CourtType | None, int] = (None, 0)
        for length in range(1, 5):
            phrase = tuple(tokens[i : i + length])
            if len(phrase) < length:
                break
            if phrase in self._qualifiers:
                best = (self._qualifiers[phrase], length)
        return best

    def _non_criminal(self, tokens: list[str], end: int) -> bool:
        following = " ".join(tokens[end : end + 3])
        return following.startswith(_NON_CRIMINAL)

    def _unknown_court(
        self, tokens: list[str], i: int, length: int, bare_places: bool
    ) -> Mention | None:
        """ "Manchester Crown Court": a qualified court whose town is not in the gazetteer."""
        phrase = " ".join(tokens[i : i + length])
        if phrase in ("court", "courts", "justice centre", "law courts", "court centre"):
            return None
        if i == 0:
            return None
        town = tokens[i - 1]
        if town in _NOT_TOWNS or not town.isalpha() or len(town) < 3:
            return None
        if not bare_places and (i < 2 or tokens[i - 2] not in ("at", "in", "before", "to", "from")):
            return None
        return Mention(frozenset(), None, True, f"{town} {phrase}", outside=True)

    # --- deciding -----------------------------------------------------------------------

    def resolve(self, subject: str, court_fields: list[str], body: str) -> CourtFinding:
        """The court named by a message; every argument is folded text (parse.text.fold)."""
        named, subject_hints = self.mentions(subject, bare_places=True)
        for value in court_fields:
            more, _ = self.mentions(value, bare_places=True)
            named.extend(more)
        in_body, body_hints = self.mentions(body, bare_places=False)
        hints = subject_hints | body_hints
        if named:
            return self._pick(named, in_body, hints, "subject")
        if in_body:
            return self._pick(in_body, in_body, hints, "body")
        return CourtFinding(Status.NONE, None, "no court centre is named")

    def _pick(
        self, mentions: list[Mention], in_body: list[Mention], hints: set[CourtType], where: str
    ) -> CourtFinding:
        # A court named outright outranks a bare town ("R v Stafford - Walsall MC"); a court
        # outside the area never hides one inside it.
        if any(m.explicit and not m.outside for m in mentions):
            mentions = [m for m in mentions if m.explicit]
        open_ids: set[int] = set()
        closed_ids: set[int] = set()
        outside: list[str] = []
        for mention in mentions:
            if mention.outside:
                outside.append(mention.text)
                continue
            ids = set(mention.courts)
            if mention.qualifier is not None:
                ids = {i for i in ids if self.courts[i].type is mention.qualifier}
                if not ids:
                    outside.append(mention.text)
                    continue
            live = {i for i in ids if not self.specs[i].closed}
            open_ids |= live
            if not live:
                closed_ids |= ids
        if len(open_ids) == 1:
            court = self.courts[next(iter(open_ids))]
            return CourtFinding(
                Status.FOUND, court, f"court centre {court.name} (from the {where})"
            )
        if open_ids:
            return self._settle(open_ids, in_body, hints, where)
        if closed_ids:
            spec = self.specs[min(closed_ids)]
            note = f" {spec.note}" if spec.note else ""
            return CourtFinding(
                Status.CLOSED, None, f"{spec.name} has closed and no longer hears cases.{note}"
            )
        if outside:
            names = ", ".join(sorted({_display(t) for t in outside}))
            return CourtFinding(
                Status.OUTSIDE, None, f"{names} is not a court centre of this CPS area"
            )
        return CourtFinding(Status.NONE, None, "no court centre is named")

    def _settle(
        self, candidates: set[int], in_body: list[Mention], hints: set[CourtType], where: str
    ) -> CourtFinding:
        narrowed = set(candidates)
        how = ""
        named_in_body: set[int] = set()
        for mention in in_body:
            if mention.explicit and not mention.outside:
                ids = mention.courts
                if mention.qualifier is not None:
                    ids = frozenset(i for i in ids if self.courts[i].type is mention.qualifier)
                named_in_body |= ids
        if narrowed & named_in_body and narrowed & named_in_body != narrowed:
            narrowed &= named_in_body
            how = "the body names the court"
        if len(narrowed) > 1 and len(hints) == 1:
            (hint,) = hints
            typed = {i for i in narrowed if self.courts[i].type is hint}
            if typed:
                narrowed = typed
                how = f"the message describes a {_TYPE_WORDS[hint]} hearing"
        names = tuple(sorted(self.courts[i].name for i in candidates))
        if len(narrowed) == 1:
            court = self.courts[next(iter(narrowed))]
            return CourtFinding(
                Status.FOUND, court, f"court centre {court.name} (from the {where}; {how})", names
            )
        return CourtFinding(
            Status.AMBIGUOUS,
            None,
            f"the court is ambiguous: it could be {' or '.join(names)}, "
            "and nothing in the message says which",
            names,
        )


def _key(text: str) -> tuple[str, ...]:
    return tuple(fold(text).split())


def _connected(tokens: list[str], after: int, place: int) -> bool:
    """ "crown court at birmingham": only connector words between a qualifier and a town."""
    between = tokens[after:place]
    return 0 < len(between) <= 2 and all(t in _CONNECTORS for t in between)


def _display(folded: str) -> str:
    return " ".join(w.upper() if w in ("mc", "cc") else w.capitalize() for w in folded.split())
