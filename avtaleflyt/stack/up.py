"""`avtaleflyt up`: start the stack's services in order, print where they are, wait, stop them."""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from avtaleflyt import clock

from .prefect_env import apply_prefect_env, auth_env, prefect_env
from .processes import HOST, ManagedProcess, ensure_port_free
from .services import sink_env, start_dashboard, start_prefect_server, start_smtp_sink, start_worker, wait_for_deployment

if TYPE_CHECKING:
    from rich.console import Console

    from avtaleflyt.settings import Settings


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


def prepare_example(source: str, name: str, data_dir: Path, *, today: dt.date | None = None) -> Path:
    """The example plan (`source`, from the file `name`) moved so that its first stage begins
    `today` (Europe/Oslo unless given), written into `<data_dir>/examples/`; `up` starts that one.

    Every date moves by the same days (`plan rebase`); raises PlanInvalid for a plan that is not valid.
    """
    from avtaleflyt.models.rebase import rebase

    day = today or clock.today()
    rebased = rebase(source, day)
    path = Path(data_dir).resolve() / "examples" / f"{Path(name).stem}-from-{day.isoformat()}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(rebased.text.encode("utf-8"))
    return path


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

    from avtaleflyt.db import engine_for
    from avtaleflyt.settings import get_settings

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
                    running.callback(_announce_sink(data_dir, settings.sink_port).unlink, missing_ok=True)
            with console.status("Starting the worker …"):
                started = clock.utcnow()
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


def _announce_sink(data_dir: Path, port: int) -> Path:
    """Tell commands run beside `up` on this data folder where its SMTP sink listens (Settings.for_sending),
    so that they deliver what they enqueue at once instead of leaving it to the next run's pass."""
    import json
    import os

    from avtaleflyt.settings import SINK_FILE

    path = data_dir / SINK_FILE
    path.write_text(json.dumps({"host": HOST, "port": port, "pid": os.getpid()}), encoding="utf-8")
    return path


def _stop(console: Console, proc: ManagedProcess) -> None:
    status = proc.stop()
    # uvicorn (the dashboard, Prefect's server) ends by raising the SIGTERM it shut down on: -15 is clean too.
    if not proc.killed and status in (0, -signal.SIGTERM):
        console.print(f"{proc.name} stopped cleanly.")
    else:
        how = "killed (it did not end on SIGTERM), " if proc.killed else ""
        console.print(f"[yellow]{proc.name} stopped: {how}exit status {status}; see {proc.log_path}[/]", highlight=False)
