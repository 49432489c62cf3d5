"""Engine and sessions for the domain database (SQLite embedded, PostgreSQL at scale).

Writes take the revision's lock first (`lock_revision`): on PostgreSQL a row lock,
on SQLite the whole database, taken at BEGIN (`BEGIN IMMEDIATE`) so two writers
queue instead of failing on a lock upgrade.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine



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


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    engine = make_engine(url)  # first: it creates a SQLite file's folder
    migrate(url)
    return engine


def engine_for(url: str) -> Engine:
    """The process's engine for `url`, migrated on first use. Threads asking at once get one
    engine and one migration (alembic's command context is not thread-safe)."""
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
