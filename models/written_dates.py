"""Dates as secretariats write them in plans and spreadsheets, in Norwegian.

"27.11.24", "27. juni", "nov 24", "xx.12.24", "mai–juni 22", "20.06-10.09", "Aug./sept.",
"10.09?", "XX.XX.XX": each reads as a `PlanDate` (its canonical text is what is stored);
the text as written is kept beside it to be shown. A day or month without a year takes
it from `Years` (`--year`, or the plan's own dates). Pure.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from .dates import PlanDate, check_year

MONTHS = ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember")
MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov", "des")

_ISO = re.compile(r"^\d{4}-\d{1,2}(-\d{1,2})?$")
_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})\.?$")
_DAY_NO_YEAR = re.compile(r"^(\d{1,2})\.(\d{1,2})\.?$")
_UNKNOWN_DAY = re.compile(r"^x{1,2}\.(\d{1,2})(?:\.(\d{2}|\d{4}))?\.?$", re.IGNORECASE)  # "xx.12.24": a month
_NAMED_DAY = re.compile(r"^(\d{1,2})\.?\s*([a-zæøå]+)\.?(?:\s*(\d{2}|\d{4}))?$", re.IGNORECASE)  # "27. juni"
_NAMED_MONTH = re.compile(r"^([a-zæøå]+)\.?(?:\s*(\d{2}|\d{4}))?$", re.IGNORECASE)  # "nov 24", "Aug."
_NOT_SET = re.compile(r"^x{1,4}([./-])x{1,2}\1x{1,4}\s*\??$", re.IGNORECASE)  # "XX.XX.XX": not yet set
_SEPARATOR = re.compile(r"\s*[–—/-]\s*")  # between the two ends of a range: en dash, em dash, slash, dash


# --- Norwegian dates -------------------------------------------------------------


@dataclass(frozen=True)
class Years:
    """Where a date written without a year takes it from: `year` (`--year`), else from `near`
    (the plan's own dates, `--into`): the first year that puts it within their period (first
    to last date), else the year nearest that period."""

    year: int | None = None
    near: tuple[dt.date, ...] = ()

    def pick(self, month: int, day: int | None, text: str) -> int:
        try:
            dt.date(2000, month, day or 1)  # a leap year: 29.02 is a real day in some year
        except ValueError:
            raise ValueError(f"{text!r} is not a real date") from None
        if self.year is not None:
            return self.year
        if not self.near:
            raise ValueError(f"{text!r} has no year: give --year, or --into a plan with dates, or write it with its year: {_with_year_hint(month, day)}")
        first, last = min(self.near), max(self.near)
        best: tuple[int, int] | None = None
        for year in range(first.year - 1, last.year + 2):
            try:
                start = dt.date(year, month, day or 1)
                end = dt.date(year, month, day or calendar.monthrange(year, month)[1])
            except ValueError:  # 29.02 in a year without it
                continue
            distance = max((first - end).days, (start - last).days, 0)
            if best is None or distance < best[0]:
                best = (distance, year)
        if best is None:
            raise ValueError(f"{text!r} is not a real date in the plan's years")
        return best[1]


def _with_year_hint(month: int, day: int | None) -> str:
    return f"{day:02d}.{month:02d}.YYYY" if day else f"{MONTH_ABBREVIATIONS[month - 1]} YYYY"


def _year(text: str) -> int:
    year = int(text)
    return 2000 + year if len(text) == 2 else year


def _month_number(word: str) -> int | None:
    """`nov`, `Nov`, `sept`, `november` → 11; a prefix of at least three letters names one month."""
    word = word.casefold()
    if len(word) < 3:
        return None
    for number, name in enumerate(MONTHS, start=1):
        if name.startswith(word):
            return number
    return None


def _named_month(word: str) -> int:
    if (month := _month_number(word)) is None:
        raise ValueError(f"{word!r} is not a Norwegian month (jan, feb, mar, apr, mai, jun, jul, aug, sep, okt, nov, des)")
    return month


# A day or month as written, its year possibly left out: (year | None, month, day | None).
_Part = tuple[int | None, int, int | None]


def _part(text: str) -> _Part:
    """One day or month as written: `27.11.24`, `27.11`, `27. juni`, `xx.12.24`, `nov 24`, `Aug.`, `2024-11`."""
    value = text.strip()
    if _ISO.match(value):
        parts = value.split("-")
        date = PlanDate.parse("-".join([parts[0], *(p.zfill(2) for p in parts[1:])]))
        return date.year, date.month, date.day
    if m := _DAY.match(value):
        return _year(m[3]), int(m[2]), int(m[1])
    if m := _DAY_NO_YEAR.match(value):
        return None, int(m[2]), int(m[1])
    if m := _UNKNOWN_DAY.match(value):
        return (_year(m[2]) if m[2] else None), int(m[1]), None
    if m := _NAMED_DAY.match(value):
        return (_year(m[3]) if m[3] else None), _named_month(m[2]), int(m[1])
    if m := _NAMED_MONTH.match(value):
        return (_year(m[2]) if m[2] else None), _named_month(m[1]), None
    raise ValueError(
        f"{value[:40]!r} is not a date: write a day (27.11.2024, 27. juni), a month (nov 2024, xx.12.24), "
        "a range (20.06–10.09, mai–juni 22, Aug./sept.), '?' after it if uncertain, or XX.XX.XX (not set)"
    )


def _checked(year: int, month: int, day: int | None, text: str) -> PlanDate:
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r} is not a real date: month {month}")
    if day is not None:
        try:
            dt.date(year, month, day)
        except ValueError:
            raise ValueError(f"{text!r} is not a real date") from None
    check_year(year, text)
    return PlanDate(year, month, day)


def _later(year: int, first: _Part, then: _Part) -> int:
    """The year of `then` when it follows `first` (of `year`) without one: the same, or the next."""
    return year if (then[1], then[2] or 0) > (first[1], first[2] or 0) else year + 1


def _single(text: str, years: Years) -> PlanDate:
    year, month, day = _part(text)
    if year is None:
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r} is not a real date: month {month}")
        year = years.pick(month, day, text)
    return _checked(year, month, day, text)


def _range(text: str, years: Years) -> PlanDate | None:
    """A range "A–B" (en dash, dash or slash between two days or months), or None if `text` is not one."""
    for m in _SEPARATOR.finditer(text):
        left, right = text[: m.start()], text[m.end() :]
        try:
            first, then = _part(left), _part(right)
        except ValueError:
            continue
        if first[0] is None and then[0] is None:
            start_year = years.pick(first[1], first[2], text)
            end_year = _later(start_year, first, then)
        elif first[0] is None:
            end_year = then[0]
            start_year = end_year if (first[1], first[2] or 0) < (then[1], then[2] or 0) else end_year - 1
        else:
            start_year = first[0]
            end_year = then[0] if then[0] is not None else _later(start_year, first, then)
        start = _checked(start_year, first[1], first[2], text)
        end = _checked(end_year, then[1], then[2], text)
        try:
            return start.until(end)
        except ValueError:
            raise ValueError(f"{text!r}: the end must come after the start") from None
    return None


def parse_norwegian_date(text: str, years: Years | None = None) -> PlanDate:
    """A plan date as written in Norwegian plans and spreadsheets.

    Days: `27.11.24`, `27.11.2024`, `2024-11-27`, `27. juni 2024`. Months: `nov 24`,
    `nov. 2024`, `november 2024`, `2024-11`, `xx.12.24`. Ranges and seasons: `20.06–10.09`,
    `20.06-10.09`, `mai–juni 22`, `Aug./sept.`, `2022-05/2022-06`. `?` after any of them:
    uncertain. `XX.XX.XX`: not yet set. A day or month without a year takes it from `years`
    (else it is refused, naming what to give). The canonical texts (`PlanDate.parse_any`) too.
    """
    value = text.strip()
    if not value:
        raise ValueError("required")
    if _NOT_SET.match(value):
        return PlanDate.NOT_SET
    try:
        return PlanDate.parse_any(value)
    except ValueError:
        pass
    uncertain = value.endswith("?")
    core = value.rstrip("?").strip() if uncertain else value
    if not core:
        raise ValueError(f"{value!r} is not a date")
    years = years or Years()
    try:
        date = _single(core, years)
    except ValueError as single_error:
        if (date := _range(core, years)) is None:
            raise single_error from None
    return date.with_uncertain(uncertain)


def format_norwegian_date(date: PlanDate) -> str:
    """`27.11.2024` a day, `nov 2024` a month, `20.06.2024–10.09.2024` a range, `?` after
    an uncertain one, `XX.XX.XX` not set: what `parse_norwegian_date` reads back."""
    if not date.is_set:
        return "XX.XX.XX"
    text = _format_simple(date.start)
    if date.end is not None:
        text += "–" + _format_simple(date.end)
    return text + ("?" if date.uncertain else "")


def _format_simple(date: PlanDate) -> str:
    if date.day is not None:
        return f"{date.day:02d}.{date.month:02d}.{date.year:04d}"
    return f"{MONTH_ABBREVIATIONS[date.month - 1]} {date.year:04d}"


def written_form(text: str, date: PlanDate) -> str | None:
    """`text` if it is to be shown as written, else None (a day or month with its year,
    `27.11.24`, `nov 24`, is shown in the one Norwegian form; so is canonical text).

    Kept: ranges and seasons, '?', not set, and any form without a year. It must agree:
    given the year of `date`'s start, it reads as `date`."""
    text = text.strip()
    if not text or text == str(date) or (date.simple and has_own_year(text)):
        return None
    years = Years(year=date.year if date.is_set else None)
    try:
        return text if parse_norwegian_date(text, years) == date else None
    except ValueError:
        return None


