"""The shape of every file in `routing_rules/`, as pydantic models.

Unknown keys are errors (`extra="forbid"`): a misspelt key in an ops-written file must fail
`mailrouter rules check`, not be silently ignored. Cross-file references (a rule naming a
route or keyword list that does not exist) are checked when the ruleset is built.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mailrouter.model import REQUIRED_ITEMS, Action, CourtType, SenderClass

Item = Literal["urn", "court", "defendant_name", "dob", "hearing_date", "nature"]
assert set(Item.__args__) == set(REQUIRED_ITEMS)  # type: ignore[attr-defined]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- mailboxes.yaml -----------------------------------------------------------------------


class RouteSpec(Strict):
    mailbox: str = Field(description="where mail on this route is delivered")
    subject_tag: str = Field(description="short tag put in the delivered subject, e.g. MAGS")
    description: str = ""

    @field_validator("mailbox")
    @classmethod
    def _mailbox(cls, value: str) -> str:
        if value.count("@") != 1 or any(ch.isspace() for ch in value):
            raise ValueError("must be one mail address")
        return value.lower()

    @field_validator("subject_tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        if not value or len(value) > 24 or not all(ch.isalnum() or ch in " -_" for ch in value):
            raise ValueError("1-24 letters, digits, spaces, '-' or '_'")
        return value


class Mailboxes(Strict):
    front_door: list[str] = Field(min_length=1, description="addresses accepted at RCPT")
    hold_route: str = "triage"
    subject_tag_format: str = "[{tag} {urn}]"
    # The tag of a held message, saying why a person must read it ({why}: e.g. "two URNs").
    subject_tag_held: str = "[HOLD {why}]"
    # Put before the route's tag when the hearing is near (tag `urgent`); "" shows nothing.
    subject_tag_urgent: str = ""
    routes: dict[str, RouteSpec] = Field(min_length=1)

    @field_validator("front_door")
    @classmethod
    def _front_door(cls, value: list[str]) -> list[str]:
        for address in value:
            if address.count("@") != 1 or any(ch.isspace() for ch in address):
                raise ValueError(f"{address!r} is not one mail address")
        return [a.lower() for a in value]

    @model_validator(mode="after")
    def _hold_route_exists(self) -> Mailboxes:
        if self.hold_route not in self.routes:
            raise ValueError(f"hold_route {self.hold_route!r} is not one of the routes")
        if "{tag}" not in self.subject_tag_format:
            raise ValueError("subject_tag_format must contain {tag}")
        return self


# --- senders.yaml -------------------------------------------------------------------------


class SenderPolicy(Strict):
    cjsm_suffixes: list[str] = ["cjsm.net"]
    police_suffixes: list[str] = ["police.uk"]
    trusted_relays: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    trusted_authserv_ids: list[str] = []
    verify_dkim: bool = True

    @field_validator("cjsm_suffixes", "police_suffixes")
    @classmethod
    def _suffixes(cls, value: list[str]) -> list[str]:
        out = []
        for suffix in value:
            suffix = suffix.strip().lower().lstrip(".")
            if "." not in suffix or not suffix.isascii():
                raise ValueError(f"{suffix!r} is not a domain")
            out.append(suffix)
        return out


# --- courts.yaml --------------------------------------------------------------------------


class CourtSpec(Strict):
    name: str
    type: CourtType
    area: str
    places: list[str] = Field(
        default=[], description="town names that, with a qualifier if needed, mean this court"
    )
    aliases: list[str] = Field(default=[], description="names that mean this court on their own")
    closed: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _named_somehow(self) -> CourtSpec:
        if not self.places and not self.aliases:
            raise ValueError(f"court {self.name!r} needs at least one place or alias")
        return self


class Courts(Strict):
    areas: dict[str, str] = Field(min_length=1, description="area id -> display name")
    qualifiers: dict[CourtType, list[str]]
    type_hints: dict[CourtType, list[str]] = {}
    courts: list[CourtSpec] = Field(min_length=1)
    out_of_area: list[str] = []

    # Which areas are known, and which aliases are taken, is checked where the ruleset is
    # built (rules/ruleset.py), so a problem is reported at the court's own line.


# --- forces.yaml --------------------------------------------------------------------------


class Forces(Strict):
    forces: dict[str, str] = Field(min_length=1, description="2-digit PNC force code -> name")

    @field_validator("forces")
    @classmethod
    def _codes(cls, value: dict[str, str]) -> dict[str, str]:
        for code in value:
            if len(code) != 2 or not code.isdigit():
                raise ValueError(f"force code {code!r} must be two digits (quote it in YAML)")
        return value


# --- keywords.yaml ------------------------------------------------------------------------


class KeywordList(Strict):
    description: str = ""
    phrases: list[str] = []
    patterns: list[str] = Field(default=[], description="RE2 syntax, on folded text")

    @model_validator(mode="after")
    def _not_empty(self) -> KeywordList:
        if not self.phrases and not self.patterns:
            raise ValueError("a keyword list needs phrases or patterns")
        return self


class Keywords(Strict):
    lists: dict[str, KeywordList] = Field(min_length=1)


# --- case_lists.yaml ----------------------------------------------------------------------


class CaseLists(Strict):
    lists: dict[str, list[str]] = {}


# --- rules.yaml ---------------------------------------------------------------------------


class Condition(Strict):
    """All keys given must hold. `any`, `all` and `not` combine conditions."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    sender_class: list[SenderClass] | None = None
    sender_verified: bool | None = None
    missing: bool | list[Item] | None = None
    ambiguous: bool | None = None
    court_type: list[CourtType] | None = None
    court_area: list[str] | None = None
    court: list[str] | None = None
    urn_force: list[str] | None = None
    urn_in: list[str] | None = None
    matches: list[str] | None = None
    matches_any: list[str] | None = None
    subject_pattern: str | None = None
    body_pattern: str | None = None
    tag: list[str] | None = None
    any: list[Condition] | None = None
    all: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in type(self).model_fields)


