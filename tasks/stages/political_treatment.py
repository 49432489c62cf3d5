"""Political treatment's side effects: the decision requests when it starts, the reminders
and overdue notices the sweep sends, the receipt of a decision, the final tally, and its
recordings (a party's meeting date, a party's decision)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, col, select

from avtaleflyt.clock import utcnow
from avtaleflyt.models import letters as lt
from avtaleflyt.models import rules
from avtaleflyt.models.enums import EmailEvent, PartyOutcome, StageKind, TreatmentStatus
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.reminders import Due
from avtaleflyt.models.stages import StageFacts, political_treatment
from avtaleflyt.models.stages.forum_approval import check_correction, decision_text
from avtaleflyt.models.stages.political_treatment import PartyDecision, PartyDecisionWithdraw, PartySchedule
from avtaleflyt.models.stages.forum_approval import forum_tally
from avtaleflyt.models.tables import ForumDecision, OutboxMessage, Party, PartyObligation, Revision, Stage

from .. import documents
from .. import letter_parts as parts
from .. import links, outbox, party_meetings, party_returns
from .. import followups, in_force
from ..recorder import Recorder, lock_revision
from .base import Recorded, StageEffects, done, obligation, owed_by, parties_of, stages_of
from .forum_approval import forum_names

RULES = political_treatment.RULES


def tally(rows: Sequence[PartyObligation], parties: int) -> lt.Tally:
    count = lambda status: sum(r.status == status for r in rows)  # noqa: E731
    return lt.Tally(
        parties=parties,
        decided=sum(r.status in RULES.answered for r in rows),
        approved=count(TreatmentStatus.approved),
        approved_with_reservations=count(TreatmentStatus.approved_with_reservations),
        rejected=count(TreatmentStatus.rejected),
    )


def _adopted(session: Session, stage: Stage) -> tuple[lt.ForumDecisionRef, ...]:
    """The approving decisions of the forum stages right before this one."""
    before = [s for s in session.exec(select(Stage).where(Stage.revision_id == stage.revision_id, col(Stage.key).in_(stage.after))) if s.forums]
    names = forum_names(session, stage.revision_id)
    decisions = []
    for forum_stage in before:
        rows = session.exec(select(ForumDecision).where(ForumDecision.stage_id == forum_stage.id, ForumDecision.round == forum_stage.round)).all()
        t = forum_tally(forum_stage, rows)
        decisions += [lt.ForumDecisionRef(names.get(k, k), t.latest[k].outcome, t.latest[k].decided_on, t.latest[k].case_no) for k in t.approved]
    return tuple(decisions)


class PoliticalTreatmentEffects(StageEffects):
    rules = RULES
    calendar_event = EmailEvent.decision_request

    def started(self, session: Session, revision: Revision, stage: Stage, parties: Sequence[Party]) -> list[OutboxMessage]:
        ref, deadline, adopted = parts.revision_ref(revision), parts.plan_date(stage.deadline), _adopted(session, stage)
        from avtaleflyt.settings import get_settings

        from ..papers import party_case as papers  # the party's draft case: the same proposed resolution, linked

        plan = papers.plan_of(session, revision)
        adoptions, templates = papers.adoptions(session, stage, plan), papers.templates(plan, stage.key)
        meetings = party_meetings.in_time(session, revision, stage, today=None)  # the party's own meeting, for its letter
        keys = {p.id: f"{revision.slug}/{stage.key}/{p.id}/decision_request/{stage.deadline}" for p in parties}
        current = documents.with_current(session, revision)  # read once: each letter lists them, with the party's own link
        messages = []
        with links.batch(session, get_settings().signing_key(), list(keys.items())):  # the parties' links read once, as the sweep does
            for p in parties:
                resolution = papers.party_case(papers.facts(session, revision, p, stage, adoptions, current=current), templates).proposed_resolution
                url = parts.report_url(session, revision, p, keys[p.id])
                docs = parts.documents(session, revision, link=url, current=current)  # the files through the party's own link
                found = meetings.get(p.id)
                meeting = lt.PartyMeetingRef(found.meeting.date, found.meeting.body, found.send_by) if found and found.meeting else None
                context = lt.DecisionRequest(ref, parts.party_ref(p), docs, deadline, resolution, adopted, url, case_url=f"{url}/{papers.URL_NAME}", meeting=meeting)
                messages.append(parts.party_message(
                    revision, p, EmailEvent.decision_request, context, stage=stage, key=keys[p.id],
                    due=deadline.as_date() if deadline else None, calendar_title=self.calendar_title(revision, p),
                ))
        return messages

    def completed(self, session: Session, revision: Revision, stage: Stage, facts: StageFacts) -> dict:
        return {"tally": tally(facts.obligations, len(facts.obligations))}

    def reminder(self, session: Session, revision: Revision, stage: Stage, party: Party, due: Due, row: PartyObligation | None = None) -> OutboxMessage:
        row = row or obligation(session, stage, party)
        ref, pref, url = parts.revision_ref(revision), parts.party_ref(party), parts.report_url(session, revision, party, due.key)
        if due.event == EmailEvent.decision_reminder:
            context = lt.DecisionReminder(ref, pref, due.deadline, due.days_left, row.meeting_date, url)
            return parts.party_message(revision, party, due.event, context, stage=stage, key=due.key, due=due.deadline, calendar_title=self.calendar_title(revision, party))
        context = lt.OverdueNotice(ref, pref, due.deadline, -due.days_left, row.meeting_date, url)
        return parts.party_message(revision, party, due.event, context, stage=stage, key=due.key, due=None)


EFFECTS = PoliticalTreatmentEffects()


def revision_completed(session: Session, revision: Revision, today: dt.date) -> lt.RevisionCompleted:
    """The coordinators' last letter: how every party decided."""
    stage_ids = select(Stage.id).where(Stage.revision_id == revision.id, Stage.kind == RULES.kind)
    rows = list(session.exec(select(PartyObligation).where(col(PartyObligation.stage_id).in_(stage_ids))).all())
    names = {p.id: p.name for p in session.exec(select(Party).where(Party.revision_id == revision.id))}
    return lt.RevisionCompleted(
        parts.revision_ref(revision), today, tally(rows, len(rows)),
        tuple(sorted(names[r.party_id] for r in rows if r.status == TreatmentStatus.approved_with_reservations)),
        tuple(sorted(names[r.party_id] for r in rows if r.status == TreatmentStatus.rejected)),
        in_force=in_force.in_force_of(session, revision).summary(revision.language.value),
        followups=tuple(f.party for f in followups.followups_of(session, revision, open_only=True) if f.party),
    )


