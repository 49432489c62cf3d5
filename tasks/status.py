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
from avtaleflyt.models.enums import DECIDED_TREATMENTS, HearingStatus, StageKind, StageStatus
from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import ForumDecision, HearingResponse, Party, PartyTreatment, Revision, Stage


@dataclass
class Progress:
    """What a stage's progress is made of; each front end puts it in its own words."""

    waits_for: list[str] = field(default_factory=list)  # a pending stage: the stages before it
    done: int | None = None  # approvals, responses or decisions so far
    of: int | None = None  # ... of this many
    approved: list[str] = field(default_factory=list)  # forums
    returned: list[str] = field(default_factory=list)
    postponed: list[str] = field(default_factory=list)
    note: str | None = None  # why a draft or hearing was closed


@dataclass
class StageView:
    key: str
    kind: str
    status: str
    round: int
    after: list[str]
    dates: dict[str, str]
    progress: str  # in English, for the CLI
    detail: Progress


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
    hearings: dict[str, HearingAnswer] = field(default_factory=dict)  # by hearing stage key
    treatment: str | None = None
    meeting: dt.date | None = None
    decided_on: dt.date | None = None
    case_no: str | None = None
    self_reported: bool = False
    joined_on: dt.date | None = None  # joined after the revision started
    left_on: dt.date | None = None


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

    @property
    def active_stages(self) -> list[str]:
        return [s.key for s in self.stages if s.status == StageStatus.active]

    def next_deadline(self, today: dt.date) -> Deadline | None:
        """The first date from today on; a passed date of a stage not yet started is not "next"."""
        return next((d for d in self.deadlines if not d.overdue and d.day >= today), None)

    @property
    def overdue(self) -> int:
        return sum(d.overdue for d in self.deadlines)


_DATE_WHAT = {"due": "draft due", "meeting": "meeting", "deadline": "deadline"}


def _deadlines(stages: list[Stage], today: dt.date) -> list[Deadline]:
    out = []
    for s in stages:
        if s.status == StageStatus.done:
            continue
        for name in ("due", "meeting", "deadline"):
            value = getattr(s, name)
            day = PlanDate.parse(value).as_date() if value else None
            if day is None:
                continue
            out.append(Deadline(day, s.key, s.kind.value, name, f"{s.kind.value} {_DATE_WHAT[name]}", overdue=day < today and s.status == StageStatus.active))
    return sorted(out, key=lambda d: d.day)


def _progress(stage: Stage, decisions: list[ForumDecision], responses: list[HearingResponse], treatments: list[PartyTreatment]) -> Progress:
    if stage.status == StageStatus.pending:
        return Progress(waits_for=rules.returned_to(stage) or list(stage.after))
    match stage.kind:
        case StageKind.forum_approval:
            t = rules.forum_tally(stage, decisions)
            return Progress(done=len(t.approved), of=t.required, approved=t.approved, returned=t.returned, postponed=t.postponed)
        case StageKind.hearing:
            done = sum(r.status == HearingStatus.responded for r in responses)
            return Progress(done=done, of=len(responses), note=stage.closed_reason)
        case StageKind.political_treatment:
            return Progress(done=sum(t.status in DECIDED_TREATMENTS for t in treatments), of=len(treatments))
    return Progress(note=stage.closed_reason)


def _stage_view(stage: Stage, decisions: list[ForumDecision], responses: list[HearingResponse], treatments: list[PartyTreatment]) -> StageView:
    detail = _progress(stage, decisions, responses, treatments)
    return StageView(
        key=stage.key,
        kind=stage.kind.value,
        status=stage.status.value,
        round=stage.round,
        after=stage.after,
        dates={n: v for n in ("opens", "due", "meeting", "deadline") if (v := getattr(stage, n))},
        progress=describe(stage.kind, detail),
        detail=detail,
    )


