"""The Alembic migrations, from an empty database, on SQLite and PostgreSQL.

They must build exactly the tables the SQLModel classes describe (autogenerate
finds nothing to do), come down to nothing again, and go up again; and the newest
migration must carry rows written under the one before it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import avtaleflyt.models.tables  # noqa: F401  (registers the tables)
from avtaleflyt.db import _migrations_dir

from .pg import BACKENDS, TEST_DATABASE, PostgresServer

_numbers = itertools.count(1)
# Like domain_db_url, but empty: this module makes its databases itself.
WANTED = list(BACKENDS) if TEST_DATABASE == "both" else [TEST_DATABASE]


@pytest.fixture(params=WANTED)
def empty_db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"migrations_{next(_numbers)}"
    url = server.create_database(name)  # from template1: nothing in it
    yield url
    server.drop_database(name)


@contextmanager
def migrated_to(url: str, revision: str) -> Iterator[tuple[str, sa.Engine]]:
    """The empty database at `url` migrated to `revision`, and an engine on it."""
    command.upgrade(alembic_config(url), revision)
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        yield url, engine
    finally:
        engine.dispose()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def schema_differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)


def tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def enum_types(engine: sa.Engine) -> set[str]:
    if engine.dialect.name != "postgresql":
        return set()
    with engine.connect() as conn:
        return set(conn.exec_driver_sql("SELECT typname FROM pg_type WHERE typtype = 'e'").scalars())


def test_migrations_build_the_models_tables_and_come_down_again(empty_db_url):
    cfg = alembic_config(empty_db_url)
    engine = sa.create_engine(empty_db_url, poolclass=sa.NullPool)
    try:
        assert tables(engine) == set()

        command.upgrade(cfg, "head")
        assert tables(engine) == set(SQLModel.metadata.tables) | {"alembic_version"}
        assert schema_differences(engine) == []

        command.downgrade(cfg, "base")
        assert tables(engine) == {"alembic_version"}
        assert enum_types(engine) == set()  # PostgreSQL keeps enum types unless a downgrade drops them

        command.upgrade(cfg, "head")
        assert schema_differences(engine) == []
        with engine.connect() as conn:
            head = ScriptDirectory.from_config(cfg).get_current_head()
            assert MigrationContext.configure(conn).get_current_revision() == head
    finally:
        engine.dispose()


def test_each_migration_steps_down_and_up(empty_db_url):
    """Every single step both ways, not only base ↔ head."""
    cfg = alembic_config(empty_db_url)
    revisions = [s.revision for s in reversed(list(ScriptDirectory.from_config(cfg).walk_revisions()))]
    for revision in revisions:
        command.upgrade(cfg, revision)
        command.downgrade(cfg, "-1")
        command.upgrade(cfg, revision)
    engine = sa.create_engine(empty_db_url, poolclass=sa.NullPool)
    try:
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_0004_carries_plan_versions_and_parties_written_before_it(empty_db_url):
    cfg = alembic_config(empty_db_url)
    command.upgrade(cfg, "0003")
    engine = sa.create_engine(empty_db_url, poolclass=sa.NullPool)
    now = dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO revision (slug, title, helsefellesskap, language, status, seq, plan_version, coordinators, reminders, created_at)"
                " VALUES ('r', 'R', 'H', 'nb', 'active', 0, 1, '[]', '{}', :now)"
            ), {"now": now})
            conn.execute(sa.text(
                "INSERT INTO planversion (revision_id, version, source, created_by, created_at)"
                " VALUES ((SELECT id FROM revision), 1, 'plan: 1', 'test', :now)"
            ), {"now": now})
            conn.execute(sa.text(
                "INSERT INTO party (revision_id, name, kind, org_number, email, body, language, active)"
                " VALUES ((SELECT id FROM revision), 'Malvik kommune', 'municipality', '939865942', 'p@example.no', 'Kommunestyret', 'nb', true)"
            ))
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            changes, effective = conn.execute(sa.text("SELECT changes, effective FROM planversion")).one()
            party = conn.execute(sa.text("SELECT name, joined_on, left_on FROM party")).one()
        assert (changes if isinstance(changes, list) else json.loads(changes)) == []
        assert effective is None
        assert tuple(party) == ("Malvik kommune", None, None)
    finally:
        engine.dispose()
