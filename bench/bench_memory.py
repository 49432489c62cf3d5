"""Benchmark: memory of the embedded stack at rest, and at rest again with 200 revisions started and suspended.

    .venv/bin/python bench/bench_memory.py                     # 200 revisions × 40 parties, ~10–30 min
    .venv/bin/python bench/bench_memory.py --revisions 50      # ~3–8 min

Goals (issue 15, holds): RESULT memory_<N>_revisions, the stack's RSS with N revisions at rest
against at rest, **<= 1.1x** (lower is better); and the peak process count of the processes that
run flows — the Prefect server, the SMTP sink, the serve process and its flow-run processes —
**<= AVTALEFLYT_RUN_LIMIT + 3** (the run limit bounds the flow-run processes; the three others
are always there). The dashboard's tree starts no runs and is counted apart. The RESULT line
carries both ("peak 11 processes (run limit 8 + 3 = 11)"); the benchmark exits non-zero when the
process bound is broken.

The whole embedded stack as `avtaleflyt up` runs it (bench/embedded.py): the Prefect
server (SQLite), the serve process (`python -m avtaleflyt.flows.serve`), the SMTP sink
and the dashboard, each a process tree. Memory is read from /proc (no psutil here): RSS
(`VmRSS`) and PSS (`smaps_rollup`, shared pages divided among the processes that share
them) summed over every process of the four trees, flow-run processes included.

1. at rest (the baseline): the stack started, one `ping` run done (so the serve process
   has started a run once), the dashboard's `/` and a `/revisions/…` page — or the login
   page when there is none — requested once as a logged-in reader, then 10 s of quiet;
   the median of 5 samples 1 s apart. Also given: the Prefect server and the serve
   process alone — a bare `prefect server start` plus the serve process with nothing
   running — as the brief's second baseline.
2. with N revisions: N plans of 40 parties whose only stage is political treatment,
   started with `avtaleflyt.actions.start_revision` (what `revision start` calls), at
   most `--window` (default: twice the run limit, 16) started and not yet suspended at any
   time: the next is started as soon as one suspends. Each run reconciles, sends its 40
   decision requests to the sink and suspends, and its flow-run process exits. The window
   is larger than the run limit so that the serve process's limit (`flows/serve.py`,
   AVTALEFLYT_RUN_LIMIT) is what bounds the flow-run processes, as it must when many runs
   become due together; before that limit, 200 revisions started at once made the serve
   process spawn 68 flow-run processes at once (bench/README.md). The whole tree is sampled
   every second for the peak. Once every run is suspended on its newest event (checked per run) and N × 40
   messages are in the mail folder, the same dashboard pages are requested and, after
   10 s of quiet, the same 5 samples are taken.

ratio = RSS with N revisions at rest / RSS at rest, the whole stack.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import embedded as E  # noqa: E402

SETTLE = 10.0
PASSWORD = "et langt nok passord for bench"


def snapshot(stack: E.BenchStack) -> dict[str, tuple[int, int, int]]:
    """name -> (RSS kB, PSS kB, processes) for each of the stack's process trees."""
    tree = E._children()
    return {name: E.tree_memory(proc.pid, tree) for name, proc in stack.processes.items()}


def at_rest(stack: E.BenchStack) -> dict[str, tuple[int, int, int]]:
    """After SETTLE s, the median of 5 samples 1 s apart, per tree."""
    time.sleep(SETTLE)
    samples = []
    for _ in range(5):
        samples.append(snapshot(stack))
        time.sleep(1)
    out = {}
    for name in stack.processes:
        rows = [s[name] for s in samples]
        out[name] = (int(E.median([r[0] for r in rows])), int(E.median([r[1] for r in rows])), int(E.median([r[2] for r in rows])))
    return out


