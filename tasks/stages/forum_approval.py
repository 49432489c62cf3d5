"""A forum approval's side effects: the meeting notice to each forum when it starts, and
its recording (a forum's decision)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, col, select

from avtaleflyt.models import letters as lt
from avtaleflyt.models import rules
from avtaleflyt.clock import aware, utcnow
from avtaleflyt.models.enums import EmailEvent, ForumOutcome, StageKind, StageStatus
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.forum_meetings import forum_meetings
from avtaleflyt.models.stages import Gate, StageFacts, forum_approval
from avtaleflyt.models.stages.forum_approval import ForumDecision as DecideForum
from avtaleflyt.models.stages.forum_approval import ForumDecisionWithdraw
from avtaleflyt.models.tables import Forum, ForumDecision, OutboxMessage, Party, Revision, Stage

from .. import documents, followups
from .. import letter_parts as parts
from ..recorder import Recorder, lock_revision
from .base import Recorded, StageEffects, done, stages_of


def forum_names(session: Session, revision_id: int) -> dict[str, str]:
    return {f.key: f.name for f in session.exec(select(Forum).where(Forum.revision_id == revision_id))}


class ForumApprovalEffects(StageEffects):
    rules = forum_approval.RULES

    def started(self, session: Session, revision: Revision, stage: Stage, parties: Sequence[Party]) -> list[OutboxMessage]:
        meetings = {k: m for k, m in forum_meetings(stage).items() if m.date is not None}  # each its own, else the stage's
        if not meetings:
            return []
        forums = session.exec(select(Forum).where(Forum.revision_id == revision.id, col(Forum.key).in_(stage.forums))).all()
        ref, docs = parts.revision_ref(revision), parts.documents(session, revision, stage.documents, link=parts.coordinator_link(revision))  # none named: every document
        from ..papers.forum_case import notice_paper

        with_paper = notice_paper(session, revision, stage)  # its case number and case paper, if the plan gives one
        return [
            parts.message(
                revision, EmailEvent.forum_meeting_notice, revision.language,
                with_paper(lt.ForumMeetingNotice(
                    ref, lt.ForumRef(f.key, f.name, f.email), parts.title(stage), m.date, docs, None, len(stage.forums), stage.required, m.time, m.place,
                )),
                key=f"{revision.slug}/{stage.key}/forum:{f.key}/forum_meeting_notice/{m.date}/r{stage.round}",
                to_name=f.name, to_address=f.email, stage_key=stage.key,
                due=m.date.as_date(), calendar_title=parts.forum_meeting_title(f.key, stage), meeting=m,
            )
            for f in forums
            if f.email and (m := meetings.get(f.key)) is not None
        ]

    def completed(self, session: Session, revision: Revision, stage: Stage, facts: StageFacts) -> dict:
        names = forum_names(session, revision.id)
        rows = sorted((d for d in facts.decisions if d.round == stage.round), key=lambda d: d.decided_on)
        return {"forum_decisions": tuple(lt.ForumDecisionRef(names.get(d.forum_key, d.forum_key), d.outcome, d.decided_on, d.case_no) for d in rows)}


EFFECTS = ForumApprovalEffects()


def _target(session: Session, revision: Revision, forum: str, stage_key: str | None, *, correcting: bool) -> tuple[Stage, int, list[ForumDecision]]:
    """The stage and round a decision of `forum` goes to, and the stage's decision rows.

    A new decision goes to an open stage's current round, or to a stage done on its quorum that
    `forum` has still to decide (without --stage: when it is the only such or open stage). A
    correction or withdrawal also reaches a stage that `forum`'s decision returned, while no forum
    has decided it again: then it belongs to the round before (forum_approval.returned_round).
    """
    stages = stages_of(session, revision)
    late = [] if stage_key is not None else _late_stages(session, stages, forum)
    try:
        stage = rules.pick_stage(stages, StageKind.forum_approval, stage_key, forum=forum)
    except DomainError as exc:
        if exc.code != ErrorCode.no_open_stage:
            raise
        returned = [s for s in stages if s.kind == StageKind.forum_approval and forum in s.forums and s.status == StageStatus.pending and s.round > 1]
        found = (returned if correcting else []) + late
        if len(found) != 1:
            raise
        stage = found[0]
    else:
        if late:
            keys = [stage.key] + [s.key for s in late]
            raise DomainError(
                f"several {StageKind.forum_approval.value} stages take a decision of forum {forum!r}; name one with --stage: {', '.join(keys)}",
                code=ErrorCode.several_open_stages, field="stage", kind=StageKind.forum_approval.value, forum=forum, stages=keys,
            )
    forum_approval.check_forum_named(stage, forum)
    rows = list(session.exec(select(ForumDecision).where(ForumDecision.stage_id == stage.id)).all())
    if correcting and (earlier := forum_approval.returned_round(stage, rows, forum)) is not None:
        return stage, earlier, rows
    if not _done_on_quorum(stage):  # such a stage takes late decisions that keep its quorum (check_keeps_quorum)
        rules.require_active(stage)
    return stage, stage.round, rows


def _done_on_quorum(stage: Stage) -> bool:
    return stage.status == StageStatus.done and stage.required is not None and stage.required < len(stage.forums)


def _late_stages(session: Session, stages: Sequence[Stage], forum: str) -> list[Stage]:
    """The stages done on their quorum that `forum` has still to decide (it has not approved), or
    decided after they were done (the same decision again is unchanged; a correction reaches it)."""
    done = [s for s in stages if s.kind == StageKind.forum_approval and forum in s.forums and _done_on_quorum(s)]
    if not done:
        return []
    rows = session.exec(select(ForumDecision).where(col(ForumDecision.stage_id).in_([s.id for s in done]))).all()

    def takes(stage: Stage, decisions: list[ForumDecision]) -> bool:
        latest = forum_approval.forum_tally(stage, decisions).latest.get(forum)
        late = latest is not None and stage.completed_at is not None and aware(latest.recorded_at) > aware(stage.completed_at)
        return late or forum in forum_approval.still_to_decide(stage, decisions)

    return [s for s in done if takes(s, [r for r in rows if r.stage_id == s.id])]


def _undo_return(session: Session, rec: Recorder, stage: Stage, earlier: int, reason: str) -> None:
    """A decision of the round that returned `stage` was corrected or withdrawn: if that round
    no longer returns it, the stage goes back to that round (open: the pass closes it if its
    gate is met), and the drafts it reopened that are not completed again are done again."""
    rows = session.exec(select(ForumDecision).where(ForumDecision.stage_id == stage.id)).all()
    if forum_approval.RULES.gate(stage, StageFacts([], list(rows)), set(), earlier) == Gate.returned:
        return
    was = f"{stage.status.value} (round {stage.round})"
    stages = stages_of(session, session.get(Revision, stage.revision_id))
    if stage.status == StageStatus.pending:
        stage.started_at = utcnow()
    stage.status, stage.round, stage.returned_to = StageStatus.active, earlier, None
    session.add(stage)
    rec.log("stage.return_undone", f"stage:{stage.key}", was, f"{StageStatus.active.value} (round {earlier})", reason)
    for draft in rules.nearest_drafts(stage, stages):
        if draft.status == StageStatus.active and draft.round > 1:
            draft.status, draft.round, draft.completed_at = StageStatus.done, draft.round - 1, utcnow()
            draft.closed_reason = f"reopened by {stage.key!r} in error"
            session.add(draft)
            rec.log("stage.done", f"stage:{draft.key}", StageStatus.active.value, StageStatus.done.value, f"round {draft.round}: the return by {stage.key!r} was undone")


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
    correct: bool = False,
    reason: str | None = None,
) -> Recorded:
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    rules.check_not_future(on, today, "--date")
    forum_approval.check_correction(correct, reason)
    stage, round_, rows = _target(session, revision, forum, stage_key, correcting=correct)
    tally = forum_approval.forum_tally(stage, rows, round_)
    current = tally.latest.get(forum)
    message = f"{forum} {outcome.value} {stage.key!r} on {on}" + (f" (case {case_no})" if case_no else "")
    if not forum_approval.forum_decision_changes(current, stage.key, forum, outcome, on, case_no, correct=correct, late=_done_on_quorum(stage)):
        return done(rec, message)
    forum_approval.check_keeps_quorum(stage, tally, forum, outcome)
    subject, to = f"stage:{stage.key}/forum:{forum}", forum_approval.decision_text(outcome, on, case_no)
    before = forum_approval.decision_text(current.outcome, current.decided_on, current.case_no) if current else None
    if correct and current is not None:
        later = [d for d in rows if d.round == round_ and d.forum_key == forum and d.id != current.id and d.decided_on > on]
        if later:
            raise DomainError(
                f"--date: {forum} postponed {stage.key!r} on {later[-1].decided_on}; a correction of its later decision cannot date it before that",
                code=ErrorCode.invalid_value, field="date", problem="other", value=str(on),
            )
        current.outcome, current.decided_on, current.case_no = outcome, on, case_no
        session.add(current)
        rec.log("forum.corrected", subject, before, to, f"round {round_}: {reason}")
        message = f"corrected: {message} (was {before})"
    else:
        approved = documents.approved_now(session, revision, stage.documents)  # the versions on the table (none named: every document)
        session.add(ForumDecision(stage_id=stage.id, forum_key=forum, round=round_, outcome=outcome, decided_on=on, case_no=case_no, approved_versions=approved))
        rec.log("forum.decided", subject, before, to, f"round {round_}" + (f": {reason}" if reason else ""))
    if round_ != stage.round:
        session.flush()
        _undo_return(session, rec, stage, round_, reason or "")
    session.flush()
    followups.sync_forums(session, rec, stage, today)
    return done(rec, message)


def withdraw_forum_decision(
    session: Session, slug: str, *, forum: str, reason: str, stage_key: str | None = None, actor: str, today: dt.date | None = None,
) -> Recorded:
    """Remove `forum`'s current decision, recorded by mistake; the one before it (if any) counts again."""
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    stage, round_, rows = _target(session, revision, forum, stage_key, correcting=True)
    tally = forum_approval.forum_tally(stage, rows, round_)
    current = tally.latest.get(forum)
    if current is None:
        raise DomainError(
            f"--forum: {forum} has no decision on {stage.key!r} to withdraw (round {stage.round})",
            code=ErrorCode.refused, field="forum", why="nothing_to_withdraw", forum=forum, stage=stage.key,
        )
    before = forum_approval.decision_text(current.outcome, current.decided_on, current.case_no)
    earlier = forum_approval.forum_tally(stage, [r for r in rows if r.id != current.id], round_).latest.get(forum)
    forum_approval.check_keeps_quorum(stage, tally, forum, earlier.outcome if earlier else None)
    session.delete(current)
    rec.log("forum.withdrawn", f"stage:{stage.key}/forum:{forum}", before, "withdrawn", f"round {round_}: {reason}")
    if round_ != stage.round:
        session.flush()
        _undo_return(session, rec, stage, round_, reason)
    session.flush()
    followups.sync_forums(session, rec, stage, today)
    return done(rec, f"{forum}'s decision on {stage.key!r} withdrawn (was {before})")


def _forum_decision(session: Session, c: DecideForum, actor: str, today: dt.date) -> Recorded:
    return record_forum_decision(
        session, c.revision, forum=c.forum, outcome=c.outcome, on=c.date, today=today, case_no=c.case_no, stage_key=c.stage, actor=actor,
        correct=c.correct, reason=c.reason,
    )


def _forum_withdraw(session: Session, c: ForumDecisionWithdraw, actor: str, today: dt.date) -> Recorded:
    return withdraw_forum_decision(session, c.revision, forum=c.forum, reason=c.reason, stage_key=c.stage, actor=actor, today=today)


HANDLERS = {DecideForum: _forum_decision, ForumDecisionWithdraw: _forum_withdraw}
