"""Migration 0007: stage kinds and email events are stored as text, not as PostgreSQL enum types.

A database filled at 0006 through raw SQL goes up to 0007, down again and up again, on SQLite and
PostgreSQL, with every stage and outbox row as it was. After 0007 a kind (or an email event) the
old types do not know can be stored, so a new stage kind needs no migration; before it, PostgreSQL
refuses it. A downgrade that would have to drop such a value refuses, names it, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from avtaleflyt.models.enums import EmailEvent, StageKind
from avtaleflyt.models.tables import OutboxMessage, Stage
from sqlmodel import SQLModel

from .test_migrations import alembic_config, empty_db_url, enum_types, migrated_to, tables  # noqa: F401  (empty_db_url: fixture)

NOW = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
# Every value the old types knew, as 0001, 0002 and 0004 made them.
OLD_KINDS = ["draft", "hearing", "forum_approval", "political_treatment"]
OLD_EVENTS = [
    "hearing_invitation", "hearing_reminder", "hearing_deadline_passed", "forum_meeting_notice", "decision_request",
    "decision_reminder", "overdue_notice", "decision_receipt", "stage_completed", "revision_completed", "weekly_digest",
    "deadline_moved",
]
INSERT_STAGE = sa.text(
    "INSERT INTO stage (revision_id, position, key, kind, after, documents, forums, status, round)"
    " VALUES ((SELECT id FROM revision), :position, :key, :kind, '[]', '[\"avtale\"]', '[]', 'pending', 1)"
)
INSERT_MESSAGE = sa.text(
    "INSERT INTO outboxmessage (key, revision_id, stage_key, event, language, due, to_name, to_address, subject,"
    " body_text, body_html, status, attempts, created_at)"
    " VALUES (:key, (SELECT id FROM revision), :stage_key, :event, 'nn', :due, 'Malvik kommune', 'post@malvik.kommune.no',"
    " :subject, 'Hei', '<p>Hei</p>', 'pending', 0, :now)"
)


@pytest.fixture
def at_0006(empty_db_url: str) -> Iterator[tuple[str, sa.Engine]]:  # noqa: F811  (the imported fixture)
    with migrated_to(empty_db_url, "0006") as migrated:
        yield migrated


def fill(engine: sa.Engine) -> None:
    """A revision with a stage of every kind and a letter of every event, as 0006 stored them."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO revision (slug, title, helsefellesskap, language, status, seq, plan_version, coordinators, reminders, created_at)"
            " VALUES ('r', 'R', 'H', 'nb', 'active', 0, 1, '[]', '{}', :now)"
        ), {"now": NOW})
        # Twice over, reversed the second time, so ids and kinds do not run in the same order.
        for position, kind in enumerate(OLD_KINDS + OLD_KINDS[::-1]):
            conn.execute(INSERT_STAGE, {"position": position, "key": f"{kind}_{position}", "kind": kind})
        for n, event in enumerate(OLD_EVENTS[::-1]):
            conn.execute(INSERT_MESSAGE, {
                "key": f"r/{n}/{event}", "stage_key": f"draft_{n}" if n % 2 else None, "event": event,
                "due": dt.date(2024, 9, 1) + dt.timedelta(days=n), "subject": f"Brev «{event}» – æøå", "now": NOW,
            })


def contents(engine: sa.Engine) -> dict[str, list[dict]]:
    """Every row of both tables, every column, with its id."""
    with engine.connect() as conn:
        return {
            table: [dict(r._mapping) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))]
            for table in ("stage", "outboxmessage")
        }


def column_types(engine: sa.Engine) -> dict[str, str]:
    """What the database says `stage.kind` and `outboxmessage.event` are: a type name and a length."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return dict(conn.execute(sa.text(
                "SELECT table_name || '.' || column_name, udt_name || coalesce('(' || character_maximum_length || ')', '')"
                " FROM information_schema.columns"
                " WHERE (table_name, column_name) IN (('stage', 'kind'), ('outboxmessage', 'event'))"
            )).all())
        inspector = sa.inspect(conn)
        return {
            f"{table}.{c['name']}": f"{c['type'].__visit_name__}({c['type'].length})"
            for table, column in (("stage", "kind"), ("outboxmessage", "event"))
            for c in inspector.get_columns(table) if c["name"] == column
        }


def as_migrated(engine: sa.Engine, table: sa.Table) -> sa.Table:
    """The model's table with only the columns the database has now (their types and defaults as the model has them)."""
    with engine.connect() as conn:
        present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    return sa.Table(table.name, sa.MetaData(), *(c._copy() for c in table.c if c.name in present))


