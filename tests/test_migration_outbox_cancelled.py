"""Migration 0008: an outbox letter can be `cancelled`, with `cancelled_reason`.

A database filled at 0007 through raw SQL goes up to 0008, down again and up again, on SQLite
and PostgreSQL, with every outbox row as it was. Before 0008 PostgreSQL refuses the status
`cancelled`; after it the models store it. A downgrade that would have to drop a cancelled
row refuses, names it, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel, select

from avtaleflyt.models.enums import OutboxStatus
from avtaleflyt.models.tables import OutboxMessage

from .test_migration_kinds_as_text import current_revision
from .test_migrations import alembic_config, empty_db_url, enum_types, migrated_to  # noqa: F401  (empty_db_url: fixture)

NOW = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
INSERT_MESSAGE = sa.text(
    "INSERT INTO outboxmessage (key, revision_id, stage_key, event, language, due, to_name, to_address, subject,"
    " body_text, body_html, status, attempts, last_error, created_at)"
    " VALUES (:key, (SELECT id FROM revision), 'hoering', 'hearing_reminder', 'nn', :due, 'Malvik kommune',"
    " 'post@malvik.kommune.no', 'Påminning – «æøå»', 'Hei', '<p>Hei</p>', :status, :attempts, :error, :now)"
)


def outbox_differences(engine: sa.Engine) -> list:
    """What autogenerate would change about the outbox table at this revision."""

    def only_the_outbox(obj, name, type_, reflected, compare_to) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table == "outboxmessage"

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": only_the_outbox, "compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


@pytest.fixture
def at_0007(empty_db_url: str) -> Iterator[tuple[str, sa.Engine]]:  # noqa: F811  (the imported fixture)
    with migrated_to(empty_db_url, "0007") as migrated:
        yield migrated


def fill(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO revision (slug, title, helsefellesskap, language, status, seq, plan_version, coordinators, reminders, created_at)"
            " VALUES ('r', 'R', 'H', 'nb', 'active', 0, 1, '[]', '{}', :now)"
        ), {"now": NOW})
        for n, status in enumerate(["sent", "pending", "failed", "pending", "sent"]):
            conn.execute(INSERT_MESSAGE, {
                "key": f"r/hoering/{n}/hearing_reminder", "due": dt.date(2024, 9, 10), "status": status, "attempts": n,
                "error": "550 5.1.1 no such user" if status == "failed" else None, "now": NOW,
            })


def contents(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text("SELECT * FROM outboxmessage ORDER BY id"))]


def status_type(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return conn.execute(sa.text(
                "SELECT udt_name || coalesce('(' || character_maximum_length || ')', '') FROM information_schema.columns"
                " WHERE table_name = 'outboxmessage' AND column_name = 'status'"
            )).scalar_one()
        column = next(c for c in sa.inspect(conn).get_columns("outboxmessage") if c["name"] == "status")
        return f"{column['type'].__visit_name__}({column['type'].length})"


def test_0008_adds_cancelled_and_its_reason_and_keeps_every_row_down_and_up(at_0007):
    url, engine = at_0007
    cfg = alembic_config(url)
    fill(engine)
    before = contents(engine)
    pg = engine.dialect.name == "postgresql"
    assert status_type(engine) == ("outboxstatus" if pg else "VARCHAR(7)")
    if pg:  # before 0008 the enum type refuses the new status
        with pytest.raises(sa.exc.DataError, match="invalid input value for enum"), engine.begin() as conn:
            conn.execute(sa.text("UPDATE outboxmessage SET status = 'cancelled' WHERE id = (SELECT min(id) FROM outboxmessage)"))

    command.upgrade(cfg, "0008")
    assert status_type(engine) == ("varchar(32)" if pg else "VARCHAR(32)")
    assert "outboxstatus" not in enum_types(engine)
    assert contents(engine) == [{**row, "cancelled_reason": None} for row in before]
    assert outbox_differences(engine) == []  # the outbox is what 0008 changes (later migrations change other tables)
    with Session(engine) as s:  # the models store and read the new status and its reason
        row = s.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.pending).order_by(OutboxMessage.id)).first()
        row.status, row.cancelled_reason = OutboxStatus.cancelled, "Malvik kommune has answered (responded on 2024-09-01)"
        s.add(row)
        s.commit()
        cancelled_id = row.id
    with Session(engine) as s:
        again = s.get(OutboxMessage, cancelled_id)
        assert (again.status, type(again.status)) == (OutboxStatus.cancelled, OutboxStatus)

    # Down: the old type has no place for it, so it refuses, names it and changes nothing.
    kept = contents(engine)
    with pytest.raises(RuntimeError, match=r"1 outboxmessage row\(s\) with status 'cancelled'.*nothing was changed"):
        command.downgrade(cfg, "0007")
    assert current_revision(engine) == "0008" and contents(engine) == kept

    with engine.begin() as conn:  # only that row stood in the way: back as it was
        conn.execute(sa.text("UPDATE outboxmessage SET status = 'pending', cancelled_reason = NULL WHERE id = :id"), {"id": cancelled_id})
    command.downgrade(cfg, "0007")
    assert current_revision(engine) == "0007"
    assert status_type(engine) == ("outboxstatus" if pg else "VARCHAR(7)")
    assert contents(engine) == before

    command.upgrade(cfg, "0008")
    assert contents(engine) == [{**row, "cancelled_reason": None} for row in before]
    assert current_revision(engine) == "0008"
