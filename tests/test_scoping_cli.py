"""`avtaleflyt user add/grant/revoke/list` (issue 16): a role per helsefellesskap, refusals that
name the problem (exit 2, nothing written), and an account event with its actor for each change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import AccountEvent, User
from avtaleflyt.tasks.accounts import scope_of
from typer.testing import CliRunner

from avtaleflyt.cli import app
from avtaleflyt.db import engine_for, session_scope

runner = CliRunner()
PASSWORD = "et langt nok passord\n"
AGDER, SONDRE = "Helsefellesskapet Agder", "Helsefellesskapet Søndre Trøndelag"


@pytest.fixture
def db(domain_db_url, monkeypatch):
    monkeypatch.setenv("AVTALEFLYT_ACTOR", "operatør")
    from avtaleflyt.settings import get_settings

    get_settings.cache_clear()
    return engine_for(domain_db_url)


def rows(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in ("user", "membership", "accountevent"))


def add(*args: str):
    return runner.invoke(app, ["user", "add", *args, "--password-stdin"], input=PASSWORD)


@pytest.mark.parametrize(("args", "message"), [
    (["kari", "--helsefellesskap", AGDER], "--role missing"),
    (["kari", "--role", "reader"], "--helsefellesskap missing"),
    (["kari", "--helsefellesskap", AGDER, "--role", "reader", "--helsefellesskap", SONDRE], "2 --helsefellesskap, 1 --role"),
    (["kari"], "at least one pair"),
    (["kari", "--helsefellesskap", "  ", "--role", "reader"], "--helsefellesskap: must not be empty"),
    (["kari", "--helsefellesskap", AGDER, "--role", "reader", "--helsefellesskap", AGDER, "--role", "coordinator"], "given twice"),
    (["", "--helsefellesskap", AGDER, "--role", "reader"], "USERNAME: one word"),
    (["kari", "--helsefellesskap", AGDER, "--role", "boss"], "Invalid value for '--role': Value error, 'boss' is not one of"),
    (["kari", "--everywhere", "--helsefellesskap", AGDER, "--role", "reader"], "--everywhere takes one --role and no --helsefellesskap"),
])
def test_user_add_refuses_what_it_cannot_read_and_writes_nothing(db, args, message):
    result = add(*args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.output
    assert rows(db) == (0, 0, 0)


def test_roles_per_helsefellesskap_from_add_to_revoke_each_change_logged_with_its_actor(db):
    added = add("kari", "--name", "Kari Nordmann", "--helsefellesskap", AGDER, "--role", "coordinator", "--helsefellesskap", SONDRE, "--role", "reader")
    assert added.exit_code == 0, added.output
    assert f"added: kari ({AGDER}: coordinator; {SONDRE}: reader)" in added.stdout
    granted = runner.invoke(app, ["user", "grant", "kari", "--helsefellesskap", SONDRE, "--role", "coordinator"])
    assert granted.exit_code == 0 and f"granted: kari in {SONDRE} (reader → coordinator)" in granted.stdout
    assert f"no revision of {SONDRE!r} yet" in granted.stdout  # a hint against a typo; granted anyway
    assert runner.invoke(app, ["user", "revoke", "kari", "--helsefellesskap", AGDER]).exit_code == 0
    listed = runner.invoke(app, ["user", "list"])
    assert f"kari Kari Nordmann — {SONDRE}: coordinator" in listed.stdout

    before = rows(db)
    for args in (["revoke", "kari", "--helsefellesskap", AGDER], ["grant", "ingen", "--helsefellesskap", AGDER, "--role", "reader"],
                 ["grant", "kari", "--helsefellesskap", AGDER], ["role", "kari", "--role", "reader"]):
        refused = runner.invoke(app, ["user", *args])
        assert refused.exit_code == 2, (args, refused.output)
    assert rows(db) == before

    with session_scope(db) as s:
        user = s.execute(sa.select(User).where(User.username == "kari")).scalar_one()
        assert user.role is None and scope_of(s, user).roles == {SONDRE: Role.coordinator}
        events = [(e.action, e.username, e.actor, e.note) for e in s.execute(sa.select(AccountEvent).order_by(AccountEvent.id)).scalars()]
    assert events == [
        ("user.added", "kari", "operatør", f"{AGDER}: coordinator; {SONDRE}: reader"),
        ("membership.granted", "kari", "operatør", f"{SONDRE}: reader → coordinator"),
        ("membership.revoked", "kari", "operatør", f"{AGDER}: coordinator → none"),
    ]
