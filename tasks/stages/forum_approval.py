"""A forum approval's side effects: the meeting notice to each forum when it starts, and
its recording (a forum's decision)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, col, select

from avtaleflyt.models import letters as lt
from avtaleflyt.models import rules
from avtaleflyt.models.enums import EmailEvent, ForumOutcome, StageKind
from avtaleflyt.models.stages import StageFacts, forum_approval
from avtaleflyt.models.stages.forum_approval import ForumDecision as DecideForum
from avtaleflyt.models.tables import Forum, ForumDecision, OutboxMessage, Party, Revision, Stage

from .. import letter_parts as parts
from ..recorder import Recorder, lock_revision
from .base import Recorded, StageEffects, done, stages_of


def forum_names(session: Session, revision_id: int) -> dict[str, str]:
    return {f.key: f.name for f in session.exec(select(Forum).where(Forum.revision_id == revision_id))}


class ForumApprovalEffects(StageEffects):
    rules = forum_approval.RULES

    def started(self, session: Session, revision: Revision, stage: Stage, parties: Sequence[Party]) -> list[OutboxMessage]:
        meeting = parts.plan_date(stage.meeting)
        if meeting is None:
            return []
        forums = session.exec(select(Forum).where(Forum.revision_id == revision.id, col(Forum.key).in_(stage.forums))).all()
        ref, docs = parts.revision_ref(revision), parts.documents(session, revision, stage.documents)  # none named: every document
        return [
            parts.message(
                revision, EmailEvent.forum_meeting_notice, revision.language,
                lt.ForumMeetingNotice(ref, lt.ForumRef(f.key, f.name, f.email), parts.title(stage), meeting, docs, None, len(stage.forums), stage.required),
                key=f"{revision.slug}/{stage.key}/forum:{f.key}/forum_meeting_notice/{stage.meeting}/r{stage.round}",
                to_name=f.name, to_address=f.email, stage_key=stage.key,
                due=meeting.as_date(), calendar_title=parts.forum_meeting_title(f.key, stage),
            )
            for f in forums
            if f.email
        ]

    def completed(self, session: Session, revision: Revision, stage: Stage, facts: StageFacts) -> dict:
        names = forum_names(session, revision.id)
        rows = sorted((d for d in facts.decisions if d.round == stage.round), key=lambda d: d.decided_on)
        return {"forum_decisions": tuple(lt.ForumDecisionRef(names.get(d.forum_key, d.forum_key), d.outcome, d.decided_on, d.case_no) for d in rows)}


EFFECTS = ForumApprovalEffects()


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
    stage = rules.pick_stage(stages_of(session, revision), StageKind.forum_approval, stage_key, forum=forum)
    forum_approval.check_forum_named(stage, forum)
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
    return done(rec, message)


def _forum_decision(session: Session, c: DecideForum, actor: str, today: dt.date) -> Recorded:
    return record_forum_decision(
        session, c.revision, forum=c.forum, outcome=c.outcome, on=c.date, today=today, case_no=c.case_no, stage_key=c.stage, actor=actor
    )


HANDLERS = {DecideForum: _forum_decision}
