"""The embedded stack for the benchmarks that need Prefect: what `avtaleflyt up` starts, piece by piece.

`avtaleflyt.stack.run_up` starts the same processes but then prints and blocks until
Ctrl-C, so the benchmarks call its parts the way `run_up` does:

- `start_prefect_server` — `prefect server start` on SQLite under the data folder;
- `start_smtp_sink` — `python -m avtaleflyt.smtp_sink`, one fsync'd `.eml` per message;
- `start_worker` — `python -m avtaleflyt.flows.serve` with `PREFECT_RUNNER_POLL_FREQUENCY=2`
  and the sink's settings, exactly as `run_up` passes them;
- `start_dashboard` (only when asked: the memory benchmark);

and, as `run_up` does, with Prefect behind a password (data_dir/prefect-auth) that the
worker, the dashboard and this process send.

This process is then pointed at that server and domain database, as `run_up` does
before `on_ready`, so `avtaleflyt.actions.*` run here exactly as the CLI runs them.

Also here: the ping baseline (`ping_once`), the 40-party plan whose first stage is
political treatment, waiting for a revision's run to catch up, and process-tree memory.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.parser import BytesHeaderParser
from pathlib import Path
from uuid import UUID

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # bench_sweep, for its organisation numbers

# As `run_up` passes it: Prefect's default poll is 10 s.
WORKER_POLL_SECONDS = "2"
PING = "ping/avtaleflyt"
POLL = 0.1  # how often the benchmarks look (Prefect API or the mail folder); the same for value and baseline


def random_phase(rng) -> None:
    """Sleep a random part of the serve process's poll interval before a measured action.

    Back to back, each action begins a fixed time after the poll that picked up the one
    before it, so its wait for the next poll is not the uniform 0–2 s the medians assume but
    locked to that phase, and differently for value and baseline (their durations differ):
    on 2026-11-30 the start's median poll wait was 0.5–0.8 s above the ping's in every run.
    A random phase makes the wait uniform for both; `rng` is seeded, so a run can be repeated."""
    time.sleep(rng.uniform(0, float(WORKER_POLL_SECONDS)))
MAIL_FROM = "Sekretariatet <sekretariat@helsefellesskap.example.no>"


# --------------------------------------------------------------------------- the stack


@dataclass
class BenchStack:
    data_dir: Path
    api_url: str
    database_url: str
    mail_dir: Path
    processes: dict[str, object] = field(default_factory=dict)  # name -> ManagedProcess
    dashboard_url: str | None = None

    def check_alive(self) -> None:
        for proc in self.processes.values():
            if not proc.is_alive():
                raise proc.failure(f"the {proc.name} stopped unexpectedly")

    def mail_files(self) -> list[Path]:
        """The stored messages (the sink writes `.name.tmp`, then renames it to `name.eml`)."""
        try:
            return [p for p in self.mail_dir.iterdir() if p.suffix == ".eml" and not p.name.startswith(".")]
        except FileNotFoundError:
            return []


@contextmanager
def embedded_stack(*, dashboard: bool = False, keep: Path | None = None, poll: str = WORKER_POLL_SECONDS) -> Iterator[BenchStack]:
    """Start server, sink, worker (and dashboard) in a fresh data folder; stop them all on exit."""
    from avtaleflyt.db import engine_for
    from avtaleflyt.settings import REVISION_DEPLOYMENT, REVISION_FLOW, get_settings
    from avtaleflyt.stack import (
        apply_prefect_env, auth_env, free_port, prefect_env, sink_env, start_dashboard, start_prefect_server,
        start_smtp_sink, start_worker, wait_for_deployment,
    )
    from avtaleflyt.settings import Settings

    data_dir = (keep or Path(tempfile.mkdtemp(prefix="bench-stack-"))).resolve()
    if keep is None:
        # registered first, so it runs last: after every process has stopped
        cleanup = ExitStack()
        cleanup.callback(shutil.rmtree, data_dir, ignore_errors=True)
    else:
        cleanup = ExitStack()
    data_dir.mkdir(parents=True, exist_ok=True)
    # As installed: pip compiles a package's modules, a checkout writes them on first import. With
    # PYTHONDONTWRITEBYTECODE (this project's sessions set it) every flow-run process compiled the
    # ~80 modules of ours it loads from source, which a ping run never pays (bench/README.md).
    # The warm-up run of each benchmark writes them; the stack's processes inherit this.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    database_url = f"sqlite:///{data_dir / 'avtaleflyt.db'}"
    port, sink_port = free_port(), free_port()
    auth = Settings(data_dir=data_dir, prefect_auth_string=None).prefect_auth(create=True)  # as `up`: Prefect behind a password
    env = prefect_env(data_dir, port, auth_string=auth)
    with cleanup, ExitStack() as running:
        engine_for(database_url)  # migrate once, before the worker races to it (as run_up does)
        t = time.perf_counter()
        server = start_prefect_server(data_dir, port, auth_string=auth)
        running.callback(server.stop)
        sink = start_smtp_sink(data_dir, sink_port)
        running.callback(sink.stop)
        smtp_env = sink_env(sink_port)
        smtp_env["AVTALEFLYT_MAIL_FROM"] = MAIL_FROM
        since = datetime.now(timezone.utc)
        worker = start_worker(data_dir, env["PREFECT_API_URL"], {"PREFECT_RUNNER_POLL_FREQUENCY": poll, **auth_env(auth), **smtp_env},
                              database_url=database_url)
        running.callback(worker.stop)  # ExitStack: the worker stops before the server
        for deployment in (f"{REVISION_FLOW}/{REVISION_DEPLOYMENT}", PING):
            wait_for_deployment(env["PREFECT_API_URL"], deployment, worker, since=since, auth_string=auth)
        processes = {"prefect-server": server, "smtp-sink": sink, "worker": worker}
        dashboard_url = None
        if dashboard:
            dashboard_port = free_port()
            dashboard_url = f"http://127.0.0.1:{dashboard_port}"
            dash = start_dashboard(data_dir, dashboard_port, {
                "PREFECT_API_URL": env["PREFECT_API_URL"],
                **auth_env(auth),
                "AVTALEFLYT_DATA_DIR": str(data_dir),
                "AVTALEFLYT_DATABASE_URL": database_url,
            })
            running.callback(dash.stop)
            processes["dashboard"] = dash
        apply_prefect_env({**env, "AVTALEFLYT_DATA_DIR": str(data_dir), "AVTALEFLYT_DATABASE_URL": database_url, **smtp_env})
        os.environ.pop("AVTALEFLYT_SECRET_KEY", None)
        get_settings.cache_clear()
        print(f"stack up in {time.perf_counter() - t:.1f} s: {', '.join(f'{n} (pid {p.pid})' for n, p in processes.items())}; "
              f"data {data_dir}", flush=True)
        yield BenchStack(data_dir, env["PREFECT_API_URL"], database_url, data_dir / "mail", processes, dashboard_url)


# --------------------------------------------------------------------------- the baseline


def ping_once(timeout: float = 180.0) -> float:
    """Seconds from `run_deployment("ping/avtaleflyt")` until the run is seen COMPLETED."""
    return ping_once_detailed(timeout)[0]


def ping_once_detailed(timeout: float = 180.0):
    """(seconds, flow run id, wall-clock time of the call) for one ping run."""
    from prefect import get_client
    from prefect.deployments import run_deployment

    t0_wall, started = time.time(), time.perf_counter()
    run = run_deployment(PING, timeout=0, as_subflow=False, tags=["bench"])
    deadline = started + timeout
    with get_client(sync_client=True) as client:
        while True:
            state = client.read_flow_run(run.id).state
            if state is not None and state.is_completed():
                return time.perf_counter() - started, run.id, t0_wall
            if state is not None and state.is_final():
                raise RuntimeError(f"ping run {run.id} ended {state.type.value} {state.name}")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"ping run {run.id} not completed within {timeout:.0f} s (last {state and state.name})")
            time.sleep(POLL)


def phases(run_id, t0_wall: float, end_wall: float) -> dict[str, float]:
    """From the run's state history (server timestamps), for the first pass after `t0_wall`:
    call (`t0_wall` → Scheduled: the measured call until the run was created or resumed; for
    a start, `start_revision`'s work before its `run_deployment`), poll (Scheduled → Pending:
    the serve process picked it up), process (Pending → Running: a new flow-run process
    started and loaded the flow) and work (Running → `end_wall`)."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        states = client.read_flow_run_states(run_id)
    first: dict[str, float] = {}
    for state in sorted(states, key=lambda s: s.timestamp):
        ts = state.timestamp.timestamp()
        if ts >= t0_wall - 0.05:
            first.setdefault(state.type.value, ts)
    pending, running = first.get("PENDING"), first.get("RUNNING")
    if pending is None or running is None:
        return {}
    scheduled = min(first.get("SCHEDULED", t0_wall), pending)
    return {"call": scheduled - t0_wall, "poll": pending - scheduled, "process": running - pending, "work": end_wall - running}


