"""Liveness of revision runs: the silence window comes from the heartbeat setting, the
heartbeat comes from a thread of its own, and a stalled run is restarted and finishes.

bench/README.md ("No false Stalled under load") says what went wrong before: the
proactive automations marked healthy runs Stalled when the SQLite-backed server lost
their events or stalled, and the window (90 s) was a constant of its own.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

import pytest
from prefect import flow, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
from prefect.states import Crashed, Running

from avtaleflyt.settings import MISSED_BEATS, heartbeat_seconds, silence_window
from avtaleflyt.stack import apply_prefect_env

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what} (last: {value!r})"
        time.sleep(0.5)


@pytest.fixture
def heartbeat_env():
    """Set Prefect's heartbeat settings for this process, as a worker's environment would; restored after."""
    import os

    names = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")
    saved = {name: os.environ.get(name) for name in names}

    def set_env(**values: str | None) -> None:
        apply_prefect_env({name: values.get(name) for name in names})

    yield set_env
    apply_prefect_env(saved)


def test_the_silence_window_is_derived_from_the_heartbeat_setting(heartbeat_env):
    assert silence_window(30) == MISSED_BEATS * 30
    assert silence_window(60) == MISSED_BEATS * 60
    assert silence_window(5) == silence_window(30)  # Prefect beats at most every 30 s
    heartbeat_env()
    assert heartbeat_seconds() == 30  # unset: ours, not Prefect's default of 180
    heartbeat_env(PREFECT_FLOWS_HEARTBEAT_FREQUENCY="60")
    assert heartbeat_seconds() == 60
    heartbeat_env(PREFECT_RUNNER_HEARTBEAT_FREQUENCY="90")  # Prefect's older name
    assert heartbeat_seconds() == 90


def test_no_automation_marks_a_run_crashed():
    """The judge of liveness is `tasks.runs.nudge`, which reads the run's state and stored
    heartbeats; an automation's lost or late event must not crash a healthy run."""
    from prefect.client.schemas.objects import StateType

    from avtaleflyt.flows.automations import wanted_automations

    for automation in wanted_automations():
        for action in automation.actions:
            assert getattr(action, "state", None) != StateType.CRASHED, automation.name


@flow(name="liveness-probe", persist_result=False)
def _probe() -> None:
    pass


def test_a_run_is_silent_only_after_the_window_of_the_heartbeat_setting(prefect_server, heartbeat_env):
    """A Running run whose last beat (sent by flows/pulse.py's thread) is 130 s old is silent when
    the processes beat every 30 s (window 120 s), not when they beat every 60 s (window 240 s)."""
    from avtaleflyt.flows import pulse
    from avtaleflyt.tasks.runs import is_silent

    with get_client(sync_client=True) as client:
        run = client.create_flow_run(_probe, name="liveness-probe")
        client.set_flow_run_state(run.id, Running(), force=True)
        stop = pulse.start(str(run.id), every=30)
        try:
            beats = wait_for(lambda: client.read_events(EventFilter(
                event=EventNameFilter(name=["prefect.flow-run.heartbeat"]),
                resource=EventResourceFilter(id=[f"prefect.flow-run.{run.id}"]),
            ), limit=10).events, 60, "the pulse's first beat to be stored")
        finally:
            stop.set()
        beat = beats[0].occurred
        run = client.read_flow_run(run.id)
        assert run.state.is_running()

        def silent(after: float) -> bool:
            return is_silent(client, run, now=beat + dt.timedelta(seconds=after))

        heartbeat_env()
        assert not silent(100)
        assert silent(130)
        heartbeat_env(PREFECT_FLOWS_HEARTBEAT_FREQUENCY="60")
        assert not silent(130)
        assert not silent(230)
        assert silent(250)


@pytest.mark.e2e
def test_a_stalled_run_is_restarted_by_the_watchdog_and_a_finished_revision_completes(prefect_server, worker, domain_db_url):
    """The automation that restarts Stalled runs misses (disabled here); the watchdog restarts
    the run; the revision was finished meanwhile in the database, so the pass completes it."""
    from prefect.automations import Automation
    from prefect.deployments import run_deployment
    from sqlmodel import select

    from avtaleflyt import actions, clock
    from avtaleflyt.db import session_scope
    from avtaleflyt.flows.automations import RESTART_STALLED_RUNS
    from avtaleflyt.models.enums import PartyOutcome, RevisionStatus
    from avtaleflyt.models.tables import Party, Revision
    from avtaleflyt.tasks import records
    from avtaleflyt.tasks.runs import waiting_seq

    from .plans import treatment_plan

    worker()
    restart = Automation.read(name=RESTART_STALLED_RUNS)
    restart.disable()
    try:
        slug = actions.start_revision(treatment_plan(901, parties=2)).slug
        with session_scope() as s:
            revision = s.exec(select(Revision).where(Revision.slug == slug)).one()
            run_id, parties = UUID(revision.flow_run_id), [p.name for p in s.exec(select(Party).where(Party.revision_id == revision.id))]
        with get_client(sync_client=True) as client:
            wait_for(lambda: (st := client.read_flow_run(run_id).state).is_paused() and (waiting_seq(st.state_details.pause_key) or -1) >= 0,
                     180, "the run to suspend")
            with session_scope() as s:  # every decision, in the database only: the run is not resumed
                for name in parties:
                    records.record_party_decision(s, slug, party=name, outcome=PartyOutcome.approved, on=clock.today(),
                                                  today=clock.today(), actor="test")
            client.set_flow_run_state(run_id, Crashed(name="Stalled", message="as the automations of earlier versions did"), force=True)
            assert client.read_flow_run(run_id).state.name == "Stalled"

            watchdog = run_deployment("run-watchdog/every-10-minutes", parameters={"flow_run_id": f"prefect.flow-run.{run_id}"}, timeout=240)
            assert watchdog.state.is_completed(), watchdog.state

            final = wait_for(lambda: (st := client.read_flow_run(run_id).state).is_final() and st, 240, "the restarted run to finish")
            assert final.is_completed(), final
            history = [st.name for st in client.read_flow_run_states(run_id)]
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        assert "Stalled" in history and "AwaitingRestart" in history, history
        assert len(runs) == 1
        with session_scope() as s:
            assert s.exec(select(Revision).where(Revision.slug == slug)).one().status == RevisionStatus.completed
    finally:
        restart.enable()
