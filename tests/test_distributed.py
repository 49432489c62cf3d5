"""Beyond one machine: Prefect's own distributed setup, with failures, on PostgreSQL.

The operator's path, nothing test-made: a Prefect server on PostgreSQL, the domain
database on PostgreSQL, `deploy/bootstrap.sh` (migrations, the process work pool,
the automation, `prefect deploy --all` from deploy/prefect.yaml), and two
`prefect worker start --pool avtaleflyt` processes. Then 50 revisions of 40 parties
are started at once and driven to the end while the Prefect server is restarted and
a worker is SIGKILLed with everything it ran; a second test takes the domain
database away in the middle of passes.

Decisions are written to the database the way every command writes them (tasks/
records.py), and the last one of each revision goes through the command path
(`actions.execute`), which resumes the run: one resume per revision, as when a
coordinator records the day's decisions. The whole of this module takes a few
minutes on two cores; most of it is Prefect starting a process per flow run and the
silence window (four heartbeats, 120 s) before a run whose worker died is judged dead.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterName
from prefect.client.schemas.objects import StateType
from prefect.deployments import run_deployment
from sqlmodel import func, select

from avtaleflyt import actions
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.commands import parse_command
from avtaleflyt.models.enums import EmailEvent, OutboxStatus, PartyOutcome, RevisionStatus
from avtaleflyt.models.tables import OutboxMessage, Party, PartyObligation, Revision
from avtaleflyt.settings import get_settings
from avtaleflyt.stack import HOST, ManagedProcess, _python_env, apply_prefect_env, free_port, start_prefect_server
from avtaleflyt.tasks import records, runs
from avtaleflyt.tasks.outbox import message_id
from avtaleflyt.tasks.sweep import run_sweep

from .pg import PostgresServer
from .plans import treatment_plan
from .outbox_rows import live_claims
from .smtp import SmtpServer
from .waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.backends("postgresql")]

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REVISIONS, PARTIES = 50, 40
DECIDED_ON = dt.date(2025, 2, 20)
SECRET = "distributed-test-secret-key-0123456789abcdef"
CLUSTER_AUTH = "avtaleflyt:distributed-test-password"  # PREFECT_SERVER_API_AUTH_STRING of the cluster's server


@dataclass
class Cluster:
    data_dir: Path
    api_url: str
    port: int
    prefect_db: str
    server: ManagedProcess
    smtp: SmtpServer
    workers: list[ManagedProcess]

    def start_server(self) -> None:
        self.server = start_prefect_server(self.data_dir / "server", self.port, database_url=self.prefect_db, auth_string=CLUSTER_AUTH)

    def start_worker(self, name: str, domain_url: str) -> ManagedProcess:
        home = self.data_dir / name
        env = {
            **worker_env(self, domain_url),
            "PREFECT_HOME": str(home / "prefect"),
            "AVTALEFLYT_DATA_DIR": str(home),
        }
        worker = ManagedProcess(
            name=name,
            argv=[str(BIN / "prefect"), "worker", "start", "--pool", "avtaleflyt", "--type", "process", "--name", name],
            log_path=home / "worker.log",
            env=_python_env(env),
            cwd=REPO,
        ).start()
        self.workers.append(worker)
        return worker


def worker_env(cluster: Cluster, domain_url: str) -> dict[str, str]:
    """What every machine of the installation shares (deploy/avtaleflyt.env.example)."""
    return {
        "PREFECT_API_URL": cluster.api_url,
        "PREFECT_API_AUTH_STRING": CLUSTER_AUTH,  # the server asks for it (deploy/README.md)
        "DO_NOT_TRACK": "1",
        "PREFECT_WORKER_QUERY_SECONDS": "1",  # default 10: a resumed run would wait that long for a worker
        "AVTALEFLYT_DATABASE_URL": domain_url,
        "AVTALEFLYT_SECRET_KEY": SECRET,
        "AVTALEFLYT_SMTP_HOST": HOST,
        "AVTALEFLYT_SMTP_PORT": str(cluster.smtp.port),
        "AVTALEFLYT_SMTP_STARTTLS": "false",
        # A sender killed mid-batch holds its unsent rows this long (default 10 min).
        "AVTALEFLYT_OUTBOX_LEASE_SECONDS": "30",
        # A run the killed worker had claimed but not started is restarted after this (default 5 min).
        "AVTALEFLYT_STUCK_PENDING_SECONDS": "60",
        # bootstrap.sh caps the pool: runs beyond it wait Scheduled instead of 50 processes
        # starting at once on two cores.
        "AVTALEFLYT_POOL_LIMIT": "8",
    }


def use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """This process acts as the CLI on a coordinator's machine with the same settings.

    Prefect reads its settings once: they are rebuilt here, since before each test the
    session's autouse fixture points Prefect back at the session's own server."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    apply_prefect_env({})  # rebuild Prefect's settings from the environment just set


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("distributed")
    postgres_server.create_database("prefect_distributed")
    smtp = SmtpServer().start()
    port = free_port()
    saved = {name: os.environ.get(name) for name in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING")}
    c = Cluster(
        data_dir, f"http://{HOST}:{port}/api", port, postgres_server.url("prefect_distributed", driver="postgresql+asyncpg"),
        server=None, smtp=smtp, workers=[],  # type: ignore[arg-type]
    )
    try:
        c.start_server()
        apply_prefect_env({"PREFECT_API_URL": c.api_url, "PREFECT_API_AUTH_STRING": CLUSTER_AUTH})
        yield c
    finally:
        for worker in c.workers:
            worker.stop()
        if c.server is not None:
            c.server.stop()
        smtp.stop()
        apply_prefect_env(saved)


def bootstrap(cluster: Cluster, domain_url: str) -> None:
    env = _python_env({**worker_env(cluster, domain_url), "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "PREFECT_HOME": str(cluster.data_dir / "ops")})
    done = subprocess.run(["sh", str(REPO / "deploy" / "bootstrap.sh")], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"deploy/bootstrap.sh failed:\n{done.stdout}\n{done.stderr}"


def wait_until(check: Callable[[], tuple[bool, object]], timeout: float, what: str, every: float = 1.0) -> None:
    """Poll `check` (→ done, what it saw) until done; fail with the last thing seen."""
    deadline = time.monotonic() + timeout
    seen: object = None
    while time.monotonic() < deadline:
        done, seen = check()
        if done:
            return
        time.sleep(every)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s; last seen: {seen}")


def port_free(port: int) -> bool:
    """Nothing listens on the port any more (connections in TIME_WAIT don't count: uvicorn reuses the address)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def passes_retrying(flow_run_ids: list[str]) -> Callable[[], tuple[bool, object]]:
    """Some run's reconcile task has failed and waits to be tried again."""
    def check() -> tuple[bool, object]:
        with get_client(sync_client=True) as client:
            task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(i) for i in flow_run_ids])))
        names = Counter(t.state.name for t in task_runs if t.state is not None)
        return bool(names["AwaitingRetry"] or names["Retrying"] or any(t.run_count > 1 for t in task_runs)), dict(names)
    return check