def has_own_year(text: str) -> bool:
    """True if `text` reads as a date without being given a year."""
    try:
        parse_norwegian_date(text)
    except ValueError:
        return False
    return True


def shown_date(date: PlanDate, written: str | None) -> str:
    """What a reader sees: the date as written, else `format_norwegian_date` (XX.XX.XX for not set)."""
    return written or format_norwegian_date(date)


# --- in the plan file -------------------------------------------------------------------

_STAGE_DATE_FIELDS = ("opens", "meeting", "due", "deadline")


def milestone_date(value: object) -> PlanDate:
    """A milestone's `date:` in the plan: canonical text, a `date`, or any written form with its year."""
    if isinstance(value, PlanDate | dt.date):
        return PlanDate.parse_any(value)
    if isinstance(value, int | float):  # YAML read 19.06 as a number (and 10.10 as 10.1): its text is lost
        raise ValueError(f"{value!r} is read as a number: put the date in quotes (\"19.06\")")
    return parse_norwegian_date(str(value))


MilestoneDate = Annotated[PlanDate, BeforeValidator(milestone_date), PlainSerializer(str, return_type=str)]


def drop_outdated_written(milestone: Any) -> Any:  # a MilestoneSpec (models/plan.py imports this module)
    """A milestone's after-validator: its `written` form goes when it no longer says its `date` (a rebase, a tie moved it)."""
    if milestone.written is not None and written_form(milestone.written, milestone.date) is None:
        object.__setattr__(milestone, "written", None)  # the model is frozen
    return milestone


