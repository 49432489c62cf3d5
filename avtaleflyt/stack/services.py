"""The stack's services, each a ManagedProcess: the Prefect server, the worker serving
the deployments, the local SMTP sink and the dashboard; and waiting until each answers.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import httpx

from .prefect_env import auth_headers, prefect_env
from .processes import HOST, ManagedProcess, _python_env, ensure_port_free

T = TypeVar("T")

SERVER_START_TIMEOUT = 90.0
WORKER_START_TIMEOUT = 60.0
SINK_START_TIMEOUT = 30.0
DASHBOARD_START_TIMEOUT = 30.0
WORKER_MODULE = "avtaleflyt.flows.serve"


def start_prefect_server(
    data_dir: Path, port: int, timeout: float = SERVER_START_TIMEOUT, *, database_url: str | None = None,
    auth_string: str | None = None,
) -> ManagedProcess:
    """`prefect server start` (on SQLite under data_dir/prefect unless `database_url`, asking for
    `auth_string` if given); returns once /api/health answers."""
    ensure_port_free(port)
    env = prefect_env(data_dir, port, database_url, auth_string)
    Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    proc = ManagedProcess(
        name="prefect-server",
        argv=[sys.executable, "-m", "prefect", "server", "start",
              "--host", HOST, "--port", str(port), "--analytics-off"],
        log_path=Path(data_dir).resolve() / "logs" / "prefect-server.log",
        env=_python_env(env),
    ).start()
    return wait_until_answering(proc, env["PREFECT_API_URL"], "/health", "Prefect server", timeout)


def _poll(proc: ManagedProcess, probe: Callable[[], T | None], *, exited: str, too_slow: str, timeout: float, interval: float) -> T:
    """probe() until it gives a value; raise `proc.failure` if the process exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if not proc.is_alive():
            raise proc.failure(exited)
        try:
            if (found := probe()) is not None:
                return found
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise proc.failure(too_slow)
        time.sleep(interval)


def wait_until_answering(proc: ManagedProcess, base_url: str, path: str, what: str, timeout: float) -> ManagedProcess:
    """Return `proc` once GET base_url+path answers 200; stop it and raise if it exits or takes too long."""
    try:
        return _poll(
            proc, lambda: proc if httpx.get(f"{base_url}{path}", timeout=2).status_code == 200 else None,
            exited=f"The {what} exited before {base_url} answered",
            too_slow=f"The {what} did not answer {base_url}{path} within {timeout:.0f} s", timeout=timeout, interval=0.25,
        )
    except BaseException:
        proc.stop()
        raise


def start_worker(
    data_dir: Path,
    api_url: str,
    extra_env: Mapping[str, str] | None = None,
    *,
    database_url: str | None = None,
    module: str = WORKER_MODULE,
) -> ManagedProcess:
    """`python -m avtaleflyt.flows.serve` against the server at `api_url`.

    It shares the stack's Prefect home (data_dir/prefect) and gets the domain
    database as AVTALEFLYT_DATABASE_URL (from `database_url`, else inherited).
    """
    data_dir = Path(data_dir).resolve()
    env: dict[str, str] = {
        "PREFECT_API_URL": api_url,
        "PREFECT_HOME": str(data_dir / "prefect"),
        "DO_NOT_TRACK": "1",
        "AVTALEFLYT_DATA_DIR": str(data_dir),
    }
    if database_url:
        env["AVTALEFLYT_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    return ManagedProcess(
        name="worker",
        argv=[sys.executable, "-m", module],
        log_path=data_dir / "logs" / "worker.log",
        env=_python_env(env),
    ).start()


def wait_for_deployment(
    api_url: str,
    deployment: str,
    proc: ManagedProcess,
    *,
    since: datetime | None = None,
    timeout: float = WORKER_START_TIMEOUT,
    auth_string: str | None = None,
) -> dict:
    """Wait until `deployment` ("flow/deployment") is served: updated at or after `since`, not paused.

    `serve()` upserts its deployment (unpaused) on start, so an `updated` newer than
    the worker's start means this worker has registered it and is about to poll. A
    worker stopped with SIGTERM pauses its deployments; one killed does not.
    """
    url = f"{api_url}/deployments/name/{deployment}"

    def served() -> dict | None:
        response = httpx.get(url, timeout=5, headers=auth_headers(auth_string))
        if response.status_code != 200:
            return None
        body = response.json()
        updated = datetime.fromisoformat(body["updated"].replace("Z", "+00:00"))
        return body if (since is None or updated >= since) and not body.get("paused") else None

    return _poll(
        proc, served, exited=f"The worker exited before deployment {deployment!r} was served",
        too_slow=f"Deployment {deployment!r} was not served within {timeout:.0f} s", timeout=timeout, interval=0.5,
    )


def start_smtp_sink(data_dir: Path, port: int, timeout: float = SINK_START_TIMEOUT) -> ManagedProcess:
    """`python -m avtaleflyt.smtp_sink` on HOST:port, storing .eml files in data_dir/mail."""
    ensure_port_free(port, "AVTALEFLYT_SINK_PORT")
    data_dir = Path(data_dir).resolve()
    proc = ManagedProcess(
        name="smtp-sink",
        argv=[sys.executable, "-m", "avtaleflyt.smtp_sink", "--dir", str(data_dir / "mail"),
              "--host", HOST, "--port", str(port)],
        log_path=data_dir / "logs" / "smtp-sink.log",
        env=_python_env({}),
    ).start()
    deadline = time.monotonic() + timeout
    while True:
        if not proc.is_alive():
            raise proc.failure(f"The SMTP sink exited before listening on {HOST}:{port}")
        try:
            with socket.create_connection((HOST, port), timeout=1) as conn:
                if conn.recv(3) == b"220":
                    return proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.stop()
            raise proc.failure(f"The SMTP sink did not listen on {HOST}:{port} within {timeout:.0f} s")
        time.sleep(0.2)


def start_dashboard(
    data_dir: Path, port: int, env: Mapping[str, str], timeout: float = DASHBOARD_START_TIMEOUT
) -> ManagedProcess:
    """`python -m avtaleflyt.dashboard` on HOST:port; returns once /healthz answers."""
    ensure_port_free(port, "AVTALEFLYT_DASHBOARD_PORT")
    data_dir = Path(data_dir).resolve()
    proc = ManagedProcess(
        name="dashboard",
        argv=[sys.executable, "-m", "avtaleflyt.dashboard", "--host", HOST, "--port", str(port)],
        log_path=data_dir / "logs" / "dashboard.log",
        env=_python_env(env),
    ).start()
    return wait_until_answering(proc, f"http://{HOST}:{port}", "/healthz", "dashboard", timeout)


def sink_env(port: int) -> dict[str, str]:
    """Settings that send the outbox to `up`'s local sink."""
    return {
        "AVTALEFLYT_SMTP_HOST": HOST,
        "AVTALEFLYT_SMTP_PORT": str(port),
        "AVTALEFLYT_SMTP_STARTTLS": "false",
    }
