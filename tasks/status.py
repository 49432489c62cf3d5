"""Where revisions stand: the read side behind `revision list/show` and the dashboard.

A fixed number of queries whatever the number of revisions, stages and parties.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from avtaleflyt.models import rules
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.forum_meetings import forum_meetings
from avtaleflyt.models.enums import StageStatus
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.stages import Progress, StageFacts, rules_for
from avtaleflyt.models.tables import Party, PartyObligation, Revision, Stage

from .stages.base import facts_by_stage


@dataclass
class StageView:
    key: str
    kind: str
    status: str
    round: int
    after: list[str]
    dates: dict[str, PlanDate]  # opens | due | meeting | deadline
    progress: str  # in English, for the CLI
    detail: Progress


@dataclass(frozen=True)
class PartyAnswer:
    """A party's row in one stage that asks something of every party (a hearing, a political treatment)."""

    stage: str
    kind: str
    status: str
    answered_on: dt.date | None = None
    meeting: dt.date | None = None
    case_no: str | None = None
    self_reported: bool = False


@dataclass(frozen=True)
class HearingAnswer:
    """A party's row in one hearing."""

    status: str  # invited | responded
    responded_on: dt.date | None = None


@dataclass
class PartyView:
    name: str
    kind: str
    body: str
    language: str
    active: bool
    answers: list[PartyAnswer] = field(default_factory=list)  # its row in each stage that asks every party
    joined_on: dt.date | None = None  # joined after the revision started
    left_on: dt.date | None = None

    # What the CLI's and the dashboard's party tables show, from `answers` (see `_summarise`).
    hearings: dict[str, HearingAnswer] = field(default_factory=dict)  # by hearing stage key
    treatment: str | None = None
    meeting: dt.date | None = None
    decided_on: dt.date | None = None
    case_no: str | None = None
    self_reported: bool = False


@dataclass
class Deadline:
    day: dt.date
    stage: str
    kind: str  # the stage's kind
    date_name: str  # due | meeting | deadline
    what: str  # in English, for the CLI
    overdue: bool


@dataclass
class RevisionView:
    slug: str
    title: str
    helsefellesskap: str
    status: str
    seq: int
    flow_run_id: str | None
    stages: list[StageView]
    parties: list[PartyView]
    deadlines: list[Deadline]
    decided: int
    treating: int
    responded: int
    invited: int
    column_stages: list[str] = field(default_factory=list)  # the stages whose answers are the party table's columns (the hearings)

    @property
    def active_stages(self) -> list[str]:
        return [s.key for s in self.stages if s.status == StageStatus.active]

    def next_deadline(self, today: dt.date) -> Deadline | None:
        """The first date from today on; a passed date of a stage not yet started is not "next"."""
        return next((d for d in self.deadlines if not d.overdue and d.day >= today), None)

    @property
    def overdue(self) -> int:
        return sum(d.overdue for d in self.deadlines)


def _meeting_days(s: Stage, name: str, what: str, today: dt.date) -> list[Deadline]:
    days: dict[dt.date, list[str]] = {}
    for forum, m in forum_meetings(s).items():
        if m.date is not None and (day := m.date.as_date()) is not None:
            days.setdefault(day, []).append(forum)
    return [Deadline(day, s.key, s.kind.value, name, f"{what} ({', '.join(forums)})", overdue=day < today and s.status == StageStatus.active) for day, forums in days.items()]


def _deadlines(stages: list[Stage], today: dt.date) -> list[Deadline]:
    out = []
    for s in stages:
        if s.status == StageStatus.done:
            continue
        for name, what in rules_for(s.kind).date_words.items():
            if name in rules_for(s.kind).forum_dates and s.meetings:  # forums meeting on their own days: each day
                out += _meeting_days(s, name, what, today)
                continue
            value = getattr(s, name)
            day = PlanDate.parse(value).as_date() if value else None
            if day is None:
                continue
            out.append(Deadline(day, s.key, s.kind.value, name, what, overdue=day < today and s.status == StageStatus.active))
    return sorted(out, key=lambda d: d.day)


def _progress(stage: Stage, facts: StageFacts) -> Progress:
    if stage.status == StageStatus.pending:
        return Progress(waits_for=rules.returned_to(stage) or list(stage.after))
    return rules_for(stage.kind).progress(stage, facts)


