"""Dashboard pages as data grows: render time of `/` and `/revisions/{slug}` at N
revisions × P parties, as a ratio to the same at 10 revisions, and SQL statements
per page. Run: .venv/bin/python bench/bench_dashboard.py [--revisions 1000] [--parties 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from avtaleflyt.dashboard import create_app  # noqa: E402
from avtaleflyt.db import engine_for, session_scope  # noqa: E402
from avtaleflyt.models.enums import Role  # noqa: E402
from avtaleflyt.models.plan import parse_plan  # noqa: E402
from avtaleflyt.tasks import records  # noqa: E402
from avtaleflyt.tasks.reconcile import reconcile_revision  # noqa: E402
from avtaleflyt.tasks.store import store_revision  # noqa: E402
from tests.test_dashboard import big_plan  # noqa: E402
from tests.web import log_in  # noqa: E402

TODAY = dt.date(2024, 11, 20)
REPEAT = 30


def fill(engine, revisions: int, parties: int) -> None:
    for i in range(revisions):
        source = big_plan(i, parties)
        with session_scope(engine) as s:
            slug = store_revision(s, parse_plan(source), source, "bench").slug
        with session_scope(engine) as s:
            reconcile_revision(s, slug, today=TODAY)
        with session_scope(engine) as s:
            for p in range(0, parties, 3):
                records.record_hearing_response(s, slug, party=f"Kommune {p:02d}", on=dt.date(2024, 9, 1), today=TODAY, actor="bench")


def measure(engine, url: str) -> tuple[float, int]:
    client = log_in(TestClient(create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")), engine, Role.reader)
    assert client.get(url).status_code == 200  # warm up
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    assert client.get(url).status_code == 200
    event.remove(engine, "before_cursor_execute", listener)
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--revisions", type=int, default=1000)
    parser.add_argument("--parties", type=int, default=40)
    args = parser.parse_args()
    pages = ["/", "/revisions/revisjon-001"]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in (10, args.revisions):
            engine = engine_for(f"sqlite:///{tmp}/domain-{size}.db")
            started = time.perf_counter()
            fill(engine, size, args.parties)
            print(f"setup {size} revisions × {args.parties} parties: {time.perf_counter() - started:.0f} s", flush=True)
            results[size] = {url: measure(engine, url) for url in pages}
    print(f"\n{'page':28} {'10 rev. (ms)':>13} {f'{args.revisions} rev. (ms)':>15} {'ratio':>7} {'queries':>12}")
    for url in pages:
        (small_t, small_q), (big_t, big_q) = results[10][url], results[args.revisions][url]
        print(f"{url:28} {small_t * 1000:13.1f} {big_t * 1000:15.1f} {big_t / small_t:7.2f} {small_q:>5} → {big_q:<5}")


if __name__ == "__main__":
    main()
