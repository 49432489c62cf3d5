"""`avtaleflyt up` as a coordinator uses it: letters go out at once, the logs stay clean, Ctrl-C stops every part.

The example runs to the end through `up`'s stack, each command issued as soon as the one before
returned, from a second terminal's environment (no PREFECT_* settings).
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from avtaleflyt.stack import ManagedProcess, auth_headers, free_port
from avtaleflyt.tasks.outbox import message_id  # imported here, not in the 10 s it measures

from .test_stack import _without_prefect_settings

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
SLUG = "revidering-av-samarbeidsavtalen-2024"

# Commands as a coordinator types them, run back to back in one process (CliRunner: no start-up per command).
DRIVER = """
    import json, sys
    from typer.testing import CliRunner
    from avtaleflyt.cli import app

    runner = CliRunner()

    def cli(*args):
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, (args, result.output)
        return result.output

    commands = json.loads(sys.argv[1])
    for args in commands:
        cli(*args)
    if sys.argv[2] == "parties":
        for party in json.loads(cli("revision", "show", {slug!r}, "--json"))["parties"]:
            cli("party", "decide", {slug!r}, "--party", party["name"], "--outcome", "approved", "--date", "2025-02-24")
        for party in json.loads(cli("revision", "show", {slug!r}, "--json"))["parties"]:
            cli("signing", "record", {slug!r}, "--party", party["name"], "--date", "2025-05-02", "--signer", "Ordføreren")
