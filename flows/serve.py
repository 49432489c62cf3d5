"""The embedded worker: serves avtaleflyt's deployments from this process (`python -m avtaleflyt.flows.serve`)."""

from __future__ import annotations

import os

from prefect import serve
from prefect.schedules import Cron

from avtaleflyt.settings import HEARTBEAT_SECONDS, REVISION_DEPLOYMENT

from .automations import ensure_automations
from .revision import revision_flow
from .sweep import SWEEP_CRON, SWEEP_DEPLOYMENT, deadline_sweep


def deployments() -> list:
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
    ]


def main() -> None:
    # Inherited by the run processes this worker starts: their heartbeat is what
    # tells Prefect a run is still alive (see flows/automations.py).
    os.environ.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", str(HEARTBEAT_SECONDS))
    ensure_automations()
    serve(*deployments())


if __name__ == "__main__":
    main()
