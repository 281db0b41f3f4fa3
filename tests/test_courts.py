"""Court centres: every alias, qualifiers, ambiguity and how it is settled, closed courts and
courts outside the area (DESIGN §4)."""

from __future__ import annotations

import pytest

from conftest import STANDARD_BODY, Decider
from mailrouter.model import Action, CourtType
from mailrouter.parse.court import Status
from mailrouter.parse.text import fold
from mailrouter.rules.ruleset import Ruleset

M, C = CourtType.MAGISTRATES, CourtType.CROWN

PRACTITIONER_FORMS = {
    "Birmingham MC": ("Birmingham Magistrates' Court", M),
    "B'ham Mags": ("Birmingham Magistrates' Court", M),
    "Bham Magistrates": ("Birmingham Magistrates' Court", M),
    "Birmingham Magistrates Court": ("Birmingham Magistrates' Court", M),
    "Birmingham Magistrates' Court": ("Birmingham Magistrates' Court", M),
    "Victoria Law Courts": ("Birmingham Magistrates' Court", M),
    "Brum Crown": ("Birmingham Crown Court", C),
    "Birmingham CC": ("Birmingham Crown Court", C),
    "QEII Law Courts": ("Birmingham Crown Court", C),
    "Wolverhampton CC": ("Wolverhampton Crown Court", C),
    "Wolves MC": ("Wolverhampton Magistrates' Court", M),
    "Wolverhampton Combined Court Centre": ("Wolverhampton Crown Court", C),
    "Coventry Crown Court": ("Coventry Crown Court", C),
    "Coventry Magistrates": ("Coventry Magistrates' Court", M),
    "Stoke CC": ("Stoke-on-Trent Crown Court", C),
    "Stoke-on-Trent Crown Court": ("Stoke-on-Trent Crown Court", C),
    "Stoke": ("Stoke-on-Trent Crown Court", C),
    "NSJC": ("North Staffordshire Justice Centre", M),
    "North Staffs JC": ("North Staffordshire Justice Centre", M),
    "Newcastle-under-Lyme MC": ("North Staffordshire Justice Centre", M),
    "Warwick Crown": ("Warwick Crown Court", C),
    "the Crown Court at Warwick": ("Warwick Crown Court", C),
    "Leamington Spa MC": ("Leamington Spa Magistrates' Court", M),
    "Walsall": ("Walsall Magistrates' Court", M),
    "Walsall Youth Court": ("Walsall Magistrates' Court", M),
    "Dudley MC": ("Dudley Magistrates' Court", M),
    "Telford": ("Telford Magistrates' Court", M),
    "Cannock Mags": ("Cannock Magistrates' Court", M),
    "Kidderminster": ("Kidderminster Magistrates' Court", M),
    "Nuneaton": ("Nuneaton Magistrates' Court", M),
    "Stafford": ("Stafford Crown Court", C),
    "Shrewsbury": ("Shrewsbury Crown Court", C),
    "Worcester MC": ("Worcester Magistrates' Court", M),
    "Worcester Crown": ("Worcester Crown Court", C),
    "Hereford Crown Court": ("Hereford Crown Court", C),
    "Hereford Mags": ("Hereford Magistrates' Court", M),
    "Redditch Crown": ("Redditch Crown Court", C),
    "Redditch MC": ("Redditch Magistrates' Court", M),
}


@pytest.mark.parametrize("written", PRACTITIONER_FORMS, ids=PRACTITIONER_FORMS)
def test_practitioner_forms(ruleset: Ruleset, written: str) -> None:
    name, court_type = PRACTITIONER_FORMS[written]
    finding = ruleset.gazetteer.resolve(
        fold(f"URN 20AB1234521 - {written} - R v SMITH"), [], lambda: " "
    )
    assert finding.status is Status.FOUND, finding.reason
    assert finding.court is not None
    assert (finding.court.name, finding.court.type) == (name, court_type)


def _every_alias(ruleset: Ruleset) -> list[tuple[str, str]]:
    out = []
    for spec in ruleset.gazetteer.specs:
        qualifier = "MC" if spec.type is M else "Crown Court"
        for place in spec.places:
            out.append((f"{place} {qualifier}", spec.name))
        for alias in spec.aliases:
            out.append((alias, spec.name))
    return out


def test_every_bundled_alias_resolves(ruleset: Ruleset) -> None:
    # Each place (with its type's qualifier) and alias in courts.yaml must lead to its court:
    # found, closed, or (for a building two courts share) ambiguous between them.
    failures = []
    for written, name in _every_alias(ruleset):
        finding = ruleset.gazetteer.resolve(fold(f"{written} - R v SMITH"), [], lambda: " ")
        ok = (
            (finding.court is not None and finding.court.name == name)
            or (finding.status is Status.CLOSED and name in finding.reason)
            or (finding.status is Status.AMBIGUOUS and name in finding.candidates)
        )
        if not ok:
            failures.append(f"{written!r} -> {finding.status}: {finding.reason}")
    assert failures == []


AMBIGUOUS_TOWNS = ["Birmingham", "Coventry", "Wolverhampton", "Worcester", "Hereford",
                   "Redditch", "Leamington Spa", "Warwick", "Warwickshire Justice Centre",
                   "Hereford Justice Centre"]  # fmt: skip


