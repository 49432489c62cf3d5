"""Milestones from a spreadsheet (models/fremdriftsplan.py) and `plan import` / `plan export --format csv`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from avtaleflyt.cli import app
from avtaleflyt.db import session_scope
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.fremdriftsplan import (
    MilestoneRow,
    MilestonesInvalid,
    milestones_yaml,
    parse_norwegian_date,
    plan_parts,
    read_milestones_csv,
    replace_milestones,
    write_milestones_csv,
)
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.tasks.store import store_revision

from .plans import SMALL_PLAN

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
SLUG = "revidering-av-samarbeidsavtalen-2024"
runner = CliRunner()


def example_milestones() -> list[tuple]:
    plan = parse_plan(EXAMPLE.read_text(encoding="utf-8")).plan
    return [(m.date, m.what, m.about, m.responsible, m.part) for m in plan.milestones]


def as_tuples(rows: list[MilestoneRow]) -> list[tuple]:
    return [(r.date, r.what, r.about, r.responsible, r.part) for r in rows]


def run(*args: str):
    return runner.invoke(app, list(args))


# --------------------------------------------------------------------------- round trips


def test_the_examples_milestones_round_trip_through_csv():
    milestones = example_milestones()
    assert {m[4] for m in milestones} == {None, "Alt. 2", "Revidert tidslinje (status til ASU 19.06.2024)"}
    text = write_milestones_csv([MilestoneRow(*m) for m in milestones])
    assert as_tuples(read_milestones_csv(text)) == milestones
    assert as_tuples(read_milestones_csv(text.encode("utf-8"))) == milestones  # the file's bytes, with BOM


def test_export_csv_then_import_into_the_plan_gives_a_plan_with_the_same_milestones(domain_db_url, tmp_path):
    source = EXAMPLE.read_text(encoding="utf-8")
    with session_scope() as s:
        store_revision(s, parse_plan(source), source, "tester")
    exported = tmp_path / "milepaeler.csv"
    result = run("plan", "export", SLUG, "--format", "csv", "--output", str(exported))
    assert result.exit_code == 0, result.output
    assert exported.read_bytes().startswith(b"\xef\xbb\xbfN\xc3\xa5r;Hva;Om;Ansvar;Del\r\n")

    plan_file = tmp_path / "plan.yaml"
    result = run("plan", "import", str(exported), "--into", str(EXAMPLE), "--output", str(plan_file))
    assert result.exit_code == 0, result.output
    assert "imported 39 milestones" in result.stderr
    check = run("plan", "check", str(plan_file))
    assert check.exit_code == 0, check.output
    assert "39 milestones" in check.stdout
    reparsed = parse_plan(plan_file.read_text(encoding="utf-8")).plan
    assert [(m.date, m.what, m.about, m.responsible, m.part) for m in reparsed.milestones] == example_milestones()
    # everything above the milestones block is the file's own text
    head = source[: source.index("\nmilestones:")]
    assert plan_file.read_text(encoding="utf-8").startswith(head + "\nmilestones:\n  - {date: 2024-01-17,")


def test_import_without_into_prints_a_milestones_block(tmp_path):
    csv_file = tmp_path / "m.csv"
    csv_file.write_text("Når;Hva;Om;Ansvar;Del\n27.11.24;Møte i ASU;Sluttbehandling;ASU;\nnov 24;Møte i FU: sluttføring;;FU;Alt. 2\n", encoding="utf-8")
    result = run("plan", "import", str(csv_file))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("milestones:\n  - {date: 2024-11-27, what: Møte i ASU, about: Sluttbehandling, responsible: ASU}\n")
    assert yaml.safe_load(result.stdout) == {
        "milestones": [
            {"date": dt.date(2024, 11, 27), "what": "Møte i ASU", "about": "Sluttbehandling", "responsible": "ASU"},
            {"date": "2024-11", "what": "Møte i FU: sluttføring", "responsible": "FU", "part": "Alt. 2"},
        ]
    }


# --------------------------------------------------------------------------- Norwegian dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("27.11.24", PlanDate(2024, 11, 27)),
        ("27.11.2024", PlanDate(2024, 11, 27)),
        ("1.3.25", PlanDate(2025, 3, 1)),
        ("2024-11-27", PlanDate(2024, 11, 27)),
        ("2024-11", PlanDate(2024, 11)),
        ("nov 24", PlanDate(2024, 11)),
        ("nov. 2024", PlanDate(2024, 11)),
        ("Nov.24", PlanDate(2024, 11)),
        ("november 2024", PlanDate(2024, 11)),
        ("NOVEMBER 2024", PlanDate(2024, 11)),
        ("sept 2024", PlanDate(2024, 9)),
        ("sep. 24", PlanDate(2024, 9)),
        ("mars 2025", PlanDate(2025, 3)),
        ("mar 25", PlanDate(2025, 3)),
        ("mai 2025", PlanDate(2025, 5)),
        ("des 24", PlanDate(2024, 12)),
        ("okt. 2024", PlanDate(2024, 10)),
        ("xx.12.24", PlanDate(2024, 12)),
        ("  jan 2025 ", PlanDate(2025, 1)),
    ],
)
def test_norwegian_dates(text, expected):
    assert parse_norwegian_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("27.11", "has no year"),
        ("27.11.", "has no year"),
        ("31.02.2024", "not a real date"),
        ("27.13.24", "not a real date"),
        ("dec 2024", "not a Norwegian month"),
        ("ma 2024", "not a Norwegian month"),
        ("Nov./des.", "has no year"),  # a season: read with --year or --into
        ("27/11/2024", "not a date"),
        ("", "required"),
    ],
)
def test_dates_that_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_norwegian_date(text)


# --------------------------------------------------------------------------- reading CSV


def test_a_header_with_commas_or_tabs_sets_the_delimiter():
    expected = [(PlanDate(2024, 11, 27), "Møte i ASU", "Sluttbehandling, del 2", "ASU", None)]
    assert as_tuples(read_milestones_csv('Når,Hva,Om,Ansvar\n27.11.2024,Møte i ASU,"Sluttbehandling, del 2",ASU\n')) == expected
    assert as_tuples(read_milestones_csv("Når\tHva\tOm\tAnsvar\r\n27.11.2024\tMøte i ASU\tSluttbehandling, del 2\tASU\r\n")) == expected


def test_without_a_header_the_columns_are_when_what_about_responsible_part():
    rows = read_milestones_csv("27.11.24;Møte i ASU;Sluttbehandling, del 2;ASU;Alt. 2\n\n;;;;\n01.03.25;Frist\n")
    assert as_tuples(rows) == [
        (PlanDate(2024, 11, 27), "Møte i ASU", "Sluttbehandling, del 2", "ASU", "Alt. 2"),
        (PlanDate(2025, 3, 1), "Frist", None, None, None),
    ]


def test_header_columns_may_come_in_any_order_and_any_case():
    rows = read_milestones_csv("\ufeffDEL;ansvar;hva;når\nAlt. 2;FU;Møte i FU;des 24\n")
    assert as_tuples(rows) == [(PlanDate(2024, 12), "Møte i FU", None, "FU", "Alt. 2")]


def test_every_bad_row_is_named_at_once():
    text = "Når;Hva;Om;Ansvar\n27.11.24;Møte i ASU;;ASU\n27.11;Møte i FU;;FU\nnov 24;;;\nfoo 24;Frist;;\n01.03.25;Frist;;;;x\n"
    with pytest.raises(MilestonesInvalid) as caught:
        read_milestones_csv(text)
    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems] == [(3, "Når"), (4, "Hva"), (5, "Når"), (6, "(row)")]
    assert str(problems[0]) == "row 3, Når: '27.11' has no year: give --year, or --into a plan with dates, or write it with its year: 27.11.YYYY"
    assert "6 columns" in str(problems[3])


def test_a_header_without_hva_is_refused():
    with pytest.raises(MilestonesInvalid, match="row 1, Hva: missing from the header"):
        read_milestones_csv("Når;Om;Ansvar\n27.11.24;x;y\n")


def test_a_file_that_is_not_utf8_is_refused():
    with pytest.raises(MilestonesInvalid, match="not UTF-8"):
        read_milestones_csv("Når;Hva\n27.11.24;Møte\n".encode("latin-1"))


def test_an_overlong_hva_is_refused_as_the_plan_would():
    with pytest.raises(MilestonesInvalid, match="row 1, Hva: 501 characters; at most 500"):
        read_milestones_csv("27.11.24;" + "x" * 501 + "\n")


# --------------------------------------------------------------------------- parts


def test_parts_main_first_then_in_order_of_appearance_each_in_date_order():
    rows = [
        MilestoneRow(PlanDate(2024, 9, 25), "b", part="Alt. 2"),
        MilestoneRow(PlanDate(2024, 6, 19), "a"),
        MilestoneRow(PlanDate(2024, 12), "d", part="Revidert"),
        MilestoneRow(PlanDate(2024, 9, 1), "c", part="Alt. 2"),
        MilestoneRow(PlanDate(2024, 1, 17), "e"),
    ]
    parts = plan_parts(rows, "Plan 2024")
    assert [(p.title, p.part, [m.what for m in p.milestones]) for p in parts] == [
        ("Plan 2024", None, ["e", "a"]),
        ("Alt. 2", "Alt. 2", ["c", "b"]),
        ("Revidert", "Revidert", ["d"]),
    ]
    assert [p.part for p in plan_parts(rows[:1], "Plan")] == ["Alt. 2"]  # no empty main page
    assert [(p.title, p.milestones) for p in plan_parts([], "Plan")] == [("Plan", [])]


# --------------------------------------------------------------------------- into a plan file


def test_replace_keeps_the_keys_and_comments_around_the_block():
    plan = SMALL_PLAN + "# Milepæler fra sekretariatet\nmilestones:\n  # gamle\n  - {date: 2024-01-01, what: Gammel}\n\n# påminnelser\nreminders: {before_deadline_days: [7], overdue_every_days: 7}\n"
    rows = [MilestoneRow(PlanDate(2024, 6, 19), "Møte i ASU", "Høringsforslag", "ASU")]
    text = replace_milestones(plan, rows)
    assert text == SMALL_PLAN + "# Milepæler fra sekretariatet\n" + milestones_yaml(rows) + "\n# påminnelser\nreminders: {before_deadline_days: [7], overdue_every_days: 7}\n"
    checked = parse_plan(text).plan
    assert [(m.date, m.what) for m in checked.milestones] == [(PlanDate(2024, 6, 19), "Møte i ASU")]
    assert checked.reminders.before_deadline_days == [7]


def test_replace_appends_a_block_to_a_plan_without_one():
    rows = [MilestoneRow(PlanDate(2025, 1), "Møte i PSU", responsible="PSU")]
    text = replace_milestones(SMALL_PLAN, rows)
    assert text == SMALL_PLAN + "milestones:\n  - {date: 2025-01, what: Møte i PSU, responsible: PSU}\n"
    assert parse_plan(text).plan.milestones[0].date == PlanDate(2025, 1)


def test_yaml_block_quotes_what_yaml_would_misread():
    rows = [MilestoneRow(PlanDate(2024, 4, 4), "yes", "a: b, [c] {d}", "#1", "Alt. 2: ny")]
    (parsed,) = yaml.safe_load(milestones_yaml(rows))["milestones"]
    assert parsed == {"date": dt.date(2024, 4, 4), "what": "yes", "about": "a: b, [c] {d}", "responsible": "#1", "part": "Alt. 2: ny"}


# --------------------------------------------------------------------------- the CLI's refusals


def test_import_strict_refuses_bad_rows_and_writes_nothing(tmp_path):
    csv_file = tmp_path / "m.csv"
    csv_file.write_text("Når;Hva\n27.11;Møte\n31.02;Møte\nnov 24;\n", encoding="utf-8")
    out = tmp_path / "out.yaml"
    result = run("plan", "import", str(csv_file), "--into", str(EXAMPLE), "--output", str(out), "--strict")
    assert result.exit_code == 2
    assert "m.csv: row 3, Når: '31.02' is not a real date" in result.stderr
    assert "m.csv: row 4, Hva: required" in result.stderr
    assert "nothing imported: 2 of 3 rows do not read" in result.stderr
    assert result.stdout == ""
    assert not out.exists()


def test_import_without_strict_keeps_the_rows_that_read_and_names_the_others(tmp_path):
    csv_file = tmp_path / "m.csv"
    csv_file.write_text("Når;Hva\n27.11;Møte\n31.02;Møte\nnov 24;\n", encoding="utf-8")
    out = tmp_path / "out.yaml"
    result = run("plan", "import", str(csv_file), "--into", str(EXAMPLE), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "left out: m.csv: row 3, Når: '31.02' is not a real date" in result.stderr
    assert "left out: m.csv: row 4, Hva: required" in result.stderr
    assert "imported 1 milestones from m.csv; 2 rows left out" in result.stderr
    milestones = parse_plan(out.read_text(encoding="utf-8")).plan.milestones
    assert [(str(m.date), m.written, m.what) for m in milestones] == [("2024-11-27", "27.11", "Møte")]  # the year of the plan's dates


def test_import_with_only_bad_rows_imports_nothing(tmp_path):
    csv_file = tmp_path / "m.csv"
    csv_file.write_text("Når;Hva\n27.11;Møte\n", encoding="utf-8")
    result = run("plan", "import", str(csv_file))
    assert result.exit_code == 2
    assert "error: m.csv: row 2, Når: '27.11' has no year: give --year" in result.stderr
    assert result.stdout == ""


def test_import_of_a_missing_csv_names_it():
    result = run("plan", "import", "/nonexistent/m.csv")
    assert result.exit_code == 2
    assert "CSV: cannot read '/nonexistent/m.csv'" in result.stderr


def test_import_into_an_invalid_plan_names_its_problems(tmp_path):
    csv_file = tmp_path / "m.csv"
    csv_file.write_text("27.11.24;Møte i ASU\n", encoding="utf-8")
    bad_plan = tmp_path / "plan.yaml"
    bad_plan.write_text(SMALL_PLAN.replace("forums: [ASU]", "forums: [XSU]"), encoding="utf-8")
    out = tmp_path / "out.yaml"
    result = run("plan", "import", str(csv_file), "--into", str(bad_plan), "--output", str(out))
    assert result.exit_code == 2
    assert "unknown forum 'XSU'" in result.stderr
    assert not out.exists()


def test_export_refusals(domain_db_url):
    result = run("plan", "export", "finnes-ikke", "--format", "ics")
    assert result.exit_code == 2 and "SLUG: no revision 'finnes-ikke'" in result.stderr
    result = run("plan", "export", "finnes-ikke", "--format", "csv", "--party", "Malvik kommune")
    assert result.exit_code == 2 and "--party: only with --format ics" in result.stderr
    result = run("plan", "export", "finnes-ikke", "--format", "pdf")
    assert result.exit_code == 2


def test_export_prints_to_stdout(domain_db_url):
    with session_scope() as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "tester")
    ics = run("plan", "export", "testrevisjon-2024", "--format", "ics", "--party", "Malvik kommune")
    assert ics.exit_code == 0, ics.output
    assert ics.stdout_bytes.startswith(b"BEGIN:VCALENDAR\r\n")  # the bytes as given: iCalendar lines end in CRLF
    assert "Høyringsfrist: hoering" in ics.stdout
    html = run("plan", "export", "testrevisjon-2024", "--format", "html")
    assert html.exit_code == 0 and "Fremdriftsplan — Testrevisjon 2024 — Trinn og frister" in html.stdout


# --------------------------------------------------------------------------- hostile spreadsheets


def test_a_field_over_the_csv_limit_is_refused_with_its_row(tmp_path):
    csv_file = tmp_path / "m.csv"
    csv_file.write_text('Når;Hva\n27.11.24;Møte\n01.12.24;"' + "x" * 200_000 + '"\n', encoding="utf-8")
    result = run("plan", "import", str(csv_file), "--strict")
    assert result.exit_code == 2, (result.output, result.exception)
    assert "m.csv: row 3, (row): not readable as CSV: field larger than field limit (131072)" in result.stderr
    assert result.stdout == ""
    result = run("plan", "import", str(csv_file))
    assert result.exit_code == 0, (result.output, result.exception)
    assert "left out: m.csv: row 3, (row): not readable as CSV" in result.stderr
    assert result.stdout == "milestones:\n  - {date: 2024-11-27, what: Møte}\n"


def test_a_multiline_cell_before_a_bad_row_counts_its_lines():
    with pytest.raises(MilestonesInvalid) as caught:
        read_milestones_csv('Når;Hva;Om\n27.11.24;Møte;"a\nb"\n27.11;Frist;\n')
    assert [(p.row, p.column) for p in caught.value.problems] == [(4, "Når")]


@pytest.mark.parametrize("column", ["Om", "Ansvar", "Del"])
def test_every_text_column_is_bounded(column):
    with pytest.raises(MilestonesInvalid, match=f"row 2, {column}: 501 characters; at most 500"):
        read_milestones_csv(f"Når;Hva;{column}\n27.11.24;Møte;" + "x" * 501 + "\n")


def test_a_date_outside_1900_to_2200_is_refused():
    with pytest.raises(MilestonesInvalid) as caught:
        read_milestones_csv("Når;Hva\n31.12.9999;Frist\nnov 1899;Møte\n")
    assert [str(p) for p in caught.value.problems] == [
        "row 2, Når: '31.12.9999': the year must be 1900-2200",
        "row 3, Når: 'nov 1899': the year must be 1900-2200",
    ]


def test_a_csv_over_a_mebibyte_is_refused():
    with pytest.raises(MilestonesInvalid, match=r"row 1, \(file\): 1048577 bytes; at most 1048576"):
        read_milestones_csv(b"x" * (1024 * 1024 + 1))


def test_formula_cells_are_imported_as_text_with_a_warning(tmp_path):
    csv_file = tmp_path / "m.csv"
    csv_file.write_text('Når;Hva;Om;Ansvar\n27.11.24;=HYPERLINK("http://x.example");@SUM(A1);ASU\n28.11.24;Møte;-;+47\n', encoding="utf-8")
    result = run("plan", "import", str(csv_file))
    assert result.exit_code == 0, (result.output, result.exception)
    for row, column, first in [(2, "Hva", "="), (2, "Om", "@"), (3, "Om", "-"), (3, "Ansvar", "+")]:
        assert f"warning: m.csv: row {row}, {column}: starts with {first!r}: a spreadsheet may run it as a formula" in result.stderr
    assert "HYPERLINK" in result.stdout and "imported 2 milestones" in result.stderr


def test_an_exported_neutralised_cell_reads_back_as_it_was():
    warnings: list = []
    rows = read_milestones_csv("Når;Hva;Om\n27.11.24;'=1+1;'x\n", warnings)
    assert [(r.what, r.about) for r in rows] == [("=1+1", "'x")]
    assert [(w.row, w.column) for w in warnings] == [(2, "Hva")]
