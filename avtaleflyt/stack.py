"""The embedded stack behind `avtaleflyt up`: a Prefect server on SQLite, a worker, the dashboard.

Every piece runs as a child process in its own process group (so Ctrl-C in the
terminal reaches only us, and stopping a child also stops whatever it spawned),
logging to `<data_dir>/logs/<name>.log`.

Prefect reads its settings from the environment once, when `prefect` is first
imported; `apply_prefect_env` is how this process switches to another server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from rich.console import Console

    from .settings import Settings

HOST = "127.0.0.1"
SERVER_START_TIMEOUT = 90.0
WORKER_START_TIMEOUT = 60.0
SINK_START_TIMEOUT = 30.0
DASHBOARD_START_TIMEOUT = 30.0
WORKER_MODULE = "avtaleflyt.flows.serve"


class StackError(RuntimeError):
    """The stack could not start or stopped unexpectedly; the message says why."""


# --------------------------------------------------------------------------- settings


def prefect_env(data_dir: Path, port: int, database_url: str | None = None, auth_string: str | None = None) -> dict[str, str]:
    """Environment for a Prefect server (and its clients) on SQLite under `data_dir/prefect`,
    or on the database at `database_url` (e.g. `postgresql+asyncpg://…`); with `auth_string`,
    the server's API and UI ask for it (HTTP basic auth) and its clients send it.

    Names as in prefect 3.8.8 (`prefect/settings/models/`); legacy aliases such as
    PREFECT_API_DATABASE_CONNECTION_URL still work there but are not used here.
    """
    home = (Path(data_dir) / "prefect").resolve()
    api_url = f"http://{HOST}:{port}/api"
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": database_url or f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_API_HOST": HOST,
        "PREFECT_SERVER_API_PORT": str(port),
        # Clients (CLI, worker, flow runs) go here; the UI's API URL and PREFECT_UI_URL
        # are derived from it by prefect.
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_UI_ENABLED": "true",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        # Server-side usage reporting (sens-o-matic) off ...
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # ... and the SDK's client-side usage events (prefect/_internal/analytics) off.
        "DO_NOT_TRACK": "1",
        **(auth_env(auth_string, server=True) if auth_string else {}),
    }


def auth_env(auth_string: str, *, server: bool = False) -> dict[str, str]:
    """Prefect's password: the server checks PREFECT_SERVER_API_AUTH_STRING against every API
    request's `Authorization: Basic` header (prefect/server/api/server.py, health checks
    excepted); its clients (CLI, worker, run processes, dashboard) send PREFECT_API_AUTH_STRING."""
    return {"PREFECT_API_AUTH_STRING": auth_string, **({"PREFECT_SERVER_API_AUTH_STRING": auth_string} if server else {})}


def auth_headers(auth_string: str | None = None) -> dict[str, str]:
    """The header Prefect's client sends: `auth_string`, else this process's PREFECT_API_AUTH_STRING."""
    if auth_string is None:
        from prefect.settings import get_current_settings

        secret = get_current_settings().api.auth_string
        auth_string = secret.get_secret_value() if secret is not None else None
    if not auth_string:
        return {}
    import base64

    return {"Authorization": "Basic " + base64.b64encode(auth_string.encode()).decode()}


def apply_prefect_env(env: Mapping[str, str | None]) -> None:
    """Set (or, for None, unset) variables in os.environ and make an imported prefect see them.

    prefect builds its global settings once, on import; later changes to os.environ
    are ignored until `prefect.context.refresh_global_settings_context()` runs.
    """
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if "prefect.context" in sys.modules:
        sys.modules["prefect.context"].refresh_global_settings_context()


def use_local_prefect_api(settings: Settings) -> str:
    """Point this process at `up`'s server unless a Prefect API URL is configured; returns the URL.

    Without any PREFECT_API_URL (environment or prefect profile) prefect's client
    silently starts a throwaway ephemeral server with its own database, which knows
    none of our runs. A CLI command in a second terminal must reach `up`'s server.
    The password of `up`'s server (data_dir/prefect-auth) goes with it, unless one is
    configured (PREFECT_API_AUTH_STRING); also when PREFECT_API_URL names `up`'s server.
    """
    from prefect.settings import get_current_settings

    current = get_current_settings().api
    local = f"http://{HOST}:{settings.prefect_port}/api"
    url = current.url or local
    env: dict[str, str] = {} if current.url else {"PREFECT_API_URL": local}
    if current.auth_string is None and url.rstrip("/") == local and (auth := settings.prefect_auth()):
        env.update(auth_env(auth))
    if env:
        apply_prefect_env(env)
    return url


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def ensure_port_free(port: int, setting: str = "AVTALEFLYT_PREFECT_PORT") -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError as exc:
            raise StackError(
                f"Port {port} on {HOST} is already in use ({exc.strerror}); is another "
                f"`avtaleflyt up` or Prefect server running? Choose another port with "
                f"{setting}=<port>."
            ) from None


# --------------------------------------------------------------------------- processes


@dataclass
class ManagedProcess:
    """A child process in its own process group, logging to a file.

    `stop()` asks the whole group to end (SIGTERM), then SIGKILLs what is left after
    `timeout` seconds; `kill()` SIGKILLs the group at once (a crash, for tests).
    """

    name: str
    argv: list[str]
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def start(self) -> ManagedProcess:
        if self.is_alive():
            raise StackError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            log.write(f"\n--- {stamp} starting {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                env=dict(self.env) if self.env is not None else None,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own session and process group: pgid == pid
            )
        return self

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def is_alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def _group_alive(self) -> bool:
        """Whether any process of the group still runs (zombies waiting for init do not count)."""
        if self.popen is None:
            return False
        pgid = self.popen.pid
        proc_dir = Path("/proc")
        if not proc_dir.is_dir():  # not Linux: a zombie counts as alive, which only costs time
            try:
                os.killpg(pgid, 0)
            except (ProcessLookupError, PermissionError):
                return False
            return True
        for stat in proc_dir.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended while we looked
            state, pgrp = fields[0], int(fields[2])
            if pgrp == pgid and state != "Z":
                return True
        return False

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM the group, wait up to `timeout` s, then SIGKILL; returns the exit status."""
        if self.popen is None:
            return None
        self._signal_group(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        # The leader may be gone while something it spawned still runs.
        while self._group_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._group_alive() or self.popen.poll() is None:
            self.kill()
        return self.popen.returncode

    def kill(self) -> None:
        """SIGKILL the whole group now (what a crashed machine looks like to Prefect)."""
        if self.popen is None:
            return
        self._signal_group(signal.SIGKILL)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - uninterruptible sleep
            pass

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def failure(self, what: str) -> StackError:
        """A StackError saying `what`, with the tail of this process's log."""
        status = "" if self.is_alive() else f" (exit status {self.returncode})"
        return StackError(
            f"{what}{status}. Last lines of {self.log_path}:\n{self.log_tail()}"
        )

    def __enter__(self) -> ManagedProcess:
        return self if self.popen else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- the pieces


def _python_env(extra: Mapping[str, str]) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}


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


