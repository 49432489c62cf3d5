"""What the dashboard shows, as pydantic models: the same data for the HTML pages and /api/.

Every page reads a fixed number of queries whatever the number of revisions and
parties: `revision_views` (batched, six queries) plus at most a few batched
queries here (milestones, stage metadata, forums, the outbox, a count).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from avtaleflyt.models.dates import PlanDate, plan_date_text
from avtaleflyt.models.shift import slips
from avtaleflyt.models.tables import Forum, Milestone, OutboxMessage, PlanVersion, Revision, Stage
from avtaleflyt.tasks.shift import plan_in_force
from avtaleflyt.tasks.status import Deadline, PartyView, Progress, RevisionView, StageView, revision_views

PER_PAGE = 20
EMAIL_LOG_LIMIT = 200

# --------------------------------------------------------------------------- Norwegian labels

MONTHS_NB = ["jan.", "feb.", "mars", "apr.", "mai", "juni", "juli", "aug.", "sep.", "okt.", "nov.", "des."]
STAGE_STATUS_NB = {"pending": "venter", "active": "pågår", "done": "ferdig"}
STAGE_KIND_NB = {
    "draft": "utkast",
    "hearing": "høring",
    "forum_approval": "behandling i utvalg",
    "political_treatment": "politisk behandling",
}
REVISION_STATUS_NB = {"active": "pågår", "completed": "fullført"}
TREATMENT_NB = {
    "sent": "sendt",
    "scheduled": "møte berammet",
    "approved": "godkjent",  # the words of the forms and the letters
    "approved_with_reservations": "godkjent med merknader",
    "rejected": "ikke godkjent",
}
HEARING_NB = {"invited": "invitert", "responded": "svart"}
DATE_NAME_NB = {"opens": "åpner", "due": "frist", "meeting": "møte", "deadline": "frist"}
_DATE_NAME_WHAT_NB = {"due": "frist", "meeting": "møte", "deadline": "frist"}
EMAIL_STATUS_NB = {"pending": "i kø", "sent": "sendt", "failed": "feilet"}
EMAIL_EVENT_NB = {
    "hearing_invitation": "høringsinvitasjon",
    "hearing_reminder": "høringspåminnelse",
    "hearing_deadline_passed": "høringsfrist passert",
    "forum_meeting_notice": "møteinnkalling",
    "decision_request": "anmodning om vedtak",
    "decision_reminder": "påminnelse om vedtak",
    "overdue_notice": "varsel om forsinkelse",
    "decision_receipt": "kvittering for vedtak",
    "stage_completed": "trinn fullført",
    "revision_completed": "revisjon fullført",
    "weekly_digest": "ukesammendrag",
    "deadline_moved": "ny frist",
}
DATE_FIELD_NB = {"opens": "åpner", "due": "frist", "meeting": "møte", "deadline": "frist"}


def month_label(year: int, month: int) -> str:
    return f"{MONTHS_NB[month - 1]} {year}"


def day_label(day: dt.date) -> str:
    return f"{day.day}. {MONTHS_NB[day.month - 1]} {day.year}"


def _progress_nb(kind: str, p: Progress) -> str:
    """The same facts as `tasks.status.describe`, in bokmål."""
    if p.waits_for:
        return f"venter på {', '.join(p.waits_for)}"
    match kind:
        case "forum_approval":
            parts = [f"{p.done}/{p.of} godkjent" + (f" ({', '.join(p.approved)})" if p.approved else "")]
            parts += [f"sendt tilbake: {', '.join(p.returned)}"] if p.returned else []
            parts += [f"utsatt: {', '.join(p.postponed)}"] if p.postponed else []
            return "; ".join(parts)
        case "hearing":
            return f"{p.done}/{p.of} svar" + (f"; {p.note}" if p.note else "")
        case "political_treatment":
            return f"{p.done}/{p.of} vedtatt"
        case "draft":
            return "ferdig" if p.note else "pågår"  # who finished it is in the audit log
    return ""


def _what_nb(deadline: Deadline) -> str:
    return f"{STAGE_KIND_NB.get(deadline.kind, deadline.kind)}: {_DATE_NAME_WHAT_NB[deadline.date_name]}"


# --------------------------------------------------------------------------- models


class DeadlineOut(BaseModel):
    day: dt.date
    stage: str
    what: str = Field(description="in Norwegian, e.g. 'høring: frist'")
    overdue: bool


class RevisionSummary(BaseModel):
    slug: str
    title: str
    helsefellesskap: str
    status: Literal["active", "completed"]
    status_label: str
    open_stages: list[str]
    parties: int = Field(description="active parties")
    decided: int = Field(description="parties whose council/board has decided")
    treating: int = Field(description="parties in political treatment (0 before it starts)")
    responded: int = Field(description="hearing responses received")
    invited: int = Field(description="hearing invitations sent")
    next_deadline: DeadlineOut | None
    overdue: int = Field(description="deadlines of active stages that have passed")
    url: str


class RevisionPage(BaseModel):
    items: list[RevisionSummary]
    page: int
    per_page: int
    total: int
    pages: int


class StageOut(BaseModel):
    key: str
    title: str | None
    kind: str
    kind_label: str
    status: Literal["pending", "active", "done"]
    status_label: str
    round: int
    after: list[str]
    forums: list[str]
    dates: dict[str, str]
    progress: str
    level: int = Field(description="dependency depth: 0 for stages that wait for nothing")
    late: bool = Field(description="active and one of its exact dates has passed")


class HearingCell(BaseModel):
    status: Literal["invited", "responded"]
    responded_on: dt.date | None = None


class PartyOut(BaseModel):
    name: str
    kind: str
    body: str
    language: str
    active: bool
    hearings: dict[str, HearingCell] = Field(description="hearing stage key → response")
    treatment: str | None
    treatment_label: str | None
    meeting: dt.date | None
    decided_on: dt.date | None
    case_no: str | None
    self_reported: bool
    joined_on: dt.date | None = Field(default=None, description="set when the party joined after the revision started")
    left_on: dt.date | None = Field(default=None, description="set when the party has left; its history stays")


class TimelineItem(BaseModel):
    date: str = Field(description="YYYY-MM-DD or YYYY-MM")
    day: int | None
    label: str
    detail: str | None = None
    source: Literal["milestone", "stage"]
    stage: str | None = None
    status: str | None = None
    late: bool = False
    past: bool = False


class TimelineCell(BaseModel):
    month: str = Field(description="YYYY-MM")
    items: list[TimelineItem] = []
    spans: list[str] = Field(default=[], description="stages running through this month (a hearing from opens to deadline)")


class TimelineRow(BaseModel):
    body: str
    cells: list[TimelineCell]


class TimelineMonth(BaseModel):
    key: str
    label: str
    current: bool


class Timeline(BaseModel):
    today: dt.date
    months: list[TimelineMonth]
    rows: list[TimelineRow]
    today_in_span: bool


class EmailOut(BaseModel):
    created_at: dt.datetime
    sent_at: dt.datetime | None
    status: str
    status_label: str
    event: str
    event_label: str
    stage: str | None
    to_name: str
    to_address: str
    subject: str
    error: str | None
    attempts: int


class PlanVersionOut(BaseModel):
    version: int
    created_by: str
    created_at: dt.datetime
    reason: str | None
    changes: int = Field(description="how many differences from the version before")


class PlanDateOut(BaseModel):
    """A date of the plan: as in the baseline (version 1), as now, and how far it slipped."""

    what: str
    stage: str | None = Field(description="the stage's key; None for a milestone")
    field: str | None = Field(description="opens | due | meeting | deadline; None for a milestone")
    field_label: str
    baseline: str | None
    current: str | None
    slipped_days: int | None = Field(description="current minus baseline in days; positive is later")


class RevisionDetail(RevisionSummary):
    seq: int
    flow_run_id: str | None
    prefect_run_url: str | None
    stages: list[StageOut]
    parties_detail: list[PartyOut]
    hearing_stages: list[str]
    upcoming: list[DeadlineOut]
    overdue_items: list[DeadlineOut]
    behind_plan: list[DeadlineOut] = Field(description="passed dates of stages that have not started yet")
    timeline: Timeline
    plan_versions: list[PlanVersionOut]
    plan_dates: list[PlanDateOut] = Field(description="every stage date, then the milestones that moved since the baseline")
    emails: list[EmailOut]
    emails_truncated: bool


# --------------------------------------------------------------------------- building


def _deadline(d: Deadline) -> DeadlineOut:
    return DeadlineOut(day=d.day, stage=d.stage, what=_what_nb(d), overdue=d.overdue)


def _summary(v: RevisionView, today: dt.date) -> RevisionSummary:
    nxt = v.next_deadline(today)
    return RevisionSummary(
        slug=v.slug,
        title=v.title,
        helsefellesskap=v.helsefellesskap,
        status=v.status,
        status_label=REVISION_STATUS_NB.get(v.status, v.status),
        open_stages=v.active_stages,
        parties=sum(p.active for p in v.parties),
        decided=v.decided,
        treating=v.treating,
        responded=v.responded,
        invited=v.invited,
        next_deadline=_deadline(nxt) if nxt else None,
        overdue=v.overdue,
        url=f"/revisions/{v.slug}",
    )


def revision_page(session: Session, *, page: int, today: dt.date, per_page: int = PER_PAGE) -> RevisionPage:
    """One page of `/`: seven queries (a count and revision_views' six)."""
    total = session.exec(select(func.count()).select_from(Revision)).one()
    pages = max(1, math.ceil(total / per_page))
    views = revision_views(session, today=today, limit=per_page, offset=(page - 1) * per_page) if total else []
    return RevisionPage(items=[_summary(v, today) for v in views], page=page, per_page=per_page, total=total, pages=pages)


def _levels(stages: list[StageView]) -> dict[str, int]:
    level: dict[str, int] = {}
    for s in stages:  # iterate to a fixpoint; the plan check refuses cycles, `guard` stops one anyway
        level[s.key] = 0
    changed = True
    guard = 0
    while changed and guard <= len(stages):
        changed, guard = False, guard + 1
        for s in stages:
            want = 1 + max((level.get(a, 0) for a in s.after), default=-1)
            if want != level[s.key]:
                level[s.key], changed = want, True
    return level


def _late(s: StageView, today: dt.date) -> bool:
    if s.status != "active":
        return False
    for name in ("due", "meeting", "deadline"):
        value = s.dates.get(name)
        day = PlanDate.parse(value).as_date() if value else None
        if day is not None and day < today:
            return True
    return False


def _party(p: PartyView, hearing_keys: list[str]) -> PartyOut:
    hearings = {}
    for key in hearing_keys:
        text = p.hearings.get(key)
        if text is None:
            continue
        if text.startswith("responded"):
            on = text.removeprefix("responded").strip()
            hearings[key] = HearingCell(status="responded", responded_on=dt.date.fromisoformat(on) if on and on != "None" else None)
        else:
            hearings[key] = HearingCell(status="invited")
    return PartyOut(
        name=p.name,
        kind=p.kind,
        body=p.body,
        language=p.language,
        active=p.active,
        joined_on=p.joined_on,
        left_on=p.left_on,
        hearings=hearings,
        treatment=p.treatment,
        treatment_label=TREATMENT_NB.get(p.treatment, p.treatment) if p.treatment else None,
        meeting=p.meeting,
        decided_on=p.decided_on,
        case_no=p.case_no,
        self_reported=p.self_reported,
    )


# The rows of the timeline, as in the status document: the tracks first, then the bodies.
TRACK_ROW = "Utkast og høring"
POLITICAL_ROW = "Politisk behandling"
BODY_ROWS = [TRACK_ROW, "AU", "FU", "ASU", "Fagråd", "PSU"]
_BODY_ALIASES = {"au": "AU", "fu": "FU", "asu": "ASU", "fagrad": "Fagråd", "fagråd": "Fagråd", "psu": "PSU"}


def _body(name: str | None, forum_names: dict[str, str]) -> str | None:
    if not name:
        return None
    key = name.strip().lower()
    if key in _BODY_ALIASES:
        return _BODY_ALIASES[key]
    if key.replace("å", "a") in _BODY_ALIASES:
        return _BODY_ALIASES[key.replace("å", "a")]
    return None


def _milestone_row(m: Milestone, forum_names: dict[str, str]) -> str:
    body = _body(m.responsible, forum_names)
    if body:
        return body
    text = f"{m.what} {m.about or ''}".lower()
    if "politisk" in text:
        return POLITICAL_ROW
    if "høring" in text or "utkast" in text:
        return TRACK_ROW
    return (m.responsible or "Annet").strip()


def _months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    out, (y, mo) = [], first
    while (y, mo) <= last:
        out.append((y, mo))
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return out


def timeline(stages: list[StageOut], milestones: list[Milestone], forum_names: dict[str, str], today: dt.date) -> Timeline:
    placed: list[tuple[str, PlanDate, TimelineItem]] = []
    spans: list[tuple[str, PlanDate, PlanDate, str]] = []
    for m in milestones:
        try:
            when = PlanDate.parse(m.date)
        except ValueError:
            continue
        placed.append((
            _milestone_row(m, forum_names),
            when,
            TimelineItem(date=str(when), day=when.day, label=m.what, detail=m.about, source="milestone", past=when.last_day < today),
        ))
    for s in stages:
        for name, value in s.dates.items():
            when = PlanDate.parse(value)
            exact = when.as_date()
            late = s.status == "active" and name != "opens" and exact is not None and exact < today
            item = TimelineItem(
                date=str(when), day=when.day, label=f"{s.key}: {DATE_NAME_NB[name]}", detail=(s.title or None),
                source="stage", stage=s.key, status=s.status, late=late, past=when.last_day < today,
            )
            if s.kind == "forum_approval":
                rows = [_body(f, forum_names) or forum_names.get(f, f) for f in s.forums] or ["ASU"]
            elif s.kind == "political_treatment":
                rows = [POLITICAL_ROW]
            else:
                rows = [TRACK_ROW]
            placed += [(row, when, item) for row in rows]
        if s.kind == "hearing" and "opens" in s.dates and "deadline" in s.dates:
            spans.append((TRACK_ROW, PlanDate.parse(s.dates["opens"]), PlanDate.parse(s.dates["deadline"]), s.key))

    if not placed:
        return Timeline(today=today, months=[], rows=[], today_in_span=False)
    first = min((d.year, d.month) for _, d, _ in placed)
    last = max((d.year, d.month) for _, d, _ in placed)
    months = _months(first, last)
    current = (today.year, today.month)
    extra = sorted({row for row, _, _ in placed} - set(BODY_ROWS) - {POLITICAL_ROW})
    row_names = [*BODY_ROWS, *extra, POLITICAL_ROW]
    cells: dict[str, dict[tuple[int, int], TimelineCell]] = {
        r: {ym: TimelineCell(month=f"{ym[0]:04d}-{ym[1]:02d}") for ym in months} for r in row_names
    }
    for row, when, item in sorted(placed, key=lambda x: (x[1].year, x[1].month, x[1].day or 0, x[2].source != "stage")):
        cells[row][(when.year, when.month)].items.append(item)
    for row, start, end, key in spans:
        for ym in _months((start.year, start.month), (end.year, end.month)):
            if ym in cells[row]:
                cells[row][ym].spans.append(key)
    return Timeline(
        today=today,
        months=[TimelineMonth(key=f"{y:04d}-{mo:02d}", label=month_label(y, mo), current=(y, mo) == current) for y, mo in months],
        rows=[TimelineRow(body=r, cells=list(cells[r].values())) for r in row_names],
        today_in_span=first <= current <= last,
    )


def revision_detail(session: Session, slug: str, *, today: dt.date, prefect_ui_url: str | None) -> RevisionDetail:
    """`/revisions/{slug}`: revision_views' six queries plus four (stage metadata, forums, milestones, outbox).

    Raises DomainError for an unknown slug.
    """
    (v,) = revision_views(session, slug=slug, today=today)
    in_revision = (Revision.slug == slug)
    meta = {
        key: (title, forums)
        for key, title, forums in session.exec(
            select(Stage.key, Stage.title, Stage.forums).join(Revision, col(Stage.revision_id) == col(Revision.id)).where(in_revision)
        ).all()
    }
    forum_names = dict(
        session.exec(select(Forum.key, Forum.name).join(Revision, col(Forum.revision_id) == col(Revision.id)).where(in_revision)).all()
    )
    milestones = list(
        session.exec(
            select(Milestone).join(Revision, col(Milestone.revision_id) == col(Revision.id)).where(in_revision)
            .order_by(Milestone.date, Milestone.id)
        ).all()
    )
    emails = list(
        session.exec(
            select(OutboxMessage).join(Revision, col(OutboxMessage.revision_id) == col(Revision.id)).where(in_revision)
            .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc()).limit(EMAIL_LOG_LIMIT + 1)
        ).all()
    )

    levels = _levels(v.stages)
    stages = [
        StageOut(
            key=s.key,
            title=meta.get(s.key, (None, []))[0],
            kind=s.kind,
            kind_label=STAGE_KIND_NB.get(s.kind, s.kind),
            status=s.status,
            status_label=STAGE_STATUS_NB.get(s.status, s.status) + (f" (runde {s.round})" if s.round > 1 else ""),
            round=s.round,
            after=s.after,
            forums=list(meta.get(s.key, (None, []))[1] or []),
            dates=s.dates,
            progress=_progress_nb(s.kind, s.detail),
            level=levels[s.key],
            late=_late(s, today),
        )
        for s in v.stages
    ]
    hearing_keys = [s.key for s in v.stages if s.kind == "hearing"]
    summary = _summary(v, today)
    return RevisionDetail(
        **summary.model_dump(),
        seq=v.seq,
        flow_run_id=v.flow_run_id,
        prefect_run_url=f"{prefect_ui_url.rstrip('/')}/runs/flow-run/{v.flow_run_id}" if prefect_ui_url and v.flow_run_id else None,
        stages=stages,
        parties_detail=[_party(p, hearing_keys) for p in v.parties],
        hearing_stages=hearing_keys,
        upcoming=[_deadline(d) for d in v.deadlines if not d.overdue and d.day >= today][:10],
        behind_plan=[_deadline(d) for d in v.deadlines if not d.overdue and d.day < today],
        overdue_items=[_deadline(d) for d in v.deadlines if d.overdue],
        timeline=timeline(stages, milestones, forum_names, today),
        **_plan_history(session, in_revision, stages),
        emails=[
            EmailOut(
                created_at=e.created_at,
                sent_at=e.sent_at,
                status=e.status.value,
                status_label=EMAIL_STATUS_NB.get(e.status.value, e.status.value),
                event=e.event.value,
                event_label=EMAIL_EVENT_NB.get(e.event.value, e.event.value),
                stage=e.stage_key,
                to_name=e.to_name,
                to_address=e.to_address,
                subject=e.subject,
                error=e.last_error,
                attempts=e.attempts,
            )
            for e in emails[:EMAIL_LOG_LIMIT]
        ],
        emails_truncated=len(emails) > EMAIL_LOG_LIMIT,
    )


