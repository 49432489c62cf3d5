"""Dashboard pages as data grows: render time of `/` and `/revisions/{slug}` at N
revisions × P parties, as a ratio to the same at 10 revisions, and SQL statements
per page. The two sizes' requests alternate (30 each, medians), so load from other
processes slows both alike.
Run: .venv/bin/python bench/bench_dashboard.py [--revisions 1000] [--parties 40]
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


def client_for(engine) -> TestClient:  # noqa: ANN001
    return log_in(TestClient(create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")), engine, Role.reader)


def statements_of(client: TestClient, engine, url: str) -> int:  # noqa: ANN001
    assert client.get(url).status_code == 200  # warm up
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    assert client.get(url).status_code == 200
    event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def measure(clients: dict[int, TestClient], url: str) -> dict[int, float]:
    """Median time of `url` per size; the sizes' requests alternate, so a burst of load
    from other processes on the machine slows both alike."""
    times: dict[int, list[float]] = {size: [] for size in clients}
    for _ in range(REPEAT):
        for size, client in clients.items():
            start = time.perf_counter()
            assert client.get(url).status_code == 200
            times[size].append(time.perf_counter() - start)
    return {size: statistics.median(t) for size, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--revisions", type=int, default=1000)
    parser.add_argument("--parties", type=int, default=40)
    args = parser.parse_args()
    pages = ["/", "/revisions/revisjon-001"]
    results: dict[int, dict[str, tuple[float, int]]] = {10: {}, args.revisions: {}}
    with tempfile.TemporaryDirectory() as tmp:
        engines, clients = {}, {}
        for size in (10, args.revisions):
            engine = engine_for(f"sqlite:///{tmp}/domain-{size}.db")
            started = time.perf_counter()
            fill(engine, size, args.parties)
            print(f"setup {size} revisions × {args.parties} parties: {time.perf_counter() - started:.0f} s", flush=True)
            engines[size], clients[size] = engine, client_for(engine)
        for url in pages:
            counts = {size: statements_of(clients[size], engines[size], url) for size in clients}
            medians = measure(clients, url)
            for size in clients:
                results[size][url] = (medians[size], counts[size])
    print(f"\n{'page':28} {'10 rev. (ms)':>13} {f'{args.revisions} rev. (ms)':>15} {'ratio':>7} {'queries':>12}")
    for url in pages:
        (small_t, small_q), (big_t, big_q) = results[10][url], results[args.revisions][url]
        print(f"{url:28} {small_t * 1000:13.1f} {big_t * 1000:15.1f} {big_t / small_t:7.2f} {small_q:>5} → {big_q:<5}")
    for url in pages:
        (small_t, _), (big_t, big_q) = results[10][url], results[args.revisions][url]
        name = "list" if url == "/" else "revision"
        print(f"RESULT dashboard_{name}_{args.revisions}: {big_t / small_t:.2f}x ({big_t * 1000:.1f} ms at {args.revisions} revisions "
              f"vs baseline {small_t * 1000:.1f} ms at 10; {big_q} SQL statements) [{url}]")


if __name__ == "__main__":
    main()
