"""The benchmarks' goals (issues 11 and 15), and the summary `bench/run_all.sh` ends with.

Every benchmark prints, as its last line, `RESULT <name>: <ratio>x (...)`, where the ratio is
always the measured thing's **time** (or memory) divided by its baseline's, measured in the same
run (bench/README.md). Some goals are stated as a **throughput** ratio instead (the outbox, the
sweep: messages per second against the plain loop); the table below says, for each, which one the
printed ratio is and which one the goal is, and the check turns one into the other (throughput
ratio = 1 / time ratio for the same work). Nothing is inferred from the numbers. Where a RESULT
line also gives both rates (`313 vs 1463 msg/s`), they must agree with that reading, or the line is
reported as inconsistent (a benchmark whose ratio changed direction is caught, not misjudged).

    .venv/bin/python bench/goals.py LOG_DIR cli outbox ...   # what run_all.sh calls

reads `LOG_DIR/<bench>.log` (the benchmark's whole output) and `LOG_DIR/<bench>.rc` (its exit
status) for each benchmark named, prints one line per RESULT (the line exactly as printed, its
goal, `met` / `not met`) and exits 1 if a benchmark failed: it exited non-zero, or printed no
RESULT line a goal expects from it. A goal not met is reported, not an error, so `make bench`
stays usable while a goal is open.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

TIME, THROUGHPUT, MEMORY = "time", "throughput", "memory"


@dataclass(frozen=True)
class Goal:
    bench: str  # bench/bench_<bench>.py prints it
    pattern: str  # the RESULT name, as a regex; its group "size" is the size measured, if any
    printed: str  # what the printed ratio is: TIME or MEMORY (always the measured / the baseline)
    goal: str  # what the goal is stated in: TIME, THROUGHPUT or MEMORY
    op: str  # "<=" or ">="
    threshold: float
    meaning: str
    size: int | None = None  # the size the goal is set at (the name's "size" group), if it has one
    source: str = "issue 15"


GOALS: tuple[Goal, ...] = (
    Goal("cli", r"cli_plan_check", TIME, TIME, "<=", 10.0,
         "`avtaleflyt plan check` of the example vs `python -c pass`, wall time", source="issue 11"),
    Goal("outbox", r"outbox_send_(?P<size>\d+)", TIME, THROUGHPUT, ">=", 0.6,
         "the outbox sender's msg/s vs a plain aiosmtplib loop's, same server", size=6_000),
    Goal("sweep", r"sweep_(?P<size>\d+)", TIME, THROUGHPUT, ">=", 0.5,
         "the sweep end to end, msg/s vs a plain aiosmtplib loop's", size=80_000),
    Goal("selection", r"selection_(?P<size>\d+)", TIME, TIME, "<=", 3.0,
         "the sweep's selection vs a plain SELECT of the same rows", size=80_000),
    Goal("dashboard", r"dashboard_list_(?P<size>\d+)", TIME, TIME, "<=", 1.5,
         "`/` at N revisions vs at 10 (and the same SQL statements)", size=1_000),
    Goal("start", r"start_to_(?P<size>\d+)_delivered", TIME, TIME, "<=", 1.4,
         "`revision start` -> 40 decision requests delivered vs a ping run", size=40),
    Goal("resume", r"decision_to_run_caught_up", TIME, TIME, "<=", 1.2,
         "a decision recorded -> its run caught up vs a ping run (hold)"),
    Goal("memory", r"memory_(?P<size>\d+)_revisions", MEMORY, MEMORY, "<=", 1.1,
         "the embedded stack's RSS with N revisions vs at rest (hold); peak processes <= run limit + 3",
         size=200),
)

# RESULT names printed without a goal: reported as they are.
NO_GOAL = (r"dashboard_revision_\d+",)

RESULT = re.compile(r"^RESULT (?P<name>[\w.-]+): (?P<ratio>\d+(?:\.\d+)?)x(?P<rest>.*)$")
RATES = re.compile(r"(?P<a>\d+(?:\.\d+)?) vs (?P<b>\d+(?:\.\d+)?) msg/s")
# bench_memory.py: "... peak 16 processes (run limit 8 + 3 = 11) ..."; either order of words.
PROCESSES = re.compile(r"(?P<n>\d+) processes")
RUN_LIMIT = re.compile(r"run limit (?P<n>\d+)")
RATE_TOLERANCE = 0.1  # the printed ratio has 2 decimals and the rates none: 10 % is far from 1/x


@dataclass(frozen=True)
class Result:
    name: str
    ratio: float
    line: str  # exactly as printed


@dataclass(frozen=True)
class Verdict:
    line: str  # the RESULT line as printed, or what stands in for a missing one
    goal: str  # the goal in words ("" when there is none)
    status: str  # "met", "not met", "no goal", "failed"
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def render(self) -> str:
        parts = [self.line]
        if self.goal:
            parts.append(f"goal {self.goal}")
        parts.append(self.status + (f" ({self.note})" if self.note else ""))
        return "  |  ".join(parts)


def parse_results(text: str) -> list[Result]:
    """Every RESULT line of a benchmark's output, in order, exactly as printed."""
    found = []
    for raw in text.splitlines():
        line = raw.rstrip()
        m = RESULT.match(line)
        if m:
            found.append(Result(m["name"], float(m["ratio"]), line))
    return found


