"""Fixtures shared by all tests.

`prefect_server` starts one real Prefect server (SQLite) for the whole session, and
only when a test asks for it, so the unit tests stay fast. `worker` starts
`python -m avtaleflyt.flows.serve` against it for one test, as often as the test
likes (kill it to simulate a crash, start it again to recover).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from avtaleflyt.settings import REVISION_DEPLOYMENT, REVISION_FLOW, get_settings
from avtaleflyt.stack import (
    ManagedProcess,
    apply_prefect_env,
    free_port,
    prefect_env,
    start_prefect_server,
    start_worker,
    wait_for_deployment,
)

from .smtp import SmtpServer

# How often a test worker asks the server for runs to start (prefect's default is
# 10 s); a resumed run waits for this poll, so keep it short in tests.
WORKER_POLL_SECONDS = "1"


@dataclass(frozen=True)
class PrefectServer:
    api_url: str
    data_dir: Path
    env: dict[str, str]
    process: ManagedProcess


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """One Prefect server for the session; this process's prefect client points at it.

    The server's settings are put in os.environ (so subprocesses inherit them) and
    prefect's global settings are rebuilt from it, because prefect reads the
    environment only once, on import.
    """
    data_dir = tmp_path_factory.mktemp("prefect-server")
    env = prefect_env(data_dir, free_port())
    server = start_prefect_server(data_dir, int(env["PREFECT_SERVER_API_PORT"]))
    saved = {name: os.environ.get(name) for name in env}
    apply_prefect_env(env)
    try:
        yield PrefectServer(api_url=env["PREFECT_API_URL"], data_dir=data_dir, env=env, process=server)
    finally:
        apply_prefect_env(saved)
        server.stop()


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Nothing a test makes (the signing key, mail) lands in the working folder's .avtaleflyt/."""
    monkeypatch.setenv("AVTALEFLYT_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def domain_db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite domain database for this test, exported as AVTALEFLYT_DATABASE_URL.

    AVTALEFLYT_DATA_DIR points into tmp_path too, so nothing lands in ./.avtaleflyt.
    """
    url = f"sqlite:///{tmp_path / 'avtaleflyt.db'}"
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", url)
    monkeypatch.setenv("AVTALEFLYT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


WorkerFactory = Callable[..., ManagedProcess]


@pytest.fixture
def worker(prefect_server: PrefectServer, domain_db_url: str, tmp_path: Path) -> Iterator[WorkerFactory]:
    """Start a worker for this test: `proc = worker()`; all are stopped at the end.

    By default it returns once the worker has (re-)registered the revision
    deployment. `worker(deployment=None)` skips that wait; `module=` and keyword
    `env=` are for tests that serve something else.
    """
    started: list[ManagedProcess] = []

    def start(
        *,
        deployment: str | None = f"{REVISION_FLOW}/{REVISION_DEPLOYMENT}",
        module: str = "avtaleflyt.flows.serve",
        env: dict[str, str] | None = None,
        timeout: float = 60.0,
    ) -> ManagedProcess:
        since = datetime.now(timezone.utc)
        proc = start_worker(
            tmp_path / "data",
            prefect_server.api_url,
            extra_env={"PREFECT_RUNNER_POLL_FREQUENCY": WORKER_POLL_SECONDS, **(env or {})},
            database_url=domain_db_url,
            module=module,
        )
        started.append(proc)
        if deployment is not None:
            wait_for_deployment(prefect_server.api_url, deployment, proc, since=since, timeout=timeout)
        return proc

    yield start
    for proc in reversed(started):
        proc.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real aiosmtpd server on 127.0.0.1 (a free port) that records and can be scripted: tests/smtp.py."""
    with SmtpServer() as server:
        yield server
