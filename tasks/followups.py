"""Follow-up items (models/followups.py): opened by the recording of a party's rejection, dropped
when that rejection is withdrawn or corrected (it was recorded by mistake; the audit log keeps
both), closed by a coordinator with a note. A forum stage done on its quorum opens one for each
forum that returned it or has not decided, closed when that forum approves later (`sync_forums`).
Listed for `followup list`, the dashboard and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from avtaleflyt import clock
from avtaleflyt.clock import utcnow
from avtaleflyt.models import wording
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.followups import FollowUpClose, FollowUpReason
from avtaleflyt.models.stages import forum_approval
from avtaleflyt.models.tables import AuditEntry, FollowUp, ForumDecision, Party, PartyObligation, Revision, Stage

from .recorder import Recorder, lock_revision
from .stages.base import Recorded, done


def sync_rejection(session: Session, rec: Recorder, party: Party, row: PartyObligation, rejects: frozenset[str], today: dt.date | None) -> None:
    """After a party's decision is recorded, corrected or withdrawn: a rejection has a follow-up item
    (opened once: one a coordinator has closed is not opened again); no rejection, no open item."""
    items = session.exec(
        select(FollowUp).where(FollowUp.revision_id == rec.revision.id, FollowUp.party_id == party.id, FollowUp.reason == FollowUpReason.rejected)
    ).all()
    subject = f"party:{party.name}"
    if row.status in rejects:
        if not items:
            session.add(FollowUp(revision_id=rec.revision.id, party_id=party.id, reason=FollowUpReason.rejected, opened_on=today or row.answered_on))
            rec.log("followup.opened", subject, None, "open", f"{party.name} rejected the agreement ({row.answered_on})")
        return
    for item in items:
        if item.closed_at is None:
            session.delete(item)
            rec.log("followup.dropped", subject, "open", "dropped", "the rejection was withdrawn or corrected")


def sync_forums(session: Session, rec: Recorder, stage: Stage, today: dt.date | None) -> None:
    """After a forum's decision on `stage` is recorded, corrected or withdrawn: once the stage is done on
    its quorum (or about to be), each forum that has not approved has an open item (returned, or not
    decided); one that approved has none open (closed, with its decision as the note). An item a
    coordinator closed is not opened again; no quorum (a withdrawal before the stage closed): none open."""
    rows = session.exec(select(ForumDecision).where(ForumDecision.stage_id == stage.id)).all()
    tally = forum_approval.forum_tally(stage, rows)
    met = forum_approval.quorum_met(stage, rows)
    items = session.exec(select(FollowUp).where(FollowUp.revision_id == rec.revision.id, FollowUp.stage_key == stage.key)).all()
    for forum in stage.forums:
        mine = [i for i in items if i.forum_key == forum]
        item = next((i for i in reversed(mine) if i.closed_at is None), None)
        subject = f"stage:{stage.key}/forum:{forum}"
        if not met or forum in tally.approved:
            if item is not None and not met:
                session.delete(item)
                rec.log("followup.dropped", subject, "open", "dropped", "the quorum is no longer met")
            elif item is not None:
                d = tally.latest[forum]
                item.closed_at, item.closed_by = utcnow(), rec.actor
                item.note = f"{forum} {wording.label('forum_outcome', d.outcome.value, rec.revision.language.value)} {d.decided_on:%d.%m.%Y}"
                session.add(item)
                rec.log("followup.answered", f"followup:{item.id}/forum:{forum}", "open", "closed", item.note)
            continue
        reason = FollowUpReason.forum_returned if forum in tally.returned else FollowUpReason.forum_undecided
        if item is not None:
            if item.reason != reason:
                rec.log("followup.reason", subject, item.reason, reason.value)
                item.reason = reason
                session.add(item)
            continue
        if mine and _closed_by_coordinator(session, rec.revision, mine[-1]):
            continue
        if mine:  # closed by an approval that was withdrawn or corrected since
            item = mine[-1]
            item.closed_at = item.closed_by = item.note = None
            item.reason = reason
        else:
            item = FollowUp(revision_id=rec.revision.id, forum_key=forum, stage_key=stage.key, reason=reason, opened_on=today or clock.today())
        session.add(item)
        rec.log("followup.opened", subject, None, "open", f"{stage.key!r} is done on its quorum; {forum}: {reason.value}")


def _closed_by_coordinator(session: Session, revision: Revision, item: FollowUp) -> bool:
    closes = select(AuditEntry.id).where(AuditEntry.revision_id == revision.id, AuditEntry.action == "followup.closed")
    return session.exec(closes.where(col(AuditEntry.subject).startswith(f"followup:{item.id}/") | (AuditEntry.subject == f"followup:{item.id}"))).first() is not None


@dataclass(frozen=True)
class FollowUpView:
    id: int
    reason: str
    party: str | None
    forum: str | None
    opened_on: dt.date
    open: bool
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    note: str | None = None
    stage: str | None = None  # a forum's item: the stage it has not approved


def followups_of(session: Session, revision: Revision, *, open_only: bool = False) -> list[FollowUpView]:
    query = select(FollowUp).where(FollowUp.revision_id == revision.id).order_by(FollowUp.id)
    if open_only:
        query = query.where(col(FollowUp.closed_at).is_(None))
    rows = session.exec(query).all()
    names = dict(session.exec(select(Party.id, Party.name).where(Party.revision_id == revision.id)).all())
    return [
        FollowUpView(f.id, f.reason, names.get(f.party_id), f.forum_key, f.opened_on, f.closed_at is None, f.closed_at, f.closed_by, f.note, f.stage_key)
        for f in rows
    ]


def followups_by_slug(session: Session, slug: str) -> list[FollowUpView]:
    """Every item of the revision, in one query (the dashboard's)."""
    rows = session.exec(
        select(FollowUp, Party.name).join(Revision, col(FollowUp.revision_id) == col(Revision.id))
        .outerjoin(Party, col(FollowUp.party_id) == col(Party.id)).where(Revision.slug == slug).order_by(FollowUp.id)
    ).all()
    return [FollowUpView(f.id, f.reason, name, f.forum_key, f.opened_on, f.closed_at is None, f.closed_at, f.closed_by, f.note, f.stage_key) for f, name in rows]


def close_followup(session: Session, c: FollowUpClose, *, actor: str) -> Recorded:
    revision = lock_revision(session, c.revision)
    rec = Recorder(session, revision, actor)
    item = session.get(FollowUp, c.id)
    open_ids = [str(f.id) for f in followups_of(session, revision, open_only=True)]
    if item is None or item.revision_id != revision.id:
        raise DomainError(
            f"ID: no follow-up item {c.id} in {revision.slug!r}; open: {', '.join(open_ids) or 'none'}",
            code=ErrorCode.invalid_value, field="id", problem="choice", value=str(c.id), allowed=open_ids,
        )
    if item.closed_at is not None:
        raise DomainError(
            f"ID: follow-up item {c.id} was closed by {item.closed_by} on {item.closed_at:%Y-%m-%d}; open: {', '.join(open_ids) or 'none'}",
            code=ErrorCode.invalid_value, field="id", problem="choice", value=str(c.id), allowed=open_ids,
        )
    item.closed_at, item.closed_by, item.note = utcnow(), actor, c.note
    session.add(item)
    party = session.get(Party, item.party_id) if item.party_id else None
    subject = f"followup:{item.id}" + (f"/party:{party.name}" if party else f"/forum:{item.forum_key}" if item.forum_key else "")
    rec.log("followup.closed", subject, "open", "closed", c.note)
    return done(rec, f"follow-up {item.id} closed" + (f" ({party.name})" if party else f" ({item.forum_key})" if item.forum_key else ""))


def _close(session: Session, c: FollowUpClose, actor: str, today: dt.date) -> Recorded:
    return close_followup(session, c, actor=actor)


HANDLERS = {FollowUpClose: _close}
