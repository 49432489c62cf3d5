"""Child processes of the stack, and the loopback ports they listen on.

Every piece runs in its own process group (so Ctrl-C in the terminal reaches only
us, and stopping a child also stops whatever it spawned), logging to
`<data_dir>/logs/<name>.log`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from avtaleflyt import clock

HOST = "127.0.0.1"


class StackError(RuntimeError):
    """The stack could not start or stopped unexpectedly; the message says why."""


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


# glibc gives threads that allocate at once arenas of their own (up to 8 per core) and rarely
# hands their freed pages back; the Prefect server runs every SQLite connection in a thread of
# its own. Two arenas keep a long-lived server near its working set (bench/README.md, memory).
# A value in the environment wins.
MALLOC_ARENA_MAX = "2"


def _python_env(extra: Mapping[str, str]) -> dict[str, str]:
    return {"MALLOC_ARENA_MAX": MALLOC_ARENA_MAX, **os.environ, "PYTHONUNBUFFERED": "1", **extra}


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
    killed: bool = field(default=False, init=False)  # SIGKILLed: by kill(), or by stop() when SIGTERM was not enough

    def start(self) -> ManagedProcess:
        if self.is_alive():
            raise StackError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            stamp = clock.utcnow().isoformat(timespec="seconds")
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
        self.killed = True
        self._signal_group(signal.SIGKILL)
        deadline = time.monotonic() + 10
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - uninterruptible sleep
            pass
        # SIGKILL is delivered at once but a busy kernel tears the others down a moment later.
        while self._group_alive() and time.monotonic() < deadline:
            time.sleep(0.02)

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
