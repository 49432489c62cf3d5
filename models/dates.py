"""Plan dates: a day, or only a month ("Nov./des.", "xx.12.24").

A `PlanDate` is stored as its ISO text: ``2024-11-27`` (a day) or ``2024-11``
(a month). Text order is date order, so SQL can sort it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass

MIN_YEAR = 1900  # every date a user gives (plan, CLI, dashboard, party link, spreadsheet) lies in these years:
MAX_YEAR = 2200  # a deadline of 9999-12-31 would pass the check, then fail every run that adds a day to it

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def check_year(year: int, text: object) -> None:
    """Raises ValueError unless `year` lies within MIN_YEAR-MAX_YEAR; `text` is the date as given."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"{str(text)!r}: the year must be {MIN_YEAR}-{MAX_YEAR}")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_TIME = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([Tt]|\s+)\d{1,2}:")


@functools.total_ordering
@dataclass(frozen=True)
class PlanDate:
    year: int
    month: int
    day: int | None = None

    def __lt__(self, other: object) -> bool:
        """Text order: a month sorts before its days (``2024-11`` < ``2024-11-01``)."""
        if not isinstance(other, PlanDate):
            return NotImplemented
        return (self.year, self.month, self.day or 0) < (other.year, other.month, other.day or 0)

    @classmethod
    def parse(cls, value: object) -> PlanDate:
        """Accepts a `date`, ``YYYY-MM-DD`` or ``YYYY-MM``; raises ValueError naming the problem."""
        if isinstance(value, PlanDate):
            return value
        if isinstance(value, dt.datetime):
            raise ValueError("expected a date (YYYY-MM-DD) or a month (YYYY-MM), not a time")
        if isinstance(value, dt.date):
            check_year(value.year, value)
            return cls(value.year, value.month, value.day)
        text = str(value).strip()
        if m := _DAY.match(text):
            year, month, day = (int(g) for g in m.groups())
            try:
                dt.date(year, month, day)
            except ValueError as exc:
                raise ValueError(f"{text!r} is not a real date ({exc})") from None
            check_year(year, text)
            return cls(year, month, day)
        if _TIME.match(text):
            raise ValueError("expected a date (YYYY-MM-DD) or a month (YYYY-MM), not a time")
        if m := _MONTH.match(text):
            year, month = (int(g) for g in m.groups())
            if not 1 <= month <= 12:
                raise ValueError(f"{text!r}: month must be 01-12")
            check_year(year, text)
            return cls(year, month)
        raise ValueError(f"{text[:40]!r} is not a date (YYYY-MM-DD) or a month (YYYY-MM)")

    @property
    def exact(self) -> bool:
        return self.day is not None

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, self.day or 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, self.day or calendar.monthrange(self.year, self.month)[1])

    def as_date(self) -> dt.date | None:
        """The exact day, or None for a month-only date."""
        return self.first_day if self.exact else None

    def __str__(self) -> str:
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def plan_date_or_none(value: str | None) -> PlanDate | None:
    return PlanDate.parse(value) if value else None


def plan_date_text(value: PlanDate | None) -> str | None:
    """The stored text of a plan date (`2024-11-27`, `2024-11`), or None."""
    return None if value is None else str(value)


_NORWEGIAN_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$")


def parse_day(text: str) -> dt.date:
    """A day as typed by a coordinator: `2024-11-27`, `27.11.2024` or `27.11.24`."""
    text = text.strip()
    try:
        if m := _NORWEGIAN_DAY.match(text):
            day, month, year = (int(g) for g in m.groups())
            value = dt.date(year + 2000 if len(m[3]) == 2 else year, month, day)
        else:
            value = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)") from None
    check_year(value.year, text)
    return value
