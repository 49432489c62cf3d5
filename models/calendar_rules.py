"""Calendar rules: Norwegian public holidays, weekends, hearing length.

Utredningsinstruksen: a hearing normally runs three months, at least six weeks;
a hearing over the July holiday should be longer.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING

from dateutil.easter import easter

from .dates import PlanDate

if TYPE_CHECKING:
    from .plan import Plan, PlanProblem

MIN_HEARING_WEEKS = 6


# Norway's public holidays, named as `holidays.Norway(language="no")` names them
# (tests/test_calendar_rules.py compares the years it covers, 1901-2100; this also names them in
# 1900 and 2101-2200): a (month, day), or days after Easter Sunday; 1 and 17 May since 1947. Not `holidays` itself: it imports every calendar
# system it knows, and asking it for Norway imports all ~200 countries, most of the time
# `avtaleflyt plan check` took (bench/README.md).
_HOLIDAYS: tuple[tuple[str, tuple[int, int] | int], ...] = (
    ("Første nyttårsdag", (1, 1)), ("Skjærtorsdag", -3), ("Langfredag", -2), ("Første påskedag", 0),
    ("Andre påskedag", 1), ("Arbeidernes dag", (5, 1)), ("Grunnlovsdag", (5, 17)), ("Kristi himmelfartsdag", 39),
    ("Første pinsedag", 49), ("Andre pinsedag", 50), ("Første juledag", (12, 25)), ("Andre juledag", (12, 26)),
)
_SINCE_1947 = {"Arbeidernes dag", "Grunnlovsdag"}


@lru_cache(maxsize=64)
def _norway(year: int) -> dict[dt.date, str]:
    """{day: its name}; two on one day (17 May on Kristi himmelfartsdag) in A-Z order, joined by "; "."""
    sunday = easter(year)
    named: dict[dt.date, list[str]] = {}
    for name, when in _HOLIDAYS:
        if year >= 1947 or name not in _SINCE_1947:
            day = dt.date(year, *when) if isinstance(when, tuple) else sunday + dt.timedelta(days=when)
            named.setdefault(day, []).append(name)
    return {day: "; ".join(sorted(names)) for day, names in named.items()}


def non_working_day(day: dt.date) -> str | None:
    """Why `day` is not a working day in Norway ("lørdag", "Første juledag"), or None."""
    if day.weekday() == 5:
        return "lørdag"
    if day.weekday() == 6:
        return "søndag"
    return _norway(day.year).get(day)


def working_day_before(day: dt.date) -> dt.date:
    """`day` if it is a working day, else the last working day before it: a deadline on Saturday
    1 March 2025 is met by Friday 28 February; Easter Monday 2025's by Wednesday 16 April."""
    while non_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def deadline_warnings(plan: Plan) -> list[PlanProblem]:
    from .plan import HearingStage, PlanProblem

    warnings: list[PlanProblem] = []
    for i, stage in enumerate(plan.stages):
        for field in ("deadline", "due", "meeting"):
            value: PlanDate | None = getattr(stage, field, None)
            if value is not None and value.exact and (why := non_working_day(value.first_day)):
                warnings.append(PlanProblem(f"stages[{i}].{field}", f"{value} is not a working day ({why})"))
        if isinstance(stage, HearingStage) and stage.opens and stage.opens.exact and stage.deadline.exact:
            opens, closes = stage.opens.first_day, stage.deadline.first_day
            if closes - opens < dt.timedelta(weeks=MIN_HEARING_WEEKS):
                warnings.append(
                    PlanProblem(
                        f"stages[{i}].deadline",
                        f"the hearing runs {(closes - opens).days} days; Utredningsinstruksen asks for at least {MIN_HEARING_WEEKS} weeks",
                    )
                )
            if any(dt.date(y, 7, 15) for y in range(opens.year, closes.year + 1) if opens <= dt.date(y, 7, 15) <= closes):
                warnings.append(
                    PlanProblem(f"stages[{i}]", "the hearing runs over the July holiday; consider a longer deadline")
                )
    return warnings