def with_written_dates(data: object) -> object:
    """The raw plan with each milestone `date:` written in words (`Aug./sept. 2024`, `27. juni`)
    as `date:` (canonical) and `written:` (as written). A form without a year takes the year
    nearest the plan's own dates (its stages'; the milestones' that carry one if no stage has a date). Anything that
    does not read is left for validation to report with its place."""
    if not isinstance(data, dict) or not isinstance(milestones := data.get("milestones"), list):
        return data
    stages = data.get("stages") if isinstance(data.get("stages"), list) else []
    known = [_first_day(stage.get(name)) for stage in stages if isinstance(stage, dict) for name in _STAGE_DATE_FIELDS]
    if not any(known):
        known = [_first_day(m.get("date")) for m in milestones if isinstance(m, dict)]
    years = Years(near=tuple(d for d in known if d is not None))
    out = []
    for m in milestones:
        if isinstance(m, dict) and isinstance(text := m.get("date"), str) and "written" not in m:
            try:
                date = parse_norwegian_date(text, years)
            except ValueError:
                out.append(m)
                continue
            m = {**m, "date": str(date), "written": written_form(text, date)}
        out.append(m)
    return {**data, "milestones": out}


def _first_day(value: object) -> dt.date | None:
    try:
        date = milestone_date(value) if isinstance(value, str | dt.date) else None
    except ValueError:
        return None
    return date.first_day if date is not None and date.is_set else None


def plan_days(plan: object) -> tuple[dt.date, ...]:
    """The plan's own dates that a year is taken from: its stages' (the milestones' when no stage has one)."""
    stages = [getattr(stage, name, None) for stage in getattr(plan, "stages", []) for name in _STAGE_DATE_FIELDS]
    milestones = [m.date for m in getattr(plan, "milestones", [])]
    return _set_days(stages) or _set_days(milestones)


def _set_days(dates: list[object]) -> tuple[dt.date, ...]:
    return tuple(d.first_day for d in dates if isinstance(d, PlanDate) and d.is_set)
