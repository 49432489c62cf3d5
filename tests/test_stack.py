"""The embedded stack's pieces: the session's Prefect server, workers, process groups."""

from __future__ import annotations

import signal
import sys
import textwrap
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

# Imported before the prefect_server fixture changes the environment, as in every
# real test module: the fixture must still reach this process's prefect.
from prefect import get_client
from prefect.settings import get_current_settings

from avtaleflyt.stack import ManagedProcess, StackError, _python_env, ensure_port_free, free_port, prefect_env


def test_session_server_answers_and_in_process_client_uses_it(prefect_server):
    assert httpx.get(f"{prefect_server.api_url}/health", timeout=5).json() is True

    assert get_current_settings().api.url == prefect_server.api_url
    with get_client(sync_client=True) as client:
        assert str(client.api_url).rstrip("/") == prefect_server.api_url
        assert client.api_healthcheck() is None
        assert isinstance(client.read_flows(), list)


def test_prefect_env_is_sqlite_on_loopback(tmp_path):
    env = prefect_env(tmp_path, 4321)
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4321/api"
    assert env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] == f"sqlite+aiosqlite:///{tmp_path.resolve()}/prefect/prefect.db"
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"


def test_a_taken_port_names_the_setting():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(StackError, match="AVTALEFLYT_PREFECT_PORT"):
            ensure_port_free(s.getsockname()[1])
    ensure_port_free(free_port())