def run_states(slugs: list[str]) -> dict[str, list[str]]:
    """Each revision's runs in Prefect, by name: the state types of all runs with that name."""
    with get_client(sync_client=True) as client:
        found = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[f"revision/{s}" for s in slugs])), limit=200)
    out: dict[str, list[str]] = {s: [] for s in slugs}
    for run in found:
        out[run.name.removeprefix("revision/")].append(run.state.type.value if run.state else "NONE")
    return out


def all_in(slugs: list[str], state: StateType) -> Callable[[], tuple[bool, object]]:
    def check() -> tuple[bool, object]:
        states = run_states(slugs)
        return all(v == [state.value] for v in states.values()), dict(Counter(",".join(v) for v in states.values()))
    return check


def none_paused(slugs: list[str]) -> Callable[[], tuple[bool, object]]:
    def check() -> tuple[bool, object]:
        states = run_states(slugs)
        return all(v != ["PAUSED"] for v in states.values()), states
    return check


def delivered(cluster: Cluster, n: int) -> Callable[[], tuple[bool, object]]:
    return lambda: (len(cluster.smtp.handler.received) >= n, f"{len(cluster.smtp.handler.received)} of {n} messages")


def until_completed(slugs: list[str], timeout: float) -> None:
    """Wait for every run to complete. The runs a dead worker left are restarted by the
    watchdog (flows/watchdog.py) once they have been silent for the window, on its schedule (every ten
    minutes); here the watchdog's deployment is run whenever 45 s pass without
    progress, instead of waiting for its schedule."""
    deadline = time.monotonic() + timeout
    check = all_in(slugs, StateType.COMPLETED)
    last_seen, last_change = None, time.monotonic()
    while True:
        done, seen = check()
        if done:
            return
        if seen != last_seen:
            last_seen, last_change = seen, time.monotonic()
        elif time.monotonic() - last_change > 45:
            watchdog = run_deployment("run-watchdog/every-10-minutes", timeout=120)
            assert watchdog.state.is_completed(), watchdog.state
            last_change = time.monotonic()
        if time.monotonic() > deadline:
            pytest.fail(f"not every revision's run completed within {timeout:.0f} s; last seen: {seen}")
        time.sleep(2)


