"""Benchmark: the sweep's selection — what is due among 80,000 open obligations — against reading the same rows.

    .venv/bin/python bench/bench_selection.py                         # 2,000 revisions × 40 parties, ~1 min
    .venv/bin/python bench/bench_selection.py --revisions 200         # 8,000

Setup (timed, not part of the figures): `bench_sweep.build_database` — a fresh SQLite
domain database with N revisions × P parties in political treatment, every party's
treatment open (status `sent`), the deadline 14 days after `--as-of`, so the 14-day
decision reminder is due for every one of the N × P obligations (`partyobligation` rows
of kind `political_treatment`, beside the answered ones of the hearing). The outbox is empty.

- value: `run_sweep(as_of, dry_run=True)` — what `avtaleflyt reminders run --dry-run`
  calls and the selection half of every sweep: set-wise since issue 15 (`tasks.sweep._select`):
  one transaction, one query for the active revisions, one for their active stages, then for
  the stages that can be due (`models.reminders.may_be_due`) their party obligations (with the
  party's `active`) and forum decisions in chunks of 900 stage ids, as Core rows; the pure rules
  (`models.reminders.plan_stages`); then one query asking the outbox which of the due keys it
  holds (`_in_outbox`). No revision is locked. It sends and writes nothing.
  Checked: it finds exactly N × P due reminders, all new.
- baseline: the same rows read with plain SQL into Python tuples on one connection
  (sqlite3 cursor, `fetchall`): the active revisions, and their stages, parties, party
  obligations and forum decisions, one `SELECT … JOIN revision` per table. The unavoidable cost of
  reading what the selection has to look at.
- also given (not the ratio): with `--orm`, the same five reads through SQLAlchemy's ORM in
  one session, one query per table (objects instead of tuples); inside the selection, the time
  spent in `_select` (queries, rows, rules) and in `plan_stages` (the rules alone), from wrappers.
- The ratio is a **time** ratio: lower is better. Goal (issue 15): **≤ 3x** at the full size
  (2,000 × 40 = 80,000 open obligations; bench/goals.py). Before issue 15: 14.5x.

Each is run once to warm the page cache, then `--repeat` times interleaved. The ratio is
of the best times (as `timeit` takes them: the work is deterministic, and the best run is
the one least slowed by other processes on a shared machine); medians are printed too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_sweep import AS_OF, build_database  # noqa: E402

def plain_select(engine) -> int:  # noqa: ANN001
    """The rows the selection reads, as tuples; returns how many."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT * FROM revision WHERE status = ? ORDER BY slug", ("active",))
        n = len(cur.fetchall())
        cur.execute("SELECT s.* FROM stage s JOIN revision r ON r.id = s.revision_id WHERE r.status = ?", ("active",))
        stages = cur.fetchall()
        n += len(stages)
        cur.execute("SELECT p.* FROM party p JOIN revision r ON r.id = p.revision_id WHERE r.status = ?", ("active",))
        n += len(cur.fetchall())
        for table in ("partyobligation", "forumdecision"):
            cur.execute(f"SELECT x.* FROM {table} x JOIN stage s ON s.id = x.stage_id JOIN revision r ON r.id = s.revision_id "
                        "WHERE r.status = ?", ("active",))
            n += len(cur.fetchall())
        cur.close()
        return n
    finally:
        raw.close()


def orm_select(engine) -> int:  # noqa: ANN001
    from sqlmodel import Session, col, select

    from avtaleflyt.models.enums import RevisionStatus
    from avtaleflyt.models.tables import ForumDecision, Party, PartyObligation, Revision, Stage

    with Session(engine) as session:
        revisions = session.exec(select(Revision).where(Revision.status == RevisionStatus.active).order_by(Revision.slug)).all()
        ids = select(Revision.id).where(Revision.status == RevisionStatus.active)
        stages = session.exec(select(Stage).where(col(Stage.revision_id).in_(ids))).all()
        stage_ids = select(Stage.id).where(col(Stage.revision_id).in_(ids))
        parties = session.exec(select(Party).where(col(Party.revision_id).in_(ids))).all()
        obligations = session.exec(select(PartyObligation).where(col(PartyObligation.stage_id).in_(stage_ids))).all()
        decisions = session.exec(select(ForumDecision).where(col(ForumDecision.stage_id).in_(stage_ids))).all()
        return len(revisions) + len(stages) + len(parties) + len(obligations) + len(decisions)


