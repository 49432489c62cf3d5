"""Commands issued back to back, with no wait for the revision's run between them.

Every recording (and `revision start`, and `plan shift`) runs the reconcile pass in its own
transaction (avtaleflyt/actions.py), so the stage the next command needs is open when the
command returns, and the run's own pass afterwards finds nothing to do: it only sends the
letters and suspends. Before, `draft complete` followed at once by `forum decide` was
refused ("no forum_approval stage is open ... (not yet started: ...)") until the run caught up.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from prefect import get_client
from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt import actions
from avtaleflyt.cli import app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.commands import parse_command
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import OutboxMessage, Revision
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision

from .plans import SMALL_PLAN, drive_to_political_treatment

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
EXAMPLE_SLUG = "revidering-av-samarbeidsavtalen-2024"
SMALL_SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)
runner = CliRunner()


class FixedClock:
    def now(self) -> dt.datetime:
        return dt.datetime(2025, 2, 10, 12, tzinfo=dt.timezone.utc)

    def today(self) -> dt.date:
        return TODAY


# The small plan, every stage, as the commands a coordinator would give in one sitting.
SMALL_PLAN_COMMANDS = [
    {"action": "draft_complete"},
    {"action": "forum_decision", "forum": "ASU", "outcome": "approved", "date": "2024-06-19"},
    {"action": "hearing_response", "party": "Malvik kommune", "date": "2024-09-05"},
    {"action": "hearing_close", "reason": "fristen er ute"},
    *({"action": "forum_decision", "forum": f, "outcome": "approved", "date": "2024-11-27"} for f in ("ASU", "FU", "PSU")),
    {"action": "party_schedule", "party": "Malvik kommune", "meeting": "2025-02-06"},
    *({"action": "party_decision", "party": p, "outcome": "approved", "date": "2025-02-06"} for p in ("St. Olavs hospital HF", "Trondheim kommune", "Malvik kommune")),
]


def _status(engine, slug: str = SMALL_SLUG) -> tuple[str, int]:
    with session_scope(engine) as s:
        revision = s.exec(select(Revision).where(Revision.slug == slug)).one()
        return revision.status.value, revision.seq


def test_each_command_leaves_the_run_nothing_to_do(domain_db_url):
    """The small plan through all its stages by `actions.execute`, back to back; after each
    command a pass of the run's own (a fresh transaction) finds nothing to change."""
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:  # as `revision start` stores it: the first stages start in the same transaction
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "t")
        reconcile_revision(s, SMALL_SLUG, today=TODAY)
    for given in SMALL_PLAN_COMMANDS:
        command = parse_command({"revision": SMALL_SLUG, **given})
        recorded, outcome = actions.execute(command, actor="kari", clock=FixedClock(), engine=engine)
        assert recorded.changed, given
        assert outcome.error == "the revision has no run yet"
        with session_scope(engine) as s:
            after = reconcile_revision(s, SMALL_SLUG, today=TODAY)
        assert (after.changes, after.seq) == ([], recorded.seq), f"after {given}: the run's pass would still change {after.changes}"
    assert _status(engine) == ("completed", recorded.seq)


def test_a_plan_shift_closes_what_it_made_met(domain_db_url):
    """The last party owing a decision leaves by `plan shift`: the revision is completed by the
    shift's own transaction, not by the run after it."""
    engine = engine_for(domain_db_url)
    drive_to_political_treatment(engine, today=TODAY)
    for name in ("St. Olavs hospital HF", "Trondheim kommune"):
        command = parse_command({"action": "party_decision", "revision": SMALL_SLUG, "party": name, "outcome": "approved", "date": "2025-02-06"})
        actions.execute(command, actor="kari", clock=FixedClock(), engine=engine)
    malvik = next(line for line in SMALL_PLAN.splitlines(keepends=True) if "Malvik" in line)
    applied, _ = actions.shift_plan(SMALL_SLUG, SMALL_PLAN.replace(malvik, ""), reason="Malvik slått sammen med Trondheim", actor="kari")
    assert _status(engine) == ("completed", applied.seq)
    with session_scope(engine) as s:
        assert reconcile_revision(s, SMALL_SLUG, today=TODAY).changes == []


# --------------------------------------------------------------------------- the example, on a real Prefect stack


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"avtaleflyt {' '.join(args)} → {result.exit_code}\n{result.output}"
    return result.output


