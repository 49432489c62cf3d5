"""Follow-up items (models/followups.py): opened by the recording of a party's rejection, dropped
when that rejection is withdrawn or corrected (it was recorded by mistake; the audit log keeps
both), closed by a coordinator with a note. Listed for `followup list`, the dashboard and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from avtaleflyt.clock import utcnow
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.followups import FollowUpClose, FollowUpReason
from avtaleflyt.models.tables import FollowUp, Party, PartyObligation, Revision

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


def followups_of(session: Session, revision: Revision, *, open_only: bool = False) -> list[FollowUpView]:
    query = select(FollowUp).where(FollowUp.revision_id == revision.id).order_by(FollowUp.id)
    if open_only:
        query = query.where(col(FollowUp.closed_at).is_(None))
    rows = session.exec(query).all()
    names = dict(session.exec(select(Party.id, Party.name).where(Party.revision_id == revision.id)).all())
    return [
        FollowUpView(f.id, f.reason, names.get(f.party_id), f.forum_key, f.opened_on, f.closed_at is None, f.closed_at, f.closed_by, f.note)
        for f in rows
    ]


def followups_by_slug(session: Session, slug: str) -> list[FollowUpView]:
    """Every item of the revision, in one query (the dashboard's)."""
    rows = session.exec(
        select(FollowUp, Party.name).join(Revision, col(FollowUp.revision_id) == col(Revision.id))
        .outerjoin(Party, col(FollowUp.party_id) == col(Party.id)).where(Revision.slug == slug).order_by(FollowUp.id)
    ).all()
    return [FollowUpView(f.id, f.reason, name, f.forum_key, f.opened_on, f.closed_at is None, f.closed_at, f.closed_by, f.note) for f, name in rows]


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
    subject = f"followup:{item.id}" + (f"/party:{party.name}" if party else "")
    rec.log("followup.closed", subject, "open", "closed", c.note)
    return done(rec, f"follow-up {item.id} closed" + (f" ({party.name})" if party else ""))


def _close(session: Session, c: FollowUpClose, actor: str, today: dt.date) -> Recorded:
    return close_followup(session, c, actor=actor)


HANDLERS = {FollowUpClose: _close}
