"""Dashboard pages as data grows: render time of `/` and `/revisions/{slug}` at N
revisions × P parties, as a ratio to the same at 10 revisions, and SQL statements
per page. The two sizes' requests alternate (30 each, medians), so load from other
processes slows both alike.

Lower is better (a time ratio). Goal (issue 15): `dashboard_list_<N>` (`/` at 1,000 revisions
against at 10) at most 1.5x, with the same number of SQL statements at both sizes (the run
fails if the count differs); `dashboard_revision_<N>` holds at about 1x. The filtered lists
(`/?overdue=1`, `/?mine=1`, ...) are printed too, as a coordinator sees them, with their ratios.
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
from sqlalchemy import event, func, select
from sqlmodel import SQLModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from avtaleflyt.models.enums import Role
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.tasks import records
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from tests.test_dashboard import big_plan
from tests.web import log_in

TODAY = dt.date(2024, 11, 20)
REPEAT = 30


REAL = 10  # revisions made through the real code; the rest are copies of the first (`copy_revisions`)


def fill(engine, revisions: int, parties: int) -> None:
    for i in range(min(revisions, REAL)):
        source = big_plan(i, parties)
        with session_scope(engine) as s:
            slug = store_revision(s, parse_plan(source), source, "bench").slug
        with session_scope(engine) as s:
            reconcile_revision(s, slug, today=TODAY)
        with session_scope(engine) as s:
            for p in range(0, parties, 3):
                records.record_hearing_response(s, slug, party=f"Kommune {p:02d}", on=dt.date(2024, 9, 1), today=TODAY, actor="bench")


    if revisions > REAL:
        copy_revisions(engine, "revisjon-000", range(REAL, revisions))


def copy_revisions(engine, template: str, numbers: range) -> None:
    """Copies of one revision (its row, stages, parties and their obligations) as `revisjon-NNN`, by
    bulk inserts: the real code took ~0.2 s a revision on a quiet machine, several times that under load.
    The list reads only these four tables; the revision page is measured on a real one."""
    tables = SQLModel.metadata.tables
    revision, stage, party, obligation = (tables[n] for n in ("revision", "stage", "party", "partyobligation"))
    with engine.begin() as conn:
        rev = conn.execute(select(revision).where(revision.c.slug == template)).mappings().one()
        stages = conn.execute(select(stage).where(stage.c.revision_id == rev["id"]).order_by(stage.c.id)).mappings().all()
        parties = conn.execute(select(party).where(party.c.revision_id == rev["id"]).order_by(party.c.id)).mappings().all()
        owed = conn.execute(select(obligation).where(obligation.c.stage_id.in_([s["id"] for s in stages])).order_by(obligation.c.id)).mappings().all()
        top = {t: conn.execute(select(func.max(t.c.id))).scalar_one() for t in (revision, stage, party, obligation)}
        for k, n in enumerate(numbers):
            rid = top[revision] + 1 + k
            sid = {s["id"]: top[stage] + 1 + k * len(stages) + i for i, s in enumerate(stages)}
            pid = {p["id"]: top[party] + 1 + k * len(parties) + i for i, p in enumerate(parties)}
            conn.execute(revision.insert(), [{**rev, "id": rid, "slug": f"revisjon-{n:03d}", "title": f"Revisjon {n}",
                                             "created_at": rev["created_at"] + dt.timedelta(seconds=n)}])
            conn.execute(stage.insert(), [{**s, "id": sid[s["id"]], "revision_id": rid} for s in stages])
            conn.execute(party.insert(), [{**p, "id": pid[p["id"]], "revision_id": rid} for p in parties])
            conn.execute(obligation.insert(), [
                {**o, "id": top[obligation] + 1 + k * len(owed) + i, "stage_id": sid[o["stage_id"]], "party_id": pid[o["party_id"]]}
                for i, o in enumerate(owed)
            ])
        if engine.dialect.name == "postgresql":  # the ids were given: move the sequences past them
            for t in (revision, stage, party, obligation):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), (SELECT max(id) FROM {t.name}))")


def client_for(engine) -> TestClient:
    return log_in(TestClient(create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")), engine, Role.coordinator)


def statements_of(client: TestClient, engine, url: str) -> int:
    assert client.get(url).status_code == 200  # warm up
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])
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
    # The filtered lists show 10 or 5 rows at both sizes (`/` shows 10 at 10 revisions, 20 at more).
    pages = ["/", "/revisions/revisjon-001", "/?overdue=1&per_page=10", "/?mine=1&status=active&per_page=10",
             "/?helsefellesskap=Helsefellesskapet+Test&per_page=5&page=2"]
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
    print(f"\n{'page':50} {'10 rev. (ms)':>13} {f'{args.revisions} rev. (ms)':>15} {'ratio':>7} {'queries':>12}")
    for url in pages:
        (small_t, small_q), (big_t, big_q) = results[10][url], results[args.revisions][url]
        print(f"{url:50} {small_t * 1000:13.1f} {big_t * 1000:15.1f} {big_t / small_t:7.2f} {small_q:>5} → {big_q:<5}")
    for url in pages[:2]:
        (small_t, _), (big_t, big_q) = results[10][url], results[args.revisions][url]
        name = "list" if url == "/" else "revision"
        print(f"RESULT dashboard_{name}_{args.revisions}: {big_t / small_t:.2f}x ({big_t * 1000:.1f} ms at {args.revisions} revisions "
              f"vs baseline {small_t * 1000:.1f} ms at 10; {big_q} SQL statements) [{url}]")
    grew = [url for url in pages if results[10][url][1] != results[args.revisions][url][1]]
    if grew:
        sys.exit(f"the number of SQL statements grew with the revisions: {', '.join(grew)}")


if __name__ == "__main__":
    main()
