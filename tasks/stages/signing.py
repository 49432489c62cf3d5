"""Signing's side effects: the parties that approved owe a signature (and only they), the signing
requests when it starts, the reminders the sweep sends, a receipt for each signature, and its
recordings (a party's signature with its signer; a signature withdrawn)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, select

from avtaleflyt.models import letters as lt
from avtaleflyt.models import rules
from avtaleflyt.models.enums import EmailEvent, StageKind
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.reminders import Due
from avtaleflyt.models.stages import StageFacts, rules_for, signing
from avtaleflyt.models.stages.forum_approval import check_correction
from avtaleflyt.models.stages.signing import PartySigning, PartySigningWithdraw, SigningStatus
from avtaleflyt.models.tables import OutboxMessage, Party, PartyObligation, Revision, Stage

from .. import letter_parts as parts
from ..outbox import enqueue
from ..recorder import Recorder, lock_revision
from .base import Recorded, StageEffects, done, owed_by, parties_of, stages_of

RULES = signing.RULES


def decided_before(session: Session, stage: Stage) -> Stage | None:
    """The nearest stage before `stage` (along `after`) where each party decides on the agreement."""
    stages = {s.key: s for s in stages_of(session, session.get(Revision, stage.revision_id))}
    frontier, seen = list(stage.after), set()
    while frontier:
        found = [stages[k] for k in frontier if k in stages and k not in seen and rules_for(stages[k].kind).party_decision]
        if found:
            return max(found, key=lambda s: s.position)
        seen.update(frontier)
        frontier = [a for k in frontier if k in stages for a in stages[k].after if a not in seen]
    return None


def _approvals(session: Session, stage: Stage) -> dict[int, PartyObligation] | None:
    """Each approving party's decision in the treatment before `stage`; None: there is none (every party signs)."""
    treatment = decided_before(session, stage)
    if treatment is None:
        return None
    approving = rules_for(treatment.kind).approves
    rows = session.exec(select(PartyObligation).where(PartyObligation.stage_id == treatment.id)).all()
    return {o.party_id: o for o in rows if o.status in approving}


class SigningEffects(StageEffects):
    rules = RULES
    calendar_event = EmailEvent.signing_request

    def enter(self, session: Session, stage: Stage, parties: Sequence[Party]) -> list[Party]:
        approved = _approvals(session, stage)
        return super().enter(session, stage, [p for p in parties if approved is None or p.id in approved])

    def started(self, session: Session, revision: Revision, stage: Stage, parties: Sequence[Party]) -> list[OutboxMessage]:
        ref, deadline, docs = parts.revision_ref(revision), parts.plan_date(stage.deadline), parts.documents(session, revision)
        owing = {o.party_id for o in session.exec(select(PartyObligation).where(PartyObligation.stage_id == stage.id)).all()}
        approved = _approvals(session, stage) or {}
        messages = []
        for p in parties:
            if p.id not in owing:
                continue
            decision = approved.get(p.id)
            context = lt.SigningRequest(
                ref, parts.party_ref(p), docs, deadline, decision.answered_on if decision else None, decision.case_no if decision else None
            )
            messages.append(parts.party_message(
                revision, p, EmailEvent.signing_request, context, stage=stage, key=f"{revision.slug}/{stage.key}/{p.id}/signing_request/{stage.deadline}",
                due=deadline.as_date() if deadline else None, calendar_title=self.calendar_title(revision, p),
            ))
        return messages

    def completed(self, session: Session, revision: Revision, stage: Stage, facts: StageFacts) -> dict:
        return {"responses": self.rules.answered_count(facts), "invited": len(facts.obligations)}

    def reminder(self, session: Session, revision: Revision, stage: Stage, party: Party, due: Due, row: PartyObligation | None = None) -> OutboxMessage:
        context = lt.SigningReminder(parts.revision_ref(revision), parts.party_ref(party), parts.documents(session, revision), due.deadline, due.days_left)
        before = due.days_left > 0
        return parts.party_message(
            revision, party, due.event, context, stage=stage, key=due.key, due=due.deadline if before else None,
            calendar_title=self.calendar_title(revision, party) if before else None,
        )


EFFECTS = SigningEffects()


def signing_receipt(revision: Revision, stage: Stage, party: Party, row: PartyObligation, *, correction: int | None = None) -> OutboxMessage:
    context = lt.SigningReceipt(parts.revision_ref(revision), parts.party_ref(party), row.answered_on, row.signer, row.signer_title)
    key = f"{revision.slug}/{stage.key}/{party.id}/signing_receipt/{row.answered_on}" + (f"/correction-{correction}" if correction else "")
    return parts.party_message(revision, party, EmailEvent.signing_receipt, context, stage=stage, key=key, due=None)


def _owed(session: Session, revision: Revision, party: str, stage_key: str | None) -> tuple[Stage, Party, PartyObligation]:
    stage = rules.pick_stage(stages_of(session, revision), StageKind.signing, stage_key)
    rules.require_active(stage)
    who = rules.find_party(parties_of(session, revision), party)
    row = owed_by(session, stage, who, none=f"owes no signature in {stage.key!r} (only the parties that approved the agreement sign)", left="cannot sign")
    return stage, who, row


def record_signing(session: Session, c: PartySigning, *, actor: str, today: dt.date) -> Recorded:
    revision = lock_revision(session, c.revision)
    rec = Recorder(session, revision, actor)
    rules.check_not_future(c.date, today, "--date")
    check_correction(c.correct, c.reason)
    stage, who, row = _owed(session, revision, c.party, c.stage)
    message = f"{who.name} signed on {c.date} ({c.signer}" + (f", {c.signer_title})" if c.signer_title else ")")
    if not signing.signature_changes(row, who, c):
        return done(rec, message)
    corrected = signing.signature_text(row)
    row.status, row.answered_on, row.signer, row.signer_title = SigningStatus.signed, c.date, c.signer, c.signer_title
    row.note = c.note if c.note is not None else row.note
    session.add(row)
    after = signing.signature_text(row)
    rec.log("party.signing_corrected" if corrected else "party.signed", f"stage:{stage.key}/party:{who.name}", corrected or SigningStatus.sent.value, after, c.reason)
    enqueue(session, signing_receipt(revision, stage, who, row, correction=revision.seq if corrected else None))
    return done(rec, f"corrected: {message} (was {corrected})" if corrected else message)


def withdraw_signing(session: Session, c: PartySigningWithdraw, *, actor: str) -> Recorded:
    revision = lock_revision(session, c.revision)
    rec = Recorder(session, revision, actor)
    stage, who, row = _owed(session, revision, c.party, c.stage)
    before = signing.signature_text(row)
    if before is None:
        raise DomainError(
            f"--party: {who.name} has no signature on {stage.key!r} to withdraw ({row.status})",
            code=ErrorCode.refused, field="party", why="nothing_to_withdraw", party=who.name, stage=stage.key,
        )
    row.status, row.answered_on, row.signer, row.signer_title = SigningStatus.sent, None, None, None
    session.add(row)
    rec.log("party.signing_withdrawn", f"stage:{stage.key}/party:{who.name}", before, "withdrawn", c.reason)
    return done(rec, f"{who.name}'s signature withdrawn (was {before})")


def _signing(session: Session, c: PartySigning, actor: str, today: dt.date) -> Recorded:
    return record_signing(session, c, actor=actor, today=today)


def _withdraw(session: Session, c: PartySigningWithdraw, actor: str, today: dt.date) -> Recorded:
    return withdraw_signing(session, c, actor=actor)


HANDLERS = {PartySigning: _signing, PartySigningWithdraw: _withdraw}
