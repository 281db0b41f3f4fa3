"""UK dates as solicitors write them, always day first.

`01/02/1990` is 1 February. Also `1.2.90`, `1-2-1990`, `1 Feb 90`, `1st of February 1990`,
`Monday 3rd March 2025`, `February 1st 1990` and ISO `1990-02-01`. Month-first numeric dates
are never read. A mention keeps its raw parts; the caller resolves it as a date of birth or a
hearing date, because the two-digit-year pivot depends on which (DESIGN §4).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORDINAL = r"(?:st|nd|rd|th)?"

# The pattern starts by consuming the character before the date (one is put before the text)
# rather than with a lookbehind, and then looks ahead for a digit or a month's first letter,
# so the engine passes every other position after one test instead of trying each branch.
_DATE = re.compile(
    r"\W(?=[\dadfjmnos])(?:"
    # 01/02/1990, 1.2.90, 1-2-1990: the same separator twice (not straight after . / -)
    r"(?<=[^./-])(?P<nd>\d{1,2}) ?(?P<sep>[./-]) ?(?P<nm>\d{1,2}) ?(?P=sep) ?(?P<ny>\d{4}|\d{2})"
    r"(?![\w]|[./-]\d)"
    # 1990-02-01, and 2026-12-11T10:00 as case management systems write it
    r"|(?<=[^./-])(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})(?!(?!T\d)\w|[./-]\d)"
    # 1st (of) February 1990, 1 Feb 90, 18 December
    rf"|(?P<td>\d{{1,2}}){_ORDINAL}(?: of)?[ -]{{1,3}}(?P<tm>{_MONTH})\b\.?"
    r"(?:,? ?[ -]'?(?P<ty>\d{4}|\d{2})(?![\w]))?"
    # February 1st 1990, February 1, 1990
    rf"|(?P<um>{_MONTH})\.? (?P<ud>\d{{1,2}}){_ORDINAL},? (?P<uy>\d{{4}})(?![\w])"
    r")",
    re.IGNORECASE,
)


class DateMention(NamedTuple):
    day: int
    month: int
    year: int | None
    year_digits: int  # 4, 2, or 0 when the year was left out
    start: int
    end: int
    days_from_today: int | None = None  # "today" is 0, "tomorrow" 1; day and month are 0


_RELATIVE = re.compile(r"\b(today|tomorrow)\b", re.IGNORECASE)


# "Fri 11/12", "Monday 3/5": a day and month with no year, read as a date only after the
# name of a weekday (alone, "11/12" is as likely a page, a count or a fraction).
# (Nothing of a word, "/" or "." before the day: checked after its first digit, so that the
# pattern starts with a digit, which the regex engine skips to in C.)
_DAY_MONTH = re.compile(r"(?P<d>\d(?<![\w/.]\d)\d?)[/.](?P<m>\d{1,2})(?![\w/]|[./-]\d)")
MAX_DAY_MONTHS = 20
_WEEKDAY_BEFORE = re.compile(
    r"\b(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day)?\.?,?[ \t]+$", re.IGNORECASE
)


def find_dates(text: str, limit: int = 200) -> list[DateMention]:
    """The dates in `text`, the first `limit` of each kind at most."""
    return find_dates_and_day_months(text, limit)[0]


def find_dates_and_day_months(
    text: str, limit: int = 200
) -> tuple[list[DateMention], list[DateMention]]:
    """(the dates in `text`, as `find_dates`; the days and months written with no year,
    "15/12", "22.3", the first MAX_DAY_MONTHS): one pass finds both. A day and month is no
    date on its own, but a hearing where a hearing label or cue says so (parse.date_roles
    decides); after a weekday's name ("Fri 11/12") it is a date."""
    found = _find_full_dates(text, limit)
    short: list[DateMention] = []
    day_months: list[DateMention] = []
    for m in _DAY_MONTH.finditer(text):
        day, month = int(m.group("d")), int(m.group("m"))
        if not (1 <= day <= 31 and 1 <= month <= 12):
            continue
        if len(day_months) < MAX_DAY_MONTHS:
            day_months.append(DateMention(day, month, None, 0, m.start(), m.end()))
        weekday = _WEEKDAY_BEFORE.search(text, max(0, m.start() - 12), m.start())
        if weekday is not None and len(short) < limit:
            short.append(DateMention(day, month, None, 0, weekday.start(), m.end()))
        if len(short) >= limit and len(day_months) >= MAX_DAY_MONTHS:
            break
    if short:
        found = sorted([*found, *short], key=lambda d: d.start)
    return found, day_months


