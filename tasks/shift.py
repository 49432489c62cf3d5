"""Applying a revised plan to a running revision, in one transaction.

`preview_shift` says what would change and who would be told, writing nothing;
`apply_shift` checks again under the revision's lock and writes it all: stage
dates and shapes, parties joining and leaving, milestones, a new plan version
with who and why, the audit trail, and a notice to every party whose deadline
moved and to every forum whose meeting moved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from avtaleflyt.clock import utcnow
from avtaleflyt.models.alternatives import choice
from avtaleflyt.models.dates import PlanDate, plan_date_text
from avtaleflyt.models.enums import RevisionStatus, StageStatus
from avtaleflyt.models.plan import Plan, parse_plan
from avtaleflyt.models.rules import DomainError, ErrorCode
from avtaleflyt.models.shift import DATE_FIELDS, PlanShift, ShiftRefused, shift_plan
from avtaleflyt.models.forum_meetings import forum_meetings
from avtaleflyt.models.tables import (
    Document,
    ForumDecision,
    Forum,
    Milestone,
    Party,
    PartyObligation,
    PlanVersion,
    Revision,
    Stage,
)

from . import compose, links, outbox, party_meetings
from .recorder import Recorder, lock_revision
from .stages import effects_for
from .stages.base import facts_of


@dataclass(frozen=True)
class Notice:
    party: str
    moves: tuple[tuple[str, PlanDate, PlanDate], ...]  # (stage key, before, after)


@dataclass(frozen=True)
class ForumNotice:
    forum: str  # its key
    moves: tuple[tuple[str, PlanDate, PlanDate], ...]  # (stage key, before, after)


@dataclass(frozen=True)
class ShiftPreview:
    slug: str
    from_version: int
    to_version: int
    shift: PlanShift
    notices: tuple[Notice, ...]
    forum_notices: tuple[ForumNotice, ...] = ()


@dataclass(frozen=True)
class ShiftApplied:
    preview: ShiftPreview
    seq: int
    flow_run_id: str | None
    enqueued: int


def latest_version(session: Session, revision: Revision) -> PlanVersion:
    return session.exec(
        select(PlanVersion).where(PlanVersion.revision_id == revision.id).order_by(col(PlanVersion.version).desc())
    ).first()


def plan_in_force(version: PlanVersion) -> Plan:
    """The plan in force after `version` (a version stored before plans could move is its own file)."""
    if version.effective is not None:
        return Plan.model_validate(version.effective)
    return parse_plan(version.source).plan


def _as_written(version: PlanVersion, in_force: Plan) -> Plan:
    """The file as the coordinator gave it last; the plan in force if it no longer reads."""
    try:
        return parse_plan(version.source, dates_in_order=False).plan
    except ValueError:
        return in_force


def preview_shift(session: Session, slug: str, source: str) -> ShiftPreview:
    revision = session.exec(select(Revision).where(Revision.slug == slug)).first()
    if revision is None:
        lock_revision(session, slug)  # raises the usual "no revision" error with the known slugs
    return _preview(session, revision, source)


def _preview(session: Session, revision: Revision, source: str, alternative: str | None = None) -> ShiftPreview:
    """`alternative`: choose this alternative of the plan in force instead of reading `source` (models/alternatives.choice)."""
    if revision.status == RevisionStatus.completed:
        raise DomainError(f"revision {revision.slug!r} is completed; its plan can no longer move", code=ErrorCode.revision_completed, slug=revision.slug)
    given_now = parse_plan(source, dates_in_order=False).plan if alternative is None else None
    last = latest_version(session, revision)
    stages = {s.key: s for s in session.exec(select(Stage).where(Stage.revision_id == revision.id))}
    in_force = plan_in_force(last)
    statuses = {k: s.status for k, s in stages.items()}
    given_before = _as_written(last, in_force)
    if alternative is not None:
        given_before, given_now = choice(given_before, in_force, alternative, statuses)
    shift = shift_plan(given_before, in_force, given_now, statuses)
    _check_rows(session, revision, shift, stages)
    return ShiftPreview(
        revision.slug, last.version, last.version + 1, shift, tuple(_notices(session, revision, shift, stages)), tuple(_forum_notices(session, revision, shift, stages)),
    )


def _check_rows(session: Session, revision: Revision, shift: PlanShift, stages: dict[str, Stage]) -> None:
    """What only the database can refuse: a removed stage with records, a new party named like one that left."""
    problems = []
    for key in shift.stages_removed:
        stage = stages[key]
        if any(session.exec(select(func.count()).select_from(t).where(t.stage_id == stage.id)).one() for t in (PartyObligation, ForumDecision)):
            problems.append(f"stages: {key!r} has records from an earlier round; it cannot be removed")
    left = {p.name.casefold(): p for p in session.exec(select(Party).where(Party.revision_id == revision.id, Party.active == False))}  # noqa: E712
    for spec in shift.parties_joined:
        if (former := left.get(spec.name.casefold())) and former.org_number != spec.org_number:
            problems.append(f"parties: {spec.name!r} is the name of a party that left on {former.left_on}; give the new party another name")
    if problems:
        raise ShiftRefused(problems)


def _notices(session: Session, revision: Revision, shift: PlanShift, stages: dict[str, Stage]) -> list[Notice]:
    """Who is told of a moved deadline: for a stage under way, the parties that still owe it;
    for a stage to come, every party that stays. Parties joining get their dates in their letters."""
    leaving = {p.org_number for p in shift.parties_left}
    parties = [p for p in session.exec(select(Party).where(Party.revision_id == revision.id, Party.active == True).order_by(Party.id)) if p.org_number not in leaving]  # noqa: E712
    by_party: dict[int, list[tuple[str, PlanDate, PlanDate]]] = {}
    for move in shift.deadline_moves():
        stage = stages.get(move.stage)
        if stage is None or stage.status == StageStatus.done:
            continue
        owing = {p.id for p in parties}
        if stage.status == StageStatus.active:
            owing &= _owing(session, stage)
        for p in parties:
            if p.id in owing:
                by_party.setdefault(p.id, []).append((move.stage, move.before, move.after))
    names = {p.id: p.name for p in parties}
    return [Notice(names[pid], tuple(moves)) for pid, moves in by_party.items()]


def _forum_notices(session: Session, revision: Revision, shift: PlanShift, stages: dict[str, Stage]) -> list[ForumNotice]:
    """Which forums are told of a moved meeting: those with an address that still meet on it (the kind says
    which dates are its forums' and which forums are still to meet); one notice per forum."""
    addressed = {f.key for f in shift.effective.forums if f.email}
    specs = {s.key: s for s in shift.effective.stages}
    by_forum: dict[str, list[tuple[str, PlanDate, PlanDate]]] = {}
    for move in shift.date_moves:
        stage = stages.get(move.stage)
        if stage is None or stage.status == StageStatus.done or not (move.before and move.after):
            continue
        rules = effects_for(stage.kind).rules
        if move.field not in rules.forum_dates:
            continue
        told = rules.forums_to_meet(stage, facts_of(session, stage)) & addressed
        own = {k for k, m in forum_meetings(specs[move.stage]).items() if m.own} if getattr(specs.get(move.stage), "meetings", None) else set()
        told = told & {move.forum} if move.forum else told - own  # a forum's own meeting: only it; the stage's: those without their own
        for forum in sorted(told):
            by_forum.setdefault(forum, []).append((move.stage, move.before, move.after))
    order = [f.key for f in shift.effective.forums]
    return [ForumNotice(key, tuple(moves)) for key, moves in sorted(by_forum.items(), key=lambda item: order.index(item[0]))]


def _owing(session: Session, stage: Stage) -> set[int]:
    return effects_for(stage.kind).rules.owing(facts_of(session, stage))


def apply_shift(session: Session, slug: str, source: str, *, actor: str, reason: str | None, today: dt.date, alternative: str | None = None) -> ShiftApplied:
    """`alternative`: choose it (`source` is then the file as given last, stored again as the new version's)."""
    revision = lock_revision(session, slug)
    preview = _preview(session, revision, source, alternative)
    shift, plan = preview.shift, preview.shift.effective
    if shift.empty:
        raise DomainError(f"the file gives the plan in force (v{preview.from_version}); nothing to shift", code=ErrorCode.plan_unchanged, version=preview.from_version)
    rec = Recorder(session, revision, actor)
    rec.log("plan.shifted", f"plan:{slug}", f"v{preview.from_version}", f"v{preview.to_version}", reason)
    if alternative is not None:
        rec.log("plan.alternative_chosen", f"plan:{slug}", None, alternative, reason)

    revision.title, revision.helsefellesskap, revision.language = plan.revision, plan.helsefellesskap, plan.language
    revision.title_nn = plan.revision_nn
    revision.coordinators = [c.model_dump() for c in plan.coordinators]
    revision.contact, revision.reference = (plan.contact.model_dump() if plan.contact else None), plan.reference
    revision.reminders = plan.reminders.model_dump()
    revision.plan_version = preview.to_version
    session.add(revision)

    _apply_documents_and_forums(session, revision, plan)
    stages = _apply_stages(session, rec, revision, shift)
    joined = _apply_parties(session, rec, revision, shift, today, reason)
    session.execute(delete(Milestone).where(Milestone.revision_id == revision.id))
    session.add_all(
        Milestone(revision_id=revision.id, date=str(m.date), written=m.written, what=m.what, what_nn=m.what_nn, about=m.about, responsible=m.responsible, part=m.part, stage_key=m.stage, at=m.at)
        for m in plan.milestones
    )
    session.add(
        PlanVersion(
            revision_id=revision.id, version=preview.to_version, source=source, effective=plan.model_dump(mode="json"),
            changes=describe(shift) + ([{"kind": "alternative_chosen", "alternative": alternative}] if alternative else []), created_by=actor, reason=reason,
        )
    )
    session.flush()

    letters = []
    for stage in stages.values():
        if stage.status == StageStatus.active and joined and (enrolled := effects_for(stage.kind).enter(session, stage, joined)):
            letters += compose.stage_started(session, revision, stage, enrolled)
    parties = {p.name: p for p in session.exec(select(Party).where(Party.revision_id == revision.id, Party.active == True))}  # noqa: E712
    for notice in preview.notices:
        moves = [(stages[key], before, after) for key, before, after in notice.moves]
        letters.append(compose.deadline_moved(revision, parties[notice.party], moves, reason, preview.to_version))
    forums = {f.key: f for f in session.exec(select(Forum).where(Forum.revision_id == revision.id))}
    for notice in preview.forum_notices:
        moves = [(stages[key], before, after) for key, before, after in notice.moves]
        letters.append(compose.meeting_moved(revision, forums[notice.forum], moves, reason, preview.to_version))
    enqueued = sum(outbox.enqueue(session, m) for m in letters)
    session.flush()
    return ShiftApplied(preview, revision.seq, revision.flow_run_id, enqueued)


def _apply_documents_and_forums(session: Session, revision: Revision, plan: Plan) -> None:
    for table, specs, fields in ((Document, plan.documents, ("title", "title_nn")), (Forum, plan.forums, ("name", "email"))):
        rows = {r.key: r for r in session.exec(select(table).where(table.revision_id == revision.id))}
        for spec in specs:
            row = rows.pop(spec.key, None) or table(revision_id=revision.id, key=spec.key)
            for f in fields:
                setattr(row, f, getattr(spec, f))
            session.add(row)
        for row in rows.values():  # check_plan made sure no stage in force names them
            session.delete(row)


def _apply_stages(session: Session, rec: Recorder, revision: Revision, shift: PlanShift) -> dict[str, Stage]:
    plan = shift.effective
    rows = {s.key: s for s in session.exec(select(Stage).where(Stage.revision_id == revision.id))}
    for key in shift.stages_removed:
        session.delete(rows.pop(key))
        rec.log("stage.removed", f"stage:{key}", StageStatus.pending.value, None)
    after = plan.stage_after()
    all_documents = [d.key for d in plan.documents]
    for position, spec in enumerate(plan.stages):
        row = rows.get(spec.key)
        if row is None:
            row = rows[spec.key] = Stage(revision_id=revision.id, key=spec.key, kind=spec.kind, position=position)
            rec.log("stage.added", f"stage:{spec.key}", None, StageStatus.pending.value)
        row.position, row.kind, row.title, row.after = position, spec.kind, spec.title, after[spec.key]
        row.title_nn = spec.title_nn
        for column, value in spec.columns(all_documents).items():
            setattr(row, column, value)
        for f in DATE_FIELDS:
            value = getattr(spec, f, None)
            setattr(row, f, None if value is None else str(value))
        session.add(row)
    for move in shift.date_moves:
        how = f"moved with {move.moved_with}" if move.moved_with else "in the revised plan"
        rec.log("stage.date_moved", f"stage:{move.stage}.{move.field}" + (f"@{move.forum}" if move.forum else ""), move.before, move.after, how)
    session.flush()
    return rows


def _apply_parties(session: Session, rec: Recorder, revision: Revision, shift: PlanShift, today: dt.date, reason: str | None) -> list[Party]:
    plan = shift.effective
    rows = {p.org_number: p for p in session.exec(select(Party).where(Party.revision_id == revision.id))}
    for spec in shift.parties_left:
        party = rows[spec.org_number]
        party.active, party.left_on, party.left_reason = False, today, reason
        session.add(party)
        links.revoke(session, party, because=f"the party left the revision on {today}", now=utcnow())
        rec.log("party.left", f"party:{party.name}", "member", "left", reason)
    for _, spec in shift.parties_changed:
        party = rows[spec.org_number]
        party.name, party.kind, party.email, party.body, party.language = spec.name, spec.kind, spec.email, spec.body, plan.party_language(spec)
        session.add(party)
        rec.log("party.changed", f"party:{party.name}", None, None, "name, address, body or language")
    joined = []
    for spec in shift.parties_joined:
        party = rows.get(spec.org_number)
        if party is None:  # a new member
            party = Party(revision_id=revision.id, name=spec.name, kind=spec.kind, org_number=spec.org_number, email=spec.email, body=spec.body, language=plan.party_language(spec))
        party.active, party.joined_on, party.left_on, party.left_reason = True, today, None, None
        session.add(party)
        joined.append(party)
        rec.log("party.joined", f"party:{spec.name}", None, "member", reason)
    session.flush()
    party_meetings.sync_plan_meetings(session, revision.id, plan, [a for b, a in shift.parties_changed if a.meetings != b.meetings] + shift.parties_joined)
    return joined


def describe(shift: PlanShift) -> list[dict]:
    """The shift as rows for the plan version's history (and the dashboard)."""
    rows: list[dict] = []
    for m in shift.date_moves:
        rows.append({"kind": "date_moved", "stage": m.stage, "field": m.field, "before": plan_date_text(m.before), "after": plan_date_text(m.after), "days": m.days, "moved_with": m.moved_with, **({"forum": m.forum} if m.forum else {})})
    rows += [{"kind": "stage_added", "stage": k} for k in shift.stages_added]
    rows += [{"kind": "stage_removed", "stage": k} for k in shift.stages_removed]
    rows += [{"kind": "stage_changed", "what": w} for w in shift.stages_changed]
    rows += [{"kind": "party_joined", "party": p.name} for p in shift.parties_joined]
    rows += [{"kind": "party_left", "party": p.name} for p in shift.parties_left]
    rows += [{"kind": "party_changed", "party": after.name} for _, after in shift.parties_changed]
    rows += [{"kind": "milestone_moved", "what": m.what, "before": str(m.before), "after": str(m.after), "days": m.days} for m in shift.milestones_moved]
    rows += [{"kind": "milestone_added", "what": m.what, "date": str(m.date)} for m in shift.milestones_added]
    rows += [{"kind": "milestone_removed", "what": m.what, "date": str(m.date)} for m in shift.milestones_removed]
    rows += [{"kind": "other", "what": w} for w in shift.other]
    return rows