def wait_until_answering(proc: ManagedProcess, base_url: str, path: str, what: str, timeout: float) -> ManagedProcess:
    """Return `proc` once GET base_url+path answers 200; stop it and raise if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            if not proc.is_alive():
                raise proc.failure(f"The {what} exited before {base_url} answered")
            try:
                if httpx.get(f"{base_url}{path}", timeout=2).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise proc.failure(f"The {what} did not answer {base_url}{path} within {timeout:.0f} s")
            time.sleep(0.25)
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
    deadline = time.monotonic() + timeout
    while True:
        if not proc.is_alive():
            raise proc.failure(f"The worker exited before deployment {deployment!r} was served")
        try:
            response = httpx.get(url, timeout=5, headers=auth_headers(auth_string))
            if response.status_code == 200:
                body = response.json()
                updated = datetime.fromisoformat(body["updated"].replace("Z", "+00:00"))
                if (since is None or updated >= since) and not body.get("paused"):
                    return body
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise proc.failure(f"Deployment {deployment!r} was not served within {timeout:.0f} s")
        time.sleep(0.5)


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


# --------------------------------------------------------------------------- up


@dataclass(frozen=True)
class Stack:
    """What `up` started, as printed when it is ready."""

    data_dir: Path
    api_url: str
    ui_url: str
    log_dir: Path
    database_url: str
    example: Path | None
    server: ManagedProcess
    worker: ManagedProcess
    sink: ManagedProcess | None = None
    sink_port: int | None = None
    mail_dir: Path | None = None
    dashboard: ManagedProcess | None = None
    dashboard_url: str | None = None
    auth_file: Path | None = None

    def rows(self) -> list[tuple[str, str]]:
        rows = [
            *([("Dashboard", self.dashboard_url)] if self.dashboard_url else []),
            ("Prefect UI", self.ui_url + (f"  (password: the line in {self.auth_file})" if self.auth_file else "")),
            ("Prefect API", self.api_url),
            *([("Mail (local sink)", f"{self.mail_dir}  (SMTP {HOST}:{self.sink_port})")] if self.sink else []),
            ("Data folder", str(self.data_dir)),
            ("Domain database", self.database_url),
            ("Logs", str(self.log_dir)),
        ]
        if self.example:
            rows.append(("Example revision", str(self.example)))
        return rows


class _Shutdown(Exception):
    pass


@contextmanager
def _shutdown_signals() -> Iterator[Callable[[], None]]:
    """SIGTERM raises like Ctrl-C does; yields a function that ignores both from then on.

    Handlers are restored on exit. Outside the main thread signals are left alone.
    """

    def raise_shutdown(signum: int, frame: object) -> None:
        raise _Shutdown(signal.Signals(signum).name)

    def ignore() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)

    try:
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        signal.signal(signal.SIGTERM, raise_shutdown)
    except ValueError:  # not the main thread
        yield lambda: None
        return
    try:
        yield ignore
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_up(
    settings: Settings,
    *,
    load_example: Path | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Start the Prefect server, then the worker, call `on_ready`, print the URLs, wait.

    Ctrl-C or SIGTERM stops the worker, then the server, and returns. A child that
    dies on its own stops the rest and raises StackError, and so does an error from
    `on_ready`. `on_ready()` runs once the worker serves the revision deployment, with
    this process pointed at the new server (PREFECT_API_URL, the domain database, a
    fresh `get_settings()`), so it can start the example revision in-process.
    """
    from rich.console import Console
    from rich.table import Table

    from .db import engine_for
    from .settings import get_settings

    console = Console()
    data_dir = Path(settings.data_dir).resolve()
    port = settings.prefect_port
    data_dir.mkdir(parents=True, exist_ok=True)
    # Prefect's resume form records decisions: its UI and API ask for a password.
    auth = settings.prefect_auth(create=True)
    env = prefect_env(data_dir, port, settings.prefect_database_url, auth)
    database_url = settings.domain_database_url
    ensure_port_free(port)
    if settings.smtp_host is None:
        ensure_port_free(settings.sink_port, "AVTALEFLYT_SINK_PORT")
    ensure_port_free(settings.dashboard_port, "AVTALEFLYT_DASHBOARD_PORT")

    with _shutdown_signals() as ignore_signals, ExitStack() as running:
        try:
            # Migrate the domain database here, once, before the worker and CLI race to it.
            engine_for(database_url)

            with console.status(f"Starting Prefect server on {HOST}:{port} …"):
                server = start_prefect_server(data_dir, port, database_url=settings.prefect_database_url, auth_string=auth)
                running.callback(_stop, console, server)
            sink, smtp_env = None, {}
            if settings.smtp_host is None:
                with console.status(f"Starting the SMTP sink on {HOST}:{settings.sink_port} …"):
                    sink = start_smtp_sink(data_dir, settings.sink_port)
                    running.callback(_stop, console, sink)
                    smtp_env = sink_env(settings.sink_port)
            with console.status("Starting the worker …"):
                started = datetime.now(timezone.utc)
                # Prefect's default poll is 10 s: a resumed run would wait that long for its next pass.
                client_auth = auth_env(auth) if auth else {}
                worker = start_worker(
                    data_dir, env["PREFECT_API_URL"], {"PREFECT_RUNNER_POLL_FREQUENCY": "2", **client_auth, **smtp_env},
                    database_url=database_url,
                )
                running.callback(_stop, console, worker)  # ExitStack: worker stops first
                wait_for_deployment(env["PREFECT_API_URL"], settings.deployment, worker, since=started, auth_string=auth)
            with console.status(f"Starting the dashboard on {HOST}:{settings.dashboard_port} …"):
                dashboard = start_dashboard(data_dir, settings.dashboard_port, {
                    "PREFECT_API_URL": env["PREFECT_API_URL"],
                    **client_auth,
                    "AVTALEFLYT_DATA_DIR": str(data_dir),
                    "AVTALEFLYT_DATABASE_URL": database_url,
                })
                running.callback(_stop, console, dashboard)  # stops before the worker

            apply_prefect_env({
                **env,
                "AVTALEFLYT_DATA_DIR": str(data_dir),
                "AVTALEFLYT_DATABASE_URL": database_url,
                **smtp_env,
            })
            get_settings.cache_clear()
            stack = Stack(
                data_dir=data_dir,
                api_url=env["PREFECT_API_URL"],
                ui_url=f"http://{HOST}:{port}",
                log_dir=data_dir / "logs",
                database_url=database_url,
                example=load_example,
                server=server,
                worker=worker,
                sink=sink,
                sink_port=settings.sink_port if sink else None,
                mail_dir=data_dir / "mail" if sink else None,
                dashboard=dashboard,
                dashboard_url=f"http://{HOST}:{settings.dashboard_port}",
                auth_file=data_dir / "prefect-auth" if auth and settings.prefect_auth_string is None else None,
            )
            if on_ready is not None:
                on_ready()

            table = Table(title="avtaleflyt is running", show_header=False, box=None)
            for label, value in stack.rows():
                table.add_row(f"[bold]{label}[/]", value)
            console.print(table)
            console.print("Press Ctrl-C to stop.")

            while True:
                for proc in (server, worker, dashboard, *([sink] if sink else [])):
                    if not proc.is_alive():
                        raise proc.failure(f"The {proc.name} stopped unexpectedly")
                time.sleep(1)
        except (KeyboardInterrupt, _Shutdown):
            console.print("Stopping …")
        finally:
            # Stopping is bounded by ManagedProcess.stop's timeouts: ignore a second
            # Ctrl-C/SIGTERM so it cannot leave children behind.
            ignore_signals()


def _stop(console: Console, proc: ManagedProcess) -> None:
    status = proc.stop()
    console.print(f"{proc.name} stopped (exit status {status}).")
