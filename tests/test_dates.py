"""UK dates (day first), two-digit-year pivots, plausibility, and working-day urgency."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import NOW, Decider
from mailrouter.model import Action
from mailrouter.parse.dates import find_dates, resolve_dob, resolve_hearing
from mailrouter.policy.urgency import is_urgent, is_working_day, working_days_until

TODAY = dt.date(2026, 11, 23)

DOB_FORMS = {
    "slashes": ("01/02/1990", dt.date(1990, 2, 1)),
    "no-leading-zeros": ("1/2/1990", dt.date(1990, 2, 1)),
    "dots-two-digit-year": ("01.02.90", dt.date(1990, 2, 1)),
    "dots-short": ("1.2.90", dt.date(1990, 2, 1)),
    "dashes": ("1-2-1990", dt.date(1990, 2, 1)),
    "iso": ("1990-02-01", dt.date(1990, 2, 1)),
    "month-abbrev-two-digit-year": ("1 Feb 90", dt.date(1990, 2, 1)),
    "ordinal-long": ("1st February 1990", dt.date(1990, 2, 1)),
    "ordinal-of": ("1st of February 1990", dt.date(1990, 2, 1)),
    "weekday": ("Thursday 1st February 1990", dt.date(1990, 2, 1)),
    "month-first-words": ("February 1st 1990", dt.date(1990, 2, 1)),
    "month-first-comma": ("February 1, 1990", dt.date(1990, 2, 1)),
    "sept": ("22 Sept 1993", dt.date(1993, 9, 22)),
    "pivot-2000s": ("05/06/05", dt.date(2005, 6, 5)),
    "pivot-1900s": ("05/06/45", dt.date(1945, 6, 5)),
}


@pytest.mark.parametrize("text,expected", DOB_FORMS.values(), ids=DOB_FORMS.keys())
def test_date_of_birth_forms(text: str, expected: dt.date) -> None:
    (mention,) = find_dates(f"DOB: {text}")
    assert resolve_dob(mention, TODAY) == expected


HEARING_FORMS = {
    "two-digit-year-is-this-century": ("15.12.26", dt.date(2026, 12, 15)),
    "next-year": ("08/01/27", dt.date(2027, 1, 8)),
    "no-year-this-year": ("18 December", dt.date(2026, 12, 18)),
    "no-year-next-year": ("5 January", dt.date(2027, 1, 5)),
    "long": ("Monday 4th January 2027", dt.date(2027, 1, 4)),
}


@pytest.mark.parametrize("text,expected", HEARING_FORMS.values(), ids=HEARING_FORMS.keys())
def test_hearing_date_forms(text: str, expected: dt.date) -> None:
    (mention,) = find_dates(f"Next hearing: {text}")
    assert resolve_hearing(mention, TODAY) == expected


def test_day_first_never_month_first() -> None:
    (mention,) = find_dates("01/02/1990")
    assert (mention.day, mention.month) == (1, 2)
    assert find_dates("13/13/2020") == []  # no month 13, and never read as 13 December
    (feb30,) = find_dates("30/02/2020")
    assert resolve_dob(feb30, TODAY) is None


@pytest.mark.parametrize(
    "text", ["10.0.0.1", "1.2.3.4", "04/1187442X", "0121 496 0734", "v2.10.2025x"]
)
def test_not_dates(text: str) -> None:
    assert find_dates(text) == []


def test_dob_with_no_year_is_no_dob() -> None:
    (mention,) = find_dates("DOB: 1 February")
    assert resolve_dob(mention, TODAY) is None


@pytest.mark.parametrize(
    "dob,why",
    [("14/03/2031", "in the future"), ("01/01/2020", "six years old"), ("01/01/1900", "126")],
    ids=["future", "too-young", "too-old"],
)
def test_implausible_dob_counts_as_missing(route: Decider, dob: str, why: str) -> None:
    body = f"Defendant: John SMITH\nDOB: {dob}\nHearing date: 15/12/2026\nRequest: IDPC please\n"
    decision = route(body=body)
    assert decision.action is Action.BOUNCE and decision.missing == ["dob"], why
    assert "plausible" in decision.details["dob"]


def test_dob_at_the_age_limits(route: Decider) -> None:
    body = "Defendant: John SMITH\nDOB: 23/11/2016\nHearing date: 15/12/2026\nRequest: IDPC\n"
    assert route(body=body).defendants[0].dob == dt.date(2016, 11, 23)  # exactly 10 today


# --- working days --------------------------------------------------------------------------


def test_bank_holidays_are_not_working_days() -> None:
    assert not is_working_day(dt.date(2026, 12, 25))  # Christmas Day, a Friday
    assert not is_working_day(dt.date(2026, 12, 28))  # Boxing Day's substitute, a Monday
    assert not is_working_day(dt.date(2026, 11, 28))  # Saturday
    assert is_working_day(dt.date(2026, 12, 29))


URGENCY = {
    "today": (dt.date(2026, 11, 23), dt.date(2026, 11, 23), True),
    "tomorrow": (dt.date(2026, 11, 23), dt.date(2026, 11, 24), True),
    "two-working-days": (dt.date(2026, 11, 23), dt.date(2026, 11, 25), True),
    "three-working-days": (dt.date(2026, 11, 23), dt.date(2026, 11, 26), False),
    "over-a-weekend": (dt.date(2026, 11, 27), dt.date(2026, 12, 1), True),
    "over-christmas": (dt.date(2026, 12, 24), dt.date(2026, 12, 30), True),
    "past-hearing": (dt.date(2026, 11, 23), dt.date(2026, 11, 20), False),
    "easter-2027": (dt.date(2027, 3, 25), dt.date(2027, 3, 31), True),  # Good Friday, Easter Monday
}


@pytest.mark.parametrize("today,hearing,urgent", URGENCY.values(), ids=URGENCY.keys())
def test_urgency(today: dt.date, hearing: dt.date, urgent: bool) -> None:
    assert is_urgent(hearing, today, 2) is urgent


def test_urgency_agrees_with_counting_working_days() -> None:
    # is_urgent reads a cached boundary; counting day by day must agree for every pair.
    start = dt.date(2026, 12, 14)
    for offset in range(30):
        today = start + dt.timedelta(days=offset)
        for ahead in range(-2, 15):
            hearing = today + dt.timedelta(days=ahead)
            for within in (0, 2, 5):
                counted = hearing >= today and working_days_until(today, hearing) <= within
                assert is_urgent(hearing, today, within) is counted, (today, hearing, within)


def test_working_days_until() -> None:
    assert working_days_until(dt.date(2026, 12, 24), dt.date(2026, 12, 29)) == 1
    assert working_days_until(dt.date(2026, 11, 23), dt.date(2026, 11, 23)) == 0


def test_urgent_tag_uses_london_date(route: Decider) -> None:
    # 23:30 UTC on 23 November is still the 23rd in London (GMT); a hearing on the 25th is urgent.
    late = NOW.replace(hour=23, minute=30)
    body = "Defendant: John SMITH\nDOB: 01/02/1990\nHearing date: 25/11/2026\nRequest: IDPC\n"
    assert route(body=body, now=late).tags == ["urgent"]


def test_resubmission_tag(route: Decider) -> None:
    decision = route(recent_urns=("20AB1234521",))
    assert "resubmission" in decision.tags and decision.action is Action.DELIVER
