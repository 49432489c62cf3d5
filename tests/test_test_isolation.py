"""The test run's own isolation helpers: ports unique across xdist workers, the reaper."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from . import ports

TESTS = Path(__file__).resolve().parent
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="/proc and fcntl: Linux only")


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_workers_asking_at_once_never_get_the_same_port(monkeypatch):
    """Four processes ask for 100 ports each at the same moment, as xdist workers do: no port twice."""
    run = uuid.uuid4().hex
    monkeypatch.setenv(ports.RUN_MARKER, run)
    script = "from tests import ports; print(' '.join(str(ports.free_port()) for _ in range(100)))"
    askers = [
        subprocess.Popen([sys.executable, "-c", script], cwd=TESTS.parent, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    try:
        given = [int(p) for a in askers for p in a.communicate(timeout=120)[0].split()]
    finally:
        ports.ledger().unlink(missing_ok=True)
    assert len(given) == 400
    assert len(set(given)) == 400, sorted(p for p in given if given.count(p) > 1)
    # Below the ephemeral range: no outgoing connection's local end takes one between the check and the bind.
    assert max(given) < ports._ephemeral_start(), max(given)


def test_the_reaper_ends_the_runs_processes_when_pytest_is_gone_and_only_those():
    name, run = "AVTALEFLYT_TEST_RUN", uuid.uuid4().hex
    ours = subprocess.Popen(["sleep", "120"], env={**os.environ, name: run}, start_new_session=True)
    other_run = subprocess.Popen(["sleep", "120"], env={**os.environ, name: "another-run"}, start_new_session=True)
    pretend_pytest = subprocess.Popen(["sleep", "120"])  # the reaper spares the pytest process it was given
    reaper = subprocess.Popen(
        [sys.executable, str(TESTS / "reaper.py"), name, run, str(pretend_pytest.pid)],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        time.sleep(0.5)
        assert not _gone(ours.pid)  # nothing happens while the pipe is open
        reaper.stdin.close()  # pytest exits (or dies)
        reaper.wait(timeout=30)
        ours.wait(timeout=10)
        assert _gone(ours.pid)
        assert f"{ours.pid} sleep 120" in reaper.stderr.read()
        assert other_run.poll() is None and pretend_pytest.poll() is None
    finally:
        for p in (ours, other_run, pretend_pytest):
            p.kill()
            p.wait()
