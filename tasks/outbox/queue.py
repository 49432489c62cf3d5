"""The outbox table as a queue: enqueue under a unique key, and the claims of the senders.

Every statement that touches a claim is one short transaction of its own, and every
lease is taken from the wall clock at the moment of that statement (`Claims.clock`),
never from a time fixed when the batch began: a batch that has run for an hour
claims its next page for `lease` from now.

A row is held by the batch whose token is in `claimed_by`. Another batch takes a row
only when its lease has run out, and taking it writes its own token, so "the row
still carries my token" is the fencing check: `fence` (right before sending) and
`mark` (after the server's answer) both update only a row this batch holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import Select, Update, bindparam, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from avtaleflyt.clock import utcnow
from avtaleflyt.models.enums import OutboxStatus
from avtaleflyt.models.tables import OutboxMessage

_OUTBOX = OutboxMessage.__table__


def _insert_for(dialect: str):
    """The dialect's own `insert` (`ON CONFLICT`), imported where it is used: a flow-run process
    on SQLite never loads the PostgreSQL dialect and its drivers (~0.1 s of every process)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def enqueue(session: Session, message: OutboxMessage) -> bool:
    """Insert `message` unless a row with its key exists; True if it was inserted.

    Runs inside the caller's transaction. The insert is tried in a SAVEPOINT, so a
    concurrent writer that inserted the same key first (the unique constraint
    refuses ours) costs only the savepoint: the caller's other writes stand.
    """
    exists = session.exec(select(OutboxMessage.id).where(OutboxMessage.key == message.key)).first()
    if exists is not None:
        return False
    return _insert(session, message)


def enqueue_all(session: Session, messages: Sequence[OutboxMessage | Mapping[str, object]]) -> int:
    """Insert each of `messages` whose key the outbox does not hold yet, in one
    `INSERT … ON CONFLICT (key) DO NOTHING` (SQLite and PostgreSQL); returns how many were inserted.
    A message is an `OutboxMessage` or its row's values (`letter_parts.outbox_row`: every column but `id`).

    Runs inside the caller's transaction. A key already there, or inserted first by a
    concurrent writer, is skipped by the database itself: no savepoint, no error, the
    caller's other writes stand. Any other constraint (a foreign key) still raises.
    """
    rows, keys = [], set()
    for m in messages:  # the first of each key
        row = m if isinstance(m, Mapping) else _values(m)
        if row["key"] not in keys:
            keys.add(row["key"])
            rows.append(row)
    if not rows:
        return 0
    insert = _insert_for(session.get_bind().dialect.name)
    statement = insert(_OUTBOX).on_conflict_do_nothing(index_elements=[_OUTBOX.c.key]).returning(_OUTBOX.c.key)
    return len(session.connection().execute(statement, rows).all())


def _values(message: OutboxMessage) -> dict[str, object]:
    return {c.key: getattr(message, c.key) for c in _OUTBOX.columns if c.key != "id"}


def _insert(session: Session, message: OutboxMessage) -> bool:
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        if message in session:
            session.expunge(message)
        if session.exec(select(OutboxMessage.id).where(OutboxMessage.key == message.key)).first() is None:
            raise  # not our key: a foreign key or another constraint
        return False  # lost the race on `key`
    return True


@lru_cache(maxsize=32)
def _held_update(columns: tuple[str, ...]) -> Update:
    """`UPDATE outboxmessage SET <columns> WHERE id = :b_row AND claimed_by = :b_token AND status = pending`,
    built once per set of columns (building a statement costs ~10x executing it, twice per message)."""
    return (
        update(_OUTBOX)
        .where(_OUTBOX.c.id == bindparam("b_row"), _OUTBOX.c.claimed_by == bindparam("b_token"), _OUTBOX.c.status == OutboxStatus.pending)
        .values({c: bindparam(f"v_{c}", type_=_OUTBOX.c[c].type) for c in columns})
    )


