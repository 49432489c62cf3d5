"""The embedded worker: serves avtaleflyt's deployments from this process (`python -m avtaleflyt.flows.serve`)."""

from __future__ import annotations

import asyncio
import os

from prefect.runner import Runner
from prefect.schedules import Cron

from avtaleflyt.settings import REVISION_DEPLOYMENT, get_settings, heartbeat_seconds

from .automations import ensure_automations
from .ping import PING_DEPLOYMENT, ping
from .revision import revision_flow
from .sweep import SWEEP_CRON, SWEEP_DEPLOYMENT, deadline_sweep
from .watchdog import WATCHDOG_CRON, WATCHDOG_DEPLOYMENT, run_watchdog


def deployments() -> list:
    """What `main` serves, built without starting anything; deploy/prefect.yaml declares the same
    deployments for Prefect workers (tests/test_deployments.py compares them field by field)."""
    return [
        revision_flow.to_deployment(
            name=REVISION_DEPLOYMENT,
            tags=["avtaleflyt"],
            description="One run per revision: reconciles the revision and waits for what happens next.",
        ),
        deadline_sweep.to_deployment(
            name=SWEEP_DEPLOYMENT,
            tags=["avtaleflyt"],
            description="Reminders, overdue notices and closed hearings, then the outbox is sent.",
            schedules=[Cron(SWEEP_CRON, timezone="Europe/Oslo")],
        ),
        run_watchdog.to_deployment(
            name=WATCHDOG_DEPLOYMENT,
            tags=["avtaleflyt"],
            description="Nudges every active revision's run that crashed, went silent or missed an event.",
            schedules=[Cron(WATCHDOG_CRON, timezone="Europe/Oslo")],
        ),
        ping.to_deployment(
            name=PING_DEPLOYMENT,
            tags=["avtaleflyt"],
            description="Returns 'pong': a health check of the serving path, and the baseline of bench/.",
        ),
    ]


def main() -> None:
    # Inherited by the run processes this worker starts, so they beat at the interval the
    # automations' and the watchdog's silence window is derived from (settings.heartbeat_seconds).
    os.environ["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] = str(heartbeat_seconds())
    ensure_automations()
    # Without `limit`, the runner starts every due run at once: 200 revisions started
    # together meant 68 flow-run processes on two cores (bench/README.md). Runs over
    # the limit wait their turn; a suspended run holds no slot, so gates cannot starve.
    runner = Runner(pause_on_shutdown=True, limit=get_settings().run_limit)
    for deployment in deployments():
        runner.add_deployment(deployment)
    try:
        asyncio.run(_serve(runner))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    print("worker: stopped; its deployments are paused", flush=True)


async def _serve(runner: Runner) -> None:
    """`serve()`, but SIGTERM (how `up` stops us) ends the runner as Ctrl-C does: its task is
    cancelled and the runner pauses its deployments on the way out. Prefect 3.8.8's own SIGTERM
    handler calls the runner's stop() from inside the event loop, where it only makes the
    coroutine `astop` and drops it ("RuntimeWarning: coroutine 'Runner.astop' was never awaited"),
    then exits from the signal handler."""
    task, loop = asyncio.current_task(), asyncio.get_running_loop()
    runner.handle_sigterm = lambda *_: loop.call_soon_threadsafe(task.cancel)  # type: ignore[method-assign,union-attr]
    await runner.start()


if __name__ == "__main__":
    main()
