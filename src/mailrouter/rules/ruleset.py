"""Load `routing_rules/` into one complete, compiled Ruleset, or fail with every problem.

Loading never returns a half-built ruleset: it reads and validates every file, checks the
references between them (routes, keyword lists, case lists, areas, courts), compiles the
patterns, and only then builds the Ruleset. The server swaps the running ruleset for a new
one in a single assignment, so a bad edit leaves the good rules running.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from mailrouter.model import Action, CourtType
from mailrouter.parse import urn as urns
from mailrouter.parse.court import Gazetteer
from mailrouter.parse.vocabulary import Vocabulary, build_vocabulary
from mailrouter.rules import yamlfile
from mailrouter.rules.conditions import Facts, Names, Predicate, compile_condition
from mailrouter.rules.keywords import KeywordMatcher, PatternError
from mailrouter.rules.schema import (
    CaseLists,
    Courts,
    Forces,
    Keywords,
    Mailboxes,
    Notices,
    Reader,
    RouteSpec,
    RulesFile,
    SenderPolicy,
    Settings,
)
from mailrouter.rules.yamlfile import Problem

_M = TypeVar("_M", bound=BaseModel)

FILES: dict[str, type[BaseModel]] = {
    "mailboxes.yaml": Mailboxes,
    "senders.yaml": SenderPolicy,
    "courts.yaml": Courts,
    "forces.yaml": Forces,
    "keywords.yaml": Keywords,
    "case_lists.yaml": CaseLists,
    "rules.yaml": RulesFile,
    "notices.yaml": Notices,
    "reader.yaml": Reader,
}


class RulesInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class CompiledRule:
    name: str
    description: str
    action: Action
    route: str | None
    when: Predicate
    unless: Predicate | None
    audit: bool = False
    catch_all: bool = False
    active_from: dt.datetime | None = None  # aware; the rule applies from then…
    active_until: dt.datetime | None = None  # …until then

    def active(self, now: dt.datetime) -> bool:
        if self.active_from is not None and now < self.active_from:
            return False
        return self.active_until is None or now < self.active_until

    def fires(self, facts: Facts) -> list[str] | None:
        why: list[str] = []
        if not self.when(facts, why):
            return None
        if self.unless is not None and self.unless(facts, []):
            return None
        return why


@dataclass(frozen=True, slots=True)
class Ruleset:
    directory: Path
    fingerprint: str
    mailboxes: Mailboxes
    senders: SenderPolicy
    gazetteer: Gazetteer
    forces: frozenset[str]
    keyword_lists: Mapping[str, KeywordMatcher]
    case_lists: Mapping[str, frozenset[str]]
    settings: Settings
    rules: tuple[CompiledRule, ...]
    notices: Notices
    vocabulary: Vocabulary

    @property
    def routes(self) -> Mapping[str, RouteSpec]:
        return self.mailboxes.routes

    def is_front_door(self, address: str) -> bool:
        return address.strip().lower() in self.mailboxes.front_door

    def unreachable(self) -> list[tuple[str, str]]:
        """(rule, the catch-all before it) for every rule that can never fire: it comes after
        a catch-all that always acts (not in audit mode, not bounded in time)."""
        found: list[tuple[str, str]] = []
        blocker: str | None = None
        for rule in self.rules:
            if blocker is not None:
                found.append((rule.name, blocker))
            elif (
                rule.catch_all
                and not rule.audit
                and rule.active_from is None
                and (rule.active_until is None)
            ):
                blocker = rule.name
        return found

    def first_rule(
        self,
        facts: Facts,
        now: dt.datetime | None = None,
        audits: list[tuple[CompiledRule, list[str]]] | None = None,
    ) -> tuple[CompiledRule, list[str]] | None:
        """The first rule in force at `now` that fires, with why. Audit rules that fire on
        the way are added to `audits` and do not stop the search."""
        for rule in self.rules:
            if now is not None and not rule.active(now):
                continue
            why = rule.fires(facts)
            if why is None:
                continue
            if rule.audit:
                if audits is not None:
                    audits.append((rule, why))
                continue
            return rule, why
        return None


LONDON = ZoneInfo("Europe/London")


def _moment(value: dt.datetime | dt.date | None, *, end: bool) -> dt.datetime | None:
    """A rule's window edge as an aware time: a date is the start of that day, or for an
    end the start of the next (so `active_until: 2027-01-31` includes the 31st); a time
    without a zone is London's."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        day = value + dt.timedelta(days=1) if end else value
        return dt.datetime.combine(day, dt.time.min, LONDON)
    return value if value.tzinfo else value.replace(tzinfo=LONDON)


def load_ruleset(directory: str | Path) -> Ruleset:
    directory = Path(directory)
    problems: list[Problem] = []
    models: dict[str, BaseModel] = {}
    lines: dict[str, dict[yamlfile.Path, int]] = {}
    digest = hashlib.sha256()
    if not directory.is_dir():
        raise RulesInvalid([Problem(str(directory), None, "", "no such rules directory")])
    for filename, model in FILES.items():
        path = directory / filename
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            problems.append(Problem(str(path), None, "", "file is missing"))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), None, "", f"cannot be read: {exc}"))
            continue
        digest.update(filename.encode() + b"\0" + text.encode() + b"\0")
        try:
            data, lines[filename] = yamlfile.load(text, str(path))
        except yamlfile.YamlError as exc:
            problems.append(exc.problem)
            continue
        try:
            models[filename] = model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                problems.append(
                    Problem(
                        str(path),
                        yamlfile.line_of(lines[filename], loc),
                        yamlfile.dotted(loc),
                        error["msg"],
                    )
                )
    if problems:
        raise RulesInvalid(problems)
    return _build(directory, digest.hexdigest()[:12], models, lines)