def kind_and_event_differences(engine: sa.Engine) -> list:
    """What autogenerate would change about the two columns (the rest is test_migrations' business)."""

    def only_the_two(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table":
            return name in ("stage", "outboxmessage")
        return type_ != "column" or (obj.table.name, name) in (("stage", "kind"), ("outboxmessage", "event"))

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": only_the_two, "compare_type": True})
        return [d for d in compare_metadata(context, SQLModel.metadata) if _about_the_two(d)]


def _about_the_two(diff) -> bool:
    first = diff[0] if isinstance(diff, list) else diff
    return first[0] == "modify_type" and (first[2], first[3]) in (("stage", "kind"), ("outboxmessage", "event"))


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_0007_stores_kinds_and_events_as_text_and_keeps_every_row_down_and_up(at_0006):
    url, engine = at_0006
    cfg = alembic_config(url)
    fill(engine)
    before = contents(engine)
    old_types = column_types(engine)
    pg = engine.dialect.name == "postgresql"
    assert old_types == (
        {"stage.kind": "stagekind", "outboxmessage.event": "emailevent"} if pg
        else {"stage.kind": "VARCHAR(19)", "outboxmessage.event": "VARCHAR(23)"}
    )
    assert kind_and_event_differences(engine) != []  # the check below can fail

    command.upgrade(cfg, "0007")
    assert column_types(engine) == (
        {"stage.kind": "varchar(32)", "outboxmessage.event": "varchar(32)"} if pg
        else {"stage.kind": "VARCHAR(32)", "outboxmessage.event": "VARCHAR(32)"}
    )
    assert {"stagekind", "emailevent"}.isdisjoint(enum_types(engine))
    assert contents(engine) == before
    assert kind_and_event_differences(engine) == []
    # The models' own column types read the text back as the enums' members and write a member as its
    # text. Only the columns 0007 has: later migrations add stage and outbox columns (0008, 0015, 0017, 0021).
    stage = as_migrated(engine, Stage.__table__)
    with engine.begin() as conn:
        kinds = list(conn.execute(sa.select(stage.c.kind).order_by(stage.c.id)).scalars())
        assert kinds == [StageKind(k) for k in OLD_KINDS + OLD_KINDS[::-1]]
        assert all(type(k) is StageKind for k in kinds)
        assert set(conn.execute(sa.select(OutboxMessage.event))) == {(EmailEvent(e),) for e in OLD_EVENTS}
        revision_id = conn.execute(sa.select(stage.c.revision_id)).first()[0]
        conn.execute(stage.insert().values(revision_id=revision_id, position=99, key="ny", kind=StageKind.hearing, after=[], documents=[], forums=[]))
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT kind FROM stage WHERE key = 'ny'")).scalar_one() == "hearing"
        conn.execute(sa.text("DELETE FROM stage WHERE key = 'ny'"))

    command.downgrade(cfg, "0006")
    assert column_types(engine) == old_types
    if pg:
        assert {"stagekind", "emailevent"} <= enum_types(engine)
    assert contents(engine) == before

    command.upgrade(cfg, "0007")
    assert contents(engine) == before
    assert current_revision(engine) == "0007"


def test_a_kind_and_an_event_the_old_types_do_not_know_are_stored_after_0007(at_0006):
    url, engine = at_0006
    cfg = alembic_config(url)
    fill(engine)
    new_stage = {"position": 50, "key": "signering", "kind": "signing"}
    new_message = {"key": "r/signing", "stage_key": "signering", "event": "signature_request", "due": None, "subject": "Sign", "now": NOW}

    if engine.dialect.name == "postgresql":  # before 0007 the enum types refuse them
        for statement, values in ((INSERT_STAGE, new_stage), (INSERT_MESSAGE, new_message)):
            with pytest.raises(sa.exc.DataError, match="invalid input value for enum"), engine.begin() as conn:
                conn.execute(statement, values)

    command.upgrade(cfg, "0007")
    with engine.begin() as conn:
        conn.execute(INSERT_STAGE, new_stage)
        conn.execute(INSERT_MESSAGE, new_message)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT kind FROM stage WHERE key = 'signering'")).scalar_one() == "signing"
        assert conn.execute(sa.text("SELECT event FROM outboxmessage WHERE key = 'r/signing'")).scalar_one() == "signature_request"

    # Down again: the old types have no place for them, so it refuses, names them and changes nothing.
    before = (contents(engine), tables(engine), enum_types(engine), column_types(engine))
    with pytest.raises(RuntimeError, match=(
        r"1 stage row\(s\) with kind 'signing' \(not in stagekind\); "
        r"1 outboxmessage row\(s\) with event 'signature_request' \(not in emailevent\).*nothing was changed"
    )):
        command.downgrade(cfg, "0006")
    assert current_revision(engine) == "0007"
    assert (contents(engine), tables(engine), enum_types(engine), column_types(engine)) == before

    with engine.begin() as conn:  # only those rows stood in the way
        conn.execute(sa.text("DELETE FROM outboxmessage WHERE key = 'r/signing'"))
        conn.execute(sa.text("DELETE FROM stage WHERE key = 'signering'"))
    command.downgrade(cfg, "0006")
    assert current_revision(engine) == "0006"