def _stage_view(stage: Stage, facts: StageFacts) -> StageView:
    detail = _progress(stage, facts)
    return StageView(
        key=stage.key,
        kind=stage.kind.value,
        status=stage.status.value,
        round=stage.round,
        after=stage.after,
        dates={n: PlanDate.parse(v) for n in ("opens", "due", "meeting", "deadline") if (v := getattr(stage, n))},
        progress=describe(stage.kind, detail),
        detail=detail,
    )


def describe(kind: str, p: Progress) -> str:
    """The progress in English: `2/3 approved (ASU, FU); returned: PSU`, `5/21 responses`, `waits for utkast`."""
    if p.waits_for:
        return f"waits for {', '.join(p.waits_for)}"
    return rules_for(kind).describe(p)


def revision_views(session: Session, *, slug: str | None = None, today: dt.date, limit: int | None = None, offset: int = 0) -> list[RevisionView]:
    query = select(Revision).order_by(Revision.created_at.desc(), Revision.id.desc())
    if slug is not None:
        query = query.where(Revision.slug == slug)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    revisions = list(session.exec(query).all())
    if slug is not None and not revisions:
        raise DomainError(f"SLUG: no revision {slug!r}", code=ErrorCode.no_revision, field="slug", slug=slug)
    ids = [r.id for r in revisions]
    stages = session.exec(select(Stage).where(col(Stage.revision_id).in_(ids)).order_by(Stage.position)).all()
    stage_ids = [s.id for s in stages]
    parties = session.exec(select(Party).where(col(Party.revision_id).in_(ids)).order_by(Party.name)).all()
    facts = facts_by_stage(session, stage_ids)

    by_rev: dict[int, list] = defaultdict(list)
    for s in stages:
        by_rev[s.revision_id].append(s)
    parties_by_rev: dict[int, list[Party]] = defaultdict(list)
    for p in parties:
        parties_by_rev[p.revision_id].append(p)

    views = []
    for rev in revisions:
        rev_stages = by_rev[rev.id]
        party_views = {
            p.id: PartyView(p.name, p.kind.value, p.body, p.language.value, p.active, joined_on=p.joined_on, left_on=p.left_on)
            for p in parties_by_rev[rev.id]
        }
        counts = {"column": [0, 0], "decision": [0, 0]}  # [answered, asked] by how the party table shows them
        for s in rev_stages:
            stage_rules = rules_for(s.kind)
            role = "column" if stage_rules.party_column else "decision" if stage_rules.party_decision else None
            for o in facts[s.id].obligations:
                party_views[o.party_id].answers.append(_answer(s, o))
                if role:
                    counts[role][0] += o.status in stage_rules.answered
                    counts[role][1] += 1
        for pv in party_views.values():
            _summarise(pv)
        views.append(
            RevisionView(
                slug=rev.slug,
                title=rev.title,
                helsefellesskap=rev.helsefellesskap,
                status=rev.status.value,
                seq=rev.seq,
                flow_run_id=rev.flow_run_id,
                stages=[_stage_view(s, facts[s.id]) for s in rev_stages],
                parties=list(party_views.values()),
                deadlines=_deadlines(rev_stages, today),
                decided=counts["decision"][0],
                treating=counts["decision"][1],
                responded=counts["column"][0],
                invited=counts["column"][1],
                column_stages=[s.key for s in rev_stages if rules_for(s.kind).party_column],
            )
        )
    return views


def _answer(stage: Stage, o: PartyObligation) -> PartyAnswer:
    return PartyAnswer(stage.key, stage.kind.value, o.status, o.answered_on, o.meeting_date, o.case_no, o.self_reported)


def _summarise(pv: PartyView) -> None:
    """The party's answer in each stage shown as a column (each hearing), and its decision (its latest political treatment)."""
    pv.hearings = {a.stage: HearingAnswer(a.status, a.answered_on) for a in pv.answers if rules_for(a.kind).party_column}
    if t := next((a for a in reversed(pv.answers) if rules_for(a.kind).party_decision), None):
        pv.treatment, pv.meeting, pv.decided_on, pv.case_no, pv.self_reported = t.status, t.meeting, t.answered_on, t.case_no, t.self_reported
