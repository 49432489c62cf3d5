"""A flow-run process does not migrate the domain database: it checks, in one SELECT, that the
database is at the newest migration, and refuses clearly when it is not (issue 15).

Every way to start the stack migrates first (`avtaleflyt up`, deploy/bootstrap.sh before the
workers); a run that meets an unmigrated database anyway (a worker of a new release started
before its migration) must fail with a message that says what to do, and write nothing.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from avtaleflyt.db import SCHEMA_HEAD, _migrations_dir

from .pg import BACKENDS, TEST_DATABASE, PostgresServer

_numbers = itertools.count(1)
WANTED = list(BACKENDS) if TEST_DATABASE == "both" else [TEST_DATABASE]
FLOW_RUN_ENV = {"PREFECT__FLOW_RUN_ID": "00000000-0000-0000-0000-000000000001"}

# What a flow-run process does first with the database, in a fresh interpreter (so that what it
# imports can be seen): the engine, then one statement; prints the outcome as JSON.
PROBE = """
import json, sys
from avtaleflyt.db import SchemaNotCurrent, get_engine
try:
    with get_engine().connect() as c:
        c.exec_driver_sql("SELECT 1")
    out = {"ok": True}
except SchemaNotCurrent as exc:
    out = {"ok": False, "error": str(exc)}
out["alembic"] = any(m == "alembic" or m.startswith("alembic.") for m in sys.modules)
print(json.dumps(out))
"""


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


@pytest.fixture(params=WANTED)
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"schema_check_{next(_numbers)}"
    url = server.create_database(name)  # from template1: nothing in it
    yield url
    server.drop_database(name)


def probe(url: str, tmp_path, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT__")}
    environ.update(AVTALEFLYT_DATABASE_URL=url, AVTALEFLYT_DATA_DIR=str(tmp_path / "data"), **env)
    done = subprocess.run([sys.executable, "-c", PROBE], env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_schema_head_is_the_newest_migration():
    assert SCHEMA_HEAD == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_a_flow_run_refuses_an_unmigrated_database_and_writes_nothing(empty_url, tmp_path):
    seen = probe(empty_url, tmp_path, **FLOW_RUN_ENV)
    assert seen["ok"] is False
    assert "has no avtaleflyt schema" in seen["error"] and f"needs {SCHEMA_HEAD}" in seen["error"]
    assert "avtaleflyt db upgrade" in seen["error"]
    assert tables(empty_url) == set()


def test_a_flow_run_refuses_a_database_a_migration_behind(empty_url, tmp_path):
    command.upgrade(alembic_config(empty_url), "0021")
    before = tables(empty_url)
    seen = probe(empty_url, tmp_path, **FLOW_RUN_ENV)
    assert seen["ok"] is False and "is at migration 0021" in seen["error"], seen
    assert tables(empty_url) == before


def test_a_flow_run_uses_a_migrated_database_without_loading_alembic(empty_url, tmp_path):
    command.upgrade(alembic_config(empty_url), "head")
    assert probe(empty_url, tmp_path, **FLOW_RUN_ENV) == {"ok": True, "alembic": False}


def test_other_processes_still_migrate_on_first_use(empty_url, tmp_path):
    """The CLI and the dashboard (no flow run): the database is brought to the newest migration."""
    assert probe(empty_url, tmp_path) == {"ok": True, "alembic": True}
    assert "alembic_version" in tables(empty_url)
