"""The list of revisions (`/`, `/api/revisions`, issue 15): its filters, its page and its counts.

`filtered` is the one place that decides which revisions a list shows: a filter, and later the
user's helsefellesskap (issue 16), is added there. Every count is an aggregate query (COUNT,
GROUP BY); the statements are the same in number whatever the number of revisions:
the total, the page's revisions, their stages, their active parties, their obligations by
kind and status, the helsefellesskap to choose from.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from avtaleflyt.models.enums import RevisionStatus, Role, StageStatus
from avtaleflyt.models.stages import KINDS, rules_for
from avtaleflyt.models.tables import FollowUp, Party, PartyObligation, Revision, Stage
from sqlalchemy import Select, and_, exists, false, func, or_, text, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from .accounts import Scope
from .status import Deadline, _deadlines


@dataclass(frozen=True)
class ListFilters:
    """What the list is narrowed to; None/False: not narrowed by it."""

    status: RevisionStatus | None = None
    helsefellesskap: str | None = None
    mine: bool = False  # needs my action: what a coordinator must do now
    overdue: bool = False  # an active stage's date has passed


# What a row of the list reads (not whole rows: their JSON columns cost more to read than the rest).
LIST_COLUMNS = (Revision.id, Revision.slug, Revision.title, Revision.helsefellesskap, Revision.status)
STAGE_COLUMNS = (Stage.revision_id, Stage.key, Stage.kind, Stage.status, Stage.due, Stage.meeting, Stage.deadline, Stage.meetings, Stage.forums)


@dataclass
class ListRow:
    revision: Any  # a row of LIST_COLUMNS
    stages: list[Any]  # rows of STAGE_COLUMNS, in their order
    parties: int  # active
    decided: int = 0
    treating: int = 0
    responded: int = 0
    invited: int = 0
    deadlines: list[Deadline] = field(default_factory=list)


@dataclass
class ListResult:
    rows: list[ListRow]
    total: int
    helsefellesskap: list[str]  # every helsefellesskap there is, for the filter's choices


def _exact(column, today: dt.date) -> ColumnElement[bool]:
    """A stage date (YYYY-MM-DD or a month, YYYY-MM) that is an exact day before today: ISO strings sort as dates."""
    return and_(func.length(column) == 10, column < today.isoformat())


def _meetings(dialect: str) -> tuple[str, str]:
    """A forum stage's own meetings (`meetings:`, JSON; JSON null when it has none) as rows, and a row's date."""
    if dialect == "sqlite":
        return "json_each(stage.meetings)", "json_extract(m.value, '$.date')"
    return "json_each(CASE WHEN json_typeof(stage.meetings) = 'object' THEN stage.meetings ELSE '{}'::json END)", "(m.value ->> 'date')"


def _forum_meeting_passed(column, dialect: str, today: dt.date) -> ColumnElement[bool]:
    """One forum's meeting day has passed: its own day (`meetings:`), or the shared one when a forum has no day of its own."""
    rows, day = _meetings(dialect)
    own_passed = text(f"EXISTS (SELECT 1 FROM {rows} AS m WHERE length({day}) = 10 AND {day} < :today_iso)").bindparams(today_iso=today.isoformat())
    shared_used = text(f"json_array_length(stage.forums) > (SELECT count(*) FROM {rows} AS m WHERE coalesce({day}, '') <> '')")
    return or_(own_passed, and_(_exact(column, today), shared_used))


def stage_passed(dialect: str, today: dt.date) -> ColumnElement[bool]:
    """An active stage one of whose dates (its kind's `date_words`) is a day before today: what
    `status._deadlines` calls overdue, in SQL."""
    cases = []
    for kind, rules in KINDS.items():
        for name in rules.date_words:
            column = getattr(Stage, name)
            if name in rules.forum_dates:
                when = _forum_meeting_passed(column, dialect, today)
            else:
                when = _exact(column, today)
            cases.append(and_(Stage.kind == kind, when))
    return and_(Stage.status == StageStatus.active, or_(*cases))


def _unanswered() -> ColumnElement[bool]:
    return or_(*(and_(PartyObligation.kind == kind.value, col(PartyObligation.status).not_in(r.answered)) for kind, r in KINDS.items() if r.answered))