def phase_summary(rows: list[dict[str, float]]) -> str:
    rows = [r for r in rows if r]
    if not rows:
        return "(no state history)"
    return ", ".join(f"{k} {median([r[k] for r in rows]):.2f} s" for k in ("call", "poll", "process", "work"))


# --------------------------------------------------------------------------- plans and runs


def org_number(seed: int) -> str:
    from bench_sweep import org_number as make

    return make(seed)


def working_day(after_days: int) -> dt.date:
    day = dt.date.today() + dt.timedelta(days=after_days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def political_plan(title: str, parties: int = 40, deadline: dt.date | None = None) -> str:
    """A plan whose only stage is political treatment: starting it sends one decision request per party."""
    deadline = deadline or working_day(60)
    rows = [
        f'  - {{name: Bench helseforetak HF, kind: health_trust, org_number: "{org_number(1000)}", '
        f"email: postmottak@hf.example.no, body: Styret}}"
    ]
    for i in range(1, parties):
        lang = ", language: nn" if i % 4 == 0 else ""
        rows.append(
            f'  - {{name: Kommune {i:03d}, kind: municipality, org_number: "{org_number(2000 + 37 * i)}", '
            f"email: postmottak@kommune{i:03d}.example.no, body: Kommunestyret{lang}}}"
        )
    return f"""
helsefellesskap: Helsefellesskapet Bench
revision: {title}
coordinators: [{{name: Sekretariatet, email: sekretariat@helsefellesskap.example.no}}]
documents:
  - {{key: overordnet, title: Overordnet samarbeidsavtale}}
parties:
{chr(10).join(rows)}
stages:
  - {{key: politisk, kind: political_treatment, deadline: {deadline.isoformat()}}}
"""


def run_state(slug: str):
    """(revision row, the run's state) now."""
    from prefect import get_client
    from sqlmodel import select

    from avtaleflyt.db import session_scope
    from avtaleflyt.models.tables import Revision

    with session_scope() as s:
        revision = s.exec(select(Revision).where(Revision.slug == slug)).one()
    with get_client(sync_client=True) as client:
        return revision, client.read_flow_run(UUID(revision.flow_run_id)).state


def caught_up(state, seq: int) -> bool:
    """Suspended on a gate made from event `seq` or later: the run has reconciled everything up to `seq`."""
    from avtaleflyt.tasks.runs import waiting_seq

    return state is not None and state.is_paused() and (waiting_seq(state.state_details.pause_key) or -1) >= seq


def wait_caught_up(slug: str, timeout: float = 300.0) -> float:
    """Until the revision's run is suspended on the newest event; returns the seconds waited."""
    started = time.perf_counter()
    while True:
        revision, state = run_state(slug)
        if caught_up(state, revision.seq):
            return time.perf_counter() - started
        if state is not None and state.is_final():
            raise RuntimeError(f"{slug}: the run ended {state.type.value} {state.name}")
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"{slug}: the run did not suspend within {timeout:.0f} s (last {state and state.name})")
        time.sleep(POLL)


