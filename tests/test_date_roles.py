"""Every date classified by the evidence around it (parse.date_roles), then checked for
plausibility by the reader: a date of birth gives an age in range, a hearing is not past."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Decider
from mailrouter.parse.blocks import segment
from mailrouter.parse.date_roles import CUE, LABEL, WEAK, Role, find_date_roles, read_blocks
from mailrouter.parse.date_roles import subject_dates as read_subject_dates
from mailrouter.rules.ruleset import Ruleset


def roles(ruleset: Ruleset, text: str) -> list[tuple[str, Role, str]]:
    lines = text.split("\n")
    blocks = segment(lines, 0, len(lines), ruleset.vocabulary)
    texts = read_blocks(blocks, ruleset.vocabulary)
    found = find_date_roles(blocks, texts, ruleset.vocabulary, ruleset.gazetteer)
    return [(blocks[f.block].text[f.mention.start : f.mention.end], f.role, f.cue) for f in found]


BY_LABEL = {
    "dob": ("DOB: 01/02/1990", Role.BIRTH),
    "date-of-birth-below": ("Date of birth\n1st February 1990", Role.BIRTH),
    "hearing": ("Next hearing: 15/12/2026", Role.HEARING),
    "listed-for": ("Listed for: sentence 15.12.26", Role.HEARING),
    "offence": ("Date of offence: 14/07/2026", Role.EVENT),
    "letter-date": ("Dated: 13 October 2026", Role.EVENT),
}


@pytest.mark.parametrize("text,role", BY_LABEL.values(), ids=BY_LABEL.keys())
def test_a_label_gives_its_date_a_role(ruleset: Ruleset, text: str, role: Role) -> None:
    ((_, found, _),) = roles(ruleset, text)
    assert found is role


BY_CUE = {
    "born": ("We act for Aisha Rahman (born 17 June 1998).", Role.BIRTH, "born"),
    "dob-after-name": ("Van Minh NGUYEN dob 01/01/1998 - thanks", Role.BIRTH, "dob"),
    "date-of-birth-is": ("Her date of birth is 13/08/1982.", Role.BIRTH, "date of birth"),
    "listed": ("The trial is listed on 15/12/2026.", Role.HEARING, "listed"),
    "appears": ("He appears before Walsall Magistrates' Court on 2 March 2027.", Role.HEARING,
                "appears"),
    "adjourned-to": ("The case was adjourned to 15 December 2026.", Role.HEARING, "adjourned to"),
    "brought-forward": ("The hearing has been brought forward to 4 February 2027.",
                        Role.HEARING, "brought forward to"),
    "sentenced": ("He will be sentenced on Monday 22 February 2027.", Role.HEARING, "sentenced"),
    "arrested": ("He was arrested on 3 November 2026.", Role.EVENT, "arrested"),
    "served": ("Our defence statement was served on 25 September 2026.", Role.EVENT, "served"),
    "sent-for-trial": ("He was sent for trial from Wolverhampton MC on 22 September 2026.",
                       Role.EVENT, "sent for trial"),
    "made": ("The account freezing order made at Birmingham MC on 10 August 2026.", Role.EVENT,
             "made"),
    "deadline": ("Please reply by 23 December 2026.", Role.EVENT, "by"),
    "was-listed": ("The trial was listed on 15/12/2026 but moved.", Role.EVENT, "was listed"),
}  # fmt: skip


@pytest.mark.parametrize("text,role,cue", BY_CUE.values(), ids=BY_CUE.keys())
def test_the_nearest_cue_gives_a_date_its_role(
    ruleset: Ruleset, text: str, role: Role, cue: str
) -> None:
    ((_, found, by), *_) = roles(ruleset, text)
    assert (found, by) == (role, cue)


def test_each_date_takes_the_cue_nearest_to_it(ruleset: Ruleset) -> None:
    text = "Client: Orla QUINN, born 08/03/1983. Sentence hearing 15/01/2027."
    assert [(date, role) for date, role, _ in roles(ruleset, text)] == [
        ("08/03/1983", Role.BIRTH),
        ("15/01/2027", Role.HEARING),
    ]


def test_a_cue_in_an_earlier_sentence_does_not_reach(ruleset: Ruleset) -> None:
    (found,) = roles(ruleset, "The trial is moving. Counsel is away 20/12/2026.")
    assert found[1] is Role.NONE


def test_a_deadline_word_counts_only_right_before_the_date(ruleset: Ruleset) -> None:
    (found,) = roles(ruleset, "It was listed by the court for trial on 15/12/2026.")
    assert found[1] is Role.HEARING  # "by" is not next to the date; "trial" is the cue


@pytest.mark.parametrize(
    "text",
    ["Next hearing: 05/02/2027 (PTPH)", "12/12/2026 - trial", "Client: 03/02/2027 for trial"],
)
def test_a_cue_right_after_a_date(ruleset: Ruleset, text: str) -> None:
    found = roles(ruleset, text)
    assert found[-1][1] is Role.HEARING


def test_a_court_just_before_a_date_is_a_weak_hearing_cue(ruleset: Ruleset) -> None:
    lines = ["Client Jordan BECKETT, Dudley mags 9/3/27. Pls serve IDPC."]
    blocks = segment(lines, 0, 1, ruleset.vocabulary)
    texts = read_blocks(blocks, ruleset.vocabulary)
    (found,) = find_date_roles(blocks, texts, ruleset.vocabulary, ruleset.gazetteer)
    assert (found.role, found.strength) == (Role.HEARING, WEAK)


def test_strengths(ruleset: Ruleset) -> None:
    lines = ["DOB: 01/02/1990", "He is listed on 15/12/2026."]
    blocks = segment(lines, 0, 2, ruleset.vocabulary)
    texts = read_blocks(blocks, ruleset.vocabulary)
    found = find_date_roles(blocks, texts, ruleset.vocabulary, ruleset.gazetteer)
    assert [f.strength for f in found] == [LABEL, CUE]


def test_later_dates_under_a_birth_label_are_births_too(ruleset: Ruleset) -> None:
    assert [role for _, role, _ in roles(ruleset, "DOB: 01/01/1990 and 02/02/1992")] == [
        Role.BIRTH,
        Role.BIRTH,
    ]


def test_a_later_date_under_a_hearing_label_needs_its_own_cue(ruleset: Ruleset) -> None:
    found = roles(ruleset, "Hearing: 11/12/2026, adjourned from 01/11/2026")
    assert [role for _, role, _ in found] == [Role.HEARING, Role.EVENT]


def test_a_weekday_lets_a_day_and_month_stand_without_a_year(ruleset: Ruleset) -> None:
    assert roles(ruleset, "see you at court fri 11/12")[0][:2] == ("fri 11/12", Role.HEARING)
    assert roles(ruleset, "paragraphs 11/12 of the statement") == []


def test_dates_in_the_subject(ruleset: Ruleset) -> None:
    found = read_subject_dates(
        "Brum Crown - 20BE1773026 - PTPH 05/01/2027", ruleset.vocabulary, ruleset.gazetteer
    )
    assert [(f.role, f.cue) for f in found] == [(Role.HEARING, "ptph")]


# --- plausibility, in the whole reading --------------------------------------------------------


def _body(*lines: str) -> str:
    return "Dear Sir/Madam,\n\n" + "\n".join(lines) + "\n\nKind regards\nA Solicitor\n"


def test_a_date_of_birth_that_makes_the_defendant_a_child_is_missing(route: Decider) -> None:
    decision = route(body=_body("Defendant: Harvey MOSS", "DOB: 14/09/2019",
                                "Hearing: 12/01/2027", "Request: IDPC"))  # fmt: skip
    assert decision.missing == ["dob"] and "not plausible" in decision.details["dob"]


def test_a_hearing_in_the_past_is_not_the_hearing(route: Decider) -> None:
    decision = route(body=_body("Defendant: John SMITH", "DOB: 01/02/1990",
                                "The hearing on 01/11/2026 was adjourned, new date to be fixed.",
                                "Request: IDPC"))  # fmt: skip
    assert decision.missing == ["hearing_date"]


def test_a_hearing_years_ahead_is_not_plausible(route: Decider) -> None:
    decision = route(body=_body("Defendant: John SMITH", "DOB: 01/02/1990",
                                "Hearing: 15/12/2031", "Request: IDPC"))  # fmt: skip
    assert decision.missing == ["hearing_date"]


def test_the_one_future_date_in_a_message_about_a_hearing(route: Decider) -> None:
    decision = route(body=_body("Defendant: John SMITH", "DOB: 01/02/1990",
                                "Offence date: 01/10/2026", "Walsall 11/12/2026",
                                "Please serve IDPC"))  # fmt: skip
    assert decision.hearing_date == dt.date(2026, 12, 11)


def test_two_future_dates_with_no_cue_leave_the_hearing_missing(route: Decider) -> None:
    decision = route(body=_body("Defendant: John SMITH", "DOB: 01/02/1990",
                                "He can attend 11/12/2026. Counsel is away 20/12/2026.",
                                "Please serve IDPC"))  # fmt: skip
    assert decision.hearing_date is None and "hearing_date" in decision.missing


def test_tbc_under_a_hearing_label_is_no_date(route: Decider) -> None:
    decision = route(body=_body("Defendant: John SMITH", "DOB: 01/02/1990",
                                "Next hearing: TBC", "Counsel is away 20/12/2026.",
                                "Request: IDPC"))  # fmt: skip
    assert decision.missing == ["hearing_date"]
    assert "no date" in decision.details["hearing_date"]


def test_a_relative_day_is_a_hearing_only_where_a_hearing_is_meant(route: Decider) -> None:
    soon = route(
        body=_body("Defendant: John SMITH", "DOB: 01/02/1990", "He appears tomorrow at Walsall.")
    )
    assert soon.hearing_date == dt.date(2026, 11, 24)
    no_hearing = route(body=_body("Defendant: John SMITH", "DOB: 01/02/1990",
                                  "Please send it today."))  # fmt: skip
    assert no_hearing.hearing_date is None


def test_a_day_and_month_alone_is_a_hearing_only_where_a_hearing_is_meant(
    route: Decider,
) -> None:
    labelled = route(body=_body("Defendant: John SMITH", "DOB: 01/02/1990", "Hearing: 15/12",
                                "Request: IDPC"))  # fmt: skip
    assert labelled.hearing_date == dt.date(2026, 12, 15)
    cued = route(body=_body("Client John SMITH dob 1/2/90, trial 22/3 at Walsall. Pls serve IDPC"))
    assert cued.hearing_date == dt.date(2027, 3, 22)
    pages = route(body=_body("Defendant: John SMITH", "DOB: 01/02/1990",
                             "See paragraphs 11/12 of the MG5.", "Request: IDPC"))  # fmt: skip
    assert pages.hearing_date is None


def test_a_value_under_another_label_may_still_name_the_hearing(route: Decider) -> None:
    bail = route(body=_body("Defendant: John SMITH", "DOB: 01/02/1990",
                            "Bail: bailed to appear on 15/12/2026", "Request: IDPC"))  # fmt: skip
    assert bail.hearing_date == dt.date(2026, 12, 15)
    offence = route(body=_body("Defendant: John SMITH", "DOB: 01/02/1990",
                               "Date of offence: 14/12/2026", "Request: IDPC"))  # fmt: skip
    assert offence.hearing_date is None