@lru_cache(maxsize=1)
def _page() -> Select:
    """The next due rows nobody holds, after :p_after, at most :p_size (`Claims.claim_page`), built once."""
    c = _OUTBOX.c
    return (
        core_select(_OUTBOX)
        .where(
            c.status == OutboxStatus.pending,
            c.id > bindparam("p_after"),
            or_(c.next_attempt_at.is_(None), c.next_attempt_at <= bindparam("p_due", type_=c.next_attempt_at.type)),
            or_(c.claimed_until.is_(None), c.claimed_until <= bindparam("p_now", type_=c.claimed_until.type)),
        )
        .order_by(c.id)
        .limit(bindparam("p_size"))
    )


@dataclass
class Claims:
    """One sending batch's hold on outbox rows: its token, its lease and its clock."""

    engine: Engine
    token: str
    lease: dt.timedelta
    clock: Callable[[], dt.datetime] = utcnow
    renewed_at: dt.datetime = field(default_factory=utcnow)

    def claim_page(self, due_at: dt.datetime, after_id: int, size: int) -> list[Row]:
        """The next due rows (next attempt ≤ `due_at`) that nobody holds, claimed for this batch:
        Core rows of every column (the sender only reads them), not ORM objects (~0.07 ms a row
        of CPU in the event loop's thread, a page at a time)."""
        with self.engine.begin() as conn:
            now = self.clock()
            candidates = conn.execute(_page(), {"p_after": after_id, "p_due": due_at, "p_now": now, "p_size": size}).all()
            if not candidates:
                return []
            claimed = set(
                conn.execute(
                    update(_OUTBOX)
                    .where(
                        _OUTBOX.c.id.in_([row.id for row in candidates]),
                        _OUTBOX.c.status == OutboxStatus.pending,
                        or_(_OUTBOX.c.claimed_until.is_(None), _OUTBOX.c.claimed_until <= now),
                    )
                    .values(claimed_by=self.token, claimed_until=now + self.lease)
                    .returning(_OUTBOX.c.id)
                ).scalars()
            )
            self.renewed_at = now
        return [row for row in candidates if row.id in claimed]

    def renew_if_due(self) -> None:
        """Extend the lease on every row still held, once a third of the lease has passed."""
        now = self.clock()
        if now - self.renewed_at < self.lease / 3:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.claimed_by == self.token, _OUTBOX.c.status == OutboxStatus.pending)
                .values(claimed_until=now + self.lease)
            )
        self.renewed_at = now

    def fence(self, row_id: int) -> bool:
        """Right before sending: does this batch still hold the row? One conditional UPDATE
        that also extends the row's lease; False when another batch has taken it."""
        with self.engine.begin() as conn:
            return self.fence_in(conn, row_id)

    def mark(self, row_id: int, **values: object) -> bool:
        """Write the outcome of a row this batch still holds; False (nothing written) if it lost it."""
        with self.engine.begin() as conn:
            return self.mark_in(conn, row_id, values)

    # The same two inside the caller's transaction: the sender marks a row and fences the next in one.

    def fence_in(self, conn: Connection, row_id: int) -> bool:
        held = {"b_row": row_id, "b_token": self.token}
        return conn.execute(_held_update(("claimed_until",)), {**held, "v_claimed_until": self.clock() + self.lease}).rowcount == 1

    def mark_in(self, conn: Connection, row_id: int, values: dict[str, object]) -> bool:
        held = {"b_row": row_id, "b_token": self.token}
        return conn.execute(_held_update(tuple(sorted(values))), {**held, **{f"v_{k}": v for k, v in values.items()}}).rowcount == 1

    def release(self) -> None:
        """Give back the rows this batch holds and left pending (not reached, or deferred)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.claimed_by == self.token, _OUTBOX.c.status == OutboxStatus.pending)
                .values(claimed_by=None, claimed_until=None)
            )
