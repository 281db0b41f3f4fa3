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

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import NamedTuple

from mailrouter.model import Court, CourtType
from mailrouter.parse.phrases import phrase_regex
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
_LEAD_INS = frozenset(("at", "in", "before", "to", "from"))
_GENERIC = ("court", "courts", "justice centre", "law courts", "court centre")
# Qualifiers that mean a court only right after a town: alone, "the Crown" is the prosecution
# ("whether the Crown will agree"), and "CC"/"MC" are too short to trust.
_WEAK = frozenset(("crown", "cc", "mc", "youth"))
_NON_CRIMINAL = ("county court", "family court", "civil justice centre", "tribunal")


_COURT_WORDS = frozenset(("alias", "place", "qualifier", "outside"))
_TYPE_WORDS = {CourtType.CROWN: "Crown Court", CourtType.MAGISTRATES: "magistrates' court"}


class Status(StrEnum):
    FOUND = "found"
    AMBIGUOUS = "ambiguous"
    CLOSED = "closed"
    OUTSIDE = "outside"
    NONE = "none"


class Mention(NamedTuple):
    courts: frozenset[int]
    qualifier: CourtType | None
    explicit: bool  # a qualifier or an alias: it names a court, not just a town
    text: str
    outside: bool = False
    building: bool = False  # the name of a building that houses courts of both kinds


class CourtFinding(NamedTuple):
    status: Status
    court: Court | None
    reason: str
    candidates: tuple[str, ...] = ()


