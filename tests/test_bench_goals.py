"""bench/goals.py: the benchmarks' goals and `make bench`'s summary (issue 15).

The RESULT lines here are copied as the benchmarks print them (bench/README.md's figures);
a goal stated as a throughput ratio is checked against the time ratio the line prints.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_goals", ROOT / "bench" / "goals.py")
goals = importlib.util.module_from_spec(_spec)
sys.modules["bench_goals"] = goals  # dataclasses look their module up by name
_spec.loader.exec_module(goals)

CLI = "RESULT cli_plan_check: 10.91x (264 ms vs baseline python -c pass 24 ms)"
OUTBOX = ("RESULT outbox_send_6000: 4.68x (19.2 s vs baseline plain aiosmtplib loop 4.1 s; "
          "313 vs 1463 msg/s)")
SWEEP = "RESULT sweep_4000: 6.18x (21.8 s vs baseline plain aiosmtplib loop 3.5 s; 183 vs 1133 msg/s)"
DASH_LIST = ("RESULT dashboard_list_100: 2.11x (25.3 ms at 100 revisions vs baseline 12.0 ms at 10; "
             "8 SQL statements) [/]")
DASH_REV = ("RESULT dashboard_revision_100: 0.91x (11.0 ms at 100 revisions vs baseline 12.1 ms at 10; "
            "12 SQL statements) [/revisions/revisjon-001]")
SELECTION = "RESULT selection_80000: 14.50x (3.30 s vs baseline plain SELECT 0.228 s; best of 5)"
START = "RESULT start_to_40_delivered: 1.76x (3.41 s vs baseline ping 1.94 s)"
RESUME = "RESULT decision_to_run_caught_up: 1.19x (2.11 s vs baseline ping 1.77 s)"
MEMORY = "RESULT memory_200_revisions: 1.09x (582 MB vs baseline at rest 533 MB; peak 1858 MB)"


def verdict(line: str):
    [result] = goals.parse_results(line)
    return goals.check(result)


def test_parse_keeps_the_line_exactly_as_printed():
    text = f"setup 3 s\nsome table\n{OUTBOX}   \nwhole run 33 s\n  RESULT indented: 1.0x\n"
    [result] = goals.parse_results(text)
    assert (result.name, result.ratio, result.line) == ("outbox_send_6000", 4.68, OUTBOX)


@pytest.mark.parametrize(("line", "status"), [
    (CLI, "not met"), (CLI.replace("10.91x", "9.80x"), "met"), (CLI.replace("10.91x", "10.00x"), "met"),
    (SELECTION, "not met"), (SELECTION.replace("14.50x", "2.90x"), "met"),
    (START, "not met"), (START.replace("1.76x", "1.40x"), "met"),
    (RESUME, "met"), (RESUME.replace("1.19x", "1.21x"), "not met"),
    (DASH_LIST, "not met"), (DASH_LIST.replace("2.11x", "1.49x"), "met"),
    (DASH_REV, "no goal"),
])
def test_time_goals(line, status):
    assert verdict(line).status == status


def test_throughput_goal_read_from_a_time_ratio():
    # outbox: throughput >= 0.6x is time <= 1/0.6 = 1.67x
    v = verdict(OUTBOX)
    assert (v.status, v.goal) == ("not met", "throughput >= 0.6x (printed time ratio <= 1.67x)")
    assert "throughput 0.21x" in v.note
    fast = OUTBOX.replace("4.68x", "1.60x").replace("313 vs 1463", "915 vs 1463")
    assert verdict(fast).status == "met"
    slow = OUTBOX.replace("4.68x", "1.70x").replace("313 vs 1463", "861 vs 1463")
    assert verdict(slow).status == "not met"
    # sweep: throughput >= 0.5x is time <= 2x
    assert verdict(SWEEP).status == "not met"
    assert verdict(SWEEP.replace("6.18x", "1.90x").replace("183 vs 1133", "596 vs 1133")).status == "met"


def test_a_line_whose_ratio_is_already_a_throughput_is_caught_not_misread():
    # Were the outbox's line to print msg/s outbox / plain (0.21x), read as a time ratio it would
    # be 4.8x throughput, "met": its own rates say otherwise.
    flipped = OUTBOX.replace("4.68x", "0.21x")
    v = verdict(flipped)
    assert v.status == "failed" and "direction" in v.note


def test_memory_hold_and_peak_processes():
    assert verdict(MEMORY).status == "met"
    assert "not checked" in verdict(MEMORY).note
    assert verdict(MEMORY.replace("1.09x", "1.12x")).status == "not met"
    # as bench_memory.py prints it since issue 15
    with_procs = MEMORY.replace("peak 1858 MB)", "peak 1858 MB; peak 11 processes (run limit 8 + 3 = 11))")
    v = verdict(with_procs)
    assert v.status == "met" and "peak processes 11 <= run limit + 3 = 11" in v.note
    assert verdict(with_procs.replace("peak 11 processes", "peak 12 processes")).status == "not met"
    assert verdict(with_procs.replace("run limit 8", "run limit 9")).status == "met"


def test_a_size_other_than_the_goal_s_is_said():
    assert "measured at 100; the goal is set at 1,000" in verdict(DASH_LIST).note
    assert "measured at 4,000; the goal is set at 80,000" in verdict(SWEEP).note
    assert "measured at" not in verdict(OUTBOX).note  # 6,000 is the size


def test_summary_missing_lines_and_failures():
    runs = {
        "cli": (0, CLI + "\n"),
        "dashboard": (0, f"{DASH_LIST}\n{DASH_REV}\n"),
        "outbox": (1, "Traceback ...\nRuntimeError: boom\n"),  # failed before its RESULT
        "start": (0, "no result printed\n"),  # ran, but the goal's line is missing (renamed?)
        "resume": (None, ""),  # not run: no exit status recorded
        "memory": (1, MEMORY + "\n"),  # its RESULT, then a non-zero exit
    }
    by_line = {v.line: v for v in goals.summarize(runs)}
    assert by_line[CLI].status == "not met"
    assert by_line[DASH_REV].status == "no goal"
    assert by_line["RESULT outbox_send_N: none"].note == "exit 1, no RESULT line"
    assert by_line["RESULT start_to_N_delivered: none"].status == "failed"
    assert by_line["RESULT decision_to_run_caught_up: none"].note == "not run"
    assert by_line[MEMORY].status == "met" and by_line["bench_memory.py"].status == "failed"
    assert [v.status for v in goals.summarize({"cli": (0, CLI)})] == ["not met"]


def test_main_exit_status(tmp_path):
    (tmp_path / "cli.log").write_text(CLI + "\n")
    (tmp_path / "cli.rc").write_text("0\n")
    (tmp_path / "resume.log").write_text(RESUME + "\n")
    (tmp_path / "resume.rc").write_text("0\n")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "goals.py"), str(tmp_path), "cli", "resume"],
                         check=False, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr  # a goal not met is not an error
    assert out.stdout.splitlines() == [
        f"{CLI}  |  goal time <= 10x  |  not met",
        f"{RESUME}  |  goal time <= 1.2x  |  met",
        "1 met, 1 not met",
    ]
    (tmp_path / "resume.rc").write_text("1\n")
    (tmp_path / "resume.log").write_text("Traceback\n")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "goals.py"), str(tmp_path), "cli", "resume"],
                         check=False, capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stdout.splitlines()[-1] == "1 not met, 1 failed"


def test_every_result_the_benchmarks_print_has_a_goal_or_is_known_without_one():
    # The RESULT f-strings of bench/bench_*.py as patterns ({...} any word) against one name
    # per goal (its size 100): a renamed or new RESULT line must be added to the goal table
    # (or to NO_GOAL) in the same change, and every goal's line must be printed somewhere.
    printed = {}
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        for m in re.finditer(r'f"RESULT ([^:"]+):', path.read_text()):
            parts = re.split(r"\{[^}]*\}", m.group(1))
            printed[m.group(1)] = ("\\w+".join(map(re.escape, parts)), path.name)
    assert printed, "no RESULT line found in bench/"
    names = {re.sub(r"\(\?P<size>\\d\+\)|\\d\+", "100", p): p
             for p in [g.pattern for g in goals.GOALS] + list(goals.NO_GOAL)}
    for template, (regex, file) in printed.items():
        assert any(re.fullmatch(regex, n) for n in names), f"{file} prints RESULT {template}, unknown to bench/goals.py"
    for name, pattern in names.items():
        assert any(re.fullmatch(regex, name) for regex, _ in printed.values()), f"no benchmark prints {pattern}"
    for goal in goals.GOALS:
        assert (ROOT / "bench" / f"bench_{goal.bench}.py").exists()
