"""Prefect automations avtaleflyt relies on, created by the worker if missing.

A revision run whose worker dies mid-pass stays Running in Prefect for ever. Runs
send a heartbeat while they run (`PREFECT_FLOWS_HEARTBEAT_FREQUENCY`); when a
revision run has started or beaten and then neither beats again nor suspends nor
ends within three heartbeats, this automation schedules it again. That is safe
because the pass is idempotent.

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
RESTART_SILENT_RUNS = "avtaleflyt: restart revision runs that stopped mid-pass"


def restart_silent_runs() -> Automation:
    return Automation(
        name=RESTART_SILENT_RUNS,
        description="A revision run with no heartbeat or state change for three heartbeats is rescheduled.",
        trigger=EventTrigger(
            posture=Posture.Proactive,
            # The server writes the Running event itself; a run killed in its first
            # second may never have sent a heartbeat.
            after={"prefect.flow-run.Running", "prefect.flow-run.heartbeat"},
            # Not `prefect.flow-run.*`: the Running event that follows a run's first
            # heartbeat would count as a sign of life.
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Awaiting*",  # our named suspends, and AwaitingRestart
                "prefect.flow-run.Suspended",
                "prefect.flow-run.Paused",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related={"prefect.resource.role": "flow", "prefect.resource.name": REVISION_FLOW},
            for_each={"prefect.resource.id"},
            threshold=1,
            within=timedelta(seconds=SILENT_RUN_SECONDS),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.SCHEDULED,
                name="AwaitingRestart",
                message="No heartbeat from this revision run: its worker stopped mid-pass. Running the pass again.",
                force=True,
            )
        ],
    )


def ensure_automations() -> None:
    """Create the automation, or replace it when this version defines it differently."""
    wanted = restart_silent_runs()
    try:
        existing = Automation.read(name=RESTART_SILENT_RUNS)
    except ValueError:
        wanted.create()
        return
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
