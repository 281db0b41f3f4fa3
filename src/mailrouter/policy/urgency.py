"""Working days in England and Wales, for the `urgent` tag (DESIGN §4, §7).

A hearing is urgent when it is no more than N working days after today: today itself counts
as day zero, so a hearing today or on the next working day is urgent, and weekends and
England-and-Wales bank holidays (substitute days included) are not working days. The holiday
calendar comes from the maintained `holidays` package, never from a hand-kept list.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def working_days_until(today: dt.date, hearing: dt.date) -> int:
    """Working days after `today` up to and including `hearing` (0 when it is today)."""
    count = 0
    day = today
    while day < hearing:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def is_urgent(hearing: dt.date | None, today: dt.date, within_working_days: int) -> bool:
    if hearing is None or hearing < today:
        return False
    return hearing < first_not_urgent(today, within_working_days)


@lru_cache(maxsize=32)
def first_not_urgent(today: dt.date, within_working_days: int) -> dt.date:
    """The first day whose hearing is not urgent: the working day after the last one within
    reach. Cached, since `today` changes once a day and every message asks."""
    count = 0
    day = today
    while True:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
            if count > within_working_days:
                return day