def _find_full_dates(text: str, limit: int) -> list[DateMention]:
    found: list[DateMention] = []
    for m in _DATE.finditer(" " + text):
        if len(found) >= limit:
            break
        # Groups: nd sep nm ny | iy im id | td tm ty | um ud uy
        nd, _, nm, ny, iy, im, iday, td, tm, ty, um, ud, uy = m.groups()
        if nd is not None:
            day, month_no, year_text = nd, int(nm), ny
        elif iy is not None:
            day, month_no, year_text = iday, int(im), iy
        elif td is not None:
            day, month_no, year_text = td, _MONTHS[tm[:3].lower()], ty
        else:
            day, month_no, year_text = ud, _MONTHS[um[:3].lower()], uy
        day_no = int(day)
        if not (1 <= day_no <= 31 and 1 <= month_no <= 12):
            continue
        year = int(year_text) if year_text else None
        digits = len(year_text) if year_text else 0
        # Offsets in `text`: the match began one character early, and the text one later.
        found.append(DateMention(day_no, month_no, year, digits, m.start(), m.end() - 1))
    return found


def find_relative_days(text: str) -> list[DateMention]:
    """ "today" and "tomorrow", which only a hearing can be."""
    return [
        DateMention(0, 0, None, 0, m.start(), m.end(), 0 if m.group(1).lower() == "today" else 1)
        for m in _RELATIVE.finditer(text)
    ]


_WEEKDAY = re.compile(
    r"(?:mon|tue|tues|wed|wednes|thu|thur|thurs|fri|sat|satur|sun)(?:day)?\.?,?\s+", re.IGNORECASE
)


def starts_with_date(text: str) -> bool:
    """Whether `text` opens with a date ("4 Feb 96", "Monday 3rd March 2025", "today")."""
    text = text[_WEEKDAY.match(text).end() :] if _WEEKDAY.match(text) else text
    head = text[:40]
    dates = find_dates(head)
    if dates and dates[0].start == 0:
        return True
    relative = _RELATIVE.match(head)
    return relative is not None


def has_date(text: str) -> bool:
    """Whether `text` holds something written as a date (cheap: one search)."""
    return _DATE.search(" " + text) is not None


def _make(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def resolve_dob(mention: DateMention, today: dt.date) -> dt.date | None:
    """A date of birth: a two-digit year takes the latest century that is not in the future
    (`90` is 1990, `05` is 2005); a date with no year is no date of birth."""
    if mention.year is None or mention.days_from_today is not None:
        return None
    if mention.year_digits == 4:
        return _make(mention.year, mention.month, mention.day)
    recent = _make(2000 + mention.year, mention.month, mention.day)
    if recent is not None and recent <= today:
        return recent
    return _make(1900 + mention.year, mention.month, mention.day)


def resolve_hearing(mention: DateMention, today: dt.date) -> dt.date | None:
    """A hearing date: a two-digit year is this century (`26` is 2026); with no year, the
    next such date from a month ago onwards (a hearing "on 18 December")."""
    if mention.days_from_today is not None:
        return today + dt.timedelta(days=mention.days_from_today)
    if mention.year is None:
        this_year = _make(today.year, mention.month, mention.day)
        if this_year is not None and this_year >= today - dt.timedelta(days=31):
            return this_year
        return _make(today.year + 1, mention.month, mention.day)
    year = mention.year if mention.year_digits == 4 else 2000 + mention.year
    return _make(year, mention.month, mention.day)


def age_on(dob: dt.date, today: dt.date) -> int:
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