def decision_receipt(revision: Revision, stage: Stage, party: Party, row: PartyObligation, *, correction: int | None = None) -> OutboxMessage:
    """The receipt of a decision; a corrected decision's receipt has a key of its own (`correction`: the event number)."""
    context = lt.DecisionReceipt(parts.revision_ref(revision), parts.party_ref(party), PartyOutcome(row.status), row.answered_on, row.case_no)
    key = f"{revision.slug}/{stage.key}/{party.id}/decision_receipt/{row.answered_on}" + (f"/correction-{correction}" if correction else "")
    return parts.party_message(revision, party, EmailEvent.decision_receipt, context, stage=stage, key=key, due=None)


def _treatment(session: Session, revision: Revision, party: str) -> tuple[Stage, Party, PartyObligation]:
    stage = rules.pick_stage(stages_of(session, revision), StageKind.political_treatment, None)
    who = rules.find_party(parties_of(session, revision), party)
    row = owed_by(
        session, stage, who, none=f"has no political treatment in {stage.key!r} (left the revision?)", left="cannot decide or be scheduled"
    )
    return stage, who, row


def schedule_party(session: Session, slug: str, *, party: str, meeting: dt.date, actor: str) -> Recorded:
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    stage, who, row = _treatment(session, revision, party)
    political_treatment.check_schedule(row, who)
    message = f"{who.name}: {who.body} meets on {meeting}"
    if row.status == TreatmentStatus.scheduled and row.meeting_date == meeting:
        return done(rec, message)
    before = f"{row.status} {row.meeting_date or ''}".strip()
    row.status, row.meeting_date = TreatmentStatus.scheduled, meeting
    session.add(row)
    rec.log("party.scheduled", f"stage:{stage.key}/party:{who.name}", before, f"scheduled {meeting}")
    return done(rec, message)


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
    correct: bool = False,
    reason: str | None = None,
    returns: party_returns.Returns = party_returns.Returns(),
) -> Recorded:
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    rules.check_not_future(on, today, "--date")
    check_correction(correct, reason)
    political_treatment.check_returns(outcome, returns.reservations, require_reservations=self_reported)
    upload = returns.check()
    stage, who, row = _treatment(session, revision, party)
    message = f"{who.name}: {outcome.value} on {on}" + (f" (case {case_no})" if case_no else "")
    subject = f"stage:{stage.key}/party:{who.name}"
    if not political_treatment.decision_changes(row, who, outcome, on, case_no, correct=correct):
        # The same decision again, with something the party sent back added: recorded (and logged) as a change.
        added = party_returns.record(session, rec, row, subject, returns, upload, note="self-reported" if self_reported else None)
        return done(rec, message + (f"; added {', '.join(added)}" if added else ""))
    corrected = political_treatment.recorded_decision(row)
    before = corrected or row.status
    row.status, row.answered_on, row.case_no, row.self_reported = political_treatment.treatment_status_for(outcome), on, case_no, self_reported
    row.approved_versions = documents.approved_now(session, revision)  # a party decides on every document
    if row.meeting_date is None:
        row.meeting_date = on
    session.add(row)
    note = "; ".join(n for n in ("self-reported" if self_reported else None, reason) if n) or None
    rec.log("party.corrected" if corrected else "party.decided", subject, before, decision_text(outcome, on, case_no), note)
    party_returns.record(session, rec, row, subject, returns, upload, note=note)
    links.revoke(session, who, because="the decision is recorded", now=utcnow())
    outbox.enqueue(session, decision_receipt(revision, stage, who, row, correction=revision.seq if corrected else None))
    followups.sync_rejection(session, rec, who, row, RULES.rejects, today)
    return done(rec, f"corrected: {message} (was {corrected})" if corrected else message)


