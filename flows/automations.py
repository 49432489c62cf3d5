"""Prefect automations avtaleflyt relies on, created by the worker (or deploy/bootstrap.sh) if missing.

A revision run whose worker dies mid-pass stays Running in Prefect for ever; one a
worker claimed and died before starting stays Pending. Two automations mark such a
run Crashed under the name `Stalled` (Prefect's own pattern for zombie runs), and a
third schedules every Stalled revision run again. The pass is idempotent, so a run
taken from a worker that was only slow does no harm: that worker's next state
change is refused (Crashed is final) and its process ends.

Why Crashed first and not Scheduled at once: a heartbeat can reach the server after
the run's last state (the process's first event waits for its event connection), and
it re-arms the silence window. Proposing Crashed for a run already Completed is
refused by Prefect, so the late heartbeat does nothing; scheduling it again would
run a finished revision once more.

On a Prefect server on SQLite the trigger's own writes can fail with "database is
locked" and a window is lost; `tasks.runs.nudge` applies the same rule whenever a
command touches the run, so a coordinator's next command recovers it either way.
"""

from __future__ import annotations

from datetime import timedelta

from prefect.automations import Automation
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture

from avtaleflyt.settings import REVISION_FLOW, SILENT_RUN_SECONDS

STALLED = "Stalled"  # the name of our Crashed state; only these are restarted automatically
STUCK_PENDING_SECONDS = 300  # the default of AVTALEFLYT_STUCK_PENDING_SECONDS, which the watchdog uses
CRASH_SILENT_RUNS = "avtaleflyt: revision runs silent mid-pass are stalled"
CRASH_STUCK_PENDING = "avtaleflyt: revision runs claimed but never started are stalled"
RESTART_STALLED_RUNS = "avtaleflyt: restart stalled revision runs"
# Automations of earlier versions, removed when found.
OBSOLETE = ("avtaleflyt: restart revision runs that stopped mid-pass", "avtaleflyt: restart revision runs a worker claimed but never started")

_SIGNS_OF_LIFE = {
    "prefect.flow-run.heartbeat",
    "prefect.flow-run.Awaiting*",  # our named suspends, and AwaitingRestart
    "prefect.flow-run.Suspended",
    "prefect.flow-run.Paused",
    "prefect.flow-run.Completed",
    "prefect.flow-run.Failed",
    "prefect.flow-run.Cancelled",
    "prefect.flow-run.Crashed",
    f"prefect.flow-run.{STALLED}",
}
_REVISION_RUNS = {"match": {"prefect.resource.id": "prefect.flow-run.*"}, "match_related": {"prefect.resource.role": "flow", "prefect.resource.name": REVISION_FLOW}}


def _stall(message: str) -> ChangeFlowRunState:
    return ChangeFlowRunState(state=StateType.CRASHED, name=STALLED, message=message)


def crash_silent_runs() -> Automation:
    return Automation(
        name=CRASH_SILENT_RUNS,
        description="A revision run with no heartbeat or state change for three heartbeats is marked Stalled (Crashed).",
        trigger=EventTrigger(
            posture=Posture.Proactive,
            # The server writes the Running event itself; a run killed in its first
            # second may never have sent a heartbeat.
            after={"prefect.flow-run.Running", "prefect.flow-run.heartbeat"},
            # Not `prefect.flow-run.*`: the Running event that follows a run's first
            # heartbeat would count as a sign of life.
            expect=_SIGNS_OF_LIFE,
            for_each={"prefect.resource.id"},
            threshold=1,
            within=timedelta(seconds=SILENT_RUN_SECONDS),
            **_REVISION_RUNS,
        ),
        actions=[_stall("No heartbeat from this revision run: its worker stopped mid-pass.")],
    )


def crash_stuck_pending() -> Automation:
    """A worker that dies between claiming a run (Pending) and starting its process leaves it
    Pending for ever, with no heartbeat to miss. The window is long: on a loaded machine a
    flow-run process can take a minute to start."""
    return Automation(
        name=CRASH_STUCK_PENDING,
        description="A revision run still Pending after five minutes is marked Stalled (Crashed).",
        trigger=EventTrigger(
            posture=Posture.Proactive,
            after={"prefect.flow-run.Pending", "prefect.flow-run.Submitting"},  # a process worker names its Pending "Submitting"
            expect=_SIGNS_OF_LIFE | {"prefect.flow-run.Running", "prefect.flow-run.Scheduled"},
            for_each={"prefect.resource.id"},
            threshold=1,
            within=timedelta(seconds=STUCK_PENDING_SECONDS),
            **_REVISION_RUNS,
        ),
        actions=[_stall("This revision run was claimed by a worker that never started it.")],
    )


def restart_stalled_runs() -> Automation:
    return Automation(
        name=RESTART_STALLED_RUNS,
        description="A revision run marked Stalled is scheduled again; any worker of the pool takes it.",
        trigger=EventTrigger(
            posture=Posture.Reactive,
            expect={f"prefect.flow-run.{STALLED}"},
            for_each={"prefect.resource.id"},
            threshold=1,
            within=timedelta(0),
            **_REVISION_RUNS,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.SCHEDULED,
                name="AwaitingRestart",
                message="Stalled mid-pass: running the pass again.",
            )
        ],
    )


def wanted_automations() -> list[Automation]:
    return [crash_silent_runs(), crash_stuck_pending(), restart_stalled_runs()]


def ensure_automations() -> None:
    """Create the automations, replace one this version defines differently, remove obsolete ones."""
    for name in OBSOLETE:
        try:
            Automation.read(name=name).delete()
        except ValueError:
            pass
    for wanted in wanted_automations():
        try:
            existing = Automation.read(name=wanted.name)
        except ValueError:
            wanted.create()
            continue
        if _definition(existing) != _definition(wanted):
            existing.delete()
            wanted.create()


def _definition(automation: Automation) -> object:
    """What the automation does, comparable across processes.

    The trigger's sets serialise in hash order, which differs from process to
    process; replacing an unchanged automation would drop its open windows.
    """
    return _sorted(automation.model_dump(mode="json", include={"trigger", "actions", "enabled"}, exclude={"trigger": {"id"}}))


def _sorted(value: object) -> object:
    if isinstance(value, dict):
        return {k: _sorted(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted(v) for v in value]
        return sorted(items, key=repr) if all(isinstance(v, str) for v in items) else items
    return value


if __name__ == "__main__":  # `python -m avtaleflyt.flows.automations`, for workers that do not run flows/serve.py
    ensure_automations()
