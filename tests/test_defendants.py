"""Who the defendants are (parse.defendants): each kind of evidence that anchors a name, each
reason a name-shaped phrase is turned down, and how dates of birth pair with names."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Decider
from mailrouter.model import Action, Decision
from mailrouter.parse.people import name_after, name_before, tokenize
from mailrouter.rules.ruleset import Ruleset


def _body(*lines: str) -> str:
    return "Dear Sir/Madam,\n\n" + "\n".join(lines) + "\n\nKind regards\nA Solicitor\n"


def people(decision: Decision) -> list[tuple[str | None, dt.date | None]]:
    return [(d.name, d.dob) for d in decision.defendants]


REST = ("Hearing date: 15/12/2026", "Request: IDPC")
DOB = dt.date(1990, 2, 1)

ANCHORS = {
    "name-field": ("Defendant: John SMITH", "DOB: 01/02/1990"),
    "client-field-surname-first": ("Client: SMITH, John", "DOB: 01/02/1990"),
    "surname-and-forenames": ("Surname: SMITH", "Forenames: John", "DOB: 01/02/1990"),
    "we-act-for": ("We act for John SMITH.", "DOB: 01/02/1990"),
    "instructed-by-title-case": ("We are instructed by John Smith.", "DOB: 01/02/1990"),
    "r-v": ("R v John SMITH", "DOB: 01/02/1990"),
    "re-surname-first": ("Re: SMITH, John – d.o.b. 1/2/90",),
    "before-dob-cue": ("Hi, John SMITH dob 01/02/1990, can you help?",),
    "before-dob-in-brackets": ("IDPC for John SMITH (01.02.90), please.",),
    "lower-case-before-dob": ("can u send idpc for john smith dob 1.2.90",),
    "dash-before-dob": ("1. John SMITH – 01/02/1990",),
    "title-and-capitals": ("Mr John SMITH's hearing is soon.", "DOB: 01/02/1990"),
    "table-row": ("Defendant\tDOB", "John SMITH\t01/02/1990"),
    "label-above": ("Defendant", "John SMITH", "Date of birth", "01/02/1990"),
}


@pytest.mark.parametrize("lines", ANCHORS.values(), ids=ANCHORS.keys())
def test_each_kind_of_evidence_anchors_the_name(route: Decider, lines: tuple[str, ...]) -> None:
    decision = route(body=_body(*lines, *REST))
    assert people(decision) == [("John SMITH", DOB)], decision.reasons


REFUSED = {
    "police-rank": "The OIC, PC 2210 ASHWORTH (DOB 01/02/1990), has the file.",
    "complainant": "The complainant, Anne COLE (DOB 01/02/1990), has withdrawn.",
    "co-accused": "His co-accused, Dean COLE (DOB 01/02/1990), has another firm.",
    "relative": "Our client's mother, Jane DOE (born 01/02/1990), will attend.",
    "court-town": "R v Dudley (DOB 01/02/1990)",
    "one-word": "We act for Smith (DOB 01/02/1990).",
}


@pytest.mark.parametrize("line", REFUSED.values(), ids=REFUSED.keys())
def test_phrases_that_are_no_defendant(route: Decider, line: str) -> None:
    decision = route(body=_body(line, *REST))
    assert "defendant_name" in decision.missing and decision.action is Action.BOUNCE


def test_the_senders_own_name_is_no_defendant(route: Decider) -> None:
    body = _body("Helen MARSH (DOB 01/02/1990) writes for the firm.", *REST)
    decision = route(body=body, from_header="Helen Marsh <h.marsh@smithlaw.co.uk.cjsm.net>")
    assert "defendant_name" in decision.missing


def test_a_surname_in_capitals_alone_counts_only_when_nothing_better(route: Decider) -> None:
    alone = route(body=_body("Further to my email, Mr Tyrone WALKER's hearing is soon.",
                             "DOB: 01/02/1990", *REST))  # fmt: skip
    assert people(alone) == [("Tyrone WALKER", DOB)]
    beside = route(body=_body("Defendant: John SMITH", "DOB: 01/02/1990",
                              "Please warn Mrs Karen JONES to attend.", *REST))  # fmt: skip
    assert people(beside) == [("John SMITH", DOB)]


def test_each_date_of_birth_pairs_with_its_own_name(route: Decider) -> None:
    decision = route(body=_body("Defendant 1: Andre FOSTER, DOB 02/05/1999",
                                "Defendant 2: Nathan GREEN, DOB 17/11/2001", *REST))  # fmt: skip
    assert people(decision) == [
        ("Andre FOSTER", dt.date(1999, 5, 2)),
        ("Nathan GREEN", dt.date(2001, 11, 17)),
    ]


def test_dates_of_birth_on_lines_of_their_own_pair_in_order(route: Decider) -> None:
    decision = route(body=_body("Defendants: Jack HOLLAND and Tom HOLLAND",
                                "DOB: 01/01/1990 and 02/02/1992", *REST))  # fmt: skip
    assert people(decision) == [
        ("Jack HOLLAND", dt.date(1990, 1, 1)),
        ("Tom HOLLAND", dt.date(1992, 2, 2)),
    ]


def test_a_date_of_birth_before_the_name_pairs_with_it(route: Decider) -> None:
    decision = route(body=_body("DOB 01/02/1990", "Name: John SMITH", *REST))
    assert people(decision) == [("John SMITH", DOB)]


def test_mentions_of_one_person_merge(route: Decider) -> None:
    decision = route(body=_body("Re: Łukasz KOWALCZYK",
                                "Mr KOWALCZYK, born on 05/06/1991, is due in court on "
                                "15/12/2026. Please serve IDPC."))  # fmt: skip
    assert people(decision) == [("Łukasz KOWALCZYK", dt.date(1991, 6, 5))]


def test_two_people_with_one_surname_stay_two(route: Decider) -> None:
    decision = route(body=_body("Defendant\tDate of birth", "Aaron MILLS\t12/07/1992",
                                "Kieran MILLS\t03/02/1995", *REST))  # fmt: skip
    assert [d.name for d in decision.defendants] == ["Aaron MILLS", "Kieran MILLS"]


def test_a_named_defendant_without_a_date_of_birth_makes_it_missing(route: Decider) -> None:
    decision = route(body=_body("Defendants: Andre FOSTER and Nathan GREEN",
                                "DOB: 02/05/1999", *REST))  # fmt: skip
    assert decision.missing == ["dob"]


def test_someone_named_in_prose_beside_defendants_with_dates_is_left_out(
    route: Decider,
) -> None:
    decision = route(body=_body("We act for John SMITH (DOB 01/02/1990). R v Tom ELLIS was "
                                "heard last year.", *REST))  # fmt: skip
    assert people(decision) == [("John SMITH", DOB)]


def test_a_date_of_birth_with_no_name(route: Decider) -> None:
    decision = route(body=_body("Our client, born 12/03/1990, is due before the court.", *REST))
    assert people(decision) == [(None, dt.date(1990, 3, 12))]
    assert decision.missing == ["defendant_name"]


@pytest.mark.parametrize(
    "text,cue,expected",
    [
        ("we act for Aisha RAHMAN today", "act for", "Aisha RAHMAN"),
        ("R v Kwame A. ASANTE (", "R v", "Kwame A. ASANTE"),
        ("Re: PARKES, Lee Anthony – d.o.b.", "Re", "PARKES, Lee Anthony"),
        ("our client, Mr Jan van der Berg is", "our client", "Jan van der Berg"),
        ("act for both defendants", "act for", None),
    ],
)
def test_name_after_a_cue(ruleset: Ruleset, text: str, cue: str, expected: str | None) -> None:
    tokens = tokenize(text, text.index(cue) + len(cue))
    phrase = name_after(text, tokens, 0, ruleset.vocabulary.names)
    assert (phrase.text if phrase else None) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Morning. Van Minh NGUYEN ", "Van Minh NGUYEN"),
        ("2. FARROW, Gemma - ", "FARROW, Gemma"),
        ("We represent Jack HOLLAND (", "Jack HOLLAND"),
        ("for jamie o'connor ", "jamie o'connor"),
        ("the trial for ", None),
    ],
)
def test_name_before_a_date_of_birth(ruleset: Ruleset, text: str, expected: str | None) -> None:
    tokens = tokenize(text)
    phrase = name_before(text, tokens, len(tokens), ruleset.vocabulary.names)
    assert (phrase.text if phrase else None) == expected


def test_a_name_all_in_capitals_takes_its_surname_from_the_subject(route: Decider) -> None:
    body = _body("CLIENT NAME: O'CONNOR JAMIE", "CLIENT DOB: 03/06/1985", *REST)
    decision = route("URN 20AB1234521 - Walsall MC - R v O'CONNOR", body)
    assert [d.name for d in decision.defendants] == ["Jamie O'CONNOR"]


def test_a_date_after_a_name_is_its_date_of_birth_though_a_cue_follows(route: Decider) -> None:
    # "trial" is the next date's cue, not the date of birth's.
    decision = route(body="Jamie O'Connor 03/06/85 - trial Walsall 11/12/26\nplease serve CCTV")
    assert [(d.name, d.dob) for d in decision.defendants] == [
        ("Jamie O'CONNOR", dt.date(1985, 6, 3))
    ]
    assert decision.hearing_date == dt.date(2026, 12, 11)
