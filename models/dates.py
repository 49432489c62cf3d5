"""Plan dates: a day, a month, and the milestone dates people write ("20.06–10.09", "Nov./des.?", "XX.XX.XX").

A `PlanDate` is stored as its canonical text, the ISO 8601 / EDTF (ISO 8601-2) forms:

- ``2024-11-27`` a day, ``2024-11`` a month (every stage date is one of these two);
- ``2024-06-20/2024-09-10`` or ``2024-08/2024-09`` a range (a season of two months is one), by day or by month;
- ``2024-09-10?`` uncertain (written with "?"), also a month or a range: ``2024-11/2024-12?``;
- ``XXXX-XX-XX`` not yet set ("XX.XX.XX").

Text order is date order by the start: SQL `ORDER BY` on the text sorts every date by its
start day, "not set" last (``X`` sorts after every digit). Within one month the text puts
the month alone first, then its days, then a range or an uncertain date starting at the
month (``2024-11`` < ``2024-11-05`` < ``2024-11/2024-12`` < ``2024-11?``); Python's order
(`sort_key`) puts those three month-starts together before the month's days. On one start
Python puts the plain date first, then a range from it, then the uncertain ones.
Only an exact date (a day, neither range nor uncertain) gets a calendar entry or a reminder.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import ClassVar

MIN_YEAR = 1900  # every date a user gives (plan, CLI, dashboard, party link, spreadsheet) lies in these years:
MAX_YEAR = 2200  # a deadline of 9999-12-31 would pass the check, then fail every run that adds a day to it

NOT_SET_TEXT = "XXXX-XX-XX"

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def check_year(year: int, text: object) -> None:
    """Raises ValueError unless `year` lies within MIN_YEAR-MAX_YEAR; `text` is the date as given."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"{str(text)!r}: the year must be {MIN_YEAR}-{MAX_YEAR}")


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_TIME = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([Tt]|\s+)\d{1,2}:")
_CANONICAL = re.compile(r"^(\d{4}-\d{2}(?:-\d{2})?)(?:/(\d{4}-\d{2}(?:-\d{2})?))?(\?)?$")
_STAGE_ONLY = "a stage's date must be a day (YYYY-MM-DD) or a month (YYYY-MM), for its letters and reminders; ranges, '?' and unknown dates are for milestones"


@functools.total_ordering
@dataclass(frozen=True)
class PlanDate:
    year: int  # 0 (with month 0) only for "not set": PlanDate.NOT_SET
    month: int
    day: int | None = None
    end: PlanDate | None = None  # a range: this date is its start, `end` its last day or month
    uncertain: bool = False  # written with "?"

    NOT_SET: ClassVar[PlanDate]  # assigned below

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PlanDate):
            return NotImplemented
        return self.sort_key < other.sort_key

    @property
    def sort_key(self) -> tuple:
        """By start (a month before its days); on one start the plain date, a range, the uncertain; "not set" last."""
        if not self.is_set:
            return (1,)
        end = self.end.sort_key if self.end else ()
        return (0, self.year, self.month, self.day or 0, self.uncertain, end)

    @classmethod
    def parse(cls, value: object) -> PlanDate:
        """A day or a month (what a stage date may be): a `date`, ``YYYY-MM-DD`` or ``YYYY-MM``; raises ValueError naming the problem."""
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
        if text == NOT_SET_TEXT or _CANONICAL.match(text):
            raise ValueError(f"{text!r}: {_STAGE_ONLY}")
        raise ValueError(f"{text[:40]!r} is not a date (YYYY-MM-DD) or a month (YYYY-MM)")

    @classmethod
    def parse_any(cls, value: object) -> PlanDate:
        """Any canonical text (a day, a month, a range ``A/B``, ``?`` after it, ``XXXX-XX-XX``), or a `date`."""
        if isinstance(value, PlanDate | dt.date):
            return value if isinstance(value, PlanDate) else cls.parse(value)
        text = str(value).strip()
        if text == NOT_SET_TEXT:
            return cls.NOT_SET
        if m := _CANONICAL.match(text):
            start = cls.parse(m[1])
            if m[2]:
                start = start.until(cls.parse(m[2]))
            return start.with_uncertain(bool(m[3]))
        try:
            return cls.parse(text)
        except ValueError:
            raise ValueError(
                f"{str(text)[:40]!r} is not a date: a day (YYYY-MM-DD), a month (YYYY-MM), a range (A/B), "
                f"with '?' if uncertain, or {NOT_SET_TEXT} (not set)"
            ) from None

    def until(self, end: PlanDate) -> PlanDate:
        """The range from this day or month to `end`; raises ValueError unless `end` comes after it."""
        if not (self.simple and end.simple):
            raise ValueError("a range runs from a day or month to a day or month")
        if end.first_day <= self.last_day:
            raise ValueError(f"{self} to {end}: the end must come after the start")
        return PlanDate(self.year, self.month, self.day, end=end)

    def with_uncertain(self, uncertain: bool = True) -> PlanDate:
        if uncertain and not self.is_set:
            raise ValueError("a date not set cannot be uncertain")
        return PlanDate(self.year, self.month, self.day, self.end, uncertain)

    @property
    def is_set(self) -> bool:
        return self.year != 0

    @property
    def simple(self) -> bool:
        """A day or a month: set, no range, no '?'."""
        return self.is_set and self.end is None and not self.uncertain

    @property
    def exact(self) -> bool:
        """One known day: the only kind that gets a calendar entry or a reminder."""
        return self.simple and self.day is not None

    @property
    def start(self) -> PlanDate:
        return PlanDate(self.year, self.month, self.day)

    @property
    def first_day(self) -> dt.date:
        if not self.is_set:
            raise ValueError("the date is not set")
        return dt.date(self.year, self.month, self.day or 1)

    @property
    def last_day(self) -> dt.date:
        if self.end is not None:
            return self.end.last_day
        if not self.is_set:
            raise ValueError("the date is not set")
        return dt.date(self.year, self.month, self.day or calendar.monthrange(self.year, self.month)[1])

    def as_date(self) -> dt.date | None:
        """The exact day, or None for a month, a range, an uncertain or unset date."""
        return self.first_day if self.exact else None

    def shifted(self, days: int) -> PlanDate:
        """Moved by `days` (a month to the month of its first day moved; a range's ends each); "not set" stays."""
        if not self.is_set or days == 0:
            return self

        def move(d: PlanDate) -> PlanDate:
            day = d.first_day + dt.timedelta(days=days)
            return PlanDate(day.year, day.month, day.day if d.day is not None else None)

        start = move(self.start)
        if self.end is not None:
            end = move(self.end)
            start = start.until(end) if end.first_day > start.last_day else PlanDate(start.year, start.month, start.day, end=end)
        return start.with_uncertain(self.uncertain)

    def __str__(self) -> str:
        if not self.is_set:
            return NOT_SET_TEXT
        text = f"{self.year:04d}-{self.month:02d}" if self.day is None else f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.end is not None:
            text += f"/{self.end}"
        return text + ("?" if self.uncertain else "")


PlanDate.NOT_SET = PlanDate(0, 0)


def plan_date_or_none(value: str | None) -> PlanDate | None:
    return PlanDate.parse(value) if value else None


def plan_date_text(value: PlanDate | None) -> str | None:
    """The stored text of a plan date (`2024-11-27`, `2024-11`, `2024-06-20/2024-09-10?`, ...), or None."""
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