class Sampler(threading.Thread):
    """Samples the whole stack's RSS every second; `.peak` (kB) and `.peak_processes`."""

    def __init__(self, stack: E.BenchStack) -> None:
        super().__init__(daemon=True)
        self.stack, self.stop, self.peak, self.peak_processes, self.most_processes = stack, threading.Event(), 0, 0, 0
        self.largest_run = 0  # kB: the largest flow-run process (a child of the serve process) seen
        self.most_running = 0  # the most processes at once of the trees that run flows (all but the dashboard)
        self.most_runs = 0  # the most flow-run processes (the serve process's descendants) at once

    def run(self) -> None:
        worker = self.stack.processes["worker"].pid
        while not self.stop.wait(1.0):
            tree = E._children()
            runs = E.tree_pids(worker, tree)[1:]
            self.most_runs = max(self.most_runs, len(runs))
            for pid in runs:
                self.largest_run = max(self.largest_run, E.memory_kb(pid)[0])
            snap = {name: E.tree_memory(proc.pid, tree) for name, proc in self.stack.processes.items()}
            rss = sum(v[0] for v in snap.values())
            count = sum(v[2] for v in snap.values())
            self.most_processes = max(self.most_processes, count)
            self.most_running = max(self.most_running, sum(v[2] for name, v in snap.items() if name != "dashboard"))
            if rss > self.peak:
                self.peak, self.peak_processes = rss, count


def browse(stack: E.BenchStack, slug: str | None) -> None:
    """As a logged-in reader: `/` and one revision's page (or the login page again when there is none)."""
    import httpx
    from sqlmodel import select

    from avtaleflyt.db import session_scope
    from avtaleflyt.models.enums import Role
    from avtaleflyt.models.tables import User
    from avtaleflyt.tasks.accounts import add_user

    with session_scope() as s:
        if s.exec(select(User).where(User.username == "bench")).first() is None:
            add_user(s, "bench", "Bench reader", Role.reader, PASSWORD)
    with httpx.Client(base_url=stack.dashboard_url, timeout=60) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        answer = client.post("/login", data={"csrf_token": token, "username": "bench", "password": PASSWORD, "next": "/"})
        assert answer.status_code in (200, 303), answer.status_code
        for path in ("/", f"/revisions/{slug}" if slug else "/login"):
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"dashboard {path}: {response.status_code}")


