"""A milestone tied to a stage (`stage` and `at` in the plan): checked against the stage's dates,
and put on the stage's date. Pure; `models.plan` checks a plan with these and gives their names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .dates import PlanDate
from .plan_fields import PlanProblem

if TYPE_CHECKING:  # plan.py imports this module
    from .plan import Plan

STAGE_DATE_FIELDS = ("opens", "meeting", "due", "deadline")


def anchor_date(dates: dict[str, PlanDate | None], at: str) -> PlanDate | None:
    """The date of a stage a milestone is tied to: `dates` are the stage's (field -> date)."""
    present = [v for v in dates.values() if v is not None]
    if at == "start":
        return min(present, default=None)
    if at == "end":
        return max(present, default=None)
    return dates.get(at)


def _anchor(stage: Any, at: str) -> PlanDate | None:
    return anchor_date({f: getattr(stage, f, None) for f in STAGE_DATE_FIELDS}, at)


def milestone_problems(plan: Plan) -> tuple[list[PlanProblem], list[PlanProblem]]:
    """A milestone may be tied to a stage's date (`stage` and `at`); it then takes that date, and a
    written date that differs is warned about (the stage's date wins: a file edited for a shift
    moves the stage, and its tied milestones with it, without a second edit)."""
    errors: list[PlanProblem] = []
    warnings: list[PlanProblem] = []
    stages = {s.key: s for s in plan.stages}
    for i, m in enumerate(plan.milestones):
        place = f"milestones[{i}]"
        if m.stage is None:
            if m.at is not None:
                errors.append(PlanProblem(f"{place}.at", "only with `stage:` (the stage whose date it is)"))
            continue
        stage = stages.get(m.stage)
        if stage is None:
            errors.append(PlanProblem(f"{place}.stage", f"unknown stage {m.stage!r}; known: {', '.join(stages)}"))
        elif m.at is None:
            errors.append(PlanProblem(f"{place}.at", "required with `stage:`: start, end, meeting or deadline"))
        elif (anchor := _anchor(stage, m.at)) is None:
            has = [f for f in STAGE_DATE_FIELDS if getattr(stage, f, None) is not None]
            errors.append(PlanProblem(f"{place}.at", f"stage {m.stage!r} has no {m.at} date" + (f" (it has: {', '.join(has)})" if has else "")))
        elif m.date != anchor:
            warnings.append(PlanProblem(f"{place}.date", f"{m.date} is not the {m.at} of stage {m.stage!r} ({anchor}); a tied milestone takes its stage's date"))
    return errors, warnings


def tie_milestones(plan: Plan) -> Plan:
    """The plan with every tied milestone on its stage's date (the plan must have passed `check_plan`)."""
    stages = {s.key: s for s in plan.stages}
    tied = [
        m.model_copy(update={"date": anchor, "written": m.written if anchor == m.date else None})
        if m.stage in stages and m.at and (anchor := _anchor(stages[m.stage], m.at))
        else m
        for m in plan.milestones
    ]
    return plan if tied == plan.milestones else plan.model_copy(update={"milestones": tied})