class Rule(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    description: str = ""
    when: Condition = Condition()
    unless: Condition | None = None
    action: Action = Action.DELIVER
    route: str | None = None
    catch_all: bool = False
    # audit: record what the rule would have done and go on to the next rule (try a rule on
    # real traffic before it acts). active_from / active_until: the rule applies only in this
    # window (a date means from the start of that day, or to the end of it, London time).
    mode: Literal["enforce", "audit"] = "enforce"
    active_from: dt.datetime | dt.date | None = None
    active_until: dt.datetime | dt.date | None = None

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if self.action is Action.DELIVER and not self.route:
            raise ValueError("a deliver rule needs a route")
        if self.action in (Action.BOUNCE, Action.REJECT) and self.route:
            raise ValueError(f"a {self.action.value} rule has no route")
        if self.when.is_empty() and not self.catch_all:
            raise ValueError(
                "a rule with no conditions matches every message; say catch_all: true if meant"
            )
        return self


class Settings(Strict):
    urgent_within_working_days: int = Field(default=2, ge=0, le=30)
    resubmission_window_days: int = Field(default=90, ge=0, le=3650)
    min_defendant_age: int = Field(default=10, ge=0, le=30)
    max_defendant_age: int = Field(default=110, ge=50, le=150)


class RulesFile(Strict):
    settings: Settings = Settings()
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> RulesFile:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}")
            seen.add(rule.name)
        return self


# --- notices.yaml -------------------------------------------------------------------------


class BounceText(Strict):
    summary: str
    intro: str
    items: dict[Item, str]
    example_heading: str
    example_subject: str
    example_body: str
    closing: str = ""
    # Said instead of the court item, and instead of the example, when the court named is
    # outside the area ({detail}: which court, and that it is not this area's).
    outside_area: str = ""


class Notices(Strict):
    bounce: BounceText
    reject: str
    hold: str = ""


# --- reader.yaml --------------------------------------------------------------------------


class ReaderLabels(Strict):
    """Label phrases by what their value is (DESIGN §4a). Checked for overlaps when built."""

    defendant: list[str] = Field(min_length=1)
    surname: list[str] = []
    forenames: list[str] = []
    dob: list[str] = Field(min_length=1)
    hearing: list[str] = Field(min_length=1)
    nature: list[str] = Field(min_length=1)
    court: list[str] = []
    urn: list[str] = []
    other: list[str] = []


class ReaderCues(Strict):
    birth: list[str] = Field(min_length=1)
    hearing: list[str] = Field(min_length=1)
    event: list[str] = []
    deadline: list[str] = []
    client: list[str] = Field(min_length=1)


class ReaderRequest(Strict):
    asking: list[str] = Field(min_length=1)
    topics: list[str] = []
    pointers: list[str] = []
    empty: list[str] = []
    subject: list[str] = []


class ReaderNames(Strict):
    titles: list[str] = []
    particles: list[str] = []
    ranks: list[str] = []
    others: list[str] = []
    never: list[str] = []


class Reader(Strict):
    labels: ReaderLabels
    cues: ReaderCues
    request: ReaderRequest
    names: ReaderNames = ReaderNames()