def filtered(filters: ListFilters, *, today: dt.date, dialect: str, may_act: bool, scope: Scope | None = None) -> Select:
    """The revisions the list shows, newest first: every filter, and the user's scope (issue 16:
    only the helsefellesskap it has a role in; 'needs my action' only where it is a coordinator), is applied here.
    scope None: every revision (the CLI's, an installation's own view)."""
    query = select(*LIST_COLUMNS)
    if scope is not None:
        query = query.where(scope.where(col(Revision.helsefellesskap)))
    if filters.status is not None:
        query = query.where(Revision.status == filters.status)
    if filters.helsefellesskap is not None:
        query = query.where(Revision.helsefellesskap == filters.helsefellesskap)
    # Built only when asked for: the expression costs ~0.5 ms to build.
    overdue_stage = exists().where(Stage.revision_id == Revision.id, stage_passed(dialect, today)) if filters.overdue or filters.mine else None
    if filters.overdue:
        query = query.where(overdue_stage)
    if filters.mine:
        query = query.where(and_(Revision.status == RevisionStatus.active, _needs_action(overdue_stage, today)) if may_act else false())
        if scope is not None:
            query = query.where(scope.where(col(Revision.helsefellesskap), Role.coordinator))
    return query.order_by(col(Revision.created_at).desc(), col(Revision.id).desc())


def _needs_action(overdue_stage: ColumnElement[bool], today: dt.date) -> ColumnElement[bool]:
    """What a coordinator must do now: a stage whose date has passed (a hearing to close, a forum's
    decision to record, parties that are late), a party whose council has met and whose decision is
    not recorded, a follow-up still open."""
    met_not_recorded = (
        select(PartyObligation.id)
        .join(Stage, Stage.id == PartyObligation.stage_id)
        .join(Party, Party.id == PartyObligation.party_id)
        .where(
            Stage.revision_id == Revision.id, Stage.status == StageStatus.active, col(Party.active).is_(True),
            col(PartyObligation.meeting_date) < today, _unanswered(),
        )
        .exists()
    )
    open_followup = exists().where(FollowUp.revision_id == Revision.id, col(FollowUp.closed_at).is_(None))
    return or_(overdue_stage, met_not_recorded, open_followup)


def list_revisions(session: Session, filters: ListFilters, *, today: dt.date, may_act: bool, limit: int, offset: int, scope: Scope | None = None) -> ListResult:
    dialect = session.get_bind().dialect.name
    query = filtered(filters, today=today, dialect=dialect, may_act=may_act, scope=scope)
    total = session.exec(select(func.count()).select_from(query.with_only_columns(Revision.id).order_by(None).subquery())).one()
    revisions = list(session.exec(query.limit(limit).offset(offset)).all())
    in_scope = scope.where(col(Revision.helsefellesskap)) if scope is not None else true()
    names = list(session.exec(select(Revision.helsefellesskap).where(in_scope).distinct().order_by(Revision.helsefellesskap)).all())
    ids = [r.id for r in revisions]
    stages: dict[int, list] = defaultdict(list)
    for s in session.exec(select(*STAGE_COLUMNS).where(col(Stage.revision_id).in_(ids)).order_by(Stage.revision_id, Stage.position)):
        stages[s.revision_id].append(s)
    parties = dict(
        session.exec(select(Party.revision_id, func.count()).where(col(Party.revision_id).in_(ids), col(Party.active).is_(True)).group_by(Party.revision_id)).all()
    )
    rows = {r.id: ListRow(r, stages[r.id], parties.get(r.id, 0), deadlines=_deadlines(stages[r.id], today)) for r in revisions}
    counted = (
        select(Stage.revision_id, PartyObligation.kind, PartyObligation.status, func.count())
        .join(Stage, Stage.id == PartyObligation.stage_id)
        .where(col(Stage.revision_id).in_(ids))
        .group_by(Stage.revision_id, PartyObligation.kind, PartyObligation.status)
    )
    for revision_id, kind, status, n in session.exec(counted):
        rules, row = rules_for(kind), rows[revision_id]
        if rules.party_column:
            row.invited += n
            row.responded += n if status in rules.answered else 0
        elif rules.party_decision:
            row.treating += n
            row.decided += n if status in rules.answered else 0
    return ListResult(list(rows.values()), total, names)
