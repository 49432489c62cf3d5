"""Fixtures shared by all tests.

`prefect_server` starts one real Prefect server (SQLite) for the whole session, and
only when a test asks for it, so the unit tests stay fast. `worker` starts
`python -m avtaleflyt.flows.serve` against it for one test, as often as the test
likes (kill it to simulate a crash, start it again to recover).

`domain_db_url` is a fresh domain database for one test, on SQLite or PostgreSQL
(`db_backend`). Which backends a test runs on:

- AVTALEFLYT_TEST_DATABASE unset (or `both`): a test that uses the domain database
  without Prefect runs on both (ids `[sqlite]`, `[postgresql]`); one that uses
  `prefect_server` (directly or through `worker`) runs on SQLite only;
- `AVTALEFLYT_TEST_DATABASE=postgresql`: every test on PostgreSQL;
- `AVTALEFLYT_TEST_DATABASE=sqlite`: every test on SQLite, no PostgreSQL needed;
- `@pytest.mark.backends("postgresql", ...)` names a test's backends outright
  (`sqlite` mode still skips PostgreSQL).

The PostgreSQL server (tests/pg.py) is started once per session, on the first
test that needs it, and each such test gets its own database cloned from a
migrated template; a new SQLite file is a copy of one migrated once per session
(tests/sqlite_template.py).

`make test` runs the suite on several pytest-xdist workers (`-n`, `--dist loadgroup`).
Each worker is a session of its own: its own Prefect server, PostgreSQL server,
PREFECT_HOME and temporary folders, every port a free one no other worker was
given (tests/ports.py); nothing is shared
between workers but the machine. The slow tests are handed out first
(`pytest_collection_modifyitems`). tests/reaper.py ends whatever a run leaves behind.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from avtaleflyt import stack
from avtaleflyt.settings import REVISION_DEPLOYMENT, REVISION_FLOW, get_settings
from avtaleflyt.stack import (
    ManagedProcess,
    apply_prefect_env,
    prefect_env,
    start_prefect_server,
    start_worker,
    wait_for_deployment,
)

from . import ports, sqlite_template
from .pg import BACKENDS, TEST_DATABASE, PostgresServer, PostgresUnavailable, prepare_template
from .ports import RUN_MARKER
from .smtp import SmtpServer

# Tests take `free_port` from avtaleflyt.stack; under xdist it must not give two workers one port.
free_port = stack.free_port = stack.processes.free_port = ports.free_port

# How often a test worker asks the server for runs to start (prefect's default is
# 10 s); a resumed run waits for this poll, so keep it short in tests.
WORKER_POLL_SECONDS = "1"
PREFECT_TEST_AUTH = "avtaleflyt:session-test-password"


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
    # Behind a password, as `up` runs it: every client of the tests (CLI, workers, run
    # processes, the dashboard) must send it, or the server refuses them.
    env = prefect_env(data_dir, free_port(), auth_string=PREFECT_TEST_AUTH)
    # The scheduler looks every 60 s by default; tests that wait for a scheduled run need less.
    os.environ.setdefault("PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS", "5")
    server = start_prefect_server(data_dir, int(env["PREFECT_SERVER_API_PORT"]), auth_string=PREFECT_TEST_AUTH)
    saved = {name: os.environ.get(name) for name in env}
    apply_prefect_env(env)
    _session_prefect_env.update(env)
    try:
        yield PrefectServer(api_url=env["PREFECT_API_URL"], data_dir=data_dir, env=env, process=server)
    finally:
        _session_prefect_env.clear()
        apply_prefect_env(saved)
        server.stop()


_session_prefect_env: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _back_on_the_session_server() -> None:
    """Before each test, point prefect at the session's server again if an earlier test moved it.

    A test may aim prefect elsewhere (an unreachable API, say) and, on its way out,
    unset PREFECT_API_URL instead of restoring it; the server then looks gone to
    every later test. Which tests follow depends on the order they run in.
    """
    if _session_prefect_env and any(os.environ.get(k) != v for k, v in _session_prefect_env.items()):
        apply_prefect_env(_session_prefect_env)


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Nothing a test makes (the signing key, mail) lands in the working folder's .avtaleflyt/."""
    monkeypatch.setenv("AVTALEFLYT_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


if TEST_DATABASE not in ("both", *BACKENDS):
    raise pytest.UsageError(f"AVTALEFLYT_TEST_DATABASE={TEST_DATABASE!r}: use sqlite, postgresql or both")


# Every process a test run starts inherits RUN_MARKER (a value per run); tests/reaper.py
# ends those still alive when the run's first pytest process exits, however it exits.
_reaper: subprocess.Popen[bytes] | None = None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends(*names): the domain-database backends a test runs on (sqlite, postgresql)")
    global _reaper
    if RUN_MARKER not in os.environ and sys.platform == "linux":  # the run's first process, not an xdist worker
        os.environ[RUN_MARKER] = uuid.uuid4().hex
        _reaper = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("reaper.py")), RUN_MARKER, os.environ[RUN_MARKER], str(os.getpid())],
            stdin=subprocess.PIPE, start_new_session=True,  # Ctrl-C in the terminal does not reach it
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    if _reaper is not None and _reaper.stdin is not None:
        _reaper.stdin.close()  # the run is over: the reaper ends what is left (normally nothing)
        try:
            _reaper.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass


