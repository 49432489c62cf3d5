"""Named alternatives for a set of stages ("Alt. 2: høringsrunde 26.09–10.11, ASU 04.12"). Pure.

A plan may hold `alternatives:`, each giving new dates to some of its stages:

    alternatives:
      - key: alt-2
        title: "Alt. 2"
        stages:
          hoering-ovrige: {opens: 2024-09-26, deadline: 2024-11-10}
          sluttbehandling: {meeting: 2024-12-04}

Only dates: they are what `plan shift` carries over from one plan version to the next
when the file leaves them as they were (a title or a shape written only in an alternative
would be lost at the next shift of the unchanged file). Choosing one (`plan choose`) is a
shift whose file is the last one given with the alternative's dates written in; the stages
after them move along as a shift moves them. It is refused once a stage it concerns has
started: a hearing under way or a meeting held is no longer an alternative.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from .enums import StageStatus
from .errors import DomainError, ErrorCode
from .plan_fields import DateField, Key, PlanProblem, Strict, Title

if TYPE_CHECKING:
    from .plan import Plan

ALTERNATIVE_DATES = ("opens", "due", "meeting", "deadline")


class AlternativeDates(Strict):
    """The dates an alternative gives one stage (those its kind has)."""

    opens: DateField | None = None
    due: DateField | None = None
    meeting: DateField | None = None
    deadline: DateField | None = None

    def given(self) -> dict:
        return {f: getattr(self, f) for f in ALTERNATIVE_DATES if getattr(self, f) is not None}


class AlternativeSpec(Strict):
    key: Key
    title: Title
    stages: dict[Key, AlternativeDates] = Field(min_length=1, max_length=200, description="stage key -> its dates in this alternative")


def applied(plan: Plan, alternative: AlternativeSpec) -> Plan:
    """The plan with the alternative's dates written into its stages (tied milestones follow)."""
    from .plan import tie_milestones

    stages = [
        s.model_copy(update=alternative.stages[s.key].given()) if s.key in alternative.stages else s
        for s in plan.stages
    ]
    return tie_milestones(plan.model_copy(update={"stages": stages}))


def structure_problems(plan: Plan) -> list[PlanProblem]:
    """Each alternative names stages the plan has, and only dates their kinds have; keys are unique."""
    problems: list[PlanProblem] = []
    stages = {s.key: s for s in plan.stages}
    seen: dict[str, int] = {}
    for i, alt in enumerate(plan.alternatives):
        place = f"alternatives[{i}]"
        if alt.key in seen:
            problems.append(PlanProblem(f"{place}.key", f"{alt.key!r} repeats alternatives[{seen[alt.key]}]"))
        seen.setdefault(alt.key, i)
        for key, dates in alt.stages.items():
            stage = stages.get(key)
            if stage is None:
                problems.append(PlanProblem(f"{place}.stages.{key}", f"unknown stage {key!r}; known: {', '.join(stages)}"))
                continue
            if not dates.given():
                problems.append(PlanProblem(f"{place}.stages.{key}", "no date given; an alternative gives a stage new dates"))
            for f in dates.given():
                if f not in type(stage).model_fields:
                    has = [d for d in ALTERNATIVE_DATES if d in type(stage).model_fields]
                    problems.append(PlanProblem(f"{place}.stages.{key}.{f}", f"stage {key!r} ({stage.kind}) has no {f} date; it has: {', '.join(has)}"))
    return problems


def order_problems(plan: Plan) -> list[PlanProblem]:
    """Each alternative applied to the plan keeps its stages after the stages they come after.
    (Checked on the file; on a plan in force that has moved since, `stale` says the same as warnings.)"""
    from .plan import check_plan

    if structure_problems(plan):
        return []
    problems = []
    for i, alt in enumerate(plan.alternatives):
        errors, _ = check_plan(applied(plan, alt).model_copy(update={"alternatives": []}))
        problems += [PlanProblem(f"alternatives[{i}]", f"with {alt.key!r} chosen: {p.place}: {p.message}") for p in errors]
    return problems


def warnings_of(plan: Plan, base: list[PlanProblem]) -> list[PlanProblem]:
    """What `plan check` would warn about with each alternative chosen and does not warn about
    without it (its deadline on a Sunday, say)."""
    from .plan import check_plan

    seen = {(p.place, p.message) for p in base}
    out = []
    for i, alt in enumerate(plan.alternatives):
        _, warnings = check_plan(applied(plan, alt).model_copy(update={"alternatives": []}))
        out += [PlanProblem(f"alternatives[{i}]", f"with {alt.key!r} chosen: {w.place}: {w.message}") for w in warnings if (w.place, w.message) not in seen]
    return out


def stale(plan: Plan) -> list[PlanProblem]:
    """Alternatives that no longer fit the plan in force (after a shift moved the stages before them)."""
    return [PlanProblem(p.place, f"{p.message} (the alternative no longer fits the plan; give it new dates)") for p in order_problems(plan)]


def concerned_started(alternative: AlternativeSpec, statuses: dict[str, StageStatus]) -> list[str]:
    """The stages it concerns that have started (under way or done), in its order."""
    return [k for k in alternative.stages if statuses.get(k, StageStatus.pending) != StageStatus.pending]


def find(plan: Plan, key: str) -> AlternativeSpec:
    for alt in plan.alternatives:
        if alt.key == key:
            return alt
    known = ", ".join(a.key for a in plan.alternatives) or "none"
    raise DomainError(f"the plan in force has no alternative {key!r}; known: {known}", code=ErrorCode.invalid_value, field="alternative", alternative=key)


def choice(written: Plan, in_force: Plan, key: str, statuses: dict[str, StageStatus]) -> tuple[Plan, Plan]:
    """The (file as given before, file as given now) pair that makes `plan shift` choose the
    alternative: the last file, and it with the alternative's dates written in. The alternative's
    dates are blanked in the first, so each counts as written anew even where the file already
    had it (a stage moved along since keeps its moved date otherwise)."""
    from .shift import ShiftRefused

    alt = find(in_force, key)
    if started := concerned_started(alt, statuses):
        raise ShiftRefused([
            f"alternatives: {key!r} concerns stage {s!r}, which has {'started' if statuses[s] == StageStatus.active else 'been completed'}; it can no longer be chosen"
            for s in started
        ])
    blanked = [
        s.model_copy(update={f: None for f in alt.stages[s.key].given()}) if s.key in alt.stages else s
        for s in written.stages
    ]
    return written.model_copy(update={"stages": blanked}), applied(written, alt)


__all__ = [
    "ALTERNATIVE_DATES", "AlternativeDates", "AlternativeSpec", "applied", "choice", "concerned_started", "find",
    "order_problems", "stale", "structure_problems", "warnings_of",
]
