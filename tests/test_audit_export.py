"""`avtaleflyt audit export`: the account event log of a period, oldest first, as CSV (a header,
RFC 4180, formula cells guarded) or JSON lines; a bad date or format is refused (exit 2), named."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from avtaleflyt.models.tables import AccountEvent
from typer.testing import CliRunner

from avtaleflyt.cli import app
from avtaleflyt.db import engine_for, session_scope

runner = CliRunner()
UTC = dt.UTC


@pytest.fixture
def events(domain_db_url):
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:  # written out of order: the export sorts by time
        s.add(AccountEvent(at=dt.datetime(2026, 11, 3, 9, tzinfo=UTC), action="login", username="kari", ip="10.0.0.1"))
        s.add(AccountEvent(at=dt.datetime(2026, 11, 1, 8, tzinfo=UTC), action="user.added", username="=HYPERLINK(\"x\")", actor="admin", note="Agder: reader, \"quoted\"\nnew line"))
        s.add(AccountEvent(at=dt.datetime(2026, 10, 31, 23, tzinfo=UTC), action="login.failed", username="ola", ip="10.0.0.2"))
        s.add(AccountEvent(at=dt.datetime(2026, 11, 5, 0, tzinfo=UTC), action="logout", username="kari", ip="10.0.0.1"))
    return engine


def test_csv_has_a_header_is_in_time_order_and_guards_formulas(events, tmp_path):
    target = tmp_path / "audit.csv"
    result = runner.invoke(app, ["audit", "export", "--since", "2026-11-01", "--until", "2026-11-04", "--output", str(target)])
    assert result.exit_code == 0, result.output
    raw = target.read_bytes()
    assert raw.startswith(b"at,action,username,actor,ip,note\r\n")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert rows[0] == ["at", "action", "username", "actor", "ip", "note"]
    assert [r[1] for r in rows[1:]] == ["user.added", "login"]  # 31.10 is before --since, 5.11 after --until's day
    assert rows[1][0] == "2026-11-01T08:00:00+00:00"
    assert rows[1][2] == "'=HYPERLINK(\"x\")"  # a spreadsheet shows it, never runs it
    assert rows[1][5] == "Agder: reader, \"quoted\"\nnew line"  # quoted as RFC 4180 says, read back whole
    assert "2 event(s)" in result.output


def test_jsonl_one_object_a_line_oldest_first(events):
    result = runner.invoke(app, ["audit", "export", "--since", "2026-10-01", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["action"], e["username"]) for e in lines] == [("login.failed", "ola"), ("user.added", '=HYPERLINK("x")'), ("login", "kari"), ("logout", "kari")]
    assert lines[0] == {"at": "2026-10-31T23:00:00+00:00", "action": "login.failed", "username": "ola", "actor": None, "ip": "10.0.0.2", "note": None}


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "2026-13-01"], "--since: '2026-13-01' is not a date"),
    (["--since", "i går"], "--since: 'i går' is not a date"),
    (["--since", "2026-11-02", "--until", "2026-11-01"], "--until: '2026-11-01' is not after --since"),
    (["--since", "2026-11-01", "--format", "xml"], "--format: 'xml' is not one of csv, jsonl"),
])
def test_bad_input_exits_2_with_the_problem_named(events, tmp_path, args, message):
    target = tmp_path / "out.csv"
    result = runner.invoke(app, ["audit", "export", *args, "--output", str(target)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert not target.exists()


def test_a_change_from_the_cli_says_who_and_from_where(domain_db_url, monkeypatch):
    import socket

    from avtaleflyt.settings import get_settings

    monkeypatch.setenv("AVTALEFLYT_ACTOR", "operatør")
    get_settings.cache_clear()
    added = runner.invoke(app, ["user", "add", "kari", "--helsefellesskap", "Helsefellesskapet Agder", "--role", "reader", "--password-stdin"], input="et langt nok passord\n")
    assert added.exit_code == 0, added.output
    assert runner.invoke(app, ["user", "disable", "kari"]).exit_code == 0
    result = runner.invoke(app, ["audit", "export", "--since", "2000-01-01", "--format", "jsonl"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["action"], e["username"], e["actor"], e["ip"]) for e in lines] == [
        ("user.added", "kari", "operatør", f"cli@{socket.gethostname()}"), ("user.disabled", "kari", "operatør", f"cli@{socket.gethostname()}"),
    ]
    assert lines[0]["note"] == "Helsefellesskapet Agder: reader"


def test_an_export_longer_than_a_chunk_is_whole_and_in_order(events, monkeypatch):
    from avtaleflyt.tasks import audit

    monkeypatch.setattr(audit, "_CHUNK", 2)  # four events: read two at a time, two with the same time
    with session_scope(events) as s:
        s.add(AccountEvent(at=dt.datetime(2026, 11, 1, 8, tzinfo=UTC), action="logout", username="kari", ip="10.0.0.1"))  # user.added's time, across chunks
    result = runner.invoke(app, ["audit", "export", "--since", "2026-10-01", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["action"] for line in result.stdout.splitlines()] == ["login.failed", "user.added", "logout", "login", "logout"]