def _uses_module_fixture(item: pytest.Item) -> bool:
    infos = getattr(item, "_fixtureinfo", None)
    return infos is not None and any(d.scope in ("module", "class", "package") for defs in infos.name2fixturedefs.values() for d in defs)


def _slowness(item: pytest.Item) -> int:
    """0 for the slowest kind of test (real Prefect runs: e2e or a `worker`), 1 for others on Prefect or a module fixture, 2 for the rest."""
    fixtures = getattr(item, "fixturenames", ())
    if item.get_closest_marker("e2e") is not None or "worker" in fixtures:
        return 0
    if "prefect_server" in fixtures or _uses_module_fixture(item):
        return 1
    return 2


def pytest_itemcollected(item: pytest.Item) -> None:
    """A module-scoped fixture's tests as one xdist group, to be set up once, on one worker (the
    distributed cluster, the browser). Needs pytest < 9.2: with 9.2 xdist's groups have no effect
    (xdist marks a group in `item._nodeid`, which 9.2 no longer reads: pytest-xdist#1386)."""
    if _uses_module_fixture(item) and item.get_closest_marker("xdist_group") is None:
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On xdist workers: the slow tests first, so that no worker is left with a long one at the end.
    Every worker collects the same items and sorts them the same way, as xdist requires."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=_slowness)  # a run on one process keeps the files' order


@pytest.fixture(scope="session", autouse=True)
def _sqlite_from_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A new SQLite domain database starts as a copy of one migrated once per session (tests/sqlite_template.py)."""
    uninstall = sqlite_template.install(tmp_path_factory.getbasetemp() / "sqlite-template")
    yield
    uninstall()


@pytest.fixture(scope="session", autouse=True)
def _own_prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """This session's (this xdist worker's) own PREFECT_HOME, not the user's ~/.prefect."""
    saved = os.environ.get("PREFECT_HOME")
    apply_prefect_env({"PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home"))})
    yield
    apply_prefect_env({"PREFECT_HOME": saved})


def backends_for(metafunc: pytest.Metafunc) -> list[str]:
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is not None:
        unknown = set(marker.args) - set(BACKENDS)
        if unknown or not marker.args:
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: backends{marker.args}: use {BACKENDS}")
        wanted = list(marker.args)
    elif TEST_DATABASE != "both":
        wanted = [TEST_DATABASE]
    elif "prefect_server" in metafunc.fixturenames:
        wanted = ["sqlite"]  # the whole Prefect stack: SQLite by default (see the module's docstring)
    else:
        wanted = list(BACKENDS)
    if TEST_DATABASE == "sqlite":
        wanted = ["sqlite"] if "sqlite" in wanted else []
    return wanted


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" not in metafunc.fixturenames:
        return
    wanted = backends_for(metafunc)
    if not wanted:  # a PostgreSQL-only test in sqlite mode
        metafunc.parametrize("db_backend", [pytest.param("postgresql", marks=pytest.mark.skip(reason="AVTALEFLYT_TEST_DATABASE=sqlite"))], indirect=True)
    else:
        metafunc.parametrize("db_backend", wanted, indirect=True)


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    """`sqlite` or `postgresql`: the domain database's backend for this test (parametrized above)."""
    return getattr(request, "param", "sqlite" if TEST_DATABASE == "both" else TEST_DATABASE)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (loopback, temporary cluster) with a migrated template."""
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        prepare_template(server)
        yield server
    finally:
        server.stop()


_database_numbers = itertools.count(1)


@pytest.fixture
def domain_db_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh domain database for this test, exported as AVTALEFLYT_DATABASE_URL.

    SQLite: a file in tmp_path. PostgreSQL: a new database on the session's server,
    already migrated (cloned from the template), dropped after the test.
    AVTALEFLYT_DATA_DIR points into tmp_path too, so nothing lands in ./.avtaleflyt.
    """
    database = None
    if db_backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        database = f"test_{next(_database_numbers)}"
        url = server.create_database(database, template=server.template)
    else:
        url = f"sqlite:///{tmp_path / 'avtaleflyt.db'}"
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", url)
    monkeypatch.setenv("AVTALEFLYT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    if database is not None:
        server.drop_database(database)  # also ends the connections the test's engines still pool


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


@pytest.fixture
def mail(smtp_server, domain_db_url, monkeypatch):
    """The settings point the sender at the session's SMTP server (and the test's domain database)."""
    monkeypatch.setenv("AVTALEFLYT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("AVTALEFLYT_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("AVTALEFLYT_SMTP_STARTTLS", "false")
    get_settings.cache_clear()
    yield smtp_server
    get_settings.cache_clear()
