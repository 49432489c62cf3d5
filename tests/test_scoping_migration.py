"""Migration 0025: accounts per helsefellesskap. A database filled at 0024 (two helsefellesskap,
a coordinator and a reader) goes up: each account gets a membership in every helsefellesskap that
has a revision, with the role it had, and no installation-wide role; down gives each its one role
back; up again. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import User
from avtaleflyt.tasks.accounts import scope_of
from sqlmodel import Session

from .test_migration_kinds_as_text import current_revision
from .test_migrations import alembic_config, empty_db_url, migrated_to  # noqa: F401  (empty_db_url: fixture)

NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
AGDER, SONDRE = "Helsefellesskapet Agder", "Helsefellesskapet Søndre Trøndelag"


def fill(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for n, hf in enumerate([AGDER, SONDRE, AGDER]):
            conn.execute(sa.text(
                "INSERT INTO revision (slug, title, helsefellesskap, language, status, seq, plan_version, coordinators, reminders, created_at)"
                " VALUES (:slug, 'R', :hf, 'nb', 'active', 0, 1, '[]', '{}', :now)"
            ), {"slug": f"r{n}", "hf": hf, "now": NOW})
        for name, role in [("kari", "coordinator"), ("ola", "reader")]:
            conn.execute(sa.text(
                'INSERT INTO "user" (username, name, role, password_hash, active, created_at) VALUES (:u, :u, :r, \'x\', true, :now)'
            ), {"u": name, "r": role, "now": NOW})


def memberships(engine: sa.Engine) -> set[tuple[str, str, str]]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text('SELECT u.username, m.helsefellesskap, m.role FROM membership m JOIN "user" u ON u.id = m.user_id')).all())


def roles(engine: sa.Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text('SELECT username, role FROM "user"')).all())


def test_0025_gives_every_account_its_role_in_every_helsefellesskap_with_a_revision(empty_db_url):  # noqa: F811
    with migrated_to(empty_db_url, "0024") as (url, engine):
        cfg = alembic_config(url)
        fill(engine)
        command.upgrade(cfg, "0025")
        assert memberships(engine) == {
            ("kari", AGDER, "coordinator"), ("kari", SONDRE, "coordinator"), ("ola", AGDER, "reader"), ("ola", SONDRE, "reader"),
        }
        assert roles(engine) == {"kari": None, "ola": None}  # a helsefellesskap added later is not theirs until granted
        with Session(engine) as s:  # the models read what the migration wrote
            kari = s.query(User).filter_by(username="kari").one()
            scope = scope_of(s, kari)
            assert scope.role_in(AGDER) == Role.coordinator and scope.role_in("Helsefellesskapet Vest") is None
            assert not s.query(User).filter_by(username="ola").one().admin

        with engine.begin() as conn:  # ola becomes a coordinator in one helsefellesskap: a coordinator after the downgrade
            conn.execute(sa.text("UPDATE membership SET role = 'coordinator' WHERE helsefellesskap = :hf AND user_id = (SELECT id FROM \"user\" WHERE username = 'ola')"), {"hf": SONDRE})
        command.downgrade(cfg, "0024")
        assert current_revision(engine) == "0024"
        assert roles(engine) == {"kari": "coordinator", "ola": "coordinator"}
        assert "membership" not in sa.inspect(engine).get_table_names()

        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE \"user\" SET role = 'reader' WHERE username = 'ola'"))
        command.upgrade(cfg, "0025")
        assert ("ola", SONDRE, "reader") in memberships(engine) and len(memberships(engine)) == 4
