"""Dates as people write them (issue 14): the Søndre Trøndelag milestones imported from CSV as a
secretariat types them, every row kept; the year of a date written without one (--year, --into);
how the dates are stored, shown and sorted; stage dates stay a day or a month."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.fremdriftsplan import (
    MilestoneRow,
    plan_parts,
    read_milestones_csv,
)
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.written_dates import Years
from avtaleflyt.tasks.store import store_revision
from typer.testing import CliRunner

from avtaleflyt.cli import app
from avtaleflyt.db import session_scope

from .plans import SMALL_PLAN

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "sondre-trondelag-2024.yaml"
STATUS = HERE / "data" / "sondre-trondelag-2024-status.csv"  # [S]: its milestones and revised grid, 12 rows
MILESTONE_PLAN = HERE / "data" / "sondre-trondelag-2024-milepaelsplan.csv"  # [M]: Milepælsplan 2024, 30 rows
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def imported(path: Path) -> list[tuple[str, str | None, str]]:
    plan = parse_plan(path.read_text(encoding="utf-8")).plan
    return [(str(m.date), m.written, m.what) for m in plan.milestones]


# The status table, 8 of whose 12 rows `plan import` refused before: its years are the plan's (June 2024 - March 2025).
STATUS_ROWS = [
    ("2024-06-27", "27. juni", "Høringsfrist fagrådsstruktur"),
    ("2024-08/2024-09", "Aug./sept.", "Fagrådsstruktur vedtas i ekstraordinært ASU"),
    ("2024-09-25", "25. september", "Høringsutkast til overordnet avtale og retningslinje 1 vedtas i ASU"),
    ("2024-10", None, "Fagrådsrepresentanter oppnevnes i ekstraordinært ASU"),
    ("2024-11-27", "27. november", "Høringsforslag til øvrige retningslinjer vedtas"),
    ("2024-11/2024-12", "Nov./des.", "Høringsfrist overordnet avtale og retningslinje 1"),
    ("2025-01", "Jan.", "Høringsfrist øvrige retningslinjer"),
    ("2025-01?", "jan. 25?", "Orientering i PSU"),
    ("2025-02", "Feb.", "Samarbeidsavtale med tilhørende retningslinjer vedtas i ASU"),
    ("2025-05", None, "Frist for politisk behandling"),
    ("2024-06-19", None, "Møte i ASU"),
    ("2024-09-11", None, "Møte i forhandlingsutvalget"),
]


def test_the_status_table_into_the_example_plan_keeps_every_row(tmp_path):
    out = tmp_path / "plan.yaml"
    result = run("plan", "import", str(STATUS), "--into", str(EXAMPLE), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "imported 12 milestones from sondre-trondelag-2024-status.csv\n" in result.stderr
    assert "left out" not in result.stderr
    assert imported(out) == STATUS_ROWS
    check = run("plan", "check", str(out))
    assert check.exit_code == 0, check.output


# [M], typed row by row: yearless days and ranges of 2024, "xx.12.24", "XX.XX.XX", parts.
MILESTONE_PLAN_DATES = [
    ("2024-01-17", None), ("2024-01-23", None), ("2024-02-07", None), ("2024-02-10/2024-04-04", "10.02-04.04"),
    ("2024-03-06", None), ("2024-04-03", None), ("2024-04-04", None), ("2024-04-04", None), ("2024-04-17", "17.04"),
    ("2024-04-18/2024-06-19", "18.04-19.06"), ("2024-04-30", "30.04"), ("2024-05-07", None), ("2024-06-19", "19.06"),
    ("2024-06-20/2024-09-10", "20.06-10.09"), ("2024-09-05", "05.09"), ("2024-09-10", "10.09"), ("2024-09-11", None),
    ("2024-09-25", "25.09"), ("2024-11-12", "12.11"), ("2024-11-19", None), ("2024-11-27", "27.11"), ("2025-01", None),
    ("2025-03-01", None), ("XXXX-XX-XX", "XX.XX.XX"), ("2024-06-19", "19.06"), ("2024-09-25", "25.09"),
    ("2024-09-26/2024-11-10", "26.09-10.11"), ("2024-11-10", "10.11."), ("2024-11-27", "27.11"), ("2024-12", None),
]


def test_the_milestone_plan_with_its_year_keeps_every_row(tmp_path):
    out = tmp_path / "milestones.yaml"
    result = run("plan", "import", str(MILESTONE_PLAN), "--year", "2024", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "imported 30 milestones" in result.stderr and "left out" not in result.stderr
    rows = read_milestones_csv(MILESTONE_PLAN.read_bytes(), years=Years(year=2024))
    assert [(str(r.date), r.written) for r in rows] == MILESTONE_PLAN_DATES
    assert [r.part for r in rows].count("Alt. 2") == 6
    # the block goes into a plan as it is, and reads back the same
    plan_text = SMALL_PLAN + out.read_text(encoding="utf-8")
    assert [(str(m.date), m.written) for m in parse_plan(plan_text).plan.milestones] == MILESTONE_PLAN_DATES


def test_a_date_without_a_year_takes_year_or_the_plans_nearest(tmp_path):
    csv_file = tmp_path / "m.csv"
    csv_file.write_text("Når;Hva\nJan.;Høringsfrist\n27. juni;Frist\ndes./jan.;Runde\n", encoding="utf-8")
    by_year = run("plan", "import", str(csv_file), "--year", "2024")
    assert by_year.exit_code == 0, by_year.output
    assert "{date: 2024-01, written: Jan., what: Høringsfrist}" in by_year.stdout
    assert "{date: 2024-06-27, written: 27. juni, what: Frist}" in by_year.stdout
    assert "{date: 2024-12/2025-01, written: des./jan., what: Runde}" in by_year.stdout  # a season over new year

    out = tmp_path / "plan.yaml"
    by_plan = run("plan", "import", str(csv_file), "--into", str(EXAMPLE), "--output", str(out))
    assert by_plan.exit_code == 0, by_plan.output
    # the example's stages run from June 2024 to March 2025: January is 2025's, June 2024's
    assert imported(out) == [("2025-01", "Jan.", "Høringsfrist"), ("2024-06-27", "27. juni", "Frist"), ("2024-12/2025-01", "des./jan.", "Runde")]

    both = run("plan", "import", str(csv_file), "--into", str(EXAMPLE), "--year", "2030", "--output", str(out))
    assert both.exit_code == 0, both.output
    assert [d for d, _, _ in imported(out)] == ["2030-01", "2030-06-27", "2030-12/2031-01"]  # --year first

    neither = run("plan", "import", str(csv_file))
    assert neither.exit_code == 2
    assert "error: m.csv: row 2, Når: 'Jan.' has no year: give --year, or --into a plan with dates" in neither.stderr
    assert "row 4, Når: 'des./jan.' has no year" in neither.stderr


def test_a_plan_file_may_write_its_milestone_dates_so_too():
    text = SMALL_PLAN + (
        "milestones:\n"
        "  - {date: 27. juni, what: Høringsfrist}\n"
        "  - {date: Aug./sept. 2024, what: Vedtak}\n"
        "  - {date: \"10.09?\", what: Usikker}\n"
        "  - {date: XX.XX.XX, what: Nasjonal plan}\n"
        "  - {date: 2024-06-20/2024-09-10, what: Høringsrunde}\n"
        "  - {date: 2024-11, written: Nov./des., what: Utdatert}\n"
    )
    checked = parse_plan(text).plan
    assert [(str(m.date), m.written) for m in checked.milestones] == [
        ("2024-06-27", "27. juni"),  # the year nearest the plan's own dates
        ("2024-08/2024-09", "Aug./sept. 2024"),
        ("2024-09-10?", "10.09?"),
        ("XXXX-XX-XX", "XX.XX.XX"),
        ("2024-06-20/2024-09-10", None),
        ("2024-11", None),  # a written form that no longer says the date is dropped
    ]


@pytest.mark.parametrize("value", ["2024-06/2024-07", "2024-09-10?", "XXXX-XX-XX"])
def test_a_stage_date_stays_a_day_or_a_month(value):
    text = SMALL_PLAN.replace("deadline: 2024-09-10", f"deadline: \"{value}\"", 1)
    assert text != SMALL_PLAN
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(text)
    assert f"{value!r}: a stage's date must be a day (YYYY-MM-DD) or a month (YYYY-MM), for its letters and reminders" in str(caught.value)


def test_sorted_by_start_not_set_last():
    dates = ["XXXX-XX-XX", "2024-11-05", "2024-11?", "2024-11/2024-12", "2024-11", "2024-10-31", "2024-06-20/2024-09-10", "2024-06-20"]
    rows = [MilestoneRow(PlanDate.parse_any(d), d) for d in dates]
    ordered = [r.what for r in plan_parts(rows, "Plan")[0].milestones]
    assert ordered == ["2024-06-20", "2024-06-20/2024-09-10", "2024-10-31", "2024-11", "2024-11/2024-12", "2024-11?", "2024-11-05", "XXXX-XX-XX"]
    assert max(dates) == "XXXX-XX-XX"  # SQL's text order: not set last there too


def test_stored_shown_as_written_and_only_exact_days_in_the_calendar(domain_db_url, tmp_path):
    out = tmp_path / "plan.yaml"
    assert run("plan", "import", str(STATUS), "--into", str(EXAMPLE), "--output", str(out)).exit_code == 0
    source = out.read_text(encoding="utf-8")
    with session_scope() as s:
        revision = store_revision(s, parse_plan(source), source, "tester")
        slug = revision.slug
    html = run("plan", "export", slug, "--format", "html")
    assert html.exit_code == 0, html.output
    for written in ("27. juni", "Aug./sept.", "Nov./des.", "jan. 25?", "Feb."):
        assert f"<td>{written}</td>" in html.stdout or f">{written}<" in html.stdout, written
    assert "oktober 2024" in html.stdout  # a month with its year: shown in words as before

    ics = run("plan", "export", slug, "--format", "ics")
    assert ics.exit_code == 0, ics.output
    assert "SUMMARY:Høringsfrist fagrådsstruktur" in ics.stdout  # 27. juni: an exact day
    for not_exact in ("Fagrådsstruktur vedtas i ekstraordinært ASU", "Orientering i PSU", "Høringsfrist øvrige retningslinjer"):
        assert f"SUMMARY:{not_exact}" not in ics.stdout

    csv_out = run("plan", "export", slug, "--format", "csv")
    assert csv_out.exit_code == 0, csv_out.output
    lines = csv_out.stdout.splitlines()
    assert "27.06.2024;Høringsfrist fagrådsstruktur;;Fagråd;Revidert tidslinje" in lines  # "27. juni" has no year of its own
    assert "aug 2024–sep 2024;Fagrådsstruktur vedtas i ekstraordinært ASU;;ASU;Revidert tidslinje" in lines
    assert "jan. 25?;Orientering i PSU;;PSU;Revidert tidslinje" in lines  # as written: it has its year
    again = tmp_path / "again.csv"
    again.write_text(csv_out.stdout, encoding="utf-8")
    reread = read_milestones_csv(again.read_text(encoding="utf-8"))  # reads back without --year
    assert sorted(str(r.date) for r in reread) == sorted(d for d, _, _ in STATUS_ROWS)


# --- where the plan moves: a tie, a shift, a rebase; the timeline ------------------------------------

WRITTEN = (
    "milestones:\n"
    "  - {date: 20.06-10.09, what: Høringsrunde}\n"
    "  - {date: XX.XX.XX, what: Nasjonal plan}\n"
    "  - {date: 27. juni, what: Frist}\n"
    "  - {date: \"19.06\", what: Møte i ASU, stage: hoeringsforslag, at: meeting}\n"
    "  - {date: \"18.06\", what: Møte i ASU (skrevet feil), stage: hoeringsforslag, at: meeting}\n"
)


def test_a_tie_keeps_the_written_form_only_while_it_says_the_stages_date():
    milestones = parse_plan(SMALL_PLAN + WRITTEN).plan.milestones
    assert [(str(m.date), m.written) for m in milestones[3:]] == [("2024-06-19", "19.06"), ("2024-06-19", None)]
    with pytest.raises(PlanInvalid, match=r"milestones\[3\]\.date: 19\.06 is read as a number: put the date in quotes"):
        parse_plan(SMALL_PLAN + WRITTEN.replace('"19.06"', "19.06"))


def test_a_date_set_later_is_a_move_without_days_and_a_rebase_moves_ranges_and_leaves_not_set():
    from avtaleflyt.models.rebase import rebase
    from avtaleflyt.models.shift import slips

    before = parse_plan(SMALL_PLAN + WRITTEN).plan
    after = parse_plan(SMALL_PLAN + WRITTEN.replace("XX.XX.XX", "15.10.24")).plan
    _, moves = slips(before, after)
    assert [(m.what, str(m.before), str(m.after), m.days) for m in moves] == [("Nasjonal plan", "XXXX-XX-XX", "2024-10-15", None)]

    rebased = rebase(SMALL_PLAN + WRITTEN, dt.date(2025, 6, 14))  # the first stage date, 2024-06-14, a year on
    moved = rebased.checked.plan.milestones
    assert [(str(m.date), m.written) for m in moved[:3]] == [("2025-06-20/2025-09-10", None), ("XXXX-XX-XX", None), ("2025-06-27", None)]
    assert "20.06-10.09" not in rebased.text.split("milestones:")[1]  # the date in the file is the moved one


def test_the_timeline_shows_a_milestone_as_written_in_its_first_month_and_leaves_out_not_set():
    from avtaleflyt.dashboard.timeline import timeline
    from avtaleflyt.models.tables import Milestone

    rows = [
        Milestone(revision_id=1, date="2024-08/2024-09", written="Aug./sept.", what="Fagrådsstruktur vedtas", responsible="ASU"),
        Milestone(revision_id=1, date="XXXX-XX-XX", written="XX.XX.XX", what="Nasjonal plan", responsible="ASU"),
        Milestone(revision_id=1, date="2024-09-10?", written="10.09?", what="Frist", responsible="ASU"),
        Milestone(revision_id=1, date="2024-09-25", what="Møte i ASU", responsible="ASU"),
    ]
    grid = timeline([], rows, {}, dt.date(2024, 9, 1))
    assert [m.key for m in grid.months] == ["2024-08", "2024-09"]
    items = {cell.month: [(i.day, i.label) for i in cell.items] for row in grid.rows for cell in row.cells if cell.items}
    assert items == {
        "2024-08": [(None, "Fagrådsstruktur vedtas (Aug./sept.)")],
        "2024-09": [(None, "Frist (10.09?)"), (25, "Møte i ASU")],
    }
