"""The example revision, end to end, on a real Prefect server with a real worker.

Driven with the real CLI: the console script for `revision start`, Typer's runner
(the same code, in-process) for the many recordings. On the way: a returned forum
decision, a quorum of 3 of 4 forums, a rejected party, a decision entered through
Prefect's own resume form, and the worker killed and restarted in the middle.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
import os
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt.cli import app
from avtaleflyt.db import session_scope
from avtaleflyt.models.tables import AuditEntry, OutboxMessage, Party, PartyObligation, Revision
from avtaleflyt.tasks.outbox import message_id
from avtaleflyt.tasks.runs import waiting_seq

from .plans import SMALL_PLAN

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
SLUG = "revidering-av-samarbeidsavtalen-2024"
SMALL_SLUG = "testrevisjon-2024"
CONSOLE_SCRIPT = str(Path(sys.executable).with_name("avtaleflyt"))
runner = CliRunner()


def cli(*args: str, expect: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == expect, f"avtaleflyt {' '.join(args)} → {result.exit_code}\n{result.output}"
    return result.output


def show(slug: str = SLUG) -> dict:
    return json.loads(cli("revision", "show", slug, "--json"))


def stage(view: dict, key: str) -> dict:
    return next(s for s in view["stages"] if s["key"] == key)


def wait_for_run(timeout: float = 120.0, slug: str = SLUG) -> str:
    """Until the run has caught up with the database: suspended on the newest event, or completed."""
    deadline = time.monotonic() + timeout
    last = None
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            with session_scope() as s:
                revision = s.exec(select(Revision).where(Revision.slug == slug)).one()
            state = client.read_flow_run(UUID(revision.flow_run_id)).state
            last = (state.type.value, state.name, state.state_details.pause_key, revision.seq)
            if state.is_completed() and revision.status == "completed":
                return state.name
            if state.is_paused() and (waiting_seq(state.state_details.pause_key) or -1) >= revision.seq:
                return state.name
            if state.is_final():
                pytest.fail(f"the revision's run ended as {state.type.value} {state.name}")
            time.sleep(0.5)
    pytest.fail(f"the run did not catch up within {timeout:.0f} s; last seen {last}")


def test_example_revision_end_to_end(prefect_server, worker, domain_db_url, tmp_path, smtp_server):
    began = dt.datetime.now(dt.timezone.utc)  # the same plan may have run on this server before (tests/test_backends.py)
    smtp_env = {"AVTALEFLYT_SMTP_HOST": "127.0.0.1", "AVTALEFLYT_SMTP_PORT": str(smtp_server.port), "AVTALEFLYT_SMTP_STARTTLS": "false"}
    first_worker = worker(env=smtp_env)
    env = {**os.environ}

    started = subprocess.run([CONSOLE_SCRIPT, "revision", "start", str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    assert f"started: {SLUG}" in started.stdout
    again = subprocess.run([CONSOLE_SCRIPT, "revision", "start", str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2
    assert f"revision {SLUG!r} already exists" in again.stderr

    assert wait_for_run() == "AwaitingDraft"
    view = show()
    assert [s["key"] for s in view["stages"] if s["status"] == "active"] == ["utkast", "utkast-ovrige"]
    assert "several draft stages are open; name one with --stage: utkast, utkast-ovrige" in cli("draft", "complete", SLUG, expect=2)

    # Track 1: the hearing draft is returned by ASU once, then approved.
    cli("draft", "complete", SLUG, "--stage", "utkast")
    wait_for_run()
    cli("forum", "decide", SLUG, "--forum", "ASU", "--outcome", "returned", "--date", "19.06.2024", "--stage", "hoeringsforslag")
    assert wait_for_run() == "AwaitingDraft"
    view = show()
    assert (stage(view, "utkast")["status"], stage(view, "utkast")["round"]) == ("active", 2)
    assert (stage(view, "hoeringsforslag")["status"], stage(view, "hoeringsforslag")["round"]) == ("pending", 2)
    cli("draft", "complete", SLUG, "--stage", "utkast")
    wait_for_run()
    cli("forum", "decide", SLUG, "--forum", "ASU", "--outcome", "approved", "--date", "2024-06-26", "--case", "09-2024", "--stage", "hoeringsforslag")
    assert wait_for_run() == "AwaitingHearingResponses"
    parties = [p["name"] for p in show()["parties"]]
    assert len(parties) == 21

    # Two responses by the CLI, one through Prefect's resume form, then the coordinator closes the hearing.
    cli("hearing", "respond", SLUG, "--party", "Trondheim kommune", "--date", "2024-09-02", "--note", "Innspill til kap. 3")
    cli("hearing", "respond", SLUG, "--party", "883974832", "--date", "2024-09-09")
    wait_for_run()
    with session_scope() as s:
        run_id = UUID(s.exec(select(Revision)).one().flow_run_id)
    with get_client(sync_client=True) as client:
        response = client.resume_flow_run(run_id, run_input={"action": "hearing_response", "party": "Malvik kommune", "date": "2024-09-05"})
    assert response.status.value == "ACCEPT"
    deadline = time.monotonic() + 60
    while "Malvik kommune" not in [p["name"] for p in show()["parties"] if p["hearings"].get("hoering-1", {}).get("status") == "responded"]:
        assert time.monotonic() < deadline, "the resume form's input was not recorded"
        time.sleep(0.5)
    wait_for_run()
    cli("hearing", "close", SLUG, "--stage", "hoering-1", "--reason", "høringsfristen 10.09.2024 er ute")

    # Track 2 runs beside it. Its ASU meeting moves two weeks; what comes after it moves along.
    cli("draft", "complete", SLUG, "--stage", "utkast-ovrige")
    wait_for_run()
    revised = tmp_path / "revised.yaml"
    revised.write_text(EXAMPLE.read_text(encoding="utf-8").replace("    meeting: 2024-09-25\n", "    meeting: 2024-10-09\n"), encoding="utf-8")
    assert "recorded: plan v2" in cli("plan", "shift", SLUG, str(revised), "--reason", "ASU-møtet er flyttet", "--yes")
    wait_for_run()
    assert stage(show(), "politisk")["dates"]["deadline"] == "2025-03-15"
    cli("forum", "decide", SLUG, "--forum", "ASU", "--outcome", "approved", "--date", "2024-09-25", "--stage", "hoeringsforslag-ovrige")
    wait_for_run()
    cli("hearing", "close", SLUG, "--stage", "hoering-ovrige")
    wait_for_run()
    assert stage(show(), "sluttbehandling")["status"] == "active"

    # 3 of 4: PSU returns it, the three others approve; that is enough.
    cli("forum", "decide", SLUG, "--forum", "PSU", "--outcome", "returned", "--date", "2024-11-20")
    cli("forum", "decide", SLUG, "--forum", "FU", "--outcome", "approved", "--date", "2024-11-19")
    cli("forum", "decide", SLUG, "--forum", "fagråd", "--outcome", "approved_with_changes", "--date", "2024-11-21")
    assert wait_for_run() == "AwaitingForumDecision"
    cli("forum", "decide", SLUG, "--forum", "ASU", "--outcome", "approved", "--date", "2024-11-27", "--case", "27-2024")
    assert wait_for_run() == "AwaitingPoliticalTreatment"
    assert stage(show(), "sluttbehandling")["progress"] == "done (3/4 approved: ASU, FU, fagråd); returned: PSU"
    assert [(f["forum"], f["stage"], f["reason"]) for f in show()["followups"]] == [("PSU", "sluttbehandling", "forum_returned")]
    # A quorum is a threshold, not a lid: PSU decides again at a later meeting; recorded, and nothing runs again.
    cli("forum", "decide", SLUG, "--forum", "PSU", "--outcome", "approved", "--date", "2024-12-04", "--case", "31-2024")
    assert wait_for_run() == "AwaitingPoliticalTreatment"
    assert stage(show(), "sluttbehandling")["progress"] == "4/4 approved (ASU, FU, PSU, fagråd)"
    assert show()["followups"] == []

    # Political treatment: one rejection does not stop the others; the worker dies half-way.
    rejecting, *approving = [p for p in parties if p != "St. Olavs hospital HF"]
    cli("party", "schedule", SLUG, "--party", rejecting, "--meeting", "2025-02-13")
    cli("party", "decide", SLUG, "--party", rejecting, "--outcome", "rejected", "--date", "2025-02-13", "--case", "PS 12/25")
    half = len(approving) // 2
    for name in approving[:half]:
        cli("party", "decide", SLUG, "--party", name, "--outcome", "approved", "--date", "2025-02-20")
    wait_for_run()

    first_worker.kill()
    for name in approving[half:]:
        out = cli("party", "decide", SLUG, "--party", name, "--outcome", "approved", "--date", "2025-02-24")
        assert "recorded:" in out
    cli("party", "decide", SLUG, "--party", approving[-1], "--outcome", "approved", "--date", "2025-02-24")  # again: unchanged
    assert "unchanged:" in cli("party", "decide", SLUG, "--party", approving[-1], "--outcome", "approved", "--date", "2025-02-24")
    worker(env=smtp_env)
    cli("party", "decide", SLUG, "--party", "St. Olavs hospital HF", "--outcome", "approved_with_reservations", "--date", "2025-02-26", "--case", "35/2025")
    assert wait_for_run(timeout=180) == "AwaitingSignatures"
    # Signing: the twenty that approved sign; the one that rejected owes no signature.
    for name in [*approving, "St. Olavs hospital HF"]:
        cli("signing", "record", SLUG, "--party", name, "--date", "2025-05-02", "--signer", "Ordføreren")
    assert wait_for_run(timeout=180) == "Completed"

    view = show()
    assert view["status"] == "completed"
    assert {s["status"] for s in view["stages"]} == {"done"}
    decided = {p["name"]: p["treatment"] for p in view["parties"]}
    assert decided[rejecting] == "rejected"
    assert decided["St. Olavs hospital HF"] == "approved_with_reservations"
    assert sorted(set(decided.values())) == ["approved", "approved_with_reservations", "rejected"]

    # Nothing doubled: one run, one row per party and stage.
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[f"revision/{SLUG}"])))
    assert len([r for r in runs if r.created >= began]) == 1
    with session_scope() as s:
        assert len(s.exec(select(Party)).all()) == 21
        assert len(s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment")).all()) == 21
        assert len(s.exec(select(PartyObligation).where(PartyObligation.kind == "hearing")).all()) == 2 * 21
        actors = {e.actor for e in s.exec(select(AuditEntry))}
        completed = s.exec(select(AuditEntry).where(AuditEntry.action == "revision.completed")).all()
    assert {"reconciler", "prefect-ui"} <= actors
    assert len(completed) == 1

    # The worker sent the letters through the SMTP server, each once.
    with session_scope() as s:
        outbox = list(s.exec(select(OutboxMessage)))
    assert {m.status.value for m in outbox} == {"sent"}
    assert sorted(smtp_server.handler.message_ids()) == sorted(message_id(m.key) for m in outbox)
    sent = Counter(m.event.value for m in outbox)
    assert sent["hearing_invitation"] == 2 * 21
    assert sent["decision_request"] == sent["decision_receipt"] == 21
    assert sent["revision_completed"] == 1
    assert sent["signing_request"] == sent["signing_receipt"] == 20
    moved = Counter("party" if m.party_id else "forum" for m in outbox if m.event.value == "deadline_moved")
    assert moved["party"] == 21  # every party, once: both its deadlines still to come moved
    assert moved["forum"] == 4  # ASU, FU, PSU and fagråd: a meeting of theirs still to come moved


def test_worker_killed_mid_pass_is_recovered_without_duplicates(prefect_server, worker, domain_db_url, tmp_path):
    """SIGKILL the worker (and the run process in its group) while the run is Running.

    The run stays Running in Prefect with nobody behind it until it has been silent for
    the window (four heartbeats); then the next command (here `revision resume`), or the
    watchdog on its schedule, restarts it.
    """
    plan = tmp_path / "plan.yaml"
    plan.write_text(SMALL_PLAN, encoding="utf-8")
    live = worker()
    cli("revision", "start", str(plan))
    wait_for_run(slug=SMALL_SLUG)
    with session_scope() as s:
        run_id = UUID(s.exec(select(Revision).where(Revision.slug == SMALL_SLUG)).one().flow_run_id)

    events = [
        ("draft", "complete", SMALL_SLUG),
        ("forum", "decide", SMALL_SLUG, "--forum", "ASU", "--outcome", "approved", "--date", "2024-06-19"),
        ("hearing", "close", SMALL_SLUG),
    ]
    killed_running = False
    with get_client(sync_client=True) as client:
        for event in events:
            cli(*event)
            deadline = time.monotonic() + 30
            while client.read_flow_run(run_id).state.type.value != "RUNNING" and time.monotonic() < deadline:
                time.sleep(0.02)
            live.kill()
            if client.read_flow_run(run_id).state.type.value == "RUNNING":
                killed_running = True
                break
            live = worker()  # the pass finished before the kill: try again on the next event
        assert killed_running, "never caught the run mid-pass"
        assert not live.is_alive(), "the worker outlived its kill"
    worker()
    # As a coordinator would after an outage: nudge until the run is back. The
    # command restarts a run silent for the window (so does the watchdog).
    deadline = time.monotonic() + 240
    with get_client(sync_client=True) as client:
        while client.read_flow_run(run_id).state.type.value in ("RUNNING", "CRASHED"):
            assert time.monotonic() < deadline, "the silent run was never restarted"
            cli("revision", "resume", SMALL_SLUG)
            time.sleep(10)
        history = [s.name for s in client.read_flow_run_states(run_id)]
    assert "AwaitingRestart" in history
    assert wait_for_run(slug=SMALL_SLUG).startswith("Awaiting")

    with session_scope() as s:
        starts = [e.subject for e in s.exec(select(AuditEntry).where(AuditEntry.action == "stage.started"))]
        assert len(starts) == len(set(starts)), f"a stage was started twice: {starts}"
        assert len(s.exec(select(PartyObligation).where(PartyObligation.kind == "hearing")).all()) in (0, 3)
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[f"revision/{SMALL_SLUG}"])))
    assert len(runs) == 1


def test_a_revision_stored_anew_gets_a_run_of_its_own(prefect_server, worker, domain_db_url):
    """The run's idempotency key names the stored revision, not only its slug: a repeated start of
    the same stored revision returns its run, while the same plan stored in another domain database
    beside the same Prefect server (a restore, another installation, another test) gets a new one."""
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks.runs import start_run

    worker()
    deployment = get_settings().deployment
    stored = dt.datetime(2024, 6, 1, 9, 30, 15, 123456, tzinfo=dt.timezone.utc)
    first = start_run("gjenbrukt-navn-2024", deployment, stored)
    again = start_run("gjenbrukt-navn-2024", deployment, stored.replace(tzinfo=None))  # SQLite gives it back naive
    anew = start_run("gjenbrukt-navn-2024", deployment, stored + dt.timedelta(days=30))
    try:
        assert first == again
        assert anew != first
    finally:
        with get_client(sync_client=True) as client:
            for run_id in {first, anew}:
                client.delete_flow_run(UUID(run_id))
