"""CLI polish: help on every option, choices whole in `--help`, slugs never cut, dates named by
their stage, `reminders run --dry-run` naming each letter, the README naming `user add`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from avtaleflyt.cli import app, common
from avtaleflyt.db import session_scope

from .plans import SMALL_PLAN

runner = CliRunner()
README = Path(__file__).resolve().parent.parent / "README.md"
LONG_SLUG = "revidering-av-samarbeidsavtalen-i-helsefellesskapet-trondelag-26"  # 64 characters, the most a slug has


def commands() -> list[tuple[str, object]]:
    """Every command of the CLI as (`avtaleflyt sub command`, its click command), sub-apps loaded."""
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    found = []

    def walk(command, path: list[str]) -> None:  # noqa: ANN001
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name])
        else:
            found.append((" ".join(path), command))

    walk(root, [])
    return found


def test_the_walk_finds_every_command():
    names = [name for name, _ in commands()]
    assert {"plan check", "revision list", "forum decide", "party decide", "reminders run", "mail preview", "user add", "db upgrade", "up"} <= set(names)


def test_every_option_and_argument_has_help():
    missing = [f"{name}: {param.name}" for name, command in commands() for param in command.params if not (getattr(param, "help", None) or "").strip()]
    assert missing == []


def _choices(param) -> list[str]:  # noqa: ANN001
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or not descriptor.is_choice:
        return []
    return [str(getattr(c, "value", c)) for c in descriptor.choices]


def test_choices_are_shown_whole_in_help_at_80_columns():
    checked = 0
    for name, command in commands():
        choices = [c for param in command.params for c in _choices(param)]
        if not choices:
            continue
        result = runner.invoke(app, [*name.split(), "--help"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"}, terminal_width=80)
        assert result.exit_code == 0, result.output
        assert max(len(line) for line in result.stdout.splitlines()) <= 80
        for choice in choices:
            assert choice in result.stdout, f"{name} --help: {choice!r} is cut (or not named)"
            checked += 1
    assert checked >= 20  # outcomes, events, languages, statuses, roles, formats


# --------------------------------------------------------------------------- revision list / show


def _store(plan: str, slug: str) -> None:
    from avtaleflyt.models.plan import parse_plan
    from avtaleflyt.tasks.reconcile import reconcile_revision
    from avtaleflyt.tasks.store import store_revision

    with session_scope() as s:
        store_revision(s, parse_plan(plan), plan, "t")
    with session_scope() as s:
        reconcile_revision(s, slug, today=dt.date(2024, 6, 1))


@pytest.fixture
def narrow(monkeypatch):
    """The CLI's consoles 60 columns wide, as in a small terminal window."""
    monkeypatch.setattr(common.out, "_console", Console(width=60, soft_wrap=True, emoji=False))


def _first_column(table: str) -> str:
    return "".join(line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│"))


def test_revision_list_folds_a_long_slug_and_never_cuts_it(domain_db_url, narrow):
    _store(SMALL_PLAN.replace("revision: Testrevisjon 2024", f"revision: Testrevisjon 2024\nslug: {LONG_SLUG}"), LONG_SLUG)
    result = runner.invoke(app, ["revision", "list"])
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert _first_column(result.stdout) == LONG_SLUG


def test_revision_show_names_each_date_by_its_stage(domain_db_url, monkeypatch):
    from avtaleflyt import clock

    monkeypatch.setattr(common.out, "_console", Console(width=200, soft_wrap=True, emoji=False))
    monkeypatch.setattr(clock, "today", lambda: dt.date(2024, 6, 1))
    _store(SMALL_PLAN, "testrevisjon-2024")
    result = runner.invoke(app, ["revision", "show", "testrevisjon-2024"])
    assert result.exit_code == 0, result.output
    deadlines = result.stdout.split("Deadlines", 1)[1]
    whats = [line.split("│")[3].strip() for line in deadlines.splitlines() if line.startswith("│")]
    assert whats == ["draft due", "forum meeting", "hearing deadline", "forum meeting", "political treatment deadline"]


# --------------------------------------------------------------------------- reminders run --dry-run


def test_reminders_dry_run_lists_who_would_get_which_letter(domain_db_url, monkeypatch):
    from avtaleflyt.models.tables import OutboxMessage
    from sqlmodel import select

    from .plans import drive_to_political_treatment

    monkeypatch.setattr(common.out, "_console", Console(width=200, soft_wrap=True, emoji=False))
    drive_to_political_treatment(today=dt.date(2024, 12, 1))
    with session_scope() as s:
        before = len(s.exec(select(OutboxMessage)).all())
    # 14 days before the political deadline (2025-03-01): a decision reminder to each party.
    result = runner.invoke(app, ["reminders", "run", "--as-of", "2025-02-15", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "testrevisjon-2024: 3 due, would enqueue 3" in result.stdout
    lines = [" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines()]
    for party, address in [("Malvik kommune", "postmottak@malvik.example.no"), ("St. Olavs hospital HF", "postmottak@stolav.example.no"),
                           ("Trondheim kommune", "postmottak@trondheim.example.no")]:
        assert f"{party} {address} decision_reminder politisk 2025-03-01" in lines
    with session_scope() as s:
        assert len(s.exec(select(OutboxMessage)).all()) == before  # nothing written


# --------------------------------------------------------------------------- README


def test_the_readme_shows_user_add_and_password_stdin():
    text = README.read_text(encoding="utf-8")
    assert "avtaleflyt user add kari" in text
    assert "--password-stdin" in text