class Gazetteer:
    def __init__(self, spec: Courts) -> None:
        self.specs: list[CourtSpec] = list(spec.courts)
        self.courts: list[Court] = [Court(c.name, c.type, c.area) for c in spec.courts]
        # Every phrase the reader knows, with what it is. A phrase listed twice keeps its
        # first meaning in this order: court alias, town, town outside the area, qualifier,
        # hearing type, non-criminal court.
        kinds: dict[str, tuple[str, object]] = {}
        places: dict[str, set[int]] = {}
        aliases: dict[str, set[int]] = {}
        for index, court in enumerate(spec.courts):
            for alias in court.aliases:
                aliases.setdefault(_key(alias), set()).add(index)
            for place in court.places:
                places.setdefault(_key(place), set()).add(index)
        for phrase, ids in aliases.items():
            kinds.setdefault(phrase, ("alias", frozenset(ids)))
        for phrase, ids in places.items():
            kinds.setdefault(phrase, ("place", frozenset(ids)))
        for place in spec.out_of_area:
            kinds.setdefault(_key(place), ("outside", None))
        for court_type, words in spec.qualifiers.items():
            for word in words:
                kinds.setdefault(_key(word), ("qualifier", court_type))
        for word in _GENERIC:
            kinds.setdefault(word, ("qualifier", None))
        for court_type, words in spec.type_hints.items():
            for word in words:
                kinds.setdefault(_key(word), ("hint", court_type))
        for word in _NON_CRIMINAL:
            kinds.setdefault(word, ("non-criminal", None))
        kinds.pop("", None)
        self._kinds = kinds
        self._regex = phrase_regex(kinds)

    # --- reading mentions ---------------------------------------------------------------

    def names_a_court(self, folded: str) -> bool:
        """Whether `folded` text names a court, a court town or a court word ("mc")."""
        if self._regex is None:
            return False
        return any(self._kinds[m.group(1)][0] in _COURT_WORDS for m in self._regex.finditer(folded))

    def is_place(self, word: str) -> bool:
        """Whether `word` (folded) is a court town or a court's own name."""
        kind = self._kinds.get(word)
        return kind is not None and kind[0] in ("place", "alias", "outside")

    def mentions(self, folded: str, *, bare_places: bool) -> tuple[list[Mention], set[CourtType]]:
        """Court mentions in `folded` text (parse.text.fold), and the court types its
        free-standing words point to ("in the Crown Court", "PTPH")."""
        found: list[Mention] = []
        hints: set[CourtType] = set()  # from hearing types only a court of one kind holds
        loose: set[CourtType] = set()  # from qualifiers standing alone ("in the Crown Court")
        if self._regex is None:
            return found, hints
        kinds = self._kinds
        hits = [(m.start(), m.end(), m.group(1)) for m in self._regex.finditer(folded)]
        pending: tuple[int, CourtType | None] | None = None  # a qualifier awaiting "at <town>"
        k = 0
        while k < len(hits):
            start, end, phrase = hits[k]
            kind, payload = kinds[phrase]
            k += 1
            if kind == "hint":
                hints.add(payload)  # type: ignore[arg-type]
                continue
            if kind == "non-criminal":
                continue
            if kind == "qualifier":
                qualifier = payload if isinstance(payload, CourtType) else None
                unknown = self._unknown_court(folded, start, phrase, bare_places)
                if unknown is not None:
                    found.append(unknown)
                    if qualifier is not None:
                        loose.add(qualifier)
                elif qualifier is not None and phrase not in _WEAK:
                    loose.add(qualifier)
                    pending = (end, qualifier)
                continue
            # A town, an alias, or a town outside the area: what follows it qualifies it.
            qualifier, qualified, non_criminal, seen_end = None, False, False, end
            if k < len(hits) and hits[k][0] == end:
                next_kind, next_payload = kinds[hits[k][2]]
                if next_kind == "qualifier":
                    qualifier = next_payload if isinstance(next_payload, CourtType) else None
                    qualified, seen_end = True, hits[k][1]
                    k += 1
                elif next_kind == "non-criminal":
                    non_criminal, seen_end = True, hits[k][1]
                    k += 1
            prefixed = pending is not None and _connected(folded[pending[0] : start])
            if not qualified and prefixed and pending is not None:
                qualifier = pending[1]
                if qualifier is not None:
                    loose.discard(qualifier)  # it named this court; it is not a loose hint
            pending = None
            text_seen = folded[start + 1 : seen_end]
            if kind == "outside":
                if qualified or prefixed or bare_places:
                    found.append(Mention(frozenset(), qualifier, True, text_seen, outside=True))
            elif non_criminal:
                found.append(Mention(frozenset(), None, True, text_seen, outside=True))
            else:
                explicit = kind == "alias" or qualified or prefixed
                after_v = folded[start - 2 : start] == " v"  # "R v Dudley": a surname
                building = kind == "alias" and qualifier is None and len(payload) > 1  # type: ignore[arg-type]
                if (explicit or bare_places) and not (after_v and not explicit):
                    found.append(Mention(payload, qualifier, explicit, text_seen, False, building))  # type: ignore[arg-type]
        return found, hints | loose

    def _unknown_court(
        self, folded: str, start: int, phrase: str, bare_places: bool
    ) -> Mention | None:
        """ "Manchester Crown Court": a qualified court whose town is not in the gazetteer."""
        if phrase in _GENERIC:
            return None
        before = folded[max(0, start - 60) : start].split()
        if not before:
            return None
        town = before[-1]
        if town in _NOT_TOWNS or not town.isalpha() or len(town) < 3:
            return None
        if not bare_places and (len(before) < 2 or before[-2] not in _LEAD_INS):
            return None
        return Mention(frozenset(), None, True, f"{town} {phrase}", outside=True)

    # --- deciding -----------------------------------------------------------------------

    def resolve(
        self,
        subject: str,
        court_fields: list[str],
        body: Callable[[], str],
        hearing_context: Callable[[], Iterable[str]] = tuple,
    ) -> CourtFinding:
        """The court named by a message; every text is folded (parse.text.fold). The subject
        and labelled court values may name a court by its town alone, and so may the body's
        sentences about the hearing (`hearing_context`: "listed in Birmingham on …");
        elsewhere in the body only a court named outright counts (bodies mention towns for
        every other reason: addresses, firm names, DX numbers). The body and the hearing's
        sentences are given as functions: they are read only when the subject does not
        settle the court on its own."""
        named, hints = self.mentions(subject, bare_places=True)
        for value in court_fields:
            more, _ = self.mentions(value, bare_places=True)
            named.extend(more)
        if named:
            found = self._pick(named, [], hints, "subject")
            if found.status is not Status.AMBIGUOUS:
                return found
        in_body, body_hints = self.mentions(body(), bare_places=False)
        for text in hearing_context():
            more, _ = self.mentions(text, bare_places=True)
            in_body.extend(m for m in more if not m.explicit)
        hints |= body_hints
        if named:
            return self._pick(named, in_body, hints, "subject")
        if in_body:
            return self._pick(in_body, in_body, hints, "body")
        return CourtFinding(Status.NONE, None, "no court centre is named")

    def _pick(
        self, mentions: list[Mention], in_body: list[Mention], hints: set[CourtType], where: str
    ) -> CourtFinding:
        # A court named outright outranks a building that houses both kinds ("Leamington Spa
        # Magistrates' Court (Warwickshire Justice Centre)"), which outranks a bare town ("R v
        # Stafford - Walsall MC"); a court outside the area never hides one inside it.
        named = [m for m in mentions if m.explicit and not m.building]
        if any(not m.outside for m in named):
            mentions = named
        elif any(m.explicit and not m.outside for m in mentions):
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


def _key(text: str) -> str:
    return fold(text).strip()


def _connected(between: str) -> bool:
    """ "crown court at birmingham": only connector words between a qualifier and a town."""
    words = between.split()
    return 0 < len(words) <= 2 and all(w in _CONNECTORS for w in words)


def _display(folded: str) -> str:
    return " ".join(w.upper() if w in ("mc", "cc") else w.capitalize() for w in folded.split())
