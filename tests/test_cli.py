"""The CLI's refusals: stderr, exit status 2, the argument named, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt.cli import app
from avtaleflyt.db import session_scope
from avtaleflyt.models.tables import Revision

from .plans import SMALL_PLAN

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
runner = CliRunner()


@pytest.fixture
def offline_prefect(monkeypatch):
    """A Prefect API on a loopback port nobody listens on."""
    from avtaleflyt.stack import apply_prefect_env, free_port

    import os

    saved = os.environ.get("PREFECT_API_URL")
    apply_prefect_env({"PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"})
    yield
    apply_prefect_env({"PREFECT_API_URL": saved})  # the session's server, if a test started one


def run(*args: str):
    return runner.invoke(app, list(args))


def revisions() -> list[str]:
    with session_scope() as s:
        return list(s.exec(select(Revision.slug)).all())


def test_plan_check_accepts_the_example_and_prints_its_warnings():
    result = run("plan", "check", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "ok: revidering-av-samarbeidsavtalen-2024: 9 stages, 21 parties" in result.stdout
    assert "is not a working day (lørdag)" in result.stderr


def test_plan_check_names_every_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL_PLAN.replace('"942110464"', '"942110465"').replace("forums: [ASU]", "forums: [XSU]"), encoding="utf-8")
    result = run("plan", "check", str(bad))
    assert result.exit_code == 2
    assert "parties[1].org_number: not a valid organisation number" in result.stderr
    assert result.stdout == ""


def test_plan_check_of_a_missing_file():
    result = run("plan", "check", "/nonexistent/plan.yaml")
    assert result.exit_code == 2
    assert "FILE: cannot read '/nonexistent/plan.yaml'" in result.stderr


def test_invalid_plan_is_not_stored(domain_db_url, tmp_path, offline_prefect):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL_PLAN.replace("after: [q]", "").replace("kind: hearing,", "kind: hearing, after: [politisk],"), encoding="utf-8")
    result = run("revision", "start", str(bad))
    assert result.exit_code == 2
    assert "cycle in after" in result.stderr
    assert revisions() == []


def test_start_without_prefect_stores_nothing(domain_db_url, tmp_path, offline_prefect):
    plan = tmp_path / "plan.yaml"
    plan.write_text(SMALL_PLAN, encoding="utf-8")
    result = run("revision", "start", str(plan))
    assert result.exit_code == 2
    assert "Prefect does not serve revision/avtaleflyt" in result.stderr
    assert "Nothing was stored." in result.stderr
    assert revisions() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forum", "decide", "no-such", "--forum", "ASU", "--outcome", "approved", "--date", "2024-06-19"], "SLUG: no revision 'no-such'"),
        (["forum", "decide", "x", "--forum", "ASU", "--outcome", "approved", "--date", "19/06/2024"], "--date: '19/06/2024' is not a date"),
        (["party", "schedule", "x", "--party", "Malvik", "--meeting", "2024-02-30"], "--meeting: '2024-02-30' is not a date"),
        (["revision", "show", "no-such"], "SLUG: no revision 'no-such'"),
        (["party", "decide", "x", "--party", "Malvik", "--outcome", "approved", "--date", "9999-12-31"], "--date: '9999-12-31': the year must be 1900-2200"),
        (["party", "schedule", "x", "--party", "Malvik", "--meeting", "01.01.1899"], "--meeting: '01.01.1899': the year must be 1900-2200"),
        (["reminders", "run", "--as-of", "2201-01-01", "--dry-run"], "--as-of: '2201-01-01': the year must be 1900-2200"),
    ],
)
def test_bad_arguments_name_the_argument(domain_db_url, offline_prefect, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize(("command", "argument"), [("check", "FILE"), ("import", "CSV")])
def test_a_file_over_a_mebibyte_is_refused_unread(tmp_path, command, argument):
    big = tmp_path / "big"
    big.write_bytes(b"#" * (1024 * 1024 + 1))
    result = run("plan", command, str(big))
    assert result.exit_code == 2
    assert f"{argument}: {str(big)!r} is larger than 1048576 bytes (1 MiB)" in result.stderr


def test_unknown_outcome_is_refused_by_the_parser(domain_db_url):
    result = run("party", "decide", "x", "--party", "Malvik kommune", "--outcome", "maybe", "--date", "2025-02-01")
    assert result.exit_code == 2
    assert "--outcome" in result.stderr


def test_user_add_reads_the_password_from_stdin_and_refuses_a_short_one(domain_db_url):
    result = runner.invoke(app, ["user", "add", "kari", "--name", "Kari Nordmann", "--helsefellesskap", "Helsefellesskapet Agder", "--role", "coordinator", "--password-stdin"], input="et langt nok passord\n")
    assert result.exit_code == 0, result.output
    assert "added: kari (Helsefellesskapet Agder: coordinator)" in result.stdout
    short = runner.invoke(app, ["user", "add", "ola", "--helsefellesskap", "Helsefellesskapet Agder", "--role", "reader", "--password-stdin"], input="kort\n")
    assert short.exit_code == 2
    assert "password: at least 12 characters" in short.stderr


def _stored_small_plan() -> None:
    import datetime as dt

    from avtaleflyt.models.plan import parse_plan
    from avtaleflyt.tasks.reconcile import reconcile_revision
    from avtaleflyt.tasks.store import store_revision

    with session_scope() as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "t")
    with session_scope() as s:
        reconcile_revision(s, "testrevisjon-2024", today=dt.date(2024, 6, 1))


def _plan_versions() -> list[int]:
    from avtaleflyt.models.tables import PlanVersion

    with session_scope() as s:
        return list(s.exec(select(PlanVersion.version).order_by(PlanVersion.version)).all())


def test_plan_shift_shows_the_difference_and_asks_first(domain_db_url, tmp_path, offline_prefect):
    _stored_small_plan()
    revised = tmp_path / "revised.yaml"
    revised.write_text(SMALL_PLAN.replace("meeting: 2024-11-27", "meeting: 2024-12-11"), encoding="utf-8")

    declined = runner.invoke(app, ["plan", "shift", "testrevisjon-2024", str(revised), "--reason", "ASU flyttet"], input="n\n")
    assert declined.exit_code == 1
    assert "sluttbehandling" in declined.stdout and "2024-11-27" in declined.stdout and "+14 d" in declined.stdout
    assert _plan_versions() == [1]

    applied = run("plan", "shift", "testrevisjon-2024", str(revised), "--reason", "ASU flyttet", "--yes")
    assert applied.exit_code == 0, applied.output
    assert "recorded: plan v2 of testrevisjon-2024" in applied.stdout
    assert "the run was not reached" in applied.stderr  # recorded first; the run is nudged when Prefect answers
    assert _plan_versions() == [1, 2]


def test_plan_shift_of_a_completed_stage_names_it_and_exits_2(domain_db_url, tmp_path, offline_prefect):
    import datetime as dt

    from avtaleflyt.tasks import records
    from avtaleflyt.tasks.reconcile import reconcile_revision

    _stored_small_plan()

    with session_scope() as s:
        records.complete_draft(s, "testrevisjon-2024", stage_key=None, actor="t")
    with session_scope() as s:
        reconcile_revision(s, "testrevisjon-2024", today=dt.date(2024, 6, 15))
    revised = tmp_path / "revised.yaml"
    revised.write_text(SMALL_PLAN.replace("due: 2024-06-14", "due: 2024-06-21"), encoding="utf-8")
    result = run("plan", "shift", "testrevisjon-2024", str(revised), "--reason", "x", "--yes")
    assert result.exit_code == 2
    assert "'utkast' is completed; it cannot be rewritten (changed: due)" in result.stderr
    assert _plan_versions() == [1]


def test_revision_list_gives_no_passed_date_as_the_next_deadline(domain_db_url, monkeypatch):
    import datetime as dt

    from avtaleflyt import clock

    _stored_small_plan()  # the draft is open; every later stage is still to start
    import json

    def next_deadline(day: dt.date):
        monkeypatch.setattr(clock, "today", lambda: day)
        result = run("revision", "list", "--json")
        assert result.exit_code == 0, result.output
        nxt = json.loads(result.stdout)[0]["next_deadline"]
        return nxt and (nxt["day"], nxt["stage"])

    # utkast was due 14.06 (overdue, counted as such); the next date ahead is ASU's meeting...
    assert next_deadline(dt.date(2024, 6, 16)) == ("2024-06-19", "hoeringsforslag")
    # ...and once that has passed, it is not "next", though its stage has not started.
    assert next_deadline(dt.date(2024, 6, 25)) == ("2024-09-10", "hoering")
    # A stage's dates are the plan's text in the JSON, as written (a day, or a month).
    shown = json.loads(run("revision", "list", "--json").stdout)[0]["stages"]
    assert {s["key"]: s["dates"] for s in shown}["hoering"] == {"opens": "2024-06-20", "deadline": "2024-09-10"}


def test_an_unreachable_domain_database_is_named_not_a_traceback(monkeypatch, offline_prefect):
    import subprocess
    import sys

    from avtaleflyt.settings import get_settings
    from avtaleflyt.stack import free_port

    url = f"postgresql+psycopg://avtaleflyt@127.0.0.1:{free_port()}/avtaleflyt"
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", url)
    get_settings.cache_clear()
    result = run("party", "decide", "testrevisjon-2024", "--party", "Malvik kommune", "--outcome", "approved", "--date", "2024-11-01")
    assert result.exit_code == 2
    assert "the domain database cannot be reached (AVTALEFLYT_DATABASE_URL)" in result.stderr and "Traceback" not in result.output
    # A command that only reads goes through the console script's own guard.
    script = Path(sys.executable).with_name("avtaleflyt")
    listed = subprocess.run([str(script), "revision", "list"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 2 and "cannot be reached" in listed.stderr and "Traceback" not in listed.stderr


# --- user values print as they are (rich markup, emoji codes) ------------------------------------

ODD_NAME = "[/]"
ODD_BODY = ":ok:[b]S\\"  # an emoji code, an opening tag, a backslash that would escape a closing one


def _stored_plan_with_an_odd_party() -> str:
    import datetime as dt

    from avtaleflyt.models.plan import parse_plan
    from avtaleflyt.tasks.reconcile import reconcile_revision
    from avtaleflyt.tasks.store import store_revision

    from .plans import treatment_plan

    text = treatment_plan(1, parties=3).replace("name: Kommune 01,", f"name: '{ODD_NAME}',").replace("body: Kommunestyret}", f"body: '{ODD_BODY}'}}", 1)
    with session_scope() as s:
        store_revision(s, parse_plan(text), text, "t")
    with session_scope() as s:
        reconcile_revision(s, "revisjon-001", today=dt.date(2024, 12, 1))
    return "revisjon-001"


def test_a_party_named_like_markup_is_recorded_and_printed_as_it_is(domain_db_url, offline_prefect):
    from avtaleflyt.models.enums import TreatmentStatus
    from avtaleflyt.models.tables import Party, PartyObligation

    slug = _stored_plan_with_an_odd_party()
    result = run("party", "decide", slug, "--party", ODD_NAME, "--outcome", "approved", "--date", "2024-12-01", "--case", "[b]12/34")
    assert result.exit_code == 0, (result.output, result.exception)
    assert f"recorded: {ODD_NAME}: approved on 2024-12-01 (case [b]12/34)" in result.stdout
    with session_scope() as s:
        party = s.exec(select(Party).where(Party.name == ODD_NAME)).one()
        assert s.exec(select(PartyObligation.status).where(PartyObligation.kind == "political_treatment").where(PartyObligation.party_id == party.id)).one() == TreatmentStatus.approved

    shown = run("revision", "show", slug)
    assert shown.exit_code == 0, (shown.output, shown.exception)
    assert f"│ {ODD_NAME} " in shown.stdout and f"│ {ODD_BODY} " in shown.stdout
    refused = run("party", "decide", slug, "--party", ODD_NAME, "--outcome", "rejected", "--date", "2024-12-01")
    assert refused.exit_code == 2
    assert f"--outcome: {ODD_NAME} has already decided" in refused.stderr


@pytest.mark.parametrize(
    ("case", "message"),
    [("1" * 65, "case number: 65 characters; at most 64"), ("12/34\nBcc: x", "case number: must be on one line")],
)
def test_a_case_number_is_one_short_line(domain_db_url, offline_prefect, case, message):
    from avtaleflyt.models.tables import PartyObligation

    slug = _stored_plan_with_an_odd_party()
    result = run("party", "decide", slug, "--party", "Kommune 02", "--outcome", "approved", "--date", "2024-12-01", "--case", case)
    assert result.exit_code == 2
    assert message in result.stderr
    with session_scope() as s:
        assert s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment").where(PartyObligation.answered_on.is_not(None))).all() == []


@pytest.mark.parametrize("value", ["[/]", "[bold]x", "a\\", "a\\\\", "\\[b]\\", ":ok:", "x\\\\[/]\\\\\\"])
def test_any_value_prints_as_it_is_before_markup_and_at_the_end(value):
    from rich.console import Console

    from avtaleflyt.cli import escape

    console = Console(emoji=False, width=200)
    with console.capture() as captured:
        console.print(f"[bold]{escape(value)}[/] then {escape(value)}", highlight=False)
    assert captured.get() == f"{value} then {value}\n"


def test_a_user_named_like_markup_prints_as_it_is(domain_db_url):
    name = "[/]kari\\"
    added = runner.invoke(app, ["user", "add", name, "--everywhere", "--role", "reader", "--password-stdin"], input="et langt nok passord\n")
    assert added.exit_code == 0, (added.output, added.exception)
    assert f"added: {name} (everywhere: reader)" in added.stdout
    disabled = run("user", "disable", name)
    assert disabled.exit_code == 0, (disabled.output, disabled.exception)
    assert disabled.stdout.rstrip().endswith(f": {name}")
