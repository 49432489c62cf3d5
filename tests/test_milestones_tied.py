"""Dates that agree with each other: a milestone tied to a stage (`stage:`, `at:`) takes the
stage's date and moves with it when the plan shifts; `plan shift` warns about an untied
milestone left on a moved stage's old date; the Fremdriftsplan shows one date per event;
`plan check FILE --against SLUG` takes the file as `plan shift` would."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt.cli import app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.tables import Milestone
from avtaleflyt.tasks import export, records
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.shift import apply_shift, preview_shift
from avtaleflyt.tasks.store import store_revision

from .plans import SMALL_PLAN

EXAMPLE_PATH = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
EXAMPLE = EXAMPLE_PATH.read_text(encoding="utf-8")
SLUG = "revidering-av-samarbeidsavtalen-2024"
FINAL_MEETING = "    meeting: 2024-11-27\n"  # sluttbehandling: ASU, FU, PSU and fagråd
HEARING_DEADLINE = "    deadline: 2024-09-10\n"  # hoering-1
runner = CliRunner()


@pytest.fixture
def offline_prefect():
    """A Prefect API on a loopback port nobody listens on (as in test_cli)."""
    import os

    from avtaleflyt.stack import apply_prefect_env, free_port

    saved = os.environ.get("PREFECT_API_URL")
    apply_prefect_env({"PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"})
    yield
    apply_prefect_env({"PREFECT_API_URL": saved})


def edited(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} is not unique"
    return text.replace(old, new)


def with_milestones(block: str) -> str:
    return SMALL_PLAN + "milestones:\n" + block


@pytest.fixture
def engine(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'domain.db'}")
    with session_scope(engine) as s:
        store_revision(s, parse_plan(EXAMPLE), EXAMPLE, "sekretariatet")
    return engine


def shifted(engine, text: str):
    with session_scope(engine) as s:
        return apply_shift(s, SLUG, text, actor="t", reason="ASU flyttet", today=dt.date(2024, 6, 1))


# --- the plan file ---------------------------------------------------------------------------


def test_a_tied_milestone_takes_its_stages_date():
    plan = parse_plan(with_milestones("  - {date: 2024-11-27, what: Sluttbehandling i ASU, stage: sluttbehandling, at: meeting}\n")).plan
    (milestone,) = plan.milestones
    meeting = next(s for s in plan.stages if s.key == "sluttbehandling").meeting
    assert (milestone.date, milestone.stage, milestone.at) == (meeting, "sluttbehandling", "meeting")


def test_a_tied_milestone_with_a_date_of_its_own_is_warned_about_and_takes_the_stages():
    checked = parse_plan(with_milestones("  - {date: 2024-01-02, what: Sluttbehandling, stage: sluttbehandling, at: meeting}\n"))
    assert checked.plan.milestones[0].date != PlanDate(2024, 1, 2)
    assert any(w.place == "milestones[0].date" and "a tied milestone takes its stage's date" in w.message for w in checked.warnings)


@pytest.mark.parametrize(
    ("row", "place", "message"),
    [
        ("{what: x, stage: sluttbehandling, at: meeting}", "milestones[0].date", "required"),
        ("{date: 2024-06-01, what: x, at: end}", "milestones[0].at", "only with `stage:`"),
        ("{date: 2024-06-01, what: x, stage: nowhere, at: end}", "milestones[0].stage", "unknown stage 'nowhere'"),
        ("{date: 2024-06-01, what: x, stage: sluttbehandling}", "milestones[0].at", "required with `stage:`"),
        ("{date: 2024-06-01, what: x, stage: sluttbehandling, at: deadline}", "milestones[0].at", "stage 'sluttbehandling' has no deadline date (it has: meeting)"),
        ("{date: 2024-06-01, what: x, stage: sluttbehandling, at: later}", "milestones[0].at", "Input should be"),
    ],
)
def test_a_milestone_without_a_date_or_with_a_bad_tie_is_refused_by_place(row, place, message):
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(with_milestones(f"  - {row}\n"))
    assert any(p.place == place and message in p.message for p in caught.value.problems), caught.value.problems


# --- plan shift and the export ------------------------------------------------------------------


def test_a_tied_milestone_moves_with_its_stage_on_shift(engine):
    applied = shifted(engine, edited(EXAMPLE, FINAL_MEETING, "    meeting: 2024-12-11\n"))
    with session_scope(engine) as s:
        rows = {(m.what, m.about): m for m in s.exec(select(Milestone))}
    final = rows[("Møte i ASU", "Sluttbehandling")]
    assert (final.date, final.stage_key, final.at) == ("2024-12-11", "sluttbehandling", "meeting")
    assert ("2024-11-27", "2024-12-11") in [(str(m.before), str(m.after)) for m in applied.preview.shift.milestones_moved]
    # the alternative timeline's own ASU meeting on 27.11 is not tied: it stays, with a warning
    assert rows[("Alt. 2: Møte i ASU", "Oppsummering av høringsinnspill + retningslinjer fra fagråd")].date == "2024-11-27"


def test_a_tied_milestone_follows_a_stage_that_moves_with_the_one_before(engine):
    # hoering-1's deadline moves in the file; sluttbehandling (after it) moves along: so does its milestone
    shift = shifted(engine, edited(EXAMPLE, HEARING_DEADLINE, "    deadline: 2024-12-02\n")).preview.shift
    assert [(m.stage, str(m.after), m.moved_with) for m in shift.date_moves if m.stage == "sluttbehandling"] == [("sluttbehandling", "2024-12-21", "hoering-1")]
    with session_scope(engine) as s:
        dates = {(m.stage_key, m.at): m.date for m in s.exec(select(Milestone)) if m.stage_key}
    assert dates[("sluttbehandling", "meeting")] == "2024-12-21"
    assert dates[("hoering-1", "deadline")] == "2024-12-02"


def test_plan_shift_warns_about_an_untied_milestone_on_a_moved_stages_old_date(engine):
    with session_scope(engine) as s:
        preview = preview_shift(s, SLUG, edited(EXAMPLE, FINAL_MEETING, "    meeting: 2024-12-11\n"))
    warned = {w.message.split(" stays on ")[0]: w for w in preview.shift.warnings if " stays on " in w.message}
    politisk = warned["'Frist for politisk behandling i kommunene'"]
    assert "2025-03-01, the deadline of stage 'politisk' before the shift (now 2025-03-15)" in politisk.message
    assert "tie it: `stage: politisk, at: deadline`" in politisk.message
    assert "'Alt. 2: Møte i ASU'" in warned  # 27.11, sluttbehandling's old meeting
    assert "'Møte i ASU'" not in warned  # the tied ones moved


def _pages(engine) -> dict[str, str]:
    with session_scope(engine) as s:
        text = export.plan_html(s, SLUG, today=dt.date(2024, 6, 1))
    sections = re.findall(r'<section class="page">(.*?)</section>', text, re.S)
    return {unescape(re.search(r"<h1>(.*?)</h1>", sec).group(1)).rsplit(" — ", 1)[-1]: sec for sec in sections}


def test_the_fremdriftsplan_shows_one_date_per_event_after_a_shift(engine):
    shifted(engine, edited(EXAMPLE, FINAL_MEETING, "    meeting: 2024-12-11\n"))
    pages = _pages(engine)
    main, stages = pages["Revidering av samarbeidsavtalen 2024"], pages["Trinn og frister"]
    assert '<td class="when">11.12.2024</td><td>Møte i ASU</td><td>Sluttbehandling</td>' in main
    assert '<td class="when">11.12.2024</td>' in stages and "Sluttbehandling av avtale med retningslinjer" in stages
    assert "27.11.2024" not in main and "27.11.2024" not in stages
    with session_scope(engine) as s:
        csv_text = export.plan_csv(s, SLUG)
        ics_text = export.plan_ics(s, SLUG)
    assert "11.12.2024;Møte i ASU;Sluttbehandling" in csv_text and "27.11.2024;Møte i ASU;Sluttbehandling" not in csv_text
    final = [e for e in Calendar.from_ical(ics_text).walk("VEVENT") if str(e["SUMMARY"]) == "Møte i ASU" and "Om: Sluttbehandling" in str(e["DESCRIPTION"])]
    assert [e.decoded("DTSTART") for e in final] == [dt.date(2024, 12, 11)]


# --- plan check --against ------------------------------------------------------------------------


def _store_example() -> None:
    with session_scope() as s:
        store_revision(s, parse_plan(EXAMPLE), EXAMPLE, "t")
    with session_scope() as s:
        reconcile_revision(s, SLUG, today=dt.date(2024, 6, 10))


def _warnings(result) -> list[str]:
    return sorted(line for line in result.stderr.splitlines() if line.startswith("warning:"))


def test_plan_check_against_accepts_what_plan_shift_accepts(domain_db_url, tmp_path, offline_prefect):
    _store_example()
    revised = tmp_path / "revised.yaml"
    revised.write_text(edited(EXAMPLE, HEARING_DEADLINE, "    deadline: 2024-12-02\n"), encoding="utf-8")

    plain = runner.invoke(app, ["plan", "check", str(revised)])
    assert plain.exit_code == 2  # as written, sluttbehandling (27.11) starts before hoering-1 ends
    assert "before stage 'hoering-1' it comes after ends (2024-12-02)" in plain.stderr

    against = runner.invoke(app, ["plan", "check", str(revised), "--against", SLUG])
    assert against.exit_code == 0, against.output
    assert f"ok: {SLUG}: a shift to plan v2" in against.stdout
    shift = runner.invoke(app, ["plan", "shift", SLUG, str(revised), "--reason", "x"], input="n\n")
    assert shift.exit_code == 1, shift.output  # previewed, then declined
    assert _warnings(against) == _warnings(shift)
    assert any("2024-12-21 is not a working day" in w for w in _warnings(against))  # the moved meeting
    assert any("'Frist for politisk behandling i kommunene' stays on 2025-03-01" in w for w in _warnings(against))


def test_plan_check_against_refuses_what_plan_shift_refuses(domain_db_url, tmp_path, offline_prefect):
    _store_example()
    with session_scope() as s:
        records.complete_draft(s, SLUG, stage_key="utkast", actor="t")
    with session_scope() as s:
        reconcile_revision(s, SLUG, today=dt.date(2024, 6, 18))
    revised = tmp_path / "revised.yaml"
    revised.write_text(edited(EXAMPLE, "    due: 2024-06-18\n", "    due: 2024-06-17\n"), encoding="utf-8")

    assert runner.invoke(app, ["plan", "check", str(revised)]).exit_code == 0  # a fine plan on its own
    against = runner.invoke(app, ["plan", "check", str(revised), "--against", SLUG])
    shift = runner.invoke(app, ["plan", "shift", SLUG, str(revised), "--reason", "x", "--yes"])
    assert against.exit_code == shift.exit_code == 2
    assert "'utkast' is completed; it cannot be rewritten (changed: due)" in against.stderr
    assert against.stderr == shift.stderr

    unknown = runner.invoke(app, ["plan", "check", str(revised), "--against", "nowhere"])
    assert unknown.exit_code == 2 and "nowhere" in unknown.stderr
