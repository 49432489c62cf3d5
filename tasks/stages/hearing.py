"""A hearing's side effects: the invitations when it starts, the reminders and the closing
notice the sweep sends, and its recordings (a party's response, closing the hearing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, select

from avtaleflyt.models import letters as lt
from avtaleflyt.models import rules
from avtaleflyt.clock import utcnow
from avtaleflyt.models.enums import EmailEvent, HearingStatus, StageKind, StageStatus
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.reminders import Due
from avtaleflyt.models.stages import StageFacts, hearing
from avtaleflyt.models.stages.base import due as due_on
from avtaleflyt.models.stages.base import exact_deadline
from avtaleflyt.models.stages.hearing import HearingClose, HearingReopen, HearingResponse
from avtaleflyt.models.tables import OutboxMessage, Party, PartyObligation, Revision, Stage

from .. import letter_parts as parts
from ..outbox import enqueue
from ..recorder import Recorder, lock_revision
from .base import Recorded, StageEffects, done, facts_of, obligation, owed_by, parties_of, stages_of


class HearingEffects(StageEffects):
    rules = hearing.RULES
    calendar_event = EmailEvent.hearing_invitation

    def started(self, session: Session, revision: Revision, stage: Stage, parties: Sequence[Party]) -> list[OutboxMessage]:
        ref, deadline = parts.revision_ref(revision), parts.plan_date(stage.deadline)
        messages = []
        for p in parties:
            key = f"{revision.slug}/{stage.key}/{p.id}/hearing_invitation/{stage.deadline}/r{stage.round}"
            # the party's own link opens the documents' files (the dashboard's documents router)
            docs = parts.documents(session, revision, stage.documents, link=parts.report_url(session, revision, p, key))
            messages.append(parts.party_message(
                revision, p, EmailEvent.hearing_invitation,
                lt.HearingInvitation(ref, parts.party_ref(p), parts.title(stage), docs, deadline, parts.plan_date(stage.opens)),
                stage=stage, key=key, due=deadline.as_date() if deadline else None, calendar_title=self.calendar_title(revision, p),
            ))
        return messages

    def completed(self, session: Session, revision: Revision, stage: Stage, facts: StageFacts) -> dict:
        return {"responses": self.rules.answered_count(facts), "invited": len(facts.obligations)}

    def reminder(self, session: Session, revision: Revision, stage: Stage, party: Party, due: Due, row: PartyObligation | None = None) -> OutboxMessage:
        ref, pref = parts.revision_ref(revision), parts.party_ref(party)
        if due.event == EmailEvent.hearing_reminder:
            context = lt.HearingReminder(ref, pref, parts.title(stage), parts.documents(session, revision, stage.documents), due.deadline, due.days_left)
            return parts.party_message(revision, party, due.event, context, stage=stage, key=due.key, due=due.deadline, calendar_title=self.calendar_title(revision, party))
        row = row or obligation(session, stage, party)
        context = lt.HearingDeadlinePassed(
            ref, pref, parts.title(stage), due.deadline, row.status == HearingStatus.responded, row.answered_on, closed_early=due.days_left > 0
        )
        return parts.party_message(revision, party, due.event, context, stage=stage, key=due.key, due=None)

    def close_past_deadline(self, session: Session, slug: str, stage_key: str, deadline: dt.date, *, actor: str) -> None:
        close_hearing(session, slug, stage_key=stage_key, reason=f"høringsfristen {deadline} er ute", actor=actor)


EFFECTS = HearingEffects()


def _invited(session: Session, stage: Stage, party: Party) -> PartyObligation:
    return owed_by(session, stage, party, none=f"was not invited to hearing {stage.key!r}")


def record_hearing_response(
    session: Session, slug: str, *, party: str, on: dt.date, today: dt.date, stage_key: str | None = None, note: str | None = None, actor: str
) -> Recorded:
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    rules.check_not_future(on, today, "--date")
    stage = rules.pick_stage(stages_of(session, revision), StageKind.hearing, stage_key)
    rules.require_active(stage)
    who = rules.find_party(parties_of(session, revision), party)
    row = _invited(session, stage, who)
    message = f"{who.name} responded to hearing {stage.key!r} on {on}"
    if row.status == HearingStatus.responded:
        if row.answered_on != on:
            raise DomainError(
                f"--date: {who.name} already responded to {stage.key!r} on {row.answered_on}",
                code=ErrorCode.already_answered, field="date", party=who.name, status=row.status, on=row.answered_on, case_no=None,
            )
        return done(rec, message)
    row.status, row.answered_on, row.note = HearingStatus.responded, on, note
    session.add(row)
    rec.log("hearing.responded", f"stage:{stage.key}/party:{who.name}", HearingStatus.invited.value, HearingStatus.responded.value, note)
    return done(rec, message)


def close_hearing(session: Session, slug: str, *, stage_key: str | None, reason: str, actor: str, today: dt.date | None = None) -> Recorded:
    """Closed by hand (`today` given), the parties that had not answered are told at once; the sweep
    (no `today`) tells every party itself. The letters have the sweep's keys: none goes out twice."""
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    stage = rules.pick_stage(stages_of(session, revision), StageKind.hearing, stage_key)
    rules.require_active(stage)
    stage.closed_reason = reason
    session.add(stage)
    rec.log("hearing.closed", f"stage:{stage.key}", "open", "closed", reason)
    if today is not None:
        _tell_the_silent(session, revision, stage, today)
    return done(rec, f"hearing {stage.key!r} closed: {reason}")


