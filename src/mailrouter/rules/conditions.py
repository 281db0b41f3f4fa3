"""Rule conditions compiled to small predicates over a message's facts.

Each predicate answers "does this hold?" and, when it does, appends a plain-English line to
`why`, so the decision can say which rule fired and for what reason. Names that a condition
refers to (keyword lists, case lists, areas, courts) are checked at compile time, so a typo in
rules.yaml is a `rules check` error and never a silent non-match.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from mailrouter.model import Court, SenderClass, quoted
from mailrouter.parse.request import RequestFacts
from mailrouter.rules.keywords import KeywordMatcher, PatternError, compile_pattern
from mailrouter.rules.schema import Condition

Why = list[str]
Predicate = Callable[["Facts", Why], bool]


@dataclass(slots=True)
class Facts:
    """What the rules can ask about a message. The sender is known up front; the request is
    read only when a rule first asks about it, so mail refused on its sender alone is never
    parsed (cheap to refuse, and nothing hostile in its body is ever looked at)."""

    sender_class: SenderClass
    sender_verified: bool
    keyword_lists: Mapping[str, KeywordMatcher]
    case_lists: Mapping[str, frozenset[str]]
    read: Callable[[], tuple[RequestFacts, tuple[str, ...]]]
    _reading: tuple[RequestFacts, tuple[str, ...]] | None = None
    _hits: dict[str, str | None] = field(default_factory=dict)

    @property
    def reading(self) -> tuple[RequestFacts, tuple[str, ...]]:
        if self._reading is None:
            self._reading = self.read()
        return self._reading

    @property
    def was_read(self) -> bool:
        return self._reading is not None

    @property
    def missing(self) -> list[str]:
        return self.reading[0].missing

    @property
    def ambiguous(self) -> bool:
        return self.reading[0].ambiguous

    @property
    def court(self) -> Court | None:
        return self.reading[0].court

    @property
    def urn(self) -> str | None:
        return self.reading[0].urn

    @property
    def tags(self) -> tuple[str, ...]:
        return self.reading[1]

    def keyword(self, name: str) -> str | None:
        """The phrase of keyword list `name` found in the subject or body (cached). Both are
        folded text padded with spaces, so joined they meet at a double space that no phrase
        can cross, and one search covers both."""
        if name not in self._hits:
            request = self.reading[0]
            matcher = self.keyword_lists[name]
            self._hits[name] = matcher.find(request.subject_folded + request.body_folded)
        return self._hits[name]


@dataclass(slots=True)
class Names:
    """What a condition may refer to, and where unknown references are reported."""

    keyword_lists: frozenset[str]
    case_lists: frozenset[str]
    areas: frozenset[str]
    courts: frozenset[str]
    problems: list[tuple[tuple[str | int, ...], str]] = field(default_factory=list)


def compile_condition(cond: Condition, names: Names, path: tuple[str | int, ...]) -> Predicate:
    tests: list[Predicate] = []

    def unknown(key: str, values: list[str], known: frozenset[str], what: str) -> None:
        for index, value in enumerate(values):
            if value not in known:
                names.problems.append(
                    ((*path, key, index), f"no {what} named {value!r} (known: {sorted(known)})")
                )

    if cond.sender_class is not None:
        classes = frozenset(cond.sender_class)

        def sender_class(f: Facts, why: Why) -> bool:
            return f.sender_class in classes and _say(why, f"sender is {f.sender_class.value}")

        tests.append(sender_class)
    if cond.sender_verified is not None:
        wanted_verified = cond.sender_verified

        def sender_verified(f: Facts, why: Why) -> bool:
            return f.sender_verified is wanted_verified and _say(
                why, "sender authenticated" if wanted_verified else "sender not authenticated"
            )

        tests.append(sender_verified)
    if cond.missing is not None:
        wanted_missing = cond.missing

        def missing(f: Facts, why: Why) -> bool:
            if isinstance(wanted_missing, bool):
                hit = bool(f.missing) is wanted_missing
            else:
                hit = any(item in f.missing for item in wanted_missing)
            return hit and _say(why, f"missing: {', '.join(f.missing) or 'nothing'}")

        tests.append(missing)
    if cond.ambiguous is not None:
        wanted_ambiguous = cond.ambiguous

        def ambiguous(f: Facts, why: Why) -> bool:
            return f.ambiguous is wanted_ambiguous and _say(
                why, "ambiguous" if wanted_ambiguous else "not ambiguous"
            )

        tests.append(ambiguous)
    if cond.court_type is not None:
        types = frozenset(cond.court_type)

        def court_type(f: Facts, why: Why) -> bool:
            return (
                f.court is not None
                and f.court.type in types
                and _say(why, f"court type is {f.court.type.value}")
            )

        tests.append(court_type)
    if cond.court_area is not None:
        unknown("court_area", cond.court_area, names.areas, "area")
        areas = frozenset(cond.court_area)

        def court_area(f: Facts, why: Why) -> bool:
            return (
                f.court is not None
                and f.court.area in areas
                and _say(why, f"court area is {f.court.area}")
            )

        tests.append(court_area)
    if cond.court is not None:
        unknown("court", cond.court, names.courts, "court")
        courts = frozenset(cond.court)

        def court(f: Facts, why: Why) -> bool:
            return (
                f.court is not None
                and f.court.name in courts
                and _say(why, f"court is {f.court.name}")
            )

        tests.append(court)
    if cond.urn_force is not None:
        forces = frozenset(cond.urn_force)

        def urn_force(f: Facts, why: Why) -> bool:
            return (
                f.urn is not None
                and f.urn[:2] in forces
                and _say(why, f"URN force code {f.urn[:2]}")
            )

        tests.append(urn_force)
    if cond.urn_in is not None:
        unknown("urn_in", cond.urn_in, names.case_lists, "case list")
        lists = tuple(cond.urn_in)

        def urn_in(f: Facts, why: Why) -> bool:
            for name in lists:
                if f.urn is not None and f.urn in f.case_lists[name]:
                    return _say(why, f"URN is on the {name} list")
            return False

        tests.append(urn_in)
    if cond.matches is not None:
        unknown("matches", cond.matches, names.keyword_lists, "keyword list")
        required = tuple(cond.matches)

        def matches(f: Facts, why: Why) -> bool:
            found = [(name, f.keyword(name)) for name in required]
            return all(hit for _, hit in found) and _say(
                why, "; ".join(f"{name} keyword {quoted(hit)}" for name, hit in found)
            )

        tests.append(matches)
    if cond.matches_any is not None:
        unknown("matches_any", cond.matches_any, names.keyword_lists, "keyword list")
        choices = tuple(cond.matches_any)

        def matches_any(f: Facts, why: Why) -> bool:
            for name in choices:
                hit = f.keyword(name)
                if hit:
                    return _say(why, f"{name} keyword {quoted(hit)}")
            return False

        tests.append(matches_any)
    for key, where in (("subject_pattern", "subject"), ("body_pattern", "body")):
        pattern_text = getattr(cond, key)
        if pattern_text is None:
            continue
        try:
            pattern = compile_pattern(pattern_text)
        except PatternError as exc:
            names.problems.append(((*path, key), str(exc)))
            continue
        tests.append(_pattern_test(pattern, where))
    if cond.tag is not None:
        tags = frozenset(cond.tag)

        def tag(f: Facts, why: Why) -> bool:
            hit = tags.intersection(f.tags)
            return bool(hit) and _say(why, f"tagged {', '.join(sorted(hit))}")

        tests.append(tag)
    if cond.any is not None:
        branches = [compile_condition(c, names, (*path, "any", i)) for i, c in enumerate(cond.any)]

        def any_of(f: Facts, why: Why) -> bool:
            for branch in branches:
                inner: Why = []
                if branch(f, inner):
                    why.extend(inner)
                    return True
            return False

        tests.append(any_of)
    if cond.all is not None:
        tests.extend(compile_condition(c, names, (*path, "all", i)) for i, c in enumerate(cond.all))
    if cond.not_ is not None:
        negated = compile_condition(cond.not_, names, (*path, "not"))

        def not_(f: Facts, why: Why) -> bool:
            return not negated(f, []) and _say(why, "exception does not apply")

        tests.append(not_)

    def predicate(f: Facts, why: Why) -> bool:
        mark = len(why)
        for test in tests:
            if not test(f, why):
                del why[mark:]
                return False
        return True

    return predicate


def _pattern_test(pattern: object, where: str) -> Predicate:
    def test(f: Facts, why: Why) -> bool:
        request = f.reading[0]
        text = request.subject_folded if where == "subject" else request.body_folded
        m = pattern.search(text)  # type: ignore[attr-defined]
        return m is not None and _say(why, f"{where} matches {quoted(m.group(0).strip())}")

    return test


def _say(why: Why, line: str) -> bool:
    why.append(line)
    return True
