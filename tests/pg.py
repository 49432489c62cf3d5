"""A throwaway PostgreSQL server for the test session: `PostgresServer().start()`.

It runs Debian's server binaries (`postgresql` package; `make test` installs it)
from a data folder in a fresh temporary directory, listening on 127.0.0.1 on a
free port with its unix socket in that directory, durability off (a test cluster
is thrown away). initdb and postgres refuse to run as root, so as root both run as
the `postgres` system user the Debian package creates; as anyone else, as that user.

`create_database(name)` clones the template database, which `prepare_template`
migrates once, so a test gets a fresh, migrated database in a few milliseconds.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .ports import free_port

BACKENDS = ("sqlite", "postgresql")
#: AVTALEFLYT_TEST_DATABASE: `both` (the default), `sqlite` or `postgresql`; see tests/conftest.py.
TEST_DATABASE = os.environ.get("AVTALEFLYT_TEST_DATABASE", "both").strip().lower() or "both"
START_TIMEOUT = 60.0
SUPERUSER = "postgres"
DRIVER = "postgresql+psycopg"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or no user to run them as; the message says what to do."""


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def find_bindir() -> Path:
    """The folder of `initdb` and `postgres`: $AVTALEFLYT_PG_BINDIR, Debian's newest, or PATH."""
    configured = os.environ.get("AVTALEFLYT_PG_BINDIR")
    candidates = [configured] if configured else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "postgres").exists():
            return Path(folder)
    raise PostgresUnavailable(
        "PostgreSQL's server binaries (initdb, postgres) were not found in /usr/lib/postgresql/*/bin "
        "or on PATH: install Debian's `postgresql` package (`make system-deps` as root does), set "
        "AVTALEFLYT_PG_BINDIR, or run only the SQLite tests with AVTALEFLYT_TEST_DATABASE=sqlite."
    )


class PostgresServer:
    """One postgres process (a child of ours) and its cluster in a temporary directory."""

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.root: Path | None = None
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.template: str | None = None  # set by prepare_template
        self._run_as: dict[str, object] = {}
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(SUPERUSER)
            except KeyError:
                raise PostgresUnavailable(
                    "initdb and postgres refuse to run as root and there is no `postgres` user to run "
                    "them as: install Debian's `postgresql` package, which creates it."
                ) from None
            self._run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
            self._owner = (user.pw_uid, user.pw_gid)
        else:
            self._owner = None

    # ------------------------------------------------------------------ life cycle

    @property
    def data_dir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.root is not None
        return self.root / "socket"

    @property
    def log_path(self) -> Path:
        assert self.root is not None
        return self.root / "postgres.log"

    def _run(self, *argv: str) -> None:
        result = subprocess.run(
            [str(self.bindir / argv[0]), *argv[1:]],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=self.root, **self._run_as,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def start(self) -> PostgresServer:
        # In the system's temp folder (not pytest's root-only one): the postgres user must reach it.
        parent = Path(tempfile.gettempdir())
        if self._owner and not all(os.stat(p).st_mode & 0o001 for p in (parent, *parent.parents)):
            parent = Path("/tmp")  # a private TMPDIR of root's: the postgres user could not get in
        self.root = Path(tempfile.mkdtemp(prefix="avtaleflyt-pg-", dir=parent))
        try:
            self.socket_dir.mkdir()
            if self._owner:
                for path in (self.root, self.socket_dir):
                    os.chown(path, *self._owner)
            self._run(
                "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
            )
            for _attempt in range(5):
                self.port = free_port()
                if self._start_postgres():
                    return self
            raise RuntimeError(f"postgres did not start; last lines of {self.log_path}:\n{self.log_tail()}")
        except BaseException:
            self.stop()
            raise

    def _start_postgres(self) -> bool:
        log = open(self.log_path, "ab")
        if self._owner:
            os.chown(self.log_path, *self._owner)
        self.process = subprocess.Popen(
            [
                str(self.bindir / "postgres"), "-D", str(self.data_dir),
                "-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.socket_dir),
                # A test cluster is thrown away: no durability, and room for many small pools.
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=400", "-c", "shared_buffers=64MB",
                "-c", "log_min_messages=warning", "-c", "log_min_error_statement=panic",
            ],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=self.root, **self._run_as,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # e.g. the port was taken meanwhile: try another
            try:
                with self.connect("postgres"):
                    return True
            except Exception:  # noqa: BLE001 - not accepting connections yet
                time.sleep(0.1)
        self._stop_process()
        raise RuntimeError(f"postgres did not accept connections within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def _stop_process(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: ends sessions, no checkpoint wait for clients
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        self._stop_process()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> PostgresServer:
        return self if self.process else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pause(self) -> None:
        """Stop the server, keeping its cluster: the database is unreachable until `resume`."""
        self._stop_process()

    def resume(self) -> None:
        """Start the paused server again on the same port."""
        if not self._start_postgres():
            raise RuntimeError(f"postgres did not come back on port {self.port}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except (FileNotFoundError, AssertionError):
            return "(no log)"

    # ------------------------------------------------------------------ databases

    def url(self, database: str, driver: str = DRIVER) -> str:
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):  # noqa: ANN201 - psycopg.Connection
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database, autocommit=True, connect_timeout=5
        )

    def create_database(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE name [TEMPLATE template]; returns its SQLAlchemy URL."""
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE, ending whatever connections are still open to it (pooled ones included)."""
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_template(server: PostgresServer, name: str = "avtaleflyt_template") -> str:
    """A database migrated to head, marked as a template; returns its name."""
    from avtaleflyt.db import migrate

    migrate(server.create_database(name))  # alembic connects without a pool: nothing stays open
    with server.connect() as conn:
        # No one may stay connected to a template, or CREATE DATABASE ... TEMPLATE fails.
        conn.execute(f"ALTER DATABASE \"{name}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
    server.template = name
    return name
