"""The dashboard's read models: a page of revisions and one revision, read from the database
into the typed models of `model.py` (labels from `labels.py`, the timeline from `timeline.py`).

Every page reads a fixed number of queries whatever the number of revisions and
parties: `revision_views` (batched, six queries) plus at most a few batched
queries here (milestones, stage metadata, forums, the outbox, a count).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from types import SimpleNamespace

from sqlmodel import Session, col, select

from avtaleflyt.models.forum_meetings import forum_meetings
from avtaleflyt.models.shift import slips
from avtaleflyt.models.stages import rules_for
from avtaleflyt.models.tables import Forum, Milestone, OutboxMessage, PlanVersion, Revision, Stage
from avtaleflyt.models.enums import StageStatus
from avtaleflyt.tasks import alternatives
from avtaleflyt.tasks.accounts import Scope
from avtaleflyt.tasks.shift import plan_in_force
from avtaleflyt.tasks.revision_list import ListRow, list_revisions
from avtaleflyt.tasks.status import Deadline, PartyView, RevisionView, StageView, revision_views

from . import labels
from .list_query import ListQuery, ListQueryError
from .model import (
    ForumMeetingOut,
    AlternativeDateOut,
    AlternativeOut,
    DeadlineOut,
    DocumentOut,
    DocumentVersionOut,
    EmailOut,
    FollowUpOut,
    InForceOut,
    InForcePartyOut,
    HearingCell,
    PartyOut,
    PartyReturnsOut,
    PlanDateOut,
    PlanVersionOut,
    PlannedMeetingOut,
    RevisionDetail,
    ListFiltersOut,
    RevisionPage,
    RevisionSummary,
    StageOut,
)
from .party_returns import returns_by_party
from avtaleflyt.models.party_meetings import MeetingInTime
from avtaleflyt.tasks.party_meetings import planned_by_name
from .timeline import timeline

LANGUAGE = "nb"  # the dashboard's
EMAIL_LOG_LIMIT = 200


# --------------------------------------------------------------------------- building


def _deadline(d: Deadline) -> DeadlineOut:
    return DeadlineOut(day=d.day, stage=d.stage, what=labels.deadline_what(d), overdue=d.overdue)


def _summary(row: ListRow, today: dt.date) -> RevisionSummary:
    r = row.revision
    nxt = next((d for d in row.deadlines if not d.overdue and d.day >= today), None)
    return RevisionSummary(
        slug=r.slug,
        title=r.title,
        helsefellesskap=r.helsefellesskap,
        status=r.status.value,
        status_label=labels.revision_status(r.status.value),
        open_stages=[s.key for s in row.stages if s.status == StageStatus.active],
        parties=row.parties,
        decided=row.decided,
        treating=row.treating,
        responded=row.responded,
        invited=row.invited,
        next_deadline=_deadline(nxt) if nxt else None,
        overdue=sum(d.overdue for d in row.deadlines),
        url=f"/revisions/{r.slug}",
    )


def _view_summary(v: RevisionView, today: dt.date) -> RevisionSummary:
    """One revision's summary line from its full view (the revision page's head)."""
    nxt = v.next_deadline(today)
    return RevisionSummary(
        slug=v.slug, title=v.title, helsefellesskap=v.helsefellesskap, status=v.status, status_label=labels.revision_status(v.status),
        open_stages=v.active_stages, parties=sum(p.active for p in v.parties), decided=v.decided, treating=v.treating,
        responded=v.responded, invited=v.invited, next_deadline=_deadline(nxt) if nxt else None, overdue=v.overdue, url=f"/revisions/{v.slug}",
    )


def revision_page(session: Session, *, today: dt.date, query: ListQuery | None = None, may_act: bool = False, path: str = "/", scope: Scope | None = None) -> RevisionPage:
    """One page of the list: a fixed number of aggregate queries (tasks/revision_list.py).
    Raises ListQueryError for a helsefellesskap there is none of (in `scope`, the user's: issue 16)."""
    query = query or ListQuery()
    per_page, f = query.per_page, query.filters
    found = list_revisions(session, f, today=today, may_act=may_act, limit=per_page, offset=(query.page - 1) * per_page, scope=scope)
    if f.helsefellesskap is not None and f.helsefellesskap not in found.helsefellesskap:
        raise ListQueryError("helsefellesskap", f"ingen revideringer i helsefellesskapet «{f.helsefellesskap[:80]}»")
    pages = max(1, math.ceil(found.total / per_page))
    return RevisionPage(
        items=[_summary(row, today) for row in found.rows],
        page=query.page,
        per_page=per_page,
        total=found.total,
        pages=pages,
        filters=ListFiltersOut(status=f.status.value if f.status else None, helsefellesskap=f.helsefellesskap, mine=f.mine, overdue=f.overdue),
        next=query.url(path, query.page + 1) if query.page < pages else None,
        prev=query.url(path, min(query.page - 1, pages)) if query.page > 1 else None,
        helsefellesskap_options=found.helsefellesskap,
    )


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


def _late(s: StageOut, today: dt.date) -> bool:
    """Active, and one of its exact dates (not its opening) has passed."""
    if s.status != "active":
        return False
    return any((day := when.as_date()) is not None and day < today for name, when in s.dates.items() if name != "opens")


def _stage(s: StageView, title: str | None, forums: list[str] | None, *, level: int, today: dt.date) -> StageOut:
    out = StageOut(
        key=s.key,
        title=title,
        kind=s.kind,
        kind_label=labels.stage_kind(s.kind),
        status=s.status,
        status_label=labels.stage_status(s.status, s.round),
        round=s.round,
        after=s.after,
        forums=list(forums or []),
        dates=s.dates,
        progress=labels.progress(s.kind, s.detail),
        level=level,
        late=False,
        still_to_decide=s.detail.returned + s.detail.still_to_decide if s.detail.settled else [],
    )
    out.late = _late(out, today)
    return out


def _name_forums(out: StageOut, s: StageView, names: dict[str, str], own: tuple | None) -> None:
    """The forums by name, not key (in its progress too); a stage whose forums meet on their own
    days: each forum's meeting (models/forum_meetings.py) instead of the stage's one date."""
    out.forum_names = [names.get(f, f) for f in out.forums]
    named = {f: [names.get(k, k) for k in getattr(s.detail, f)] for f in ("approved", "returned", "postponed", "still_to_decide") if hasattr(s.detail, f)}
    out.progress = labels.progress(s.kind, dataclasses.replace(s.detail, **named))
    if own is not None:
        forums, meeting, meetings = own
        found = forum_meetings(SimpleNamespace(forums=forums, meeting=meeting, meetings=meetings))
        out.meetings = [ForumMeetingOut(forum=k, name=names.get(k, k), date=m.date, time=m.time, place=m.place) for k, m in found.items() if m.date]
        out.dates.pop("meeting", None)


def _party(p: PartyView, hearing_keys: list[str], closed: set[str], returns: PartyReturnsOut | None = None, planned: PlannedMeetingOut | None = None) -> PartyOut:
    """`closed`: the hearings that are over; who was invited to one and never answered did not answer."""
    hearings = {
        key: HearingCell(status="unanswered" if key in closed and answer.status == "invited" else answer.status, responded_on=answer.responded_on)
        for key in hearing_keys
        if (answer := p.hearings.get(key)) is not None
    }
    shown = ("name", "kind", "body", "language", "active", "joined_on", "left_on", "treatment", "meeting", "decided_on", "case_no", "self_reported")
    return PartyOut(**{name: getattr(p, name) for name in shown}, hearings=hearings, treatment_label=labels.treatment(p.treatment), returns=returns, planned_meeting=planned)


_MEETING_FLAGS = {"none_in_time": "ingen møte før fristen", "send_by_passed": "fristen for å sende saken er passert"}


def _planned(found: MeetingInTime | None) -> PlannedMeetingOut | None:
    """The party's meeting for the political stage (None: it has no meeting plan, or has decided)."""
    if found is None or not found.planned or (found.scheduled and not found.flagged):  # a scheduled meeting: the Møtedato column
        return None
    flag = ("none_in_time" if found.meeting is None else "send_by_passed") if found.flagged else None
    m = found.meeting
    return PlannedMeetingOut(date=m and m.date, body=m and m.body, send_by=found.send_by, flag=flag, flag_label=_MEETING_FLAGS.get(flag or ""))


def _email(e: OutboxMessage) -> EmailOut:
    status, event = e.status.value, e.event.value
    return EmailOut(
        created_at=e.created_at, sent_at=e.sent_at, status=status, status_label=labels.email_status(status), event=event,
        event_label=labels.email_event(event), stage=e.stage_key, to_name=e.to_name, to_address=e.to_address,
        subject=e.subject, error=e.last_error, attempts=e.attempts,
    )


def revision_detail(session: Session, slug: str, *, today: dt.date, prefect_ui_url: str | None) -> RevisionDetail:
    """`/revisions/{slug}`: revision_views' six queries plus four (stage metadata, forums, milestones, outbox).

    Raises DomainError for an unknown slug.
    """
    (v,) = revision_views(session, slug=slug, today=today)
    in_revision = (Revision.slug == slug)
    stage_rows = session.exec(
        select(Stage.key, Stage.title, Stage.forums, Stage.meeting, Stage.meetings).join(Revision, col(Stage.revision_id) == col(Revision.id)).where(in_revision)
    ).all()
    meta = {key: (title, forums) for key, title, forums, _, _ in stage_rows}
    forum_names = dict(
        session.exec(select(Forum.key, Forum.name).join(Revision, col(Forum.revision_id) == col(Revision.id)).where(in_revision).order_by(col(Forum.id))).all()
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
        _stage(s, *meta.get(s.key, (None, [])), level=levels[s.key], today=today)
        for s in v.stages
    ]
    own = {key: (forums, meeting, meetings) for key, _, forums, meeting, meetings in stage_rows if meetings}
    for out, s in zip(stages, v.stages):
        _name_forums(out, s, forum_names, own.get(s.key))
    hearing_keys = v.column_stages
    returns = returns_by_party(session, slug)  # one query: what each party sent back with its decision
    _, meetings = planned_by_name(session, slug, v.stages, v.parties, today)  # one query: each party's meeting plan
    summary = _view_summary(v, today)
    return RevisionDetail(
        **summary.model_dump(),
        seq=v.seq,
        flow_run_id=v.flow_run_id,
        prefect_run_url=f"{prefect_ui_url.rstrip('/')}/runs/flow-run/{v.flow_run_id}" if prefect_ui_url and v.flow_run_id else None,
        stages=stages,
        parties_detail=[
            _party(p, hearing_keys, {s.key for s in v.stages if s.key in hearing_keys and s.status == "done"}, returns.get(p.name), _planned(meetings.get(p.name)))
            for p in v.parties
        ],
        hearing_stages=hearing_keys,
        upcoming=[_deadline(d) for d in v.deadlines if not d.overdue and d.day >= today][:10],
        behind_plan=[_deadline(d) for d in v.deadlines if not d.overdue and d.day < today],
        overdue_items=[_deadline(d) for d in v.deadlines if d.overdue],
        timeline=timeline(stages, milestones, forum_names, today),
        forum_names=forum_names,
        **_plan_history(session, in_revision, stages),
        emails=[
            _email(e)
            for e in emails[:EMAIL_LOG_LIMIT]
        ],
        emails_truncated=len(emails) > EMAIL_LOG_LIMIT,
        **_in_force(session, v),
        documents=_documents(session, slug),
    )


def _documents(session: Session, slug: str) -> list[DocumentOut]:
    """The plan's documents with their versions (tasks/documents.listing), each linked as the letters link it."""
    from avtaleflyt.tasks.documents import listing

    return [
        DocumentOut(key=d["key"], title=d["title"], changed_since_hearing=d["changed_since_hearing"], versions=[
            DocumentVersionOut(
                **{k: v[k] for k in ("number", "label", "date", "file_name", "sha256", "size", "significant")},
                url=v["url"] or f"/revisions/{slug}/documents/{d['key']}/v{v['number']}",
                approved_by=[f"{a['who']} {dt.date.fromisoformat(a['on']):%d.%m.%Y}" if a["on"] else a["who"] for a in v["approved_by"]],
            )
            for v in d["versions"]
        ])
        for d in listing(session, slug)
    ]


def _in_force(session: Session, v: RevisionView) -> dict:
    """For whom the agreement is in force (from the read model: no query), and the follow-up items (one query), open first."""
    from avtaleflyt.models import wording
    from avtaleflyt.tasks.followups import followups_by_slug
    from avtaleflyt.tasks.in_force import in_force_of_view

    standing = in_force_of_view(v)
    words = {"in_force": wording.word("in_force.since", LANGUAGE), "rejected": wording.word("followup_reason.rejected", LANGUAGE),
             "pending": wording.word("in_force.not", LANGUAGE)}
    items = sorted(followups_by_slug(session, v.slug), key=lambda f: (not f.open, f.id))
    return {
        "in_force": InForceOut(
            summary=standing.summary(LANGUAGE), count=standing.count, of=standing.of,
            parties=[InForcePartyOut(party=p.party, standing=p.standing.value, standing_label=words[p.standing.value], since=p.since) for p in standing.parties],
        ),
        "followups": [
            FollowUpOut(**dataclasses.asdict(f), reason_label=wording.label("followup_reason", f.reason, LANGUAGE)) for f in items
        ],
    }


def _alternatives(plan, versions: list[PlanVersion], stages: list[StageOut]) -> list[AlternativeOut]:  # noqa: ANN001 - a Plan
    statuses = {s.key: StageStatus(s.status) for s in stages}
    return [
        AlternativeOut(
            key=a.key, title=a.title, chosen=a.chosen, open=a.open,
            dates=[AlternativeDateOut(**dataclasses.asdict(d), field_label=labels.date_field(d.field)) for d in a.dates],
        )
        for a in alternatives.shown(plan, statuses, alternatives.chosen(versions))
    ]


def _plan_history(session: Session, in_revision, stages: list[StageOut]) -> dict:  # noqa: ANN001 - a SQL condition
    versions = list(
        session.exec(
            select(PlanVersion).join(Revision, col(PlanVersion.revision_id) == col(Revision.id)).where(in_revision)
            .order_by(PlanVersion.version)
        ).all()
    )
    if not versions:
        return {"plan_versions": [], "plan_dates": [], "alternatives": []}
    baseline, current = plan_in_force(versions[0]), plan_in_force(versions[-1])
    moved, milestones_moved = slips(baseline, current)
    base_dates = {(s.key, f): getattr(s, f, None) for s in baseline.stages for f in rules_for(s.kind).dates}
    slipped = {(m.stage, m.field): m.days for m in moved}
    titles = {s.key: s.title or s.key for s in stages}
    rows = [
        PlanDateOut(
            what=titles.get(s.key, s.key), stage=s.key, field=f, field_label=labels.date_field(f),
            baseline=base_dates.get((s.key, f)), current=getattr(s, f, None), slipped_days=slipped.get((s.key, f), 0 if base_dates.get((s.key, f)) else None),
        )
        for s in current.stages
        for f in rules_for(s.kind).dates
        if getattr(s, f, None) is not None or base_dates.get((s.key, f)) is not None
    ]
    rows += [
        PlanDateOut(what=m.what, stage=None, field=None, field_label=labels.date_field("milestone"), baseline=m.before, current=m.after, slipped_days=m.days)
        for m in milestones_moved
    ]
    return {
        "alternatives": _alternatives(current, versions, stages),
        "plan_versions": [PlanVersionOut(version=v.version, created_by=v.created_by, created_at=v.created_at, reason=v.reason, changes=len(v.changes)) for v in versions],
        "plan_dates": rows,
    }
