"""Choosing one of a plan's alternatives on a running revision, through the path of `plan shift`.

`preview_choice` says what would move and who would be told, writing nothing; `choose`
applies it in one transaction (tasks/shift.apply_shift with the alternative: stage dates,
tied milestones, a new plan version with the reason, the audit trail, a notice to every
party whose deadline moved and every forum whose meeting moved), reconciles, and nudges
the run. `shown` is what the dashboard shows of them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from avtaleflyt.models.alternatives import concerned_started
from avtaleflyt.models.enums import StageStatus
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.plan import Plan
from avtaleflyt.models.tables import PlanVersion, Revision
from sqlmodel import Session, select

from .recorder import lock_revision
from .shift import ShiftApplied, ShiftPreview, _preview, apply_shift, latest_version


def _revision(session: Session, slug: str) -> Revision:
    revision = session.exec(select(Revision).where(Revision.slug == slug)).first()
    return revision if revision is not None else lock_revision(session, slug)  # raises the usual "no revision" error


def preview_choice(session: Session, slug: str, alternative: str) -> ShiftPreview:
    preview = _preview(session, _revision(session, slug), "", alternative)
    if preview.shift.empty:
        raise DomainError(
            f"the plan in force (v{preview.from_version}) already has the dates of alternative {alternative!r}; nothing to change",
            code=ErrorCode.plan_unchanged, version=preview.from_version,
        )
    return preview


def apply_choice(session: Session, slug: str, alternative: str, *, actor: str, reason: str | None, today: dt.date) -> ShiftApplied:
    """In the caller's transaction; the new plan version keeps the file as given last (its source)."""
    preview_choice(session, slug, alternative)  # the same refusals, worded for a choice
    source = latest_version(session, _revision(session, slug)).source
    return apply_shift(session, slug, source, actor=actor, reason=reason, today=today, alternative=alternative)


def choose(slug: str, alternative: str, *, reason: str | None, actor: str | None = None):
    """Apply and reconcile in one transaction, then nudge the run so the notices go out (as actions.shift_plan)."""
    from avtaleflyt.tasks.reconcile import reconcile_revision
    from avtaleflyt.tasks.records import Recorded

    from avtaleflyt import clock
    from avtaleflyt.actions import nudge_run
    from avtaleflyt.db import session_scope
    from avtaleflyt.settings import get_settings

    settings, today = get_settings(), clock.today()
    with session_scope() as session:
        applied = apply_choice(session, slug, alternative, actor=actor or settings.actor, reason=reason, today=today)
        applied = dataclasses.replace(applied, seq=reconcile_revision(session, slug, today=today).seq)
    recorded = Recorded(slug, True, f"plan v{applied.preview.to_version}", applied.seq, applied.flow_run_id)
    return applied, nudge_run(recorded, settings)


def chosen(versions: list[PlanVersion]) -> str | None:
    """The alternative chosen last, by the plan versions' changes (oldest first)."""
    found = None
    for v in versions:
        for change in v.changes or []:
            if change.get("kind") == "alternative_chosen":
                found = change.get("alternative")
    return found


@dataclass(frozen=True)
class AlternativeDate:
    stage: str
    title: str
    field: str
    date: str  # as in the alternative
    in_force: str | None  # the stage's date in the plan in force


@dataclass(frozen=True)
class ShownAlternative:
    key: str
    title: str
    chosen: bool
    open: bool  # no stage it concerns has started: it can still be chosen
    dates: tuple[AlternativeDate, ...]


def shown(plan: Plan, statuses: dict[str, StageStatus], chosen_key: str | None) -> list[ShownAlternative]:
    """The alternatives the dashboard shows: the one chosen, and each other one while it can
    still be chosen (greyed); an unchosen one whose stages have started is no longer shown."""
    stages = {s.key: s for s in plan.stages}
    out = []
    for alt in plan.alternatives:
        is_open = not concerned_started(alt, statuses)
        if alt.key != chosen_key and not is_open:
            continue
        dates = tuple(
            AlternativeDate(key, stages[key].title or key if key in stages else key, f, str(d), _text(getattr(stages.get(key), f, None)))
            for key, given in alt.stages.items()
            for f, d in given.given().items()
        )
        out.append(ShownAlternative(alt.key, alt.title, alt.key == chosen_key, is_open, dates))
    return out


def _text(value: object) -> str | None:
    return None if value is None else str(value)


__all__ = ["AlternativeDate", "ShownAlternative", "apply_choice", "choose", "chosen", "preview_choice", "shown"]
