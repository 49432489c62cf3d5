"""Has a pending letter's reason gone? Read right before the row is fenced and sent.

The rule is the stage kind's (`StageRules.letter_reason_gone`): this module only loads
what it reads. Letters without a stage and a party (the coordinators' letters, the
digests) are never cancelled, and letters no kind drops cost no query.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from types import SimpleNamespace

from sqlalchemy import Select, bindparam, select
from sqlalchemy.engine import Connection, Engine

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
    with engine.connect() as conn:
        return reason_gone_on(conn, row)


def may_be_gone(row: OutboxMessage) -> bool:
    """Could a stage kind drop this letter? (Else no query is needed.)"""
    return not (row.revision_id is None or row.stage_key is None or row.party_id is None or row.event not in _droppable())


def reason_gone_on(conn: Connection, row: OutboxMessage) -> str | None:
    """`reason_gone` on the caller's connection (its transaction): the stage, the party and the
    party's obligation in the stage read in one query, built once; the rule gets each row's
    columns as attributes of a plain namespace (every column of its table), not as ORM objects:
    loading three of those through a Session cost ~0.5 ms of CPU per letter, the sender's
    largest cost on the sweep's letters. The rules only read columns."""
    if not may_be_gone(row):
        return None
    found = conn.execute(_query(), {"r_party": row.party_id, "r_revision": row.revision_id, "r_stage": row.stage_key}).first()
    if found is None:
        return None
    values = tuple(found)
    stage, party, obligation = (SimpleNamespace(**dict(zip(keys, values[start:]))) for start, keys in _SPLIT)
    from avtaleflyt.models.stages import rules_for

    return rules_for(stage.kind).letter_reason_gone(
        row.event, stage, obligation if obligation.id is not None else None, party, letter_deadline(row))


_TABLES = (Stage.__table__, Party.__table__, PartyObligation.__table__)
_SPLIT = tuple((sum(len(t.c) for t in _TABLES[:i]), tuple(c.key for c in table.c)) for i, table in enumerate(_TABLES))


@cache
def _query() -> Select:
    stage, party, obligation = _TABLES
    return (
        select(*stage.c, *party.c, *obligation.c)
        .select_from(stage)
        .join(party, party.c.id == bindparam("r_party"))
        .outerjoin(obligation, (obligation.c.stage_id == stage.c.id) & (obligation.c.party_id == party.c.id))
        .where(stage.c.revision_id == bindparam("r_revision"), stage.c.key == bindparam("r_stage"))
    )