def descendants(pid: int) -> list[int]:
    """Every process `pid` started, and theirs, wherever their process group."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, frontier = [], list(children.get(pid, []))
    while frontier:
        child = frontier.pop()
        found.append(child)
        frontier += children.get(child, [])
    return found


def kill_tree(proc: ManagedProcess) -> int:
    """SIGKILL a process and everything it started (a machine that dies); returns how many it had started."""
    doomed = descendants(proc.pid)
    for pid in [proc.pid, *doomed]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.kill()
    return len(doomed)


def decide_all(slug: str, *, through_command: bool = True) -> None:
    """Every party decides; the last decision through the command path, which resumes the run."""
    with session_scope() as s:
        names = [p.name for p in s.exec(select(Party).where(Party.revision_id == select(Revision.id).where(Revision.slug == slug).scalar_subquery()).order_by(Party.id))]
    assert len(names) == PARTIES
    with session_scope() as s:
        for name in names[:-1]:
            records.record_party_decision(s, slug, party=name, outcome=PartyOutcome.approved, on=DECIDED_ON, today=DECIDED_ON, actor="test")
    if through_command:
        command = parse_command({"action": "party_decision", "revision": slug, "party": names[-1], "outcome": "approved", "date": DECIDED_ON})
        recorded, outcome = actions.execute(command, actor="test", clock=actions.WALL_CLOCK)
        assert recorded.changed and outcome.error is None, outcome
    else:
        with session_scope() as s:
            records.record_party_decision(s, slug, party=names[-1], outcome=PartyOutcome.approved, on=DECIDED_ON, today=DECIDED_ON, actor="test")


def lost_claims(cluster: Cluster) -> int:
    """Senders that stalled past their lease and said so (tasks/outbox): each may have sent its one message in flight twice."""
    return sum(log.read_text(errors="replace").count("took over message") for log in cluster.data_dir.glob("*/worker.log"))


def check_nothing_doubled(cluster: Cluster, slugs: list[str], *, killed_senders: int = 0) -> None:
    """Every revision done once, every letter sent; a letter arrives twice only as the outbox's
    guarantee allows: the one in flight in a sender killed (`killed_senders`) or stalled past its lease."""
    states = run_states(slugs)
    assert all(v == ["COMPLETED"] for v in states.values()), states  # one run per revision, completed
    with session_scope() as s:
        revisions = s.exec(select(Revision).where(Revision.slug.in_(slugs))).all()
        assert {r.status for r in revisions} == {RevisionStatus.completed} and len(revisions) == len(slugs)
        ids = [r.id for r in revisions]
        assert s.exec(select(func.count()).select_from(Party).where(Party.revision_id.in_(ids))).one() == len(slugs) * PARTIES
        treatments = s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment").join(Party, PartyObligation.party_id == Party.id).where(Party.revision_id.in_(ids))).all()
        assert len(treatments) == len(slugs) * PARTIES and {t.status for t in treatments} == {"approved"}
        outbox = list(s.exec(select(OutboxMessage).where(OutboxMessage.revision_id.in_(ids))))
    assert Counter(m.event for m in outbox)[EmailEvent.decision_request] == len(slugs) * PARTIES
    assert {m.status for m in outbox} == {OutboxStatus.sent}, Counter(m.status for m in outbox)
    received = Counter(cluster.smtp.handler.message_ids())
    ours = {message_id(m.key) for m in outbox}
    assert ours <= set(received)
    doubled = {mid: received[mid] for mid in ours if received[mid] > 1}
    allowed = killed_senders + lost_claims(cluster)
    assert len(doubled) <= allowed and all(n == 2 for n in doubled.values()), (
        f"{len(doubled)} messages were sent more than once ({allowed} senders were killed or stalled with one in flight): {doubled}"
    )


@pytest.mark.timeout(1200)
def test_fifty_revisions_on_two_workers_through_a_server_restart_and_a_killed_worker(cluster, postgres_server, monkeypatch):
    domain_url = postgres_server.create_database("avtaleflyt_distributed")
    use_env(monkeypatch, worker_env(cluster, domain_url))
    bootstrap(cluster, domain_url)
    first, second = cluster.start_worker("worker-1", domain_url), cluster.start_worker("worker-2", domain_url)

    # 50 revisions started at once, as 50 coordinators would.
    sources = [treatment_plan(i, PARTIES) for i in range(REVISIONS)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        started = list(pool.map(actions.start_revision, sources))
    slugs = [s.slug for s in started]
    assert len(set(s.flow_run_id for s in started)) == REVISIONS
    wait_until(all_in(slugs, StateType.PAUSED), 600, "every run suspended on its decisions")
    wait_until(delivered(cluster, REVISIONS * PARTIES), 120, "every decision request delivered")

    # The Prefect server goes away and comes back while all 50 wait.
    cluster.server.stop()
    wait_for(lambda: port_free(cluster.port), 60, "the Prefect server's port to be free")
    cluster.start_server()
    assert first.is_alive() and second.is_alive(), "a worker did not outlive the server's restart"

    # Every party decides; half-way through, worker-1 dies with the runs it was running.
    with ThreadPoolExecutor(max_workers=6) as pool:
        halves = [slugs[: REVISIONS // 2], slugs[REVISIONS // 2 :]]
        list(pool.map(decide_all, halves[0]))
        # worker-1 dies while it runs passes: its flow-run processes die with it.
        wait_until(lambda: (len(descendants(first.pid)) > 0, "worker-1 runs nothing"), 60, "worker-1 running a pass", every=0.1)
        killed = kill_tree(first)
        list(pool.map(decide_all, halves[1]))
    assert killed >= 1

    until_completed(slugs, 600)
    # What a killed sender held is sent once its lease (30 s here) has run out, by the next sender:
    # here the daily sweep's deployment, run by hand on the surviving worker.
    wait_for(lambda: live_claims() == 0, 120, "the killed senders' leases to run out", every=1)
    sweep = run_deployment("deadline-sweep/daily", parameters={"as_of": DECIDED_ON.isoformat()}, timeout=300)
    assert sweep.state.is_completed(), sweep.state
    # Each flow-run process killed with worker-1 may have had one letter in flight: the server
    # took it, the row was not marked, and the next sender sends it again (same Message-ID).
    check_nothing_doubled(cluster, slugs, killed_senders=killed)


@pytest.mark.timeout(600)
def test_the_domain_database_away_in_the_middle_of_passes(cluster, monkeypatch):
    for worker in cluster.workers:
        worker.stop()
    cluster.workers.clear()
    with PostgresServer() as domain_pg:  # its own server, so it can go away while Prefect's stays
        domain_url = domain_pg.create_database("avtaleflyt_outage")
        engine_for(domain_url)  # migrated
        use_env(monkeypatch, worker_env(cluster, domain_url))
        cluster.start_worker("worker-3", domain_url)
        slugs = [actions.start_revision(treatment_plan(100 + i, PARTIES)).slug for i in range(5)]
        wait_until(all_in(slugs, StateType.PAUSED), 300, "the runs suspended on their decisions")

        for slug in slugs:
            decide_all(slug, through_command=False)
        with session_scope() as s:
            waiting = [(r.flow_run_id, r.seq) for r in s.exec(select(Revision).where(Revision.slug.in_(slugs)))]

        domain_pg.pause()
        try:
            report = run_sweep(DECIDED_ON)
            assert report.revisions == [] and report.errors and report.errors[0].startswith("domain database unreachable")
            for flow_run_id, seq in waiting:  # resumed while the database is away: their passes retry
                assert runs.try_nudge(flow_run_id, seq, wait_seconds=5).error is None
            wait_until(none_paused(slugs), 120, "the runs resumed")
            wait_until(passes_retrying([id for id, _ in waiting]), 120, "a pass retrying against the database that is away")
        finally:
            domain_pg.resume()

        until_completed(slugs, 300)
        wait_for(lambda: live_claims() == 0, 120, "the leases of senders that failed to be run out", every=1)
        run_sweep(DECIDED_ON)  # sends what a pass could not
        check_nothing_doubled(cluster, slugs)