def withdraw_party_decision(session: Session, slug: str, *, party: str, reason: str, actor: str) -> Recorded:
    """Remove a party's decision recorded by mistake: it owes its decision again (its meeting date is kept)."""
    revision = lock_revision(session, slug)
    rec = Recorder(session, revision, actor)
    stage, who, row = _treatment(session, revision, party)
    before = political_treatment.recorded_decision(row)
    if before is None:
        raise DomainError(
            f"--party: {who.name} has no decision on {stage.key!r} to withdraw ({row.status})",
            code=ErrorCode.refused, field="party", why="nothing_to_withdraw", party=who.name, stage=stage.key,
        )
    row.status = TreatmentStatus.scheduled if row.meeting_date else TreatmentStatus.sent
    row.answered_on, row.case_no, row.self_reported, row.approved_versions = None, None, False, None
    session.add(row)
    rec.log("party.withdrawn", f"stage:{stage.key}/party:{who.name}", before, "withdrawn", reason)
    party_returns.clear(session, rec, row, f"stage:{stage.key}/party:{who.name}", reason)
    followups.sync_rejection(session, rec, who, row, RULES.rejects, None)
    return done(rec, f"{who.name}'s decision withdrawn (was {before}); now {row.status.value}")


def _party_schedule(session: Session, c: PartySchedule, actor: str, today: dt.date) -> Recorded:
    return schedule_party(session, c.revision, party=c.party, meeting=c.meeting, actor=actor)


def _party_decision(session: Session, c: PartyDecision, actor: str, today: dt.date) -> Recorded:
    return record_party_decision(
        session, c.revision, party=c.party, outcome=c.outcome, on=c.date, today=today, case_no=c.case_no, actor=actor, self_reported=c.self_reported,
        correct=c.correct, reason=c.reason, returns=party_returns.Returns(c.note, c.reservations, c.minutes_text, c.minutes_file),
    )


def _party_withdraw(session: Session, c: PartyDecisionWithdraw, actor: str, today: dt.date) -> Recorded:
    return withdraw_party_decision(session, c.revision, party=c.party, reason=c.reason, actor=actor)


HANDLERS = {PartySchedule: _party_schedule, PartyDecision: _party_decision, PartyDecisionWithdraw: _party_withdraw}
