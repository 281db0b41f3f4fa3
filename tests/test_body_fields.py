"""Defendants, dates of birth, hearing dates and the nature of the request, as solicitors
write them in the body (DESIGN §4)."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Decider
from mailrouter.model import Action
from mailrouter.parse.people import split_names
from mailrouter.rules.ruleset import Ruleset

NAMES = {
    "given-then-caps": ("John SMITH", ["John SMITH"]),
    "surname-first": ("SMITH, John", ["John SMITH"]),
    "surname-first-two-given": ("SMITH, John Paul", ["John Paul SMITH"]),
    "title-case": ("Aisha Rahman", ["Aisha RAHMAN"]),
    "caps-surname-first-no-comma": ("SMITH John Paul", ["John Paul SMITH"]),
    "caps-multi-word-surname-first": ("VAN DER BERG Jan", ["Jan VAN DER BERG"]),
    "all-caps": ("JOHN SMITH", ["John SMITH"]),
    "all-lower-case": ("john paul smith", ["John Paul SMITH"]),
    "accent-apostrophe": ("O'BRIEN, Seán", ["Seán O'BRIEN"]),
    "curly-apostrophe": ("Seán O’Brien", ["Seán O'BRIEN"]),
    "hyphens": ("Mary-Jane SMITH-JONES", ["Mary-Jane SMITH-JONES"]),
    "marked-surname": ("Stuart McALLISTER", ["Stuart McALLISTER"]),
    "multi-word-surname": ("Jan VAN DER BERG", ["Jan VAN DER BERG"]),
    "title": ("Mr John Smith", ["John SMITH"]),
    "in-custody-note": ("John SMITH (in custody)", ["John SMITH"]),
    "two-with-and": ("Andre FOSTER and Nathan GREEN", ["Andre FOSTER", "Nathan GREEN"]),
    "two-with-ampersand": ("Andre FOSTER & Nathan GREEN", ["Andre FOSTER", "Nathan GREEN"]),
    "two-with-semicolon": ("FOSTER, Andre; GREEN, Nathan", ["Andre FOSTER", "Nathan GREEN"]),
    "two-with-comma": ("Andre Foster, Nathan Green", ["Andre FOSTER", "Nathan GREEN"]),
    "not-a-name-tbc": ("TBC", []),
    "not-a-name-see-below": ("see below", []),
    "not-a-name-our-client": ("our client", []),
}


@pytest.mark.parametrize("value,expected", NAMES.values(), ids=NAMES.keys())
def test_names(ruleset: Ruleset, value: str, expected: list[str]) -> None:
    assert split_names(value, ruleset.vocabulary.names) == expected


def _body(*lines: str) -> str:
    return "Dear Sir/Madam,\n\n" + "\n".join(lines) + "\n\nKind regards\nA Solicitor\n"


LAYOUTS = {
    "labels": _body("Defendant: John SMITH", "DOB: 01/02/1990", "Hearing date: 15/12/2026",
                    "Nature of request: IDPC"),
    "client-surname-first": _body("Client: SMITH, John", "D.O.B.: 1st February 1990",
                                  "Next hearing: Tuesday 15th December 2026", "Request: IDPC"),
    "dashes": _body("Client - John SMITH", "DOB - 1 Feb 90", "Listed for - 15/12/2026, trial",
                    "Request - please serve IDPC"),
    "dob-no-separator": _body("Name: John SMITH", "d.o.b. 01.02.90",
                              "Listed for: sentence 15.12.26",
                              "Request: PSR"),
    "value-on-next-line": _body("Defendant:", "John SMITH", "Date of birth:", "01/02/1990",
                                "Hearing date:", "15/12/2026", "Nature of request:", "IDPC"),
    "bullets": _body("- Defendant: John SMITH", "- DOB: 01/02/1990", "- Hearing date: 15/12/2026",
                     "- Nature of request: IDPC"),
    "numbered": _body("1. Defendant: John SMITH", "2. DOB: 01/02/1990",
                      "3. Hearing date: 15/12/2026", "4. Nature of request: IDPC"),
    "inline-dob": _body("Defendant: John SMITH, DOB 01/02/1990", "Hearing date: 15/12/2026",
                        "Request: IDPC"),
    "inline-dob-parens": _body("Defendant: John SMITH (DOB: 01/02/1990)", "Hearing: 15/12/2026",
                               "Request: IDPC"),
    "two-fields-one-line": _body("Defendant: John SMITH   DOB: 01/02/1990",
                                 "Hearing date: 15/12/2026", "Request: IDPC"),
    "surname-forenames": _body("Surname: SMITH", "Forenames: John", "Date of birth: 01/02/1990",
                               "Hearing date: 15/12/2026", "Nature of request: IDPC"),
    "sentence": _body("We act for our client John Smith (born 1 February 1990) who appears at "
                      "the court on 15 December 2026. Please serve the IDPC."),
    "sentence-dob": _body("We represent Mr John Smith, date of birth 01/02/1990, whose trial is "
                          "listed on 15/12/2026. We ask that you serve the unused material."),
}  # fmt: skip


@pytest.mark.parametrize("body", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_layouts(route: Decider, body: str) -> None:
    decision = route(body=body)
    assert decision.missing == [], decision.reasons
    assert [(d.name, d.dob) for d in decision.defendants] == [("John SMITH", dt.date(1990, 2, 1))]
    assert decision.hearing_date == dt.date(2026, 12, 15)
    assert decision.action is Action.DELIVER


def test_several_defendants_each_with_dob(route: Decider) -> None:
    body = _body(
        "Defendant 1: Andre FOSTER, DOB 02/05/1999",
        "Defendant 2: Nathan GREEN, DOB 17/11/2001",
        "Next hearing: FCMH on 08/01/2027",
        "Request: draft indictment",
    )
    decision = route(body=body)
    assert [(d.name, d.dob) for d in decision.defendants] == [
        ("Andre FOSTER", dt.date(1999, 5, 2)),
        ("Nathan GREEN", dt.date(2001, 11, 17)),
    ]


def test_several_defendants_with_dob_lines(route: Decider) -> None:
    body = _body(
        "Defendant: Andre FOSTER", "DOB: 02/05/1999",
        "Defendant: Nathan GREEN", "DOB: 17/11/2001",
        "Hearing date: 08/01/2027", "Request: IDPC",
    )  # fmt: skip
    decision = route(body=body)
    assert [d.dob for d in decision.defendants] == [dt.date(1999, 5, 2), dt.date(2001, 11, 17)]


def test_one_defendant_without_dob_makes_dob_missing(route: Decider) -> None:
    body = _body(
        "Defendants: Andre FOSTER and Nathan GREEN", "DOB: 02/05/1999",
        "Hearing date: 08/01/2027", "Request: IDPC",
    )  # fmt: skip
    decision = route(body=body)
    assert decision.missing == ["dob"] and decision.action is Action.BOUNCE


def test_html_table_from_outlook(route: Decider) -> None:
    html = (
        "<html><head><style>p{margin:0}</style></head><body><p>Dear Sir/Madam,</p>"
        "<table><tr><td><p><b>Defendant:</b></p></td><td><p>John&nbsp;SMITH</p></td></tr>"
        "<tr><td><p><b>Date of birth:</b></p></td><td><p>01/02/1990</p></td></tr>"
        "<tr><td><p><b>Hearing date:</b></p></td><td><p>15 December 2026</p></td></tr>"
        "<tr><td><p><b>Nature of request:</b></p></td><td><p>IDPC</p></td></tr></table>"
        "<p>Kind regards</p></body></html>"
    )
    decision = route(body=html, content_type='text/html; charset="utf-8"')
    assert decision.missing == [] and decision.defendants[0].name == "John SMITH"
    assert decision.nature == "IDPC"


def test_html_label_table_without_colons(route: Decider) -> None:
    html = (
        "<table><tr><td>Defendant</td><td>John SMITH</td></tr>"
        "<tr><td>DOB</td><td>01/02/1990</td></tr>"
        "<tr><td>Hearing date</td><td>15/12/2026</td></tr>"
        "<tr><td>Nature of request</td><td>IDPC</td></tr></table>"
    )
    decision = route(body=html, content_type="text/html")
    assert decision.missing == [], decision.reasons


# --- hearing date ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Our client appears at Birmingham Magistrates' Court on 15 December 2026.",
        "The trial is listed on 15/12/2026 and we need the papers.",
        "He is due to appear before the court on 15.12.26.",
        "The matter has been adjourned to 15 December 2026.",
    ],
)
def test_hearing_date_in_a_sentence(route: Decider, sentence: str) -> None:
    body = _body("Defendant: John SMITH", "DOB: 01/02/1990", sentence, "Request: IDPC")
    assert route(body=body).hearing_date == dt.date(2026, 12, 15)


def test_dates_that_are_not_hearings(route: Decider) -> None:
    body = _body(
        "Defendant: John SMITH", "DOB: 01/02/1990",
        "Further to our defence statement served on 16 November 2026, please serve disclosure.",
        "Our client was arrested on 01/11/2026.",
    )  # fmt: skip
    decision = route(body=body)
    assert decision.hearing_date is None and decision.missing == ["hearing_date"]


def test_hearing_date_tbc_is_missing(route: Decider) -> None:
    body = _body("Defendant: John SMITH", "DOB: 01/02/1990", "Next hearing: TBC", "Request: IDPC")
    decision = route(body=body)
    assert decision.missing == ["hearing_date"]
    assert "no date" in decision.details["hearing_date"]


def test_hearing_date_tomorrow(route: Decider) -> None:
    body = _body(
        "Defendant: John SMITH", "DOB: 01/02/1990", "Next hearing: tomorrow", "Request: IDPC"
    )
    decision = route(body=body)
    assert decision.hearing_date == dt.date(2026, 11, 24) and "urgent" in decision.tags


def test_hearing_date_in_subject(route: Decider) -> None:
    body = _body("Defendant: John SMITH", "DOB: 01/02/1990", "Request: IDPC")
    decision = route("URN 20AB1234521 - Worcester - FCMH 08/01/27 - SMITH", body)
    assert decision.hearing_date == dt.date(2027, 1, 8) and decision.route == "crown_court"


# --- nature ---------------------------------------------------------------------------------


def test_nature_from_label_runs_over_lines(route: Decider) -> None:
    body = _body("Defendant: John SMITH", "DOB: 01/02/1990", "Hearing date: 15/12/2026",
                 "Nature of request: please confirm whether the Crown will accept a plea",
                 "to the lesser charge.")  # fmt: skip
    assert route(body=body).nature == (
        "please confirm whether the Crown will accept a plea to the lesser charge."
    )


def test_nature_from_request_sentence(route: Decider) -> None:
    body = _body("We act for the defendant below.", "", "Defendant: John SMITH",
                 "DOB: 01/02/1990", "Hearing date: 15/12/2026", "",
                 "Could you please serve the custody record.")  # fmt: skip
    assert route(body=body).nature == "Could you please serve the custody record."


def test_empty_nature_label_with_nothing_else_is_missing(route: Decider) -> None:
    body = "Defendant: John SMITH\nDOB: 01/02/1990\nHearing date: 15/12/2026\nNature of request:\n"
    decision = route(body=body)
    assert decision.missing == ["nature"] and decision.action is Action.BOUNCE


def test_empty_nature_label_but_a_request_sentence(route: Decider) -> None:
    body = _body("Please serve the IDPC.", "", "Defendant: John SMITH", "DOB: 01/02/1990",
                 "Hearing date: 15/12/2026", "Nature of request:")  # fmt: skip
    assert route(body=body).nature == "Please serve the IDPC."


def test_nature_is_kept_short(route: Decider) -> None:
    body = _body("Defendant: John SMITH", "DOB: 01/02/1990", "Hearing date: 15/12/2026",
                 "Request: " + "please serve the material " * 40)  # fmt: skip
    nature = route(body=body).nature
    assert nature is not None and len(nature) <= 241 and nature.endswith("…")


def test_greeting_and_signature_are_not_the_request(route: Decider) -> None:
    body = (
        "Dear Sir/Madam,\n\nDefendant: John SMITH\nDOB: 01/02/1990\nHearing date: 15/12/2026\n\n"
        "Kind regards\nA Solicitor\nPlease consider the environment before printing this email.\n"
    )
    assert route(body=body).missing == ["nature"]


def test_reading_stops_after_a_long_letters_worth(route: Decider) -> None:
    # A request's own words are a few hundred characters; 20,000 is a long letter. What
    # comes after that is not read, and the reasons say so.
    filler = "We set out the history of the matter at some length. " * 420
    body = _body("Defendant: John SMITH", "DOB: 01/02/1990", filler,
                 "Hearing date: 15/12/2026", "Request: IDPC")  # fmt: skip
    decision = route(body=body)
    assert decision.defendants[0].name == "John SMITH"
    assert "hearing_date" in decision.missing
    assert "only the first part of a very long message was read" in decision.reasons
    short = route(body=_body("Defendant: John SMITH", "DOB: 01/02/1990", filler[:5000],
                             "Hearing date: 15/12/2026", "Request: IDPC"))  # fmt: skip
    assert short.missing == [] and not any("very long" in r for r in short.reasons)
