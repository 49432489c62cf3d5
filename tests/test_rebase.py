"""`plan rebase`: a plan moved to another year, every date by the same days, the text kept;
and `up --example` starting the example moved so that its first stage begins today."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from avtaleflyt import clock
from avtaleflyt.cli import app
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.rebase import plan_dates, rebase, shifted

from .plans import SMALL_PLAN

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
TEXT = EXAMPLE.read_text(encoding="utf-8")
START = dt.date(2026, 11, 30)
runner = CliRunner()
_DATE = re.compile(r"\b\d{4}-\d{2}(?:-\d{2})?\b")


def run(*args: str):
    return runner.invoke(app, list(args))


def stage_dates(text: str) -> list[PlanDate]:
    return [date for loc, date in plan_dates(parse_plan(text).plan) if loc[0] == "stages"]


def test_the_example_moves_every_date_by_the_same_days():
    rebased = rebase(TEXT, START)
    before, after = plan_dates(parse_plan(TEXT).plan), plan_dates(parse_plan(rebased.text).plan)
    assert [loc for loc, _ in before] == [loc for loc, _ in after]
    assert len(before) == rebased.moved == 53  # 11 stage dates, 39 milestones, 3 of the alternative alt-2
    days = (START - dt.date(2024, 6, 18)).days
    assert rebased.days == days
    for (loc, old), (_, new) in zip(before, after, strict=True):
        if old.exact:
            assert (new.first_day - old.first_day).days == days, loc
        else:
            assert not new.exact and new == shifted(old, days), loc
    assert min(d.first_day for d in stage_dates(rebased.text)) == START
    assert parse_plan(rebased.text).plan.revision_slug == parse_plan(TEXT).plan.revision_slug


def test_only_the_dates_change_in_the_text():
    rebased = rebase(TEXT, START)
    assert rebased.text != TEXT
    assert _DATE.sub("D", rebased.text) == _DATE.sub("D", TEXT)
    changed = [(a, b) for a, b in zip(TEXT.splitlines(), rebased.text.splitlines(), strict=True) if a != b]
    assert len(changed) == 11 + 39 + 2  # a line per date in the example (alt-2's line of its hearing holds two)
    assert all(line.lstrip().startswith(("due:", "meeting:", "opens:", "deadline:", "- {date:", "hoering-ovrige: {", "sluttbehandling: {")) for line, _ in changed)


def test_dates_in_comments_and_texts_stay_and_quoting_and_aliases_are_kept():
    text = (
        TEXT.replace("    due: 2024-06-18\n", '    due: "2024-06-18"  # was 2024-06-18 in [M]\n')
        .replace("    deadline: 2024-09-10\n", "    deadline: &frist 2024-09-10\n")
        .replace("    after: []\n    due: 2024-09-10\n", "    after: []\n    due: *frist\n")
        .replace("about: kl. 09–10,", 'about: "kl. 09–10, 2024-01-17",')
    )
    assert text.count("*frist") == 1 and text.count('"2024-06-18"') == 1
    rebased = rebase(text, START)
    assert '    due: "2026-11-30"  # was 2024-06-18 in [M]\n' in rebased.text
    assert "    deadline: &frist 2027-02-22\n" in rebased.text
    assert "    due: *frist\n" in rebased.text
    assert 'about: "kl. 09–10, 2024-01-17"' in rebased.text
    assert min(d.first_day for d in stage_dates(rebased.text)) == START


def test_month_only_dates_move_to_the_month_of_their_first_day_moved():
    assert shifted(PlanDate(2024, 11), 29) == PlanDate(2024, 11)  # 1 Nov + 29 d: 30 Nov
    assert shifted(PlanDate(2024, 11), 30) == PlanDate(2024, 12)
    assert shifted(PlanDate(2025, 1), -1) == PlanDate(2024, 12)
    assert shifted(PlanDate(2024, 2, 28), 2) == PlanDate(2024, 3, 1)  # over 29 February
    rebased = rebase(TEXT, START)  # +895 d: 2025-01-01 → 2027-06-14, 2024-12-01 → 2027-05-14
    assert "  - {date: 2027-06, what: Møte i PSU," in rebased.text
    assert '  - {date: 2027-05, what: "Alt. 2: Møte i forhandlingsutvalget",' in rebased.text
    months = [d for _, d in plan_dates(parse_plan(rebased.text).plan) if not d.exact]
    assert len(months) == 9


def test_backwards_too():
    rebased = rebase(TEXT, dt.date(2023, 6, 20))
    assert min(d.first_day for d in stage_dates(rebased.text)) == dt.date(2023, 6, 20)
    assert rebased.days == -364


def test_cli_writes_the_plan_and_prints_its_weekend_and_holiday_warnings(tmp_path):
    new = tmp_path / "plan-2026.yaml"
    # Ascension Day 2026 is Thursday 14 May; the hearing then runs over July.
    result = run("plan", "rebase", str(EXAMPLE), "--start", "14.05.2026", "--output", str(new))
    assert result.exit_code == 0, result.output
    assert new.read_text(encoding="utf-8") == rebase(TEXT, dt.date(2026, 5, 14)).text
    assert "stages[0].due: 2026-05-14 is not a working day (Kristi himmelfartsdag)" in result.stderr
    assert "2026-10-04 is not a working day (søndag)" in result.stderr
    assert "the hearing runs over the July holiday" in result.stderr
    assert "ok: revidering-av-samarbeidsavtalen-2024: 53 dates moved +695 d (2024-06-18 → 2026-05-14)" in result.stdout


def _refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_cli_refuses_bad_input_and_writes_nothing(tmp_path):
    new = tmp_path / "new.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL_PLAN.replace('"942110464"', '"942110465"'), encoding="utf-8")
    _refused(run("plan", "rebase", str(bad), "--start", "2026-01-05", "--output", str(new)), "parties[1].org_number")
    _refused(run("plan", "rebase", str(EXAMPLE), "--start", "2026-02-30", "--output", str(new)), "--start", "'2026-02-30' is not a date")
    _refused(run("plan", "rebase", str(EXAMPLE), "--start", "neste mandag", "--output", str(new)), "--start")
    # The political deadline would land in 2201.
    _refused(run("plan", "rebase", str(EXAMPLE), "--start", "2200-06-01", "--output", str(new)), "stages[7].deadline", "the year must be 1900-2200")
    _refused(run("plan", "rebase", str(tmp_path / "missing.yaml"), "--start", "2026-01-05", "--output", str(new)), "FILE")
    assert not new.exists()
    new.write_text("keep me", encoding="utf-8")
    _refused(run("plan", "rebase", str(EXAMPLE), "--start", "2026-01-05", "--output", str(new)), "--output", "exists", "--force")
    assert new.read_text(encoding="utf-8") == "keep me"
    result = run("plan", "rebase", str(EXAMPLE), "--start", "2026-01-05", "--output", str(new), "--force")
    assert result.exit_code == 0, result.output
    assert min(d.first_day for d in stage_dates(new.read_text(encoding="utf-8"))) == dt.date(2026, 1, 5)


def test_a_plan_without_stage_dates_is_refused():
    text = SMALL_PLAN.split("stages:")[0] + "stages:\n  - {key: utkast, kind: draft}\n"
    with pytest.raises(PlanInvalid, match="no stage has a date"):
        rebase(text, START)


# --- `up --example`: the example begins today -------------------------------------------


def test_the_stack_starts_the_example_moved_so_that_its_first_stage_is_today(tmp_path):
    from avtaleflyt.stack.up import prepare_example

    path = prepare_example(TEXT, EXAMPLE.name, tmp_path)
    today = clock.today()
    assert path == tmp_path.resolve() / "examples" / f"sondre-trondelag-2024-from-{today}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text == rebase(TEXT, today).text
    first = parse_plan(text).plan.stages[0]
    assert first.due == PlanDate(today.year, today.month, today.day)
    assert min(d.first_day for d in stage_dates(text)) == today


@pytest.fixture
def stack_stub(monkeypatch, tmp_path):
    """`up` up to the stack: run_up replaced (the test asks what it is given), and this
    process's Prefect settings and data folder put back afterwards."""
    import avtaleflyt.stack
    from avtaleflyt.settings import get_settings

    given: dict = {}
    monkeypatch.setattr(avtaleflyt.stack, "run_up", lambda settings, **kw: given.update(kw))
    monkeypatch.setenv("AVTALEFLYT_DATA_DIR", str(tmp_path / "data"))
    saved = {name: os.environ.get(name) for name in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING")}
    get_settings.cache_clear()
    yield given
    from avtaleflyt.stack import apply_prefect_env

    apply_prefect_env(saved)
    get_settings.cache_clear()


def test_up_example_starts_the_plan_moved_to_today(stack_stub, tmp_path):
    result = run("up", "--example", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    started = stack_stub["load_example"]
    assert started.parent == (tmp_path / "data" / "examples").resolve()
    assert min(d.first_day for d in stage_dates(started.read_text(encoding="utf-8"))) == clock.today()


def test_up_example_keep_dates_starts_the_file_as_written(stack_stub):
    result = run("up", "--example", str(EXAMPLE), "--keep-dates")
    assert result.exit_code == 0, result.output
    assert stack_stub["load_example"] == EXAMPLE