def history_marks(slugs: list[str]) -> dict:
    """Over the runs of `slugs`: how many were ever Crashed or Failed (and of those, named Stalled),
    how many were restarted (a state named AwaitingRestart), and which end Crashed or Failed now."""
    from prefect import get_client
    from sqlmodel import select

    from avtaleflyt.db import session_scope
    from avtaleflyt.models.tables import Revision

    with session_scope() as s:
        runs = dict(s.exec(select(Revision.slug, Revision.flow_run_id).where(Revision.slug.in_(slugs))).all())
    marks = {"crashed": 0, "stalled": 0, "restarted": 0, "ended_crashed": []}
    with get_client(sync_client=True) as client:
        for slug, run_id in runs.items():
            states = client.read_flow_run_states(UUID(run_id))
            kinds = {(st.type.value, st.name) for st in states}
            marks["crashed"] += any(t in ("CRASHED", "FAILED") for t, _ in kinds)
            marks["stalled"] += any(n == "Stalled" for _, n in kinds)
            marks["restarted"] += any(n == "AwaitingRestart" for _, n in kinds)
            now = client.read_flow_run(UUID(run_id)).state
            if now is not None and now.type.value in ("CRASHED", "FAILED"):
                marks["ended_crashed"].append(f"{slug} {now.name}")
    return marks


