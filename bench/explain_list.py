"""The list page's query plans on PostgreSQL at N revisions (issue 15): EXPLAIN of every statement
`/` issues, for the unfiltered list and each filter, with the list's indexes (migration 0022)
and without them (downgraded to 0021). A throwaway cluster in a temp folder (tests/pg.py).
Run: .venv/bin/python bench/explain_list.py [--revisions 1000] [--parties 40]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from avtaleflyt.tasks.revision_list import ListFilters, list_revisions

from avtaleflyt.db import engine_for, session_scope
from bench.bench_dashboard import TODAY, fill
from tests.pg import PostgresServer

CASES = {
    "unfiltered": ListFilters(),
    "status=active": ListFilters(status="active"),
    "helsefellesskap": ListFilters(helsefellesskap="Helsefellesskapet 1"),
    "overdue": ListFilters(overdue=True),
    "mine": ListFilters(mine=True),
}

# A mix as a year of use might leave it: four helsefellesskap, a third completed, one revision in
# ten with its hearing still open (and overdue on TODAY), a council meeting noted for one party in 50.
MIX = (
    "UPDATE revision SET helsefellesskap = 'Helsefellesskapet ' || mod(id, 4)",
    "UPDATE revision SET status = 'completed' WHERE mod(id, 3) = 0",
    "UPDATE stage SET status = 'done' WHERE kind = 'hearing' AND mod(revision_id, 10) <> 0",
    "UPDATE partyobligation SET meeting_date = '2024-11-01' WHERE mod(id, 50) = 0",
)


def statements(engine, filters: ListFilters) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []
    listener = lambda conn, cursor, statement, parameters, context, many: seen.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", listener)
    with session_scope(engine) as s:
        list_revisions(s, filters, today=TODAY, may_act=True, limit=20, offset=0)
    event.remove(engine, "before_cursor_execute", listener)
    return seen


def explain(engine, label: str) -> list[str]:
    """The plans; returns the names of tables read by a sequential scan."""
    scans: set[str] = set()
    for case, filters in CASES.items():
        for number, (statement, parameters) in enumerate(statements(engine, filters), 1):
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + statement, parameters)
                plan = [row[0] for row in cursor.fetchall()]
            finally:
                raw.close()
            found = {m.group(1) for line in plan if (m := re.search(r"Seq Scan on (\w+)", line))}
            scans |= found
            print(f"--- {label} · {case} · statement {number}: {statement.split(chr(10))[0][:90]}")
            print("\n".join(plan))
    return sorted(scans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--revisions", type=int, default=1000)
    parser.add_argument("--parties", type=int, default=40)
    args = parser.parse_args()
    from alembic import command
    from alembic.config import Config

    from avtaleflyt.db import _migrations_dir, migrate

    server = PostgresServer().start()
    try:
        url = server.create_database("explain")
        migrate(url)
        engine = engine_for(url)
        started = time.perf_counter()
        fill(engine, args.revisions, args.parties)
        print(f"setup {args.revisions} revisions × {args.parties} parties: {time.perf_counter() - started:.0f} s", flush=True)
        with engine.begin() as conn:
            for statement in MIX:
                conn.exec_driver_sql(statement)
        with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        after = explain(engine, "with 0022")
        engine.dispose()
        cfg = Config()
        cfg.set_main_option("script_location", str(_migrations_dir()))
        cfg.set_main_option("sqlalchemy.url", url)
        command.downgrade(cfg, "0021")
        with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        before = explain(engine, "at 0021")
        engine.dispose()
        print(f"\nsequential scans at 0021 (before): {', '.join(before) or 'none'}")
        print(f"sequential scans with 0022 (after): {', '.join(after) or 'none'}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