def _build(
    directory: Path,
    fingerprint: str,
    models: dict[str, BaseModel],
    lines: dict[str, dict[yamlfile.Path, int]],
) -> Ruleset:
    mailboxes = _as(models["mailboxes.yaml"], Mailboxes)
    courts = _as(models["courts.yaml"], Courts)
    forces = _as(models["forces.yaml"], Forces)
    keywords = _as(models["keywords.yaml"], Keywords)
    case_lists = _as(models["case_lists.yaml"], CaseLists)
    rules_file = _as(models["rules.yaml"], RulesFile)
    problems: list[Problem] = []

    def problem(filename: str, loc: tuple[str | int, ...], message: str) -> None:
        problems.append(
            Problem(
                str(directory / filename),
                yamlfile.line_of(lines[filename], loc),
                yamlfile.dotted(loc),
                message,
            )
        )

    matchers: dict[str, KeywordMatcher] = {}
    for name, spec in keywords.lists.items():
        try:
            matchers[name] = KeywordMatcher.build(name, spec)
        except PatternError as exc:
            problem("keywords.yaml", ("lists", name, "patterns"), str(exc))

    vocabulary, vocabulary_problems = build_vocabulary(_as(models["reader.yaml"], Reader))
    for loc, message in vocabulary_problems:
        problem("reader.yaml", loc, message)

    known_forces = frozenset(forces.forces)
    compiled_lists: dict[str, frozenset[str]] = {}
    for name, entries in case_lists.lists.items():
        compact: set[str] = set()
        for index, entry in enumerate(entries):
            if not urns.is_urn(str(entry), known_forces):
                problem("case_lists.yaml", ("lists", name, index), f"{entry!r} is not a URN")
            compact.add(urns.normalise(str(entry)))
        compiled_lists[name] = frozenset(compact)

    # An alias names one court of each type: a justice centre may house the Crown Court and
    # the magistrates' (a qualifier then settles which), but never two courts of one type.
    alias_of: dict[tuple[str, CourtType], str] = {}
    for index, court in enumerate(courts.courts):
        if court.area not in courts.areas:
            problem("courts.yaml", ("courts", index, "area"),
                    f"unknown area {court.area!r} (known: {sorted(courts.areas)})")  # fmt: skip
        for number, alias in enumerate(court.aliases):
            key = (" ".join(alias.casefold().split()), court.type)
            other = alias_of.setdefault(key, court.name)
            if other != court.name:
                where = ("courts", index, "aliases", number)
                problem("courts.yaml", where, f"alias {alias!r} already names {other}")
    names = Names(
        keyword_lists=frozenset(keywords.lists),
        case_lists=frozenset(case_lists.lists),
        areas=frozenset(courts.areas),
        courts=frozenset(c.name for c in courts.courts),
    )
    compiled: list[CompiledRule] = []
    for index, rule in enumerate(rules_file.rules):
        base = ("rules", index)
        if rule.route is not None and rule.route not in mailboxes.routes:
            problem(
                "rules.yaml",
                (*base, "route"),
                f"no route named {rule.route!r} in mailboxes.yaml "
                f"(known: {sorted(mailboxes.routes)})",
            )
        route = rule.route
        if rule.action is Action.HOLD and route is None:
            route = mailboxes.hold_route
        when = compile_condition(rule.when, names, (*base, "when"))
        unless = compile_condition(rule.unless, names, (*base, "unless")) if rule.unless else None
        active_from = _moment(rule.active_from, end=False)
        active_until = _moment(rule.active_until, end=True)
        if active_from is not None and active_until is not None and active_from >= active_until:
            problem("rules.yaml", (*base, "active_until"), "must come after active_from")
        compiled.append(
            CompiledRule(
                rule.name, rule.description, rule.action, route, when, unless,
                audit=rule.mode == "audit", catch_all=rule.catch_all,
                active_from=active_from, active_until=active_until,
            )
        )  # fmt: skip
    for loc, message in names.problems:
        problem("rules.yaml", loc, message)
    if problems:
        raise RulesInvalid(problems)
    return Ruleset(
        directory=directory,
        fingerprint=fingerprint,
        mailboxes=mailboxes,
        senders=_as(models["senders.yaml"], SenderPolicy),
        gazetteer=Gazetteer(courts),
        forces=known_forces,
        keyword_lists=matchers,
        case_lists=compiled_lists,
        settings=rules_file.settings,
        rules=tuple(compiled),
        notices=_as(models["notices.yaml"], Notices),
        vocabulary=vocabulary,
    )


def _as(model: BaseModel, kind: type[_M]) -> _M:
    assert isinstance(model, kind)
    return model
