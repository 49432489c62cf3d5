"""Engine and sessions for the domain database (SQLite embedded, PostgreSQL at scale).

Writes take the revision's lock first (`lock_revision`): on PostgreSQL a row lock,
on SQLite the whole database, taken at BEGIN (`BEGIN IMMEDIATE`) so two writers
queue instead of failing on a lock upgrade.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

# The newest migration in migrations/versions/ (tests/test_schema_check.py compares it with alembic's head).
SCHEMA_HEAD = "0026"


class SchemaNotCurrent(RuntimeError):
    """The domain database is not at SCHEMA_HEAD, in a process that does not migrate (a flow run)."""


def _migrations_dir() -> Path:
    import avtaleflyt.migrations as m

    return Path(m.__file__).parent


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001
            dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below be the only one
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


# Any number for pg_advisory_lock, the same in every process of the installation.
_MIGRATION_LOCK = 0x61766C66  # "avlf"
_engines_lock = threading.Lock()


def migrate(url: str) -> None:
    """Bring the database to the newest migration (a no-op when it is there).

    On PostgreSQL, processes that start together (workers, the dashboard) take turns
    under an advisory lock; SQLite's BEGIN IMMEDIATE already makes them queue.
    """
    from alembic import command  # here: a flow-run process never migrates (check_schema) and skips alembic
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url)
    if not url.startswith("postgresql"):
        command.upgrade(cfg, "head")
        return
    locker = create_engine(url, poolclass=NullPool)
    try:
        with locker.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            try:
                command.upgrade(cfg, "head")
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
    finally:
        locker.dispose()


def check_schema(engine: Engine) -> None:
    """Raise SchemaNotCurrent unless the database's migration is SCHEMA_HEAD: one SELECT, no alembic, no write."""
    where = make_url(str(engine.url)).render_as_string(hide_password=True)
    connection = engine.raw_connection()  # no BEGIN IMMEDIATE: the check takes no lock
    try:
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT version_num FROM alembic_version")
            found = [row[0] for row in cursor.fetchall()]
        except Exception:  # noqa: BLE001 - no such table (or no such database): nothing migrated it
            found = None
        finally:
            cursor.close()
    finally:
        connection.close()
    if found == [SCHEMA_HEAD]:
        return
    at = "has no avtaleflyt schema" if not found else f"is at migration {', '.join(found)}"
    raise SchemaNotCurrent(
        f"the domain database {where} {at}, this avtaleflyt needs {SCHEMA_HEAD}: a flow run does not migrate; "
        "run `avtaleflyt db upgrade` (as `avtaleflyt up` and deploy/bootstrap.sh do before they start workers)"
    )


def in_flow_run_process() -> bool:
    """True in a process a Prefect worker or `serve` started for one flow run (`python -m prefect.engine`)."""
    return bool(os.environ.get("PREFECT__FLOW_RUN_ID"))


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    engine = make_engine(url)  # first: it creates a SQLite file's folder
    # Every way to start the stack migrates before a worker runs anything (`up`, deploy/bootstrap.sh),
    # so a flow-run process only checks: alembic's import and no-op upgrade cost every pass (bench/README.md).
    if in_flow_run_process():
        check_schema(engine)
    else:
        migrate(url)
    return engine


def engine_for(url: str) -> Engine:
    """The process's engine for `url`, migrated on first use (checked only, in a flow-run process).
    Threads asking at once get one engine and one migration (alembic's command context is not thread-safe)."""
    with _engines_lock:
        return _engine_for(url)


def get_engine() -> Engine:
    from .settings import get_settings

    return engine_for(get_settings().domain_database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        with session.begin():
            yield session


def error_line(exc: BaseException) -> str:
    """The first line of a database error: SQLAlchemy's run on to the statement and a link."""
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