@pytest.mark.parametrize("setting", ["AVTALEFLYT_PREFECT_PORT", "AVTALEFLYT_DASHBOARD_PORT"])
def test_up_on_a_taken_port_says_which_setting_to_change_without_a_traceback(tmp_path, setting):
    import socket
    import subprocess

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = s.getsockname()[1]
        ports = {"AVTALEFLYT_PREFECT_PORT": str(free_port()), "AVTALEFLYT_SINK_PORT": str(free_port()),
                 "AVTALEFLYT_DASHBOARD_PORT": str(free_port()), setting: str(taken)}
        env = _without_prefect_settings(AVTALEFLYT_DATA_DIR=str(tmp_path / "data"), PREFECT_HOME=str(tmp_path / "home"), **ports)
        done = subprocess.run([sys.executable, "-m", "avtaleflyt.cli", "up"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("error: Port ") and f"{taken}" in line and f"{setting}=<port>" in line, done.stderr


def _gone(pid: int) -> bool:
    """No such process, or only a zombie waiting for init to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _start_family(tmp_path: Path, shell_prefix: str = "") -> tuple[ManagedProcess, int]:
    """A shell (the group leader) with a `sleep` grandchild; returns it and the sleep's pid."""
    pid_file = tmp_path / "grandchild.pid"
    proc = ManagedProcess(
        name="family",
        argv=["sh", "-c", f"{shell_prefix} sleep 60 & echo $! > {pid_file}; wait"],
        log_path=tmp_path / "logs" / "family.log",
    ).start()
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, proc.log_tail()
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    assert proc.is_alive() and not _gone(grandchild)
    return proc, grandchild


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
def test_stop_ends_the_whole_process_group(tmp_path, monkeypatch):
    proc, grandchild = _start_family(tmp_path)
    killed = []
    monkeypatch.setattr(proc, "kill", lambda: killed.append(True))  # stop() escalates through kill()
    proc.stop(timeout=120)  # long: on a loaded machine the group may take a while to go
    assert not killed, "SIGTERM should have been enough"
    assert proc.returncode == -signal.SIGTERM
    assert _gone(proc.pid) and _gone(grandchild)


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
def test_stop_kills_a_group_that_ignores_sigterm(tmp_path):
    proc, grandchild = _start_family(tmp_path, shell_prefix="trap '' TERM;")
    proc.stop(timeout=1)
    assert not proc.is_alive()
    assert _gone(grandchild)


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
def test_kill_ends_the_group_at_once(tmp_path):
    proc, grandchild = _start_family(tmp_path, shell_prefix="trap '' TERM;")
    proc.kill()
    assert proc.returncode == -9
    deadline = time.monotonic() + 5
    while not _gone(grandchild):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _child_env_value(tmp_path: Path, name: str) -> str:
    proc = ManagedProcess(name="env", argv=["sh", "-c", f'echo "[${name}]"'], log_path=tmp_path / "logs" / "env.log",
                          env=_python_env({})).start()
    proc.popen.wait(timeout=60)
    return proc.log_path.read_text().strip().splitlines()[-1]


def test_the_stacks_children_use_two_malloc_arenas_unless_told_otherwise(tmp_path, monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert _child_env_value(tmp_path / "default", "MALLOC_ARENA_MAX") == "[2]"
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert _child_env_value(tmp_path / "set", "MALLOC_ARENA_MAX") == "[8]"


PROBE = """
    import os
    from pathlib import Path

    from prefect import flow


    @flow(name="stack-probe")
    def probe(out: str) -> None:
        Path(out).write_text(os.environ["PREFECT_API_URL"] + "\\n" + os.environ["AVTALEFLYT_DATABASE_URL"])


    if __name__ == "__main__":
        probe.serve(name="probe")
"""


@pytest.mark.e2e
def test_worker_fixture_serves_and_runs_a_deployment(prefect_server, domain_db_url, worker, tmp_path):
    from prefect.deployments import run_deployment

    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "stack_probe_serve.py").write_text(textwrap.dedent(PROBE))
    worker(module="stack_probe_serve", deployment="stack-probe/probe", env={"PYTHONPATH": str(code_dir)})

    out = tmp_path / "seen.txt"
    flow_run = run_deployment("stack-probe/probe", parameters={"out": str(out)}, timeout=60)
    assert flow_run.state.is_completed(), flow_run.state
    assert out.read_text().splitlines() == [prefect_server.api_url, domain_db_url]


def test_the_server_schedules_the_daily_sweep(prefect_server, worker):
    """Prefect's scheduler creates the sweep's runs (SQLAlchemy 2.1 broke that: see pyproject.toml)."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName, FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    worker()
    deadline = time.monotonic() + 90  # the scheduler looks every few seconds once the deployment exists
    with get_client(sync_client=True) as client:
        while True:
            scheduled = client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["daily"])),
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))),
            )
            if scheduled:
                break
            assert time.monotonic() < deadline, "no scheduled run of deadline-sweep/daily"
            time.sleep(2)
    first = min(r.expected_start_time for r in scheduled).astimezone(ZoneInfo("Europe/Oslo"))
    assert (first.hour, first.minute) == (7, 0)


def _without_prefect_settings(**extra: str) -> dict[str, str]:
    """A second terminal's environment: no PREFECT_* at all (nor a profile), as a coordinator has."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "AVTALEFLYT_"))}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@pytest.mark.e2e
def test_up_puts_prefect_behind_a_password_the_cli_and_worker_know(tmp_path):
    """`avtaleflyt up` makes a password for Prefect (data_dir/prefect-auth); an API request
    without it is refused, while the CLI in another terminal, the worker and its run
    processes send it: a revision started from the CLI runs and suspends."""
    from avtaleflyt.stack import auth_headers

    from .plans import SMALL_PLAN

    data, port = tmp_path / "data", free_port()
    home = tmp_path / "prefect-home"  # no profile of this machine's user
    env = _without_prefect_settings(
        AVTALEFLYT_DATA_DIR=str(data), AVTALEFLYT_PREFECT_PORT=str(port), AVTALEFLYT_SINK_PORT=str(free_port()),
        AVTALEFLYT_DASHBOARD_PORT=str(free_port()), PREFECT_HOME=str(home),
    )
    up = ManagedProcess(name="up", argv=[sys.executable, "-m", "avtaleflyt.cli", "up"], log_path=tmp_path / "up.log", env=env).start()
    try:
        deadline = time.monotonic() + 240
        while "avtaleflyt is running" not in (tmp_path / "up.log").read_text(errors="replace"):
            assert up.is_alive(), up.log_tail()
            assert time.monotonic() < deadline, up.log_tail()
            time.sleep(0.5)
        auth = (data / "prefect-auth").read_text().strip()
        assert auth.startswith("avtaleflyt:") and len(auth) > 40
        assert (data / "prefect-auth").stat().st_mode & 0o077 == 0
        api = f"http://127.0.0.1:{port}/api"
        assert httpx.post(f"{api}/flows/filter", json={}, timeout=30).status_code == 401
        assert httpx.post(f"{api}/flows/filter", json={}, timeout=30, headers={"Authorization": "Basic bm9ib2R5Om5vdGhpbmc="}).status_code == 401
        assert httpx.post(f"{api}/flows/filter", json={}, timeout=30, headers=auth_headers(auth)).status_code == 200

        plan = tmp_path / "plan.yaml"
        plan.write_text(SMALL_PLAN, encoding="utf-8")
        import subprocess

        started = subprocess.run([sys.executable, "-m", "avtaleflyt.cli", "revision", "start", str(plan)],
                                 env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert started.returncode == 0, started.stdout + started.stderr
        query = {"flow_runs": {"name": {"any_": ["revision/testrevisjon-2024"]}}}
        deadline = time.monotonic() + 240
        while True:  # the worker took the run and its process reconciled and suspended: both sent the password
            runs = httpx.post(f"{api}/flow_runs/filter", json=query, timeout=30, headers=auth_headers(auth)).json()
            if runs and runs[0]["state"]["type"] == "PAUSED":
                break
            assert time.monotonic() < deadline, (runs and runs[0]["state"], up.log_tail())
            time.sleep(1)
        shown = subprocess.run([sys.executable, "-m", "avtaleflyt.cli", "revision", "show", "testrevisjon-2024", "--json"],
                               env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert shown.returncode == 0, shown.stderr
    finally:
        up.stop(timeout=60)
