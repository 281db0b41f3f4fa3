"""Rules 4 and 5 of DESIGN §6: Proceeds of Crime matters go to POCA unless the case is a CCU
prosecution; CCU cases go to CCU; a money-laundering offence alone is not a POCA matter."""

from __future__ import annotations

import pytest

from conftest import Decider, RulesMaker

SUBJECT = "URN 20AB1234521 - Birmingham Crown Court - R v SMITH"


def _body(request: str, extra: str = "") -> str:
    return (
        f"Dear Sir/Madam,\n\n{extra}Defendant: John SMITH\nDOB: 01/02/1990\n"
        f"Hearing date: 15/12/2026\nNature of request: {request}\n\nKind regards\nA Solicitor\n"
    )


POCA_REQUESTS = [
    "confiscation proceedings: please agree a timetable",
    "variation of the restraint order to release living expenses",
    "release of restrained funds under s.41(3) POCA 2002",
    "we serve our client's s.18 statement of assets",
    "our client's S17 response to the prosecutor's statement of information",
    "response to the section 16 statement",
    "the enforcement receiver's application",
    "an extension to the POCA timetable",
    "the account freezing order application",
    "the cash forfeiture hearing",
    "the Crown's benefit figure and the available amount",
    "section 18 of the Proceeds of Crime Act",
]


@pytest.mark.parametrize("request_text", POCA_REQUESTS)
def test_poca_matter_goes_to_poca(route: Decider, request_text: str) -> None:
    decision = route(SUBJECT, _body(request_text))
    assert decision.route == "poca", decision.reasons
    assert decision.rule == "poca"


@pytest.mark.parametrize("ccu_words", ["CCU", "Complex Casework Unit", "complex casework"])
def test_poca_matter_in_a_ccu_case_goes_to_ccu(route: Decider, ccu_words: str) -> None:
    decision = route(f"{SUBJECT} - {ccu_words} - confiscation", _body("confiscation timetable"))
    assert decision.route == "ccu" and decision.rule == "ccu-poca"


def test_poca_matter_on_the_ccu_case_list_goes_to_ccu(
    route: Decider, tmp_rules: RulesMaker
) -> None:
    rules = tmp_rules({"case_lists.yaml": ("ccu_cases: []", "ccu_cases: [20/AB/12345/21]")})
    decision = route(SUBJECT, _body("confiscation timetable"), rules=rules)
    assert decision.route == "ccu" and decision.rule == "ccu-poca"
    assert any("ccu_cases list" in r for r in decision.reasons)


def test_ccu_case_without_poca_goes_to_ccu(route: Decider) -> None:
    extra = "This is a Complex Casework Unit prosecution (Operation Larchwood).\n\n"
    decision = route(SUBJECT, _body("please serve the disclosure management document", extra))
    assert decision.route == "ccu" and decision.rule == "ccu"


def test_ccu_case_list_without_poca(route: Decider, tmp_rules: RulesMaker) -> None:
    rules = tmp_rules({"case_lists.yaml": ("ccu_cases: []", "ccu_cases: [20AB1234521]")})
    assert route(SUBJECT, _body("IDPC"), rules=rules).route == "ccu"


NOT_POCA = {
    "money-laundering-offence": (
        "our client is charged with money laundering contrary to sections 327 and 328 of the "
        "Proceeds of Crime Act 2002; please serve the bank statements"
    ),
    "s18-wounding": "he is charged under s.18 of the Offences Against the Person Act 1861",
    "poca-word-alone": "please serve the POCA 2002 s.327 charge papers",
    "section-327": "the s.327 POCA count",
}


@pytest.mark.parametrize("request_text", NOT_POCA.values(), ids=NOT_POCA.keys())
def test_not_a_poca_matter(route: Decider, request_text: str) -> None:
    decision = route(SUBJECT, _body(request_text))
    assert decision.route == "crown_court", decision.reasons


def test_poca_words_in_a_disclaimer_do_not_count(route: Decider) -> None:
    body = _body("IDPC") + (
        "Under the Proceeds of Crime Act 2002 we may report suspicions of money laundering to the "
        "National Crime Agency. Nothing here concerns any confiscation order or restraint order.\n"
    )
    decision = route(SUBJECT, body)
    assert decision.route == "crown_court", decision.reasons


def test_rule_reason_names_the_keyword(route: Decider) -> None:
    decision = route(SUBJECT, _body("confiscation timetable"))
    assert any("poca keyword “confiscation”" in r for r in decision.reasons)
