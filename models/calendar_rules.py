"""Calendar rules: Norwegian public holidays, weekends, hearing length.

Utredningsinstruksen: a hearing normally runs three months, at least six weeks;
a hearing over the July holiday should be longer.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING

import holidays

from .dates import PlanDate

if TYPE_CHECKING:
    from .plan import Plan, PlanProblem

MIN_HEARING_WEEKS = 6


@lru_cache(maxsize=64)
def _norway(year: int) -> holidays.HolidayBase:
    return holidays.Norway(years=year, language="no")


def non_working_day(day: dt.date) -> str | None:
    """Why `day` is not a working day in Norway ("lørdag", "1. juledag"), or None."""
    if day.weekday() == 5:
        return "lørdag"
    if day.weekday() == 6:
        return "søndag"
    return _norway(day.year).get(day)


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