def goal_for(name: str) -> Goal | None:
    return next((g for g in GOALS if re.fullmatch(g.pattern, name)), None)


def describe(goal: Goal) -> str:
    text = f"{goal.goal} {goal.op} {goal.threshold:g}x"
    if goal.goal != goal.printed:
        # The printed ratio is a time ratio: give the bound it must meet, in its own direction.
        flipped = "<=" if goal.op == ">=" else ">="
        text += f" (printed {goal.printed} ratio {flipped} {1 / goal.threshold:.2f}x)"
    return text


def compare(value: float, op: str, threshold: float) -> bool:
    return value <= threshold if op == "<=" else value >= threshold


def check(result: Result) -> Verdict:
    """The verdict for one RESULT line: met, not met, no goal, or failed (inconsistent line)."""
    goal = goal_for(result.name)
    if goal is None:
        return Verdict(result.line, "", "no goal")
    value = result.ratio if goal.goal == goal.printed else (1 / result.ratio if result.ratio else float("inf"))
    notes = []
    if goal.goal != goal.printed:
        notes.append(f"{goal.goal} {value:.2f}x")
    if goal.goal == THROUGHPUT and (rates := RATES.search(result.line)):
        a, b = float(rates["a"]), float(rates["b"])
        if b and abs(a / b - value) > RATE_TOLERANCE * max(value, a / b):
            return Verdict(result.line, describe(goal), "failed",
                           f"the line's rates give {goal.goal} {a / b:.2f}x, its ratio {value:.2f}x: "
                           "which direction does it print? fix the goal table or the benchmark")
    met = compare(value, goal.op, goal.threshold)
    if goal.bench == "memory":
        procs, limit = PROCESSES.search(result.line), RUN_LIMIT.search(result.line)
        if procs and limit:
            bound = int(limit["n"]) + 3
            ok = int(procs["n"]) <= bound
            notes.append(f"peak processes {procs['n']} {'<=' if ok else '>'} run limit + 3 = {bound}")
            met = met and ok
        else:
            notes.append("peak processes not in the RESULT line: not checked")
    size = re.fullmatch(goal.pattern, result.name).groupdict().get("size")
    if goal.size is not None and size is not None and int(size) != goal.size:
        notes.append(f"measured at {int(size):,}; the goal is set at {goal.size:,}")
    return Verdict(result.line, describe(goal), "met" if met else "not met", "; ".join(notes))


def summarize(runs: dict[str, tuple[int | None, str]]) -> list[Verdict]:
    """One verdict per RESULT line of each benchmark run (name -> (exit status or None, output)),
    and one `failed` for each benchmark that failed or left out a RESULT line a goal expects."""
    verdicts = []
    for bench, (status, text) in runs.items():
        results = parse_results(text)
        verdicts.extend(check(r) for r in results)
        for goal in (g for g in GOALS if g.bench == bench):
            if not any(re.fullmatch(goal.pattern, r.name) for r in results):
                why = "not run" if status is None else f"exit {status}, no RESULT line"
                name = goal.pattern.replace(r"(?P<size>\d+)", "N")
                verdicts.append(Verdict(f"RESULT {name}: none", describe(goal), "failed", why))
        if status and results:
            verdicts.append(Verdict(f"bench_{bench}.py", "", "failed", f"exit {status} after its RESULT lines"))
        if not results and not any(g.bench == bench for g in GOALS):
            why = "not run" if status is None else f"exit {status}, no RESULT line"
            verdicts.append(Verdict(f"RESULT {bench}: none", "", "failed", why))
    return verdicts


def read_runs(log_dir: Path, benches: list[str]) -> dict[str, tuple[int | None, str]]:
    runs = {}
    for bench in benches:
        log, rc = log_dir / f"{bench}.log", log_dir / f"{bench}.rc"
        text = log.read_text(errors="replace") if log.exists() else ""
        status = int(rc.read_text().strip()) if rc.exists() and rc.read_text().strip() else None
        runs[bench] = (status, text)
    return runs


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: goals.py LOG_DIR BENCH...", file=sys.stderr)
        return 2
    verdicts = summarize(read_runs(Path(argv[0]), argv[1:]))
    for v in verdicts:
        print(v.render())
    counts = {s: sum(v.status == s for v in verdicts) for s in ("met", "not met", "no goal", "failed")}
    print(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