def show(label: str, snap: dict[str, tuple[int, int, int]]) -> tuple[float, float]:
    rss, pss, n = (sum(v[i] for v in snap.values()) for i in range(3))
    parts = ", ".join(f"{name} {v[0] / 1024:.0f}" for name, v in snap.items())
    print(f"{label:34}{rss / 1024:9.0f}{pss / 1024:9.0f}{n:7d}   RSS by tree (MB): {parts}")
    return rss / 1024, pss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=200)
    parser.add_argument("--parties", type=int, default=40)
    parser.add_argument("--window", type=int, default=None, help="revisions started but not yet suspended, at most "
                        "(default: twice AVTALEFLYT_RUN_LIMIT, so that the serve process's limit is what bounds the runs)")
    parser.add_argument("--keep", type=Path, default=None, help="data folder to use and keep (default: a temp dir)")
    args = parser.parse_args()
    from avtaleflyt.settings import get_settings

    run_limit = get_settings().run_limit  # the serve process reads the same environment
    args.window = args.window or 2 * run_limit
    whole = time.perf_counter()
    print(f"machine: {E.machine()}; load at start {E.load()}; run limit {run_limit}, window {args.window}", flush=True)
    with E.embedded_stack(dashboard=True, keep=args.keep) as stack:
        from avtaleflyt.actions import start_revision

        E.ping_once()
        browse(stack, None)
        rest = at_rest(stack)
        print("at rest: measured", flush=True)

        sampler = Sampler(stack)
        sampler.start()
        slugs: list[str] = []
        in_flight: set[str] = set()
        t = time.perf_counter()
        deadline = time.monotonic() + 60 * 30
        last_print = time.perf_counter()
        while len(slugs) < args.revisions or in_flight:
            while len(slugs) < args.revisions and len(in_flight) < args.window:
                slug = start_revision(E.political_plan(f"Benchminne {len(slugs):04d}", args.parties)).slug
                slugs.append(slug)
                in_flight.add(slug)
            time.sleep(0.5)
            for slug in list(in_flight):
                revision, state = E.run_state(slug)
                if E.caught_up(state, revision.seq):
                    in_flight.discard(slug)
                elif state is not None and state.is_final():
                    raise RuntimeError(f"{slug}: the run ended {state.type.value} {state.name}")
            if time.perf_counter() - last_print > 30:
                last_print = time.perf_counter()
                print(f"  {len(slugs) - len(in_flight)} of {args.revisions} suspended ({time.perf_counter() - t:.0f} s; "
                      f"{len(stack.mail_files())} messages; load {E.load()})", flush=True)
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(in_flight)} runs not suspended within 30 min")
            stack.check_alive()
        suspended_s = time.perf_counter() - t
        sampler.stop.set()
        sampler.join()
        marks = E.history_marks(slugs)
        if marks["ended_crashed"]:
            raise RuntimeError(f"runs ended Crashed or Failed: {marks['ended_crashed']}")
        messages = len(stack.mail_files())
        if messages != args.revisions * args.parties:
            raise RuntimeError(f"{messages} messages in the mail folder, {args.revisions * args.parties} expected")
        browse(stack, slugs[0])
        loaded = at_rest(stack)
        stack.check_alive()

    print(f"\n{'':34}{'RSS MB':>9}{'PSS MB':>9}{'procs':>7}")
    rest_rss, _ = show("at rest (the baseline)", rest)
    bare = {k: v for k, v in rest.items() if k in ("prefect-server", "worker")}
    show("  bare: server + serve process", bare)
    loaded_rss, _ = show(f"at rest with {args.revisions} revisions", loaded)
    print(f"{f'peak while starting {args.revisions}':34}{sampler.peak / 1024:9.0f}{'':9}{sampler.peak_processes:7d}"
          f"   (most processes at once: {sampler.most_processes}; largest flow-run process {sampler.largest_run / 1024:.0f} MB RSS)")
    bound = run_limit + 3
    print(f"processes that run flows (server, sink, serve process, flow runs), most at once: {sampler.most_running} "
          f"({sampler.most_runs} flow-run processes); bound: run limit {run_limit} + 3 = {bound}: "
          f"{'met' if sampler.most_running <= bound else 'NOT MET'}")
    print(f"{args.revisions} revisions × {args.parties} parties, at most {args.window} in flight: all suspended after {suspended_s:.0f} s "
          f"({60 * args.revisions / suspended_s:.0f} runs/min), {messages} decision requests delivered")
    print(f"liveness: {marks['crashed']} runs were ever Crashed/Failed (Stalled: {marks['stalled']}), "
          f"{marks['restarted']} restarted (AwaitingRestart), {marks['ended_crashed'] or 'none'} ended Crashed")
    print(f"whole run {time.perf_counter() - whole:.0f} s; load at the end {E.load()}")
    bare_rss = sum(v[0] for v in bare.values()) / 1024
    print(f"ratio with {args.revisions} / at rest: {loaded_rss / rest_rss:.2f}; against the bare server + serve process: "
          f"{loaded_rss / bare_rss:.2f}")
    print(f"RESULT memory_{args.revisions}_revisions: {loaded_rss / rest_rss:.2f}x ({loaded_rss:.0f} MB vs baseline at rest "
          f"{rest_rss:.0f} MB; peak {sampler.peak / 1024:.0f} MB; peak {sampler.most_running} processes (run limit {run_limit} + 3 = {bound}))")
    if sampler.most_running > bound:
        sys.exit(f"{sampler.most_running} processes at once ran flows: more than the run limit {run_limit} + 3")


if __name__ == "__main__":
    main()