@pytest.fixture
def cpu_burners(request: pytest.FixtureRequest) -> Iterator[int]:
    """`python3 -c 'while True: pass'`, one per core, for the test's length (parametrized: 0 or one per core)."""
    count = (os.cpu_count() or 1) if request.param else 0
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield count
    finally:
        for proc in burners:
            proc.kill()
        for proc in burners:
            proc.wait(timeout=30)


def _run_state(run_id: UUID):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).state


@pytest.mark.e2e
@pytest.mark.parametrize("cpu_burners", [False, True], ids=["quiet", "cpu-burners"], indirect=True)
def test_the_example_back_to_back(prefect_server, worker, domain_db_url, smtp_server, cpu_burners):
    """The example through every stage, each command issued as soon as the one before returned."""
    worker(env={"AVTALEFLYT_SMTP_HOST": "127.0.0.1", "AVTALEFLYT_SMTP_PORT": str(smtp_server.port), "AVTALEFLYT_SMTP_STARTTLS": "false"})
    slug = EXAMPLE_SLUG
    began = time.monotonic()
    assert f"started: {slug}" in cli("revision", "start", str(EXAMPLE))
    commands = [
        ("draft", "complete", slug, "--stage", "utkast"),
        ("forum", "decide", slug, "--forum", "ASU", "--outcome", "approved", "--date", "2024-06-19", "--stage", "hoeringsforslag"),
        ("hearing", "respond", slug, "--party", "Trondheim kommune", "--date", "2024-09-02", "--stage", "hoering-1"),
        ("hearing", "close", slug, "--stage", "hoering-1", "--reason", "høringsfristen er ute"),
        ("draft", "complete", slug, "--stage", "utkast-ovrige"),
        ("forum", "decide", slug, "--forum", "ASU", "--outcome", "approved", "--date", "2024-09-25", "--stage", "hoeringsforslag-ovrige"),
        ("hearing", "close", slug, "--stage", "hoering-ovrige"),
        ("forum", "decide", slug, "--forum", "FU", "--outcome", "approved", "--date", "2024-11-19"),
        ("forum", "decide", slug, "--forum", "fagråd", "--outcome", "approved", "--date", "2024-11-21"),
        ("forum", "decide", slug, "--forum", "ASU", "--outcome", "approved", "--date", "2024-11-27"),
    ]
    for args in commands:
        assert "recorded:" in cli(*args)
    parties = [p["name"] for p in json.loads(cli("revision", "show", slug, "--json"))["parties"]]
    assert len(parties) == 21
    for name in parties:
        assert "recorded:" in cli("party", "decide", slug, "--party", name, "--outcome", "approved", "--date", "2025-02-24")
    for name in parties:  # every party approved: every party signs
        assert "recorded:" in cli("signing", "record", slug, "--party", name, "--date", "2025-05-02", "--signer", "Ordføreren")
    recorded_in = time.monotonic() - began

    # Completed in the database when the last command returned, whatever the run is doing.
    with session_scope() as s:
        revision = s.exec(select(Revision).where(Revision.slug == slug)).one()
        status, seq, run_id = revision.status.value, revision.seq, UUID(revision.flow_run_id)
    assert status == "completed"

    # The run catches up, sends, and ends; its passes changed nothing (a change raises the counter).
    deadline = time.monotonic() + 300
    while not (state := _run_state(run_id)).is_completed():
        assert not state.is_final(), f"the run ended as {state.type.value} {state.name}"
        assert time.monotonic() < deadline, f"the run did not finish; last {state.type.value} {state.name}"
        time.sleep(0.5)
    with session_scope() as s:
        assert s.exec(select(Revision.seq).where(Revision.slug == slug)).one() == seq
        outbox = list(s.exec(select(OutboxMessage)))
    # Every letter left the outbox: sent, or dropped because its reason had gone before it went out
    # (a decision request to a party whose decision was recorded a moment later), never left pending.
    assert outbox and {m.status.value for m in outbox} <= {"sent", "cancelled"}
    cancelled = [m for m in outbox if m.status.value == "cancelled"]
    assert all(m.cancelled_reason for m in cancelled)
    assert {m.event.value for m in cancelled} <= {"decision_request", "hearing_reminder", "decision_reminder", "overdue_notice", "signing_request"}
    assert {"revision_completed", "decision_receipt"} <= {m.event.value for m in outbox if m.status.value == "sent"}
    print(f"{len(commands) + 2 * len(parties) + 1} commands back to back in {recorded_in:.1f} s with {cpu_burners} CPU burners")
