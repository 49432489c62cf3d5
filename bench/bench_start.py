"""Benchmark: `revision start` until all 40 decision requests are delivered, against one `ping` run.

    .venv/bin/python bench/bench_start.py                 # 7 pairs, 40 parties, ~1.5 min
    .venv/bin/python bench/bench_start.py --repeat 15     # steadier medians

Goal (issue 15): RESULT start_to_40_delivered, the start's median time against the ping's,
**<= 1.4x** (lower is better).

The embedded stack as `avtaleflyt up` runs it (bench/embedded.py): a Prefect server on
SQLite, the serve process (`python -m avtaleflyt.flows.serve`, runner poll 2 s) and the
SMTP sink (`python -m avtaleflyt.smtp_sink`, one fsync'd `.eml` file per message).

- value: `avtaleflyt.actions.start_revision(source)` — the function `avtaleflyt revision
  start FILE` calls — for a plan of 40 parties whose first (only) stage is political
  treatment, until the 40th decision request is stored by the SMTP sink (the mail folder
  is looked at every 0.1 s). On the way: parse and store the plan, `run_deployment`, the
  serve process picks the run up at its next poll, starts a flow-run process, which
  reconciles (starts the stage, composes and enqueues 40 decision requests with their
  report links and `.ics`) and sends the outbox over SMTP.
- baseline: `run_deployment("ping/avtaleflyt")` — a flow that returns "pong" — until the
  run is seen COMPLETED (the run is looked at every 0.1 s): the same path through server,
  poll and a new flow-run process, with no work in it.

Both are repeated `--repeat` times, interleaved (ping first, then start; then the other
way round), after one warm-up of each, each after a random part of the poll interval
(`embedded.random_phase`); each start is a new revision. Medians, and the
ratio of the medians. From the runs' state history (server timestamps) the time is also
split into: waiting for the poll (created → Pending), starting the flow-run process
(Pending → Running), and the run's own work (Running → last mail / Completed).
Every start is checked: the 40 files in the mail folder carry exactly the Message-IDs of
the revision's 40 decision-request rows in the outbox, all marked sent.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import embedded as E  # noqa: E402


def ping(results: dict) -> None:
    seconds, run_id, t0_wall = E.ping_once_detailed()
    results["ping"].append(seconds)
    results["ping_phases"].append(E.phases(run_id, t0_wall, t0_wall + seconds))


def start(stack: E.BenchStack, title: str, parties: int, results: dict | None) -> str:
    from avtaleflyt.actions import start_revision

    source = E.political_plan(title, parties)
    before = set(stack.mail_files())
    t0_wall, t0 = time.time(), time.perf_counter()
    started = start_revision(source)
    returned = time.perf_counter() - t0
    deadline = t0 + 300
    first = None
    while True:
        new = set(stack.mail_files()) - before
        if new and first is None:
            first = time.perf_counter() - t0
        if len(new) >= parties:
            break
        if time.perf_counter() > deadline:
            stack.check_alive()
            raise RuntimeError(f"{started.slug}: {len(new)} of {parties} decision requests delivered in 300 s")
        time.sleep(E.POLL)
    seconds = time.perf_counter() - t0
    E.wait_caught_up(started.slug)  # not timed: the next measurement starts with the worker idle
    # exactly this revision's decision requests, each once
    delivered = set(stack.mail_files()) - before
    ids, expected = E.message_ids(sorted(delivered)), E.outbox_ids(started.slug, "decision_request")
    if len(delivered) != parties or ids != expected or len(expected) != parties:
        raise RuntimeError(f"{started.slug}: {len(delivered)} files, {len(ids & expected)} of {len(expected)} expected Message-IDs")
    if results is not None:
        from uuid import UUID

        results["start"].append(seconds)
        results["start_returned"].append(returned)
        results["start_first"].append(first)
        results["start_phases"].append(E.phases(UUID(started.flow_run_id), t0_wall, t0_wall + seconds))
    return started.slug


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="measured pairs (default 7), after one warm-up each")
    parser.add_argument("--parties", type=int, default=40)
    parser.add_argument("--keep", type=Path, default=None, help="data folder to use and keep (default: a temp dir)")
    args = parser.parse_args()
    whole = time.perf_counter()
    print(f"machine: {E.machine()}; load at start {E.load()}", flush=True)
    results: dict[str, list] = {k: [] for k in ("ping", "ping_phases", "start", "start_returned", "start_first", "start_phases")}
    with E.embedded_stack(keep=args.keep) as stack:
        E.ping_once()
        start(stack, "Benchstart oppvarming", args.parties, None)
        rng = random.Random(15)
        for i in range(args.repeat):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for which in order:
                E.random_phase(rng)
                if which == 0:
                    ping(results)
                else:
                    start(stack, f"Benchstart {i:03d}", args.parties, results)
            print(f"  pair {i + 1}: ping {results['ping'][-1]:.2f} s, start → {args.parties} delivered "
                  f"{results['start'][-1]:.2f} s (load {E.load()})", flush=True)
        stack.check_alive()

    ping_m, start_m = E.median(results["ping"]), E.median(results["start"])
    ratio = start_m / ping_m
    print(f"\n{'':44}{'median':>9}{'range':>14}")
    print(f"{'ping run: run_deployment → COMPLETED':44}{ping_m:8.2f}s{E.spread(results['ping']):>14}")
    print(f"{'start: start_revision returned':44}{E.median(results['start_returned']):8.2f}s{E.spread(results['start_returned']):>14}")
    print(f"{'start: first decision request delivered':44}{E.median(results['start_first']):8.2f}s{E.spread(results['start_first']):>14}")
    print(f"{f'start: all {args.parties} decision requests delivered':44}{start_m:8.2f}s{E.spread(results['start']):>14}")
    print(f"phases (server state history), ping:  {E.phase_summary(results['ping_phases'])} (work = Running → seen Completed)")
    print(f"phases (server state history), start: {E.phase_summary(results['start_phases'])} (work = Running → last mail)")
    print(f"{args.repeat} pairs; whole run {time.perf_counter() - whole:.0f} s; load at the end {E.load()}")
    print(f"RESULT start_to_{args.parties}_delivered: {ratio:.2f}x ({start_m:.2f} s vs baseline ping {ping_m:.2f} s)")


if __name__ == "__main__":
    main()