def describe(kind: str, p: Progress) -> str:
    """The progress in English: `2/3 approved (ASU, FU); returned: PSU`, `5/21 responses`, `waits for utkast`."""
    if p.waits_for:
        return f"waits for {', '.join(p.waits_for)}"
    match kind:
        case StageKind.forum_approval:
            parts = [f"{p.done}/{p.of} approved" + (f" ({', '.join(p.approved)})" if p.approved else "")]
            parts += [f"returned: {', '.join(p.returned)}"] if p.returned else []
            parts += [f"postponed: {', '.join(p.postponed)}"] if p.postponed else []
            return "; ".join(parts)
        case StageKind.hearing:
            return f"{p.done}/{p.of} responses" + (f"; {p.note}" if p.note else "")
        case StageKind.political_treatment:
            return f"{p.done}/{p.of} decided"
        case StageKind.draft:
            return p.note or "in progress"
    return ""


def revision_views(session: Session, *, slug: str | None = None, today: dt.date, limit: int | None = None, offset: int = 0) -> list[RevisionView]:
    query = select(Revision).order_by(Revision.created_at.desc(), Revision.id.desc())
    if slug is not None:
        query = query.where(Revision.slug == slug)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    revisions = list(session.exec(query).all())
    if slug is not None and not revisions:
        raise DomainError(f"SLUG: no revision {slug!r}")
    ids = [r.id for r in revisions]
    stages = session.exec(select(Stage).where(col(Stage.revision_id).in_(ids)).order_by(Stage.position)).all()
    stage_ids = [s.id for s in stages]
    parties = session.exec(select(Party).where(col(Party.revision_id).in_(ids)).order_by(Party.name)).all()
    decisions = session.exec(select(ForumDecision).where(col(ForumDecision.stage_id).in_(stage_ids))).all()
    responses = session.exec(select(HearingResponse).where(col(HearingResponse.stage_id).in_(stage_ids))).all()
    treatments = session.exec(select(PartyTreatment).where(col(PartyTreatment.stage_id).in_(stage_ids))).all()

    by_rev: dict[int, list] = defaultdict(list)
    for s in stages:
        by_rev[s.revision_id].append(s)
    parties_by_rev: dict[int, list[Party]] = defaultdict(list)
    for p in parties:
        parties_by_rev[p.revision_id].append(p)
    dec_by_stage, resp_by_stage, treat_by_stage = defaultdict(list), defaultdict(list), defaultdict(list)
    for d in decisions:
        dec_by_stage[d.stage_id].append(d)
    for r in responses:
        resp_by_stage[r.stage_id].append(r)
    for t in treatments:
        treat_by_stage[t.stage_id].append(t)

    views = []
    for rev in revisions:
        rev_stages = by_rev[rev.id]
        stage_key = {s.id: s.key for s in rev_stages}
        party_views = {
            p.id: PartyView(p.name, p.kind.value, p.body, p.language.value, p.active, joined_on=p.joined_on, left_on=p.left_on)
            for p in parties_by_rev[rev.id]
        }
        invited = responded = treating = decided = 0
        for s in rev_stages:
            for r in resp_by_stage[s.id]:
                invited += 1
                responded += r.status == HearingStatus.responded
                party_views[r.party_id].hearings[stage_key[s.id]] = HearingAnswer(r.status.value, r.responded_on)
            for t in treat_by_stage[s.id]:
                treating += 1
                decided += t.status in DECIDED_TREATMENTS
                pv = party_views[t.party_id]
                pv.treatment, pv.meeting, pv.decided_on, pv.case_no, pv.self_reported = t.status.value, t.meeting_date, t.decided_on, t.case_no, t.self_reported
        views.append(
            RevisionView(
                slug=rev.slug,
                title=rev.title,
                helsefellesskap=rev.helsefellesskap,
                status=rev.status.value,
                seq=rev.seq,
                flow_run_id=rev.flow_run_id,
                stages=[_stage_view(s, dec_by_stage[s.id], resp_by_stage[s.id], treat_by_stage[s.id]) for s in rev_stages],
                parties=list(party_views.values()),
                deadlines=_deadlines(rev_stages, today),
                decided=decided,
                treating=treating,
                responded=responded,
                invited=invited,
            )
        )
    return views