@pytest.mark.parametrize("town", AMBIGUOUS_TOWNS)
def test_town_with_both_kinds_needs_a_qualifier(route: Decider, town: str) -> None:
    decision = route(f"URN 20AB1234521 - {town} - R v SMITH")
    assert decision.action is Action.HOLD and decision.route == "triage"
    assert "ambiguous" in " ".join(decision.reasons)


@pytest.mark.parametrize(
    "hint", ["PTPH", "FCMH", "plea and trial preparation hearing", "draft indictment"]
)
def test_crown_only_hearing_settles_as_crown(route: Decider, hint: str) -> None:
    body = STANDARD_BODY.replace("Hearing date: 15/12/2026", f"Hearing date: {hint} 15/12/2026")
    decision = route("URN 20AB1234521 - Worcester - R v SMITH", body)
    assert decision.action is Action.DELIVER and decision.route == "crown_court"
    assert decision.court is not None and decision.court.name == "Worcester Crown Court"


def test_body_naming_the_court_settles_it(route: Decider) -> None:
    body = STANDARD_BODY.replace(
        "Kind regards", "The case is listed at Birmingham Magistrates' Court.\n\nKind regards"
    )
    decision = route("URN 20AB1234521 - Birmingham - R v SMITH", body)
    assert decision.route == "magistrates"


def test_the_crown_meaning_the_prosecution_settles_nothing(route: Decider) -> None:
    body = STANDARD_BODY.replace(
        "please serve IDPC.", "please confirm whether the Crown will agree; the Crown's view."
    )
    assert route("URN 20AB1234521 - Birmingham - R v SMITH", body).action is Action.HOLD


def test_court_named_only_in_body(route: Decider) -> None:
    body = STANDARD_BODY.replace(
        "Hearing date: 15/12/2026", "Next hearing: 15/12/2026 - listed at Wolverhampton Crown Court"
    )
    decision = route("URN 20AB1234521 R v SMITH - adjournment", body)
    assert decision.court is not None and decision.court.name == "Wolverhampton Crown Court"


def test_court_field_in_body(route: Decider) -> None:
    body = "Court: Walsall\n" + STANDARD_BODY
    assert route("URN 20AB1234521 - R v SMITH", body).route == "magistrates"


def test_towns_in_signatures_are_not_courts(route: Decider) -> None:
    body = STANDARD_BODY + "14 Lombard Street, West Bromwich B70 8RT\nDX 715620 Birmingham 2\n"
    decision = route("URN 20AB1234521 - R v SMITH", body)
    assert decision.action is Action.BOUNCE and decision.missing == ["court"]


CLOSED = ["Sandwell MC", "West Bromwich Magistrates", "Halesowen MC", "Stafford MC",
          "Burton-upon-Trent MC", "Fenton MC", "Shrewsbury Magistrates' Court",
          "Sutton Coldfield MC", "Birmingham Youth Court", "Steelhouse Lane"]  # fmt: skip


@pytest.mark.parametrize("written", CLOSED)
def test_closed_court_is_bounced_saying_so(route: Decider, written: str) -> None:
    decision = route(f"URN 20AB1234521 - {written} - R v SMITH")
    assert decision.action is Action.BOUNCE and decision.missing == ["court"]
    assert "closed" in decision.details["court"]


@pytest.mark.parametrize(
    "written",
    ["Manchester Crown Court", "Derby Crown Court", "Newcastle Crown Court",
     "Northallerton Magistrates' Court", "Snaresbrook", "Southwark Crown Court"],
)  # fmt: skip
def test_court_outside_the_area_is_bounced(route: Decider, written: str) -> None:
    decision = route(f"URN 06MA3321726 - {written} - R v SMITH")
    assert decision.action is Action.BOUNCE and decision.missing == ["court"]
    assert "not a court centre of this CPS area" in decision.details["court"]


def test_no_court_at_all(route: Decider) -> None:
    decision = route("URN 20AB1234521 - R v SMITH - IDPC")
    assert (
        decision.missing == ["court"] and decision.details["court"] == "No court centre is named."
    )


def test_defendant_surname_that_is_a_town(route: Decider) -> None:
    decision = route("URN 20AB1234521 - Walsall MC - R v STAFFORD")
    assert decision.court is not None and decision.court.name == "Walsall Magistrates' Court"
    decision = route("URN 20AB1234521 - Walsall - R v Dudley")
    assert decision.court is not None and decision.court.name == "Walsall Magistrates' Court"


def test_urn_unit_code_is_not_a_court_word(route: Decider) -> None:
    # "CC" is West Midlands' Central Custody unit; it must not read as "Crown Court".
    decision = route("URN 20CC1234521 - Birmingham - R v SMITH")
    assert decision.action is Action.HOLD


def test_county_court_is_not_a_criminal_court(route: Decider) -> None:
    decision = route("URN 20AB1234521 - Birmingham County Court - R v SMITH")
    assert decision.action is Action.BOUNCE and decision.missing == ["court"]


def test_in_area_court_wins_over_a_stray_word_before_crown_court(route: Decider) -> None:
    decision = route("URN 20AB1234521 - SMITH Crown Court - Birmingham")
    assert decision.court is not None and decision.court.name == "Birmingham Crown Court"


def test_two_courts_of_different_towns_are_ambiguous(route: Decider) -> None:
    decision = route("URN 20AB1234521 - Walsall MC / Dudley MC - R v SMITH")
    assert decision.action is Action.HOLD
