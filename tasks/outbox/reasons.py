"""Has a pending letter's reason gone? Read right before the row is fenced and sent.

The rule is the stage kind's (`StageRules.letter_reason_gone`): this module only loads
what it reads. Letters without a stage and a party (the coordinators' letters, the
digests) are never cancelled, and letters no kind drops cost no query.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from avtaleflyt.models.enums import EmailEvent
from avtaleflyt.models.tables import OutboxMessage, Party, PartyObligation, Stage


@cache
def _droppable() -> frozenset[EmailEvent]:
    from avtaleflyt.models.stages import KINDS  # on first use: a sender that starts need not load the plan's models

    return frozenset().union(*(rules.asks | rules.chases | rules.tells for rules in KINDS.values()))


def letter_deadline(row: OutboxMessage) -> dt.date | None:
    """The deadline the letter names: its `due`, else the date after the event in its key
    (models.stages.base.message_key: slug/stage/party/event/deadline[/detail]; an overdue
    notice has no `due`, it carries no calendar entry)."""
    if row.due is not None:
        return row.due
    parts = row.key.split("/")
    for i, part in enumerate(parts[:-1]):
        if part == row.event.value:
            try:
                return dt.date.fromisoformat(parts[i + 1])
            except ValueError:
                return None
    return None


def reason_gone(engine: Engine, row: OutboxMessage) -> str | None:
    """Why `row` should not go out any more, or None to send it."""
    if not may_be_gone(row):
        return None
    with Session(engine) as session:
        return reason_gone_in(session, row)


def may_be_gone(row: OutboxMessage) -> bool:
    """Could a stage kind drop this letter? (Else no query is needed.)"""
    return not (row.revision_id is None or row.stage_key is None or row.party_id is None or row.event not in _droppable())


def reason_gone_in(session: Session, row: OutboxMessage) -> str | None:
    """`reason_gone` in the caller's session (its transaction): the stage, the party and the
    party's obligation in the stage read in one query."""
    if not may_be_gone(row):
        return None
    found = session.exec(
        select(Stage, Party, PartyObligation)
        .select_from(Stage)
        .join(Party, Party.id == row.party_id)
        .outerjoin(PartyObligation, (PartyObligation.stage_id == Stage.id) & (PartyObligation.party_id == Party.id))
        .where(Stage.revision_id == row.revision_id, Stage.key == row.stage_key)
    ).first()
    if found is None:
        return None
    stage, party, obligation = found
    from avtaleflyt.models.stages import rules_for

    return rules_for(stage.kind).letter_reason_gone(row.event, stage, obligation, party, letter_deadline(row))