def _plan_history(session: Session, in_revision, stages: list[StageOut]) -> dict:  # noqa: ANN001 - a SQL condition
    versions = list(
        session.exec(
            select(PlanVersion).join(Revision, col(PlanVersion.revision_id) == col(Revision.id)).where(in_revision)
            .order_by(PlanVersion.version)
        ).all()
    )
    if not versions:
        return {"plan_versions": [], "plan_dates": []}
    baseline, current = plan_in_force(versions[0]), plan_in_force(versions[-1])
    moved, milestones_moved = slips(baseline, current)
    base_dates = {(s.key, f): getattr(s, f, None) for s in baseline.stages for f in DATE_FIELD_NB}
    slipped = {(m.stage, m.field): m.days for m in moved}
    titles = {s.key: s.title or s.key for s in stages}
    rows = [
        PlanDateOut(
            what=titles.get(s.key, s.key), stage=s.key, field=f, field_label=DATE_FIELD_NB[f],
            baseline=plan_date_text(base_dates.get((s.key, f))), current=plan_date_text(getattr(s, f, None)), slipped_days=slipped.get((s.key, f), 0 if base_dates.get((s.key, f)) else None),
        )
        for s in current.stages
        for f in DATE_FIELD_NB
        if getattr(s, f, None) is not None or base_dates.get((s.key, f)) is not None
    ]
    rows += [
        PlanDateOut(what=m.what, stage=None, field=None, field_label="milepæl", baseline=str(m.before), current=str(m.after), slipped_days=m.days)
        for m in milestones_moved
    ]
    return {
        "plan_versions": [PlanVersionOut(version=v.version, created_by=v.created_by, created_at=v.created_at, reason=v.reason, changes=len(v.changes)) for v in versions],
        "plan_dates": rows,
    }



