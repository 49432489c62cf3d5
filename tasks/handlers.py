"""Which function records which command: the one table every front end goes through
(avtaleflyt.actions.execute, and the resume form in tasks/run_input.py).

Each handler runs inside the caller's transaction and returns what it recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from avtaleflyt.models.commands import (
    Command,
    DraftComplete,
    ForumDecision,
    HearingClose,
    HearingResponse,
    PartyDecision,
    PartySchedule,
    Refresh,
)
from sqlmodel import Session

from . import records
from .recorder import lock_revision
from .records import Recorded

Handler = Callable[[Session, Command, str, dt.date], Recorded]


def _draft_complete(session: Session, c: DraftComplete, actor: str, today: dt.date) -> Recorded:
    return records.complete_draft(session, c.revision, stage_key=c.stage, actor=actor, note=c.note)


def _hearing_response(session: Session, c: HearingResponse, actor: str, today: dt.date) -> Recorded:
    return records.record_hearing_response(session, c.revision, party=c.party, on=c.date, today=today, stage_key=c.stage, note=c.note, actor=actor)


def _hearing_close(session: Session, c: HearingClose, actor: str, today: dt.date) -> Recorded:
    return records.close_hearing(session, c.revision, stage_key=c.stage, reason=c.reason or f"stengt av {actor} {today}", actor=actor)


def _forum_decision(session: Session, c: ForumDecision, actor: str, today: dt.date) -> Recorded:
    return records.record_forum_decision(
        session, c.revision, forum=c.forum, outcome=c.outcome, on=c.date, today=today, case_no=c.case_no, stage_key=c.stage, actor=actor
    )


def _party_schedule(session: Session, c: PartySchedule, actor: str, today: dt.date) -> Recorded:
    return records.schedule_party(session, c.revision, party=c.party, meeting=c.meeting, actor=actor)


def _party_decision(session: Session, c: PartyDecision, actor: str, today: dt.date) -> Recorded:
    return records.record_party_decision(
        session, c.revision, party=c.party, outcome=c.outcome, on=c.date, today=today, case_no=c.case_no, actor=actor, self_reported=c.self_reported
    )


def _refresh(session: Session, c: Refresh, actor: str, today: dt.date) -> Recorded:
    """Nothing to record: the revision as it is, so the caller can nudge its run."""
    revision = lock_revision(session, c.revision)
    return Recorded(revision.slug, False, "", revision.seq, revision.flow_run_id)


HANDLERS: dict[type, Handler] = {
    DraftComplete: _draft_complete,
    HearingResponse: _hearing_response,
    HearingClose: _hearing_close,
    ForumDecision: _forum_decision,
    PartySchedule: _party_schedule,
    PartyDecision: _party_decision,
    Refresh: _refresh,
}


def handle(session: Session, command: Command, *, actor: str, today: dt.date) -> Recorded:
    """Record `command` in the caller's transaction (no commit, no nudge)."""
    return HANDLERS[type(command)](session, command, actor, today)