def message_ids(files: list[Path]) -> set[str]:
    parser = BytesHeaderParser()
    out = set()
    for path in files:
        with open(path, "rb") as f:
            out.add(str(parser.parse(f)["Message-ID"]).strip())
    return out


def outbox_ids(slug: str, event: str) -> set[str]:
    """Message-IDs of the revision's outbox rows of `event` that are marked sent."""
    from sqlmodel import select

    from avtaleflyt.db import session_scope
    from avtaleflyt.models.enums import OutboxStatus
    from avtaleflyt.models.tables import OutboxMessage, Revision
    from avtaleflyt.tasks.outbox import message_id

    with session_scope() as s:
        revision = s.exec(select(Revision).where(Revision.slug == slug)).one()
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.revision_id == revision.id,
                                                  OutboxMessage.event == event)).all()
    return {message_id(r.key) for r in rows if r.status == OutboxStatus.sent}


# --------------------------------------------------------------------------- memory (/proc)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def tree_pids(root: int, tree: dict[int, list[int]] | None = None) -> list[int]:
    tree = tree if tree is not None else _children()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, []))
    return out


def _kb(path: Path, name: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB (PSS shares the pages it has in common with others)."""
    return _kb(Path(f"/proc/{pid}/status"), "VmRSS:"), _kb(Path(f"/proc/{pid}/smaps_rollup"), "Pss:")


def tree_memory(root: int, tree: dict[int, list[int]] | None = None) -> tuple[int, int, int]:
    """(RSS kB, PSS kB, processes) summed over `root` and everything under it."""
    rss = pss = n = 0
    for pid in tree_pids(root, tree):
        r, p = memory_kb(pid)
        if r:
            rss, pss, n = rss + r, pss + p, n + 1
    return rss, pss, n


# --------------------------------------------------------------------------- reporting


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = _kb(Path("/proc/meminfo"), "MemTotal:") / 1024 / 1024
    import prefect

    return (f"{len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}, {mem:.0f} GB RAM; Python {platform.python_version()}; "
            f"prefect {prefect.__version__}; {platform.system()} {platform.release()}; "
            f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}–{max(values):.2f}"