# --------------------------------------------------------------------------- the DAG drawing (HTML only)

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 210, 62, 50, 18, 10


class DagBox(BaseModel):
    stage: StageOut
    x: int
    y: int


class DagEdge(BaseModel):
    d: str
    done: bool


class DagLayout(BaseModel):
    width: int
    height: int
    boxes: list[DagBox]
    edges: list[DagEdge]
    box_w: int = BOX_W
    box_h: int = BOX_H


def dag_layout(stages: list[StageOut]) -> DagLayout:
    columns: dict[int, list[StageOut]] = defaultdict(list)
    for s in stages:
        columns[s.level].append(s)
    pos: dict[str, tuple[int, int]] = {}
    boxes = []
    for level in sorted(columns):
        for i, s in enumerate(columns[level]):
            x, y = PAD + level * (BOX_W + GAP_X), PAD + i * (BOX_H + GAP_Y)
            pos[s.key] = (x, y)
            boxes.append(DagBox(stage=s, x=x, y=y))
    by_key = {s.key: s for s in stages}
    edges = []
    for s in stages:
        x2, y2 = pos[s.key]
        for a in s.after:
            if a not in pos:
                continue
            x1, y1 = pos[a]
            sx, sy, ex, ey = x1 + BOX_W, y1 + BOX_H // 2, x2 - 6, y2 + BOX_H // 2
            mid = (sx + ex) // 2
            edges.append(DagEdge(d=f"M{sx},{sy} C{mid},{sy} {mid},{ey} {ex},{ey}", done=by_key[a].status == "done"))
    width = PAD * 2 + (max(columns, default=0) + 1) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + max((len(c) for c in columns.values()), default=1) * (BOX_H + GAP_Y) - GAP_Y
    return DagLayout(width=width, height=height, boxes=boxes, edges=edges)