"""


def _drive(env: dict[str, str], cwd: Path, commands: list[tuple[str, ...]], parties: bool = False) -> None:
    script = textwrap.dedent(DRIVER.format(slug=SLUG))
    done = subprocess.run([sys.executable, "-c", script, json.dumps(commands), "parties" if parties else "-"],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def _outbox(data: Path) -> dict[str, str]:
    import sqlite3

    with sqlite3.connect(data / "avtaleflyt.db") as db:
        return dict(db.execute("select key, status from outboxmessage"))


def _in_mail_folder(mail: Path, keys: set[str]) -> set[str]:
    """Those of `keys` whose letter the sink stored (it names each file after its Message-ID's digest)."""
    digests = {hashlib.sha256(message_id(key).encode()).hexdigest()[:12]: key for key in keys}
    return {digests[f.stem.rsplit("-", 1)[1]] for f in mail.glob("*.eml") if f.stem.rsplit("-", 1)[1] in digests}


def _wait(what: str, check, timeout: float, up: ManagedProcess):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert up.is_alive(), up.log_tail()
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return found


@pytest.mark.e2e
def test_the_example_through_up_sends_at_once_logs_no_error_and_stops_cleanly(tmp_path):
    data, port = tmp_path / "data", free_port()
    env = _without_prefect_settings(
        AVTALEFLYT_DATA_DIR=str(data), AVTALEFLYT_PREFECT_PORT=str(port), AVTALEFLYT_SINK_PORT=str(free_port()),
        AVTALEFLYT_DASHBOARD_PORT=str(free_port()), PREFECT_HOME=str(tmp_path / "prefect-home"),
    )
    log = tmp_path / "up.log"
    up = ManagedProcess(name="up", argv=[sys.executable, "-m", "avtaleflyt.cli", "up", "--example", str(EXAMPLE), "--keep-dates"],
                        log_path=log, env=env, cwd=tmp_path).start()
    try:
        _wait("up did not start", lambda: "avtaleflyt is running" in log.read_text(errors="replace"), 300, up)
        api, auth = f"http://127.0.0.1:{port}/api", (data / "prefect-auth").read_text().strip()

        def run_state() -> str | None:
            runs = httpx.post(f"{api}/flow_runs/filter", json={"flow_runs": {"name": {"any_": [f"revision/{SLUG}"]}}},
                              timeout=30, headers=auth_headers(auth)).json()
            return runs[0]["state"]["type"] if runs else None

        _drive(env, tmp_path, [
            ("draft", "complete", SLUG, "--stage", "utkast"),
            ("forum", "decide", SLUG, "--forum", "ASU", "--outcome", "approved", "--date", "2024-06-19", "--stage", "hoeringsforslag"),
            ("hearing", "respond", SLUG, "--party", "Trondheim kommune", "--date", "2024-09-02", "--stage", "hoering-1"),
        ])
        # The run has sent what the commands enqueued and waits: nothing but `reminders run` sends the reminders.
        _wait("the run did not suspend", lambda: run_state() == "PAUSED" and "pending" not in _outbox(data).values(), 300, up)
        before = set(_outbox(data))
        swept = subprocess.run([sys.executable, "-m", "avtaleflyt.cli", "reminders", "run", "--as-of", "2024-09-07"],
                               env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        returned = time.monotonic()
        assert swept.returncode == 0, swept.stdout + swept.stderr
        reminders = set(_outbox(data)) - before
        assert len(reminders) >= 19, swept.stdout  # every party but Trondheim, which answered
        _wait(f"reminders not in the mail folder within 10 s: {swept.stdout}",
              lambda: _in_mail_folder(data / "mail", reminders) == reminders, 10, up)
        print(f"{len(reminders)} reminders in the mail folder {time.monotonic() - returned:.1f} s after `reminders run` returned")

        _drive(env, tmp_path, [
            ("hearing", "close", SLUG, "--stage", "hoering-1", "--reason", "høringsfristen er ute"),
            ("draft", "complete", SLUG, "--stage", "utkast-ovrige"),
            ("forum", "decide", SLUG, "--forum", "ASU", "--outcome", "approved", "--date", "2024-09-25", "--stage", "hoeringsforslag-ovrige"),
            ("hearing", "close", SLUG, "--stage", "hoering-ovrige"),
            ("forum", "decide", SLUG, "--forum", "FU", "--outcome", "approved", "--date", "2024-11-19"),
            ("forum", "decide", SLUG, "--forum", "fagråd", "--outcome", "approved", "--date", "2024-11-21"),
            ("forum", "decide", SLUG, "--forum", "ASU", "--outcome", "approved", "--date", "2024-11-27"),
        ], parties=True)
        recorded = time.monotonic()
        _wait("the run did not complete", lambda: run_state() == "COMPLETED", 300, up)
        _wait("letters still pending", lambda: "pending" not in _outbox(data).values(), 120, up)
        print(f"the recordings' letters sent by the run {time.monotonic() - recorded:.1f} s after the last command returned")
        assert set(_outbox(data).values()) <= {"sent", "cancelled"}

        up.popen.send_signal(signal.SIGINT)  # Ctrl-C
        up.popen.wait(timeout=120)
    finally:
        up.stop(timeout=60)
    said = log.read_text(errors="replace")
    assert up.returncode == 0, said
    for part in ("dashboard", "worker", "smtp-sink", "prefect-server"):
        assert f"{part} stopped cleanly" in said, said
    logs = {path.name: path.read_text(errors="replace") for path in (data / "logs").glob("*.log")}
    assert set(logs) == {"prefect-server.log", "worker.log", "smtp-sink.log", "dashboard.log"}
    for name, text in {**logs, "up": said}.items():
        bad = [line for line in text.splitlines() if "ERROR" in line or "RuntimeWarning" in line or "Traceback" in line]
        assert not bad, f"{name}:\n" + "\n".join(bad[:20])
    assert "worker: stopped" in logs["worker.log"]
    assert not (data / "smtp-sink.json").exists()


def test_automations_of_ours_this_version_does_not_define_are_removed(prefect_server):
    """An automation named `avtaleflyt: …` of an earlier version (one never listed by name) is removed;
    someone else's is kept. Proactive ones of earlier versions wrote a bucket per heartbeat: the server's
    `database is locked` errors on SQLite (flows/automations.py)."""
    from prefect import get_client
    from prefect.automations import Automation

    from avtaleflyt.flows.automations import ensure_automations, wanted_automations

    trigger = {"type": "event", "posture": "Proactive", "after": ["prefect.flow-run.Running"], "expect": ["prefect.flow-run.heartbeat"],
               "for_each": ["prefect.resource.id"], "threshold": 1, "within": 120}
    for name in ("avtaleflyt: check revision runs silent mid-pass", "someone else's"):
        Automation(name=name, trigger=trigger, actions=[{"type": "do-nothing"}]).create()
    try:
        ensure_automations()
        with get_client(sync_client=True) as client:
            names = sorted(a.name for a in client.read_automations())
        assert names == sorted([*(a.name for a in wanted_automations()), "someone else's"])
    finally:
        Automation.read(name="someone else's").delete()


def test_a_command_beside_up_sends_through_its_sink_and_not_through_a_dead_ones(tmp_path):
    """`up` writes where its sink listens into its data folder; a file left by an `up` that was killed is ignored."""
    import os

    from avtaleflyt.settings import SINK_FILE, Settings

    settings = Settings(data_dir=tmp_path, smtp_host=None)
    assert settings.for_sending() is settings  # no `up` here
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    (tmp_path / SINK_FILE).write_text(json.dumps({"host": "127.0.0.1", "port": 8025, "pid": int(gone.stdout)}))
    assert settings.for_sending().smtp_host is None
    (tmp_path / SINK_FILE).write_text(json.dumps({"host": "127.0.0.1", "port": 8025, "pid": os.getpid()}))
    sending = settings.for_sending()
    assert (sending.smtp_host, sending.smtp_port, sending.smtp_starttls) == ("127.0.0.1", 8025, False)
    configured = Settings(data_dir=tmp_path, smtp_host="mail.example.no")
    assert configured.for_sending() is configured  # a configured server wins
