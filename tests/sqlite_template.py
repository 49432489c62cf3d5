"""A new SQLite domain database is a copy of one migrated once per session, not 26 migrations again.

`avtaleflyt.db.engine_for` migrates a database on first use; in the tests that is a new
SQLite file for most tests (alembic's 26 migrations: ~0.4 s of a core each time on a quiet
machine, seconds under xdist). `install()` wraps `avtaleflyt.db.migrate` in this process:
a SQLite file that does not exist yet is first copied from a template that the real
`migrate()` built in this session, then the real `migrate()` runs on the copy (a no-op at
head, so the copy is still checked). Files that exist already (a test's own empty or
half-migrated database), PostgreSQL (tests/pg.py clones its own template) and every
subprocess (the CLI, workers, flow runs) migrate as before; the migration tests
(test_migrations*.py, test_schema_check.py) call alembic themselves.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from avtaleflyt import db


def _new_sqlite_file(url: str) -> Path | None:
    """The file `url` names, if it is a SQLite file that does not exist yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:" or parsed.query:
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def install(folder: Path) -> Callable[[], None]:
    """Wrap `avtaleflyt.db.migrate` (see the module's docstring); returns the function that unwraps it."""
    real_migrate = db.migrate
    template = folder / "migrated.db"
    lock = threading.Lock()

    def migrate(url: str) -> None:
        path = _new_sqlite_file(url)
        if path is not None:
            with lock:
                if not template.exists():
                    folder.mkdir(parents=True, exist_ok=True)
                    building = template.with_suffix(".building")
                    real_migrate(f"sqlite:///{building}")  # alembic's own engine: no WAL, nothing left open
                    building.rename(template)
            path.parent.mkdir(parents=True, exist_ok=True)
            copy = path.with_name(f".{path.name}.from-template")
            shutil.copyfile(template, copy)
            try:
                os.link(copy, path)  # only if no one made the file meanwhile; theirs is kept
            except FileExistsError:
                pass
            finally:
                copy.unlink()
        real_migrate(url)

    db.migrate = migrate

    def uninstall() -> None:
        db.migrate = real_migrate

    return uninstall
