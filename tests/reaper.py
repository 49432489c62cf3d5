"""Ends what a test run left behind, however the run ended (a crash, Ctrl-C, SIGKILL).

tests/conftest.py starts this script once per run (in the first pytest process, not
in pytest-xdist's workers) with a pipe on its stdin, and puts a marker in os.environ
that every process the run starts inherits: Prefect servers, workers and their flow
runs, postgres, chromium, `avtaleflyt up`, each in whatever process group. When the
pipe closes (pytest has exited, or was killed), every process that still carries the
marker gets SIGTERM, and SIGKILL after a grace period; each is named on stderr.
The run's list of the ports it gave out (tests/ports.py) is removed.

    python tests/reaper.py MARKER_NAME MARKER_VALUE PYTEST_PID
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

GRACE_SECONDS = 5.0


def marked(name: str, value: str, spare: set[int]) -> dict[int, str]:
    """The processes whose environment holds name=value, with their command lines."""
    needle = f"{name}={value}".encode()
    found: dict[int, str] = {}
    for proc in Path("/proc").glob("[0-9]*"):
        pid = int(proc.name)
        if pid in spare:
            continue
        try:
            if needle not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # a zombie: already dead, waiting for its parent
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError):
            continue  # gone meanwhile, or not ours to read
        found[pid] = command[:160]
    return found


def signal_all(pids: dict[int, str], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def main(name: str, value: str, pytest_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the run first; we clean up after it
    sys.stdin.buffer.read()  # until pytest closes the pipe or dies
    (Path(tempfile.gettempdir()) / f"avtaleflyt-test-ports-{value}").unlink(missing_ok=True)  # tests/ports.py
    spare = {os.getpid(), pytest_pid}
    leftovers = marked(name, value, spare)
    if not leftovers:
        return
    print(f"tests/reaper.py: ending {len(leftovers)} process(es) the test run left behind:", file=sys.stderr)
    for pid, command in sorted(leftovers.items()):
        print(f"  {pid} {command}", file=sys.stderr)
    signal_all(leftovers, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and marked(name, value, spare):
        time.sleep(0.2)
    signal_all(marked(name, value, spare), signal.SIGKILL)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
