"""Prefect automations avtaleflyt relies on, created by the worker (or deploy/bootstrap.sh) if missing.

One automation: a revision run marked `Stalled` (Crashed) is scheduled again, and any
worker of the pool takes it; its pass is idempotent. The watchdog (flows/watchdog.py)
restarts such a run too, when that event is lost.

Who judges that a run's worker died is our code, not an automation: `tasks.runs.nudge`,
called by every command that touches the run and by the watchdog every ten minutes, reads
the run's state and its stored heartbeats and restarts a run Running with no heartbeat
for `silence_window(heartbeat)` seconds, or Pending too long. Earlier versions had two
proactive automations mark such runs Stalled; on a Prefect server on SQLite they marked
healthy runs under load (bench/README.md): the trigger service loses events ("database is
locked" while counting them; after four tries the event goes to the dead-letter queue),
and the whole server stalls for up to a minute (SQLite's busy wait) while a run's first
heartbeat waits for the answer to its Running state. They are removed when found.

Those automations were also the cause of the `database is locked` errors in the server's
log of the embedded stack (SQLite): a proactive trigger with `after` states and
`expect={heartbeat, Running, ...}` writes its bucket (`automation_bucket`, triggers.py
increment_bucket) for every state change and heartbeat of every revision run, each in a
DEFERRED transaction that reads, then writes. When another writer commits in between (the
task-run recorder, the event persister, the API's state writes) SQLite refuses the upgrade
at once with SQLITE_BUSY, whatever the busy timeout. The data folder of `up` keeps its
Prefect database across versions, and removing only a list of earlier names missed
automations never listed there (e.g. "avtaleflyt: check revision runs silent mid-pass"):
now every automation named `avtaleflyt: …` that this version does not define is removed.
The one left reacts to `Stalled` alone, which nothing emits unless a run is marked so by
hand or by an older worker: it writes nothing while runs beat.
"""

from __future__ import annotations

from datetime import timedelta

from prefect.automations import Automation
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture

from avtaleflyt.settings import REVISION_FLOW

STALLED = "Stalled"  # the name of our Crashed state; only these are restarted by the automation
RESTART_STALLED_RUNS = "avtaleflyt: restart stalled revision runs"
PREFIX = "avtaleflyt: "  # every automation of ours is named so; those this version does not define are removed

_REVISION_RUNS = {"match": {"prefect.resource.id": "prefect.flow-run.*"}, "match_related": {"prefect.resource.role": "flow", "prefect.resource.name": REVISION_FLOW}}


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
    return [restart_stalled_runs()]


def ensure_automations() -> None:
    """Create the automations, replace one this version defines differently, remove every other one of ours."""
    from prefect import get_client

    wanted_names = {wanted.name for wanted in wanted_automations()}
    with get_client(sync_client=True) as client:
        for found in client.read_automations():
            if found.name.startswith(PREFIX) and found.name not in wanted_names:
                client.delete_automation(found.id)
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