def _tell_the_silent(session: Session, revision: Revision, stage: Stage, today: dt.date) -> None:
    deadline = exact_deadline(stage)
    if deadline is None:  # a deadline given as a month: the sweep never tells either
        return
    parties = {p.id: p for p in parties_of(session, revision) if p.active}
    for o in session.exec(select(PartyObligation).where(PartyObligation.stage_id == stage.id)).all():
        if o.party_id in parties and o.status not in EFFECTS.rules.answered:
            letter = due_on(EmailEvent.hearing_deadline_passed, revision.slug, stage, o.party_id, deadline, today)
            enqueue(session, EFFECTS.reminder(session, revision, stage, parties[o.party_id], letter))


def reopen_hearing(session: Session, slug: str, *, stage_key: str, deadline: dt.date, reason: str | None, actor: str, today: dt.date) -> Recorded:
    """A new round of a closed hearing whose documents changed significantly: every invitee owes a
    response again by `deadline`, gets a new invitation (its key names the round), and the
    stages after it that had started wait for the hearing again."""
    from .. import documents  # tasks/documents.py reads the stages through this package

    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    stages = stages_of(session, revision)
    stage = rules.pick_stage(stages, StageKind.hearing, stage_key)
    after = [s for s in stages if s.key in rules.downstream(stage.key, stages)]
    changed = sorted(k for k, hearings in documents.changed_since_hearing(session, revision).items() if stage.key in hearings)
    hearing.check_reopen(stage, after, [facts_of(session, s) for s in after], deadline, today, changed)
    was = f"{stage.status.value} (round {stage.round}, deadline {stage.deadline})"
    stage.round += 1
    stage.status, stage.closed_reason, stage.completed_at, stage.started_at = StageStatus.active, None, None, utcnow()
    stage.deadline = deadline.isoformat()
    session.add(stage)
    why = reason or f"{', '.join(changed)} changed significantly"
    rec.log("hearing.reopened", f"stage:{stage.key}", was, f"active (round {stage.round}, deadline {stage.deadline})", why)
    for s in after:
        if s.status == StageStatus.active:
            s.status, s.started_at = StageStatus.pending, None
            session.add(s)
            rec.log("stage.waits", f"stage:{s.key}", StageStatus.active.value, StageStatus.pending.value, f"hearing {stage.key!r} reopened (round {stage.round})")
    parties = [p for p in parties_of(session, revision) if p.active]
    EFFECTS.enter(session, stage, parties)
    for row in session.exec(select(PartyObligation).where(PartyObligation.stage_id == stage.id)).all():
        row.status, row.answered_on, row.note = HearingStatus.invited, None, None
        session.add(row)
    session.flush()
    for message in EFFECTS.started(session, revision, stage, parties):
        enqueue(session, message)
    return done(rec, f"hearing {stage.key!r} reopened: round {stage.round}, deadline {deadline}; {len(parties)} parties invited again ({', '.join(changed)})")


def _hearing_reopen(session: Session, c: HearingReopen, actor: str, today: dt.date) -> Recorded:
    return reopen_hearing(session, c.revision, stage_key=c.stage, deadline=c.deadline, reason=c.reason, actor=actor, today=today)


def _hearing_response(session: Session, c: HearingResponse, actor: str, today: dt.date) -> Recorded:
    return record_hearing_response(session, c.revision, party=c.party, on=c.date, today=today, stage_key=c.stage, note=c.note, actor=actor)


def _hearing_close(session: Session, c: HearingClose, actor: str, today: dt.date) -> Recorded:
    return close_hearing(session, c.revision, stage_key=c.stage, reason=c.reason or f"stengt av {actor} {today}", actor=actor, today=today)


HANDLERS = {HearingResponse: _hearing_response, HearingClose: _hearing_close, HearingReopen: _hearing_reopen}