class Timer:
    def __init__(self, module, name: str) -> None:  # noqa: ANN001
        self.module, self.name, self.real, self.seconds = module, name, getattr(module, name), 0.0

    def __enter__(self) -> Timer:
        real = self.real

        def timed(*a, **kw):
            started = time.perf_counter()
            try:
                return real(*a, **kw)
            finally:
                self.seconds += time.perf_counter() - started

        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.module, self.name, self.real)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=2000)
    parser.add_argument("--parties", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF)
    parser.add_argument("--orm", action="store_true", help="also read the same rows as ORM objects in one session (slow)")
    args = parser.parse_args()
    n = args.revisions * args.parties
    whole = time.perf_counter()

    folder = Path(tempfile.mkdtemp(prefix="bench-selection-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    os.environ.update({"AVTALEFLYT_DATA_DIR": str(folder / "data"), "AVTALEFLYT_DATABASE_URL": url})
    for name in ("AVTALEFLYT_SMTP_HOST", "AVTALEFLYT_SECRET_KEY"):
        os.environ.pop(name, None)

    import avtaleflyt.actions  # noqa: F401  run_sweep imports it (and Prefect) on first call: not the selection's time
    from avtaleflyt.db import engine_for
    from avtaleflyt.models import reminders
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks import sweep
    from avtaleflyt.tasks.sweep import run_sweep

    sys.path.insert(0, str(HERE))
    from embedded import load, machine, median

    get_settings.cache_clear()
    print(f"machine: {machine()}; load at start {load()}", flush=True)
    try:
        t = time.perf_counter()
        engine = engine_for(url)
        counts = build_database(engine, args.revisions, args.parties, args.as_of)
        print(f"setup {time.perf_counter() - t:.1f} s: {counts['revision']} revisions, {counts['party']} parties, "
              f"{counts['partyobligation:political_treatment']} open treatments, {counts['partyobligation:hearing']} hearing responses "
              f"(party obligations), {counts['stage']} stages",
              flush=True)

        def selection() -> tuple[float, float, float]:
            with Timer(sweep, "_select") as plan, Timer(reminders, "plan_stages") as rule:
                started = time.perf_counter()
                report = run_sweep(args.as_of, dry_run=True, engine=engine)
                seconds = time.perf_counter() - started
            due = sum(len(r.due) for r in report.revisions)
            if due != n or report.enqueued != n or report.errors:
                raise RuntimeError(f"selection found {due} due, {report.enqueued} new, errors {report.errors[:3]}; expected {n}")
            return seconds, plan.seconds, rule.seconds

        def timed(fn) -> tuple[float, int]:  # noqa: ANN001
            started = time.perf_counter()
            rows = fn(engine)
            return time.perf_counter() - started, rows

        selection(), timed(plain_select)  # warm-up
        if args.orm:
            timed(orm_select)
        sel, plan, rule, plain, orm = [], [], [], [], []
        rows = 0
        for i in range(args.repeat):
            steps = ("sel", "plain", "orm") if i % 2 == 0 else ("orm", "plain", "sel")
            steps = tuple(x for x in steps if x != "orm" or args.orm)
            for step in steps:
                if step == "sel":
                    s, p, r = selection()
                    sel.append(s), plan.append(p), rule.append(r)
                elif step == "plain":
                    s, rows = timed(plain_select)
                    plain.append(s)
                else:
                    s, orm_rows = timed(orm_select)
                    orm.append(s)
                    assert orm_rows == rows or not rows, (orm_rows, rows)
            print(f"  round {i + 1}: selection {sel[-1]:.2f} s, plain SELECT {plain[-1]:.3f} s"
                  f"{f', ORM {orm[-1]:.2f} s' if orm else ''} (load {load()})", flush=True)
        engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    sel_m, plain_m = min(sel), min(plain)
    # the split of the selection's time: from its best round
    best = sel.index(sel_m)
    plan_m, rule_m = plan[best], rule[best]
    print(f"\n{args.revisions} revisions × {args.parties} parties = {n} open obligations, as of {args.as_of}; {rows} rows read")
    print(f"{'':58}{'best':>9}{'median':>9}{'µs/obligation (best)':>22}")
    for label, values in (
        ("baseline: plain SELECT of the same rows into tuples", plain),
        *((("ORM: the same rows as objects, one session", orm),) if orm else ()),
        ("selection: run_sweep(dry_run=True)", sel),
        ("  of which _select (set-wise reads + rules)", plan),
        ("  of which plan_stages (the rules alone)", rule),
    ):
        m = min(values)
        print(f"{label:58}{m:8.3f}s{median(values):8.3f}s{1e6 * m / n:22.1f}")
    other = sel_m - plan_m
    print(f"in the best selection round: the rest (transaction, outbox key check, report): {other:.2f} s "
          f"({100 * other / sel_m:.0f} %); _select without the rules: {plan_m - rule_m:.2f} s ({100 * (plan_m - rule_m) / sel_m:.0f} %); "
          f"rule: {rule_m:.2f} s ({100 * rule_m / sel_m:.0f} %)")
    print(f"{args.repeat} rounds; whole run {time.perf_counter() - whole:.0f} s; load at the end {load()}")
    print(f"RESULT selection_{n}: {sel_m / plain_m:.2f}x ({sel_m:.2f} s vs baseline plain SELECT {plain_m:.3f} s; best of {args.repeat})")


if __name__ == "__main__":
    main()
