"""Benchmark: a party's decision recorded until the revision's run has resumed and caught up, against one `ping` run.

    .venv/bin/python bench/bench_resume.py               # 7 decisions + 7 pings, ~1.5 min
    .venv/bin/python bench/bench_resume.py --repeat 15

Goal (issue 15, a hold): RESULT decision_to_run_caught_up, the decision's median time
against the ping's, **<= 1.2x** (lower is better).

The embedded stack as `avtaleflyt up` runs it (bench/embedded.py: Prefect server on
SQLite, the serve process with runner poll 2 s, the SMTP sink). One revision of 40
parties whose only stage is political treatment is started and waits, suspended
(`AwaitingPoliticalTreatment`, gate `wait-<seq>`).

- value: `avtaleflyt.actions.execute(PartyDecision(revision=slug, party=…,
  outcome=approved, date=today), …)` — what `avtaleflyt party decide` calls:
  one transaction (the decision, the audit entry, the event counter, a receipt in the
  outbox), then `nudge`, which resumes the suspended run — until the run is **caught up**:
  suspended again on a gate made from the new event counter (`wait-<seq>` with seq ≥ the
  recorded one). That is the moment the run has started again from the top, reconciled
  the new decision, sent the receipt, and is ready for the next event: the run reflects
  the decision. The run's state is looked at every 0.1 s.
  Also given: when `record` returned to the CLI, when the run was first seen Running
  again (resumed: the state leaves Paused → Scheduled → Pending → Running), and when the
  decision receipt reached the SMTP sink.
- baseline: `run_deployment("ping/avtaleflyt")` until the run is seen COMPLETED: the same
  path (server → the serve process's next poll → a new flow-run process), with no work.

`--repeat` decisions (a different municipality each) interleaved with as many pings,
after one warm-up of each, each after a random part of the poll interval
(`embedded.random_phase`); medians and the ratio of the medians. Checked: every nudge
answered `resumed`, every receipt was delivered, and the database holds the decisions.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))

import embedded as E  # noqa: E402


def decide(stack: E.BenchStack, slug: str, party: str, results: dict | None) -> None:
    from prefect import get_client

    from avtaleflyt import clock
    from avtaleflyt.actions import WALL_CLOCK, execute
    from avtaleflyt.models.commands import parse_command

    revision, state = E.run_state(slug)
    if not E.caught_up(state, revision.seq):
        raise RuntimeError(f"{slug}: not waiting before the decision ({state and state.name})")
    before = set(stack.mail_files())
    t0_wall, t0 = time.time(), time.perf_counter()
    command = parse_command({"action": "party_decision", "revision": slug, "party": party, "outcome": "approved", "date": clock.today()})
    recorded, outcome = execute(command, actor="bench", clock=WALL_CLOCK)
    returned = time.perf_counter() - t0
    if outcome.nudge is None or outcome.nudge.value != "resumed":
        raise RuntimeError(f"{slug}: the run was not resumed: {outcome}")
    running = receipt = None
    deadline = t0 + 300
    with get_client(sync_client=True) as client:
        while True:
            state = client.read_flow_run(UUID(recorded.flow_run_id)).state
            now = time.perf_counter() - t0
            if running is None and state is not None and state.is_running():
                running = now
            if receipt is None and set(stack.mail_files()) - before:
                receipt = now
            if E.caught_up(state, recorded.seq):
                break
            if state is not None and state.is_final():
                raise RuntimeError(f"{slug}: the run ended {state.type.value} {state.name}")
            if now > 300:
                stack.check_alive()
                raise RuntimeError(f"{slug}: not caught up within 300 s (last {state and state.name})")
            time.sleep(E.POLL)
    caught = time.perf_counter() - t0
    while receipt is None:  # sent before the run suspends, so this is at most one look
        if set(stack.mail_files()) - before:
            receipt = time.perf_counter() - t0
        elif time.perf_counter() > deadline:
            raise RuntimeError(f"{slug}: no receipt for {party}")
        else:
            time.sleep(E.POLL)
    if results is not None:
        results["caught_up"].append(caught)
        results["returned"].append(returned)
        results["running"].append(running if running is not None else float("nan"))
        results["receipt"].append(receipt)
        results["phases"].append(E.phases(UUID(recorded.flow_run_id), t0_wall, t0_wall + caught))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="measured decisions and pings (default 7), after one warm-up each")
    parser.add_argument("--parties", type=int, default=40)
    parser.add_argument("--keep", type=Path, default=None, help="data folder to use and keep (default: a temp dir)")
    args = parser.parse_args()
    if args.repeat + 1 >= args.parties:
        parser.error("--repeat: fewer than --parties - 1 (one municipality decides per repeat)")
    whole = time.perf_counter()
    print(f"machine: {E.machine()}; load at start {E.load()}", flush=True)
    results: dict[str, list] = {k: [] for k in ("ping", "ping_phases", "caught_up", "returned", "running", "receipt", "phases")}
    with E.embedded_stack(keep=args.keep) as stack:
        from sqlmodel import select

        from avtaleflyt.actions import start_revision
        from avtaleflyt.db import session_scope
        from avtaleflyt.models.enums import DECIDED_TREATMENTS
        from avtaleflyt.models.tables import PartyObligation

        slug = start_revision(E.political_plan("Benchresume", args.parties)).slug
        E.wait_caught_up(slug)
        print(f"revision {slug} waits: {E.run_state(slug)[1].name}", flush=True)
        E.ping_once()
        decide(stack, slug, "Kommune 001", None)  # warm-up
        rng = random.Random(15)
        for i in range(args.repeat):
            order = ("ping", "decide") if i % 2 == 0 else ("decide", "ping")
            for which in order:
                E.random_phase(rng)
                if which == "ping":
                    seconds, run_id, t0_wall = E.ping_once_detailed()
                    results["ping"].append(seconds)
                    results["ping_phases"].append(E.phases(run_id, t0_wall, t0_wall + seconds))
                else:
                    decide(stack, slug, f"Kommune {i + 2:03d}", results)
            print(f"  decision {i + 1}: caught up {results['caught_up'][-1]:.2f} s (running at {results['running'][-1]:.2f} s); "
                  f"ping {results['ping'][-1]:.2f} s (load {E.load()})", flush=True)
        with session_scope() as s:
            obligations = s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment")).all()
            decided = sum(1 for t in obligations if t.status in DECIDED_TREATMENTS)
        if decided != args.repeat + 1:
            raise RuntimeError(f"{decided} decisions in the database, {args.repeat + 1} recorded")
        stack.check_alive()

    ping_m, caught_m = E.median(results["ping"]), E.median(results["caught_up"])
    print(f"\n{'':52}{'median':>9}{'range':>14}")
    print(f"{'ping run: run_deployment → COMPLETED':52}{ping_m:8.2f}s{E.spread(results['ping']):>14}")
    print(f"{'decision: record() returned (write + nudge)':52}{E.median(results['returned']):8.2f}s{E.spread(results['returned']):>14}")
    print(f"{'decision: run seen Running again (resumed)':52}{E.median(results['running']):8.2f}s{E.spread(results['running']):>14}")
    print(f"{'decision: receipt delivered to the SMTP sink':52}{E.median(results['receipt']):8.2f}s{E.spread(results['receipt']):>14}")
    print(f"{'decision: run suspended again on the new seq':52}{caught_m:8.2f}s{E.spread(results['caught_up']):>14}")
    print(f"phases (server state history), ping:     {E.phase_summary(results['ping_phases'])} (work = Running → seen Completed)")
    print(f"phases (server state history), decision: {E.phase_summary(results['phases'])} (call = record() → the run Scheduled again; "
          f"work = Running → seen suspended again)")
    print(f"ratio resumed (seen Running) / ping: {E.median(results['running']) / ping_m:.2f}")
    print(f"{args.repeat} decisions + {args.repeat} pings; whole run {time.perf_counter() - whole:.0f} s; load at the end {E.load()}")
    print(f"RESULT decision_to_run_caught_up: {caught_m / ping_m:.2f}x ({caught_m:.2f} s vs baseline ping {ping_m:.2f} s)")


if __name__ == "__main__":
    main()
