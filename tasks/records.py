"""Recording what happened: the coordinator's commands, the dashboard's forms, a party's link
and Prefect's resume form all end here. Each call is one transaction: validate, write,
log, raise the event counter. The revision's run then reconciles (see tasks/reconcile.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, select

from avtaleflyt.clock import utcnow
from avtaleflyt.models import rules
from avtaleflyt.models.enums import ForumOutcome, HearingStatus, PartyOutcome, StageKind, TreatmentStatus
from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import ForumDecision, HearingResponse, Party, PartyTreatment, Revision, Stage

from . import compose, links, outbox
from .recorder import Recorder, lock_revision


@dataclass(frozen=True)
class Recorded:
    slug: str
    changed: bool
    message: str
    seq: int
    flow_run_id: str | None


def _stages(session: Session, revision: Revision) -> list[Stage]:
    return list(session.exec(select(Stage).where(Stage.revision_id == revision.id).order_by(Stage.position)).all())


def _parties(session: Session, revision: Revision) -> list[Party]:
    return list(session.exec(select(Party).where(Party.revision_id == revision.id).order_by(Party.name)).all())


def _done(recorder: Recorder, message: str) -> Recorded:
    r = recorder.revision
    return Recorded(r.slug, recorder.changed, message if recorder.changed else f"already recorded: {message}", r.seq, r.flow_run_id)


def complete_draft(session: Session, slug: str, *, stage_key: str | None, actor: str, note: str | None = None) -> Recorded:
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    stage = rules.pick_stage(_stages(session, revision), StageKind.draft, stage_key)
    rules.require_active(stage)
    stage.closed_reason = f"completed by {actor}"
    session.add(stage)
    rec.log("draft.completed", f"stage:{stage.key}", "open", "completed", note)
    return _done(rec, f"draft {stage.key!r} completed")


def record_forum_decision(
    session: Session,
    slug: str,
    *,
    forum: str,
    outcome: ForumOutcome,
    on: dt.date,
    today: dt.date,
    case_no: str | None = None,
    stage_key: str | None = None,
    actor: str,
) -> Recorded:
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    rules.check_not_future(on, today, "--date")
    stage = rules.pick_stage(
        _stages(session, revision), StageKind.forum_approval, stage_key, where=lambda s: forum in s.forums, also=f" for forum {forum!r}"
    )
    rules.check_forum_named(stage, forum)
    rules.require_active(stage)
    same = session.exec(
        select(ForumDecision).where(
            ForumDecision.stage_id == stage.id,
            ForumDecision.forum_key == forum,
            ForumDecision.round == stage.round,
            ForumDecision.outcome == outcome,
            ForumDecision.decided_on == on,
        )
    ).first()
    message = f"{forum} {outcome.value} {stage.key!r} on {on}" + (f" (case {case_no})" if case_no else "")
    if same is None:
        session.add(ForumDecision(stage_id=stage.id, forum_key=forum, round=stage.round, outcome=outcome, decided_on=on, case_no=case_no))
        rec.log("forum.decided", f"stage:{stage.key}/forum:{forum}", None, outcome.value, f"round {stage.round}, {on}" + (f", case {case_no}" if case_no else ""))
    return _done(rec, message)


def _hearing_row(session: Session, stage: Stage, party: Party) -> HearingResponse:
    row = session.exec(select(HearingResponse).where(HearingResponse.stage_id == stage.id, HearingResponse.party_id == party.id)).first()
    if row is None:
        raise DomainError(f"--party: {party.name} was not invited to hearing {stage.key!r}")
    return row


def record_hearing_response(
    session: Session, slug: str, *, party: str, on: dt.date, today: dt.date, stage_key: str | None = None, note: str | None = None, actor: str
) -> Recorded:
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    rules.check_not_future(on, today, "--date")
    stage = rules.pick_stage(_stages(session, revision), StageKind.hearing, stage_key)
    rules.require_active(stage)
    who = rules.find_party(_parties(session, revision), party)
    row = _hearing_row(session, stage, who)
    message = f"{who.name} responded to hearing {stage.key!r} on {on}"
    if row.status == HearingStatus.responded:
        if row.responded_on != on:
            raise DomainError(f"--date: {who.name} already responded to {stage.key!r} on {row.responded_on}")
        return _done(rec, message)
    row.status, row.responded_on, row.note = HearingStatus.responded, on, note
    session.add(row)
    rec.log("hearing.responded", f"stage:{stage.key}/party:{who.name}", HearingStatus.invited.value, HearingStatus.responded.value, note)
    return _done(rec, message)


def close_hearing(session: Session, slug: str, *, stage_key: str | None, reason: str, actor: str) -> Recorded:
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    stage = rules.pick_stage(_stages(session, revision), StageKind.hearing, stage_key)
    rules.require_active(stage)
    stage.closed_reason = reason
    session.add(stage)
    rec.log("hearing.closed", f"stage:{stage.key}", "open", "closed", reason)
    return _done(rec, f"hearing {stage.key!r} closed: {reason}")


def _treatment(session: Session, revision: Revision, party: str) -> tuple[Stage, Party, PartyTreatment]:
    stage = rules.pick_stage(_stages(session, revision), StageKind.political_treatment, None)
    who = rules.find_party(_parties(session, revision), party)
    row = session.exec(select(PartyTreatment).where(PartyTreatment.stage_id == stage.id, PartyTreatment.party_id == who.id)).first()
    if row is None:
        raise DomainError(f"--party: {who.name} has no political treatment in {stage.key!r} (left the revision?)")
    if not who.active:
        raise DomainError(f"--party: {who.name} left the revision on {who.left_on}; a party that has left cannot decide or be scheduled")
    return stage, who, row


def schedule_party(session: Session, slug: str, *, party: str, meeting: dt.date, actor: str) -> Recorded:
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    stage, who, row = _treatment(session, revision, party)
    rules.check_schedule(row, who)
    message = f"{who.name}: {who.body} meets on {meeting}"
    if row.status == TreatmentStatus.scheduled and row.meeting_date == meeting:
        return _done(rec, message)
    before = f"{row.status.value} {row.meeting_date or ''}".strip()
    row.status, row.meeting_date = TreatmentStatus.scheduled, meeting
    session.add(row)
    rec.log("party.scheduled", f"stage:{stage.key}/party:{who.name}", before, f"scheduled {meeting}")
    return _done(rec, message)


def record_party_decision(
    session: Session,
    slug: str,
    *,
    party: str,
    outcome: PartyOutcome,
    on: dt.date,
    today: dt.date,
    case_no: str | None = None,
    actor: str,
    self_reported: bool = False,
) -> Recorded:
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    rules.check_not_future(on, today, "--date")
    stage, who, row = _treatment(session, revision, party)
    message = f"{who.name}: {outcome.value} on {on}" + (f" (case {case_no})" if case_no else "")
    if not rules.decision_changes(row, who, outcome, on, case_no):
        return _done(rec, message)
    before = row.status.value
    row.status, row.decided_on, row.case_no, row.self_reported = rules.treatment_status_for(outcome), on, case_no, self_reported
    if row.meeting_date is None:
        row.meeting_date = on
    session.add(row)
    rec.log("party.decided", f"stage:{stage.key}/party:{who.name}", before, outcome.value, "self-reported" if self_reported else None)
    links.revoke(session, who, because="the decision is recorded", now=utcnow())
    outbox.enqueue(session, compose.decision_receipt(revision, stage, who, row))
    return _done(rec, message)
