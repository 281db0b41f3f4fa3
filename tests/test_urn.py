"""URNs in every written form, and the look-alikes that must not pass as one (DESIGN §4)."""

from __future__ import annotations

import pytest

from conftest import STANDARD_BODY, Decider
from mailrouter.model import Action
from mailrouter.parse.urn import is_urn, normalise, scan_urns

FORCES = frozenset({"20", "21", "22", "23", "93", "06", "01"})

FORMS = {
    "compact": ("20AB1234521", "20AB1234521"),
    "spaced": ("20 AB 12345 21", "20AB1234521"),
    "spaced-once": ("20AB 12345 21", "20AB1234521"),
    "slashed": ("20/AB/12345/21", "20AB1234521"),
    "dashed": ("20-AB-12345-21", "20AB1234521"),
    "dotted": ("20.AB.12345.21", "20AB1234521"),
    "slashes-with-spaces": ("20 / AB / 12345 / 21", "20AB1234521"),
    "lower-case": ("20ab1234521", "20AB1234521"),
    "unit-letter-digit": ("20P10441726", "20P10441726"),
    "btp": ("93NE2617826", "93NE2617826"),
    "other-force": ("06MA3321726", "06MA3321726"),
}


@pytest.mark.parametrize("written,compact", FORMS.values(), ids=FORMS.keys())
def test_urn_forms(written: str, compact: str) -> None:
    assert scan_urns(f"Re: {written} - R v SMITH", FORCES).urns == [compact]


@pytest.mark.parametrize(
    "prefix", ["URN ", "URN: ", "urn:", "Ref: ", "Our ref ", "Your ref: ", "Case ref. ", "URN#"]
)
def test_urn_after_labels(prefix: str) -> None:
    assert scan_urns(f"{prefix}20/AB/12345/21 Birmingham MC", FORCES).urns == ["20AB1234521"]


LOOKALIKES = {
    "phone": "Tel 0121 496 0734",
    "mobile": "M: 07700 900456",
    "pnc-id": "PNC ID: 04/1187442X",
    "court-case-number": "Court case ref 05/9876/123456R",
    "crown-court-number": "Crown Court case no: T20267041",
    "custody-number": "Custody no 20/123456/26",
    "date": "Hearing 21/12/2026",
    "dx": "DX 715620 West Bromwich 2",
    "postcode": "B70 8RT",
    "embedded-in-longer-token": "X20AB1234521Y",
    "ten-characters": "URN 20AB123421",
    "twelve-characters": "URN 20AB123456721",
    "unknown-force": "URN 99ZZ1234526",
}


@pytest.mark.parametrize("text", LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_lookalikes_are_not_urns(text: str) -> None:
    assert scan_urns(text, FORCES).urns == []


def test_near_miss_is_reported() -> None:
    scan = scan_urns("URN 20BW553126 - Birmingham MC - R v MORTON", FORCES)
    assert scan.urns == [] and scan.near_misses == ["20BW553126"]


def test_unknown_force_is_reported() -> None:
    assert scan_urns("URN 99ZZ1234526", FORCES).unknown_forces == ["99ZZ1234526"]


def test_normalise_and_validate() -> None:
    assert normalise(" 20/ab-12345.21 ") == "20AB1234521"
    assert is_urn("20 ab 12345 21", FORCES)
    assert not is_urn("99AB1234521", FORCES)


def test_two_urns_in_subject_are_held(route: Decider) -> None:
    decision = route("URNs 20BN4471226 and 20BS0932126 - Birmingham MC - R v BARKER")
    assert decision.action is Action.HOLD and decision.route == "triage"
    assert decision.urn is None


def test_same_urn_twice_is_one_urn(route: Decider) -> None:
    decision = route("RE: URN 20AB1234521 - Birmingham MC - 20/AB/12345/21")
    assert decision.action is Action.DELIVER and decision.urn == "20AB1234521"


def test_urn_only_in_body_is_used(route: Decider) -> None:
    body = STANDARD_BODY.replace("Defendant:", "URN: 20 AB 12345 21\nDefendant:")
    decision = route("Birmingham MC - R v SMITH", body)
    assert decision.action is Action.DELIVER and decision.urn == "20AB1234521"


def test_older_urn_in_quoted_reply_is_not_this_messages(route: Decider) -> None:
    body = STANDARD_BODY + (
        "\n________________________________\nFrom: A Solicitor\nSent: 02 November 2026 14:11\n"
        "Subject: URN 22TF0031125 - Telford\n\nURN 22TF0031125\nDefendant: Darren COLE\n"
    )
    decision = route("Birmingham MC - R v SMITH", body)
    assert decision.action is Action.BOUNCE and decision.missing == ["urn"]


def test_missing_urn_bounce_explains_near_miss(route: Decider) -> None:
    decision = route("URN 20BW553126 - Birmingham MC - R v MORTON")
    assert decision.action is Action.BOUNCE and decision.missing == ["urn"]
    assert "10 characters" in decision.details["urn"]


def test_a_urn_the_body_gives_as_the_cases_contradicts_the_subject(route: Decider) -> None:
    rest = "Defendant: John SMITH\nDOB: 01/02/1990\nHearing: 15/12/2026\nRequest: IDPC\n"
    labelled = route("URN 20WS1234526 Walsall MC", "URN: 20WS7654326\n" + rest)
    said = route("URN 20WS1234526 Walsall MC", rest + "The correct URN is 20WS 76543 26.\n")
    assert labelled.action is Action.HOLD and said.action is Action.HOLD
    assert any("differs from the URN 20WS7654326" in r for r in labelled.reasons)


def test_a_urn_mentioned_in_passing_is_no_contradiction(route: Decider) -> None:
    body = (
        "Defendant: John SMITH\nDOB: 01/02/1990\nHearing: 15/12/2026\n"
        "Request: please link this case to 20WS7654326, his other matter.\n"
    )
    assert route("URN 20WS1234526 Walsall MC", body).action is Action.DELIVER


def test_the_same_urn_in_the_body_is_no_contradiction(route: Decider) -> None:
    body = "The correct URN is 20WS 12345 26, as above.\nDefendant: John SMITH\nDOB: 01/02/1990\n"
    decision = route("URN 20WS1234526 Walsall MC", body + "Hearing: 15/12/2026\nRequest: IDPC\n")
    assert decision.action is Action.DELIVER
