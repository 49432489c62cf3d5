"""Free loopback ports that no two pytest-xdist workers of one run are given at the same time.

`avtaleflyt.stack.free_port` asks the kernel for a free port and lets it go again; two
workers asking at the same moment were seen to get the same one (two Prefect servers
on one port, and one worker talking to the other's server). Here every port handed out
in a run is written, under a lock, to a file of the run (tests/conftest.py RUN_MARKER),
and a port already in it is not handed out again.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

from avtaleflyt.stack import processes

RUN_MARKER = "AVTALEFLYT_TEST_RUN"
_kernel_free_port = processes.free_port


def ledger() -> Path | None:
    run = os.environ.get(RUN_MARKER)
    return Path(tempfile.gettempdir()) / f"avtaleflyt-test-ports-{run}" if run else None


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on now and no other worker of this run was given."""
    path = ledger()
    if path is None:
        return _kernel_free_port()
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
        f.seek(0)
        given = set(f.read().split())
        for _attempt in range(100):
            port = _kernel_free_port()
            if str(port) not in given:
                f.write(f"{port}\n")
                return port
    raise RuntimeError(f"no free port found that {path} does not list already")
