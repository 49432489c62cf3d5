"""Free loopback ports that no two pytest-xdist workers of one run are given at the same time.

`avtaleflyt.stack.free_port` asks the kernel for a free port and lets it go again; two
workers asking at the same moment were seen to get the same one (two Prefect servers
on one port, and one worker talking to the other's server). Here every port handed out
in a run is written, under a lock, to a file of the run (tests/conftest.py RUN_MARKER),
and a port already in it is not handed out again.

The ports come from below the kernel's ephemeral range (ip_local_port_range). A port in that
range that nobody listens on can still be taken a moment later as the local end of an outgoing
connection: `up`'s dashboard port was, between `up`'s check and the dashboard's start, while
other workers' clients opened connections by the hundred. Below it, only a bind does.
"""

from __future__ import annotations

import fcntl
import os
import random
import tempfile
from pathlib import Path

from avtaleflyt.stack import processes

RUN_MARKER = "AVTALEFLYT_TEST_RUN"
LOWEST = 20000


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _free_below_ephemeral() -> int:
    """A loopback port below the ephemeral range that nobody has bound now."""
    high = max(_ephemeral_start(), LOWEST + 1000)
    for _attempt in range(1000):
        port = random.randrange(LOWEST, high)
        try:
            processes.ensure_port_free(port)  # the check `up` makes before it starts a service there
        except processes.StackError:
            continue
        return port
    return processes.free_port()



def ledger() -> Path | None:
    run = os.environ.get(RUN_MARKER)
    return Path(tempfile.gettempdir()) / f"avtaleflyt-test-ports-{run}" if run else None


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on now and no other worker of this run was given."""
    path = ledger()
    if path is None:
        return _free_below_ephemeral()
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
        f.seek(0)
        given = set(f.read().split())
        for _attempt in range(100):
            port = _free_below_ephemeral()
            if str(port) not in given:
                f.write(f"{port}\n")
                return port
    raise RuntimeError(f"no free port found that {path} does not list already")
