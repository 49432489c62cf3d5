"""The revision's Prefect run: start it once, and nudge it after the database changed.

A recorded change is in the database at once; the run catches up when resumed. A
suspended run whose gate key is older than the revision's event counter is stale
and gets resumed; a run that is about to suspend is waited for briefly; a run
that crashed, or that has been Running without a heartbeat for the silence window
(`avtaleflyt.settings.silence_window` of the heartbeat setting: its worker died
mid-pass), is rescheduled: its pass is idempotent, so running it again is safe.
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter, EventResourceFilter
from prefect.exceptions import ObjectNotFound
from prefect.states import Scheduled, StateType

from avtaleflyt import clock
from avtaleflyt.settings import heartbeat_seconds, silence_window


class Nudge(StrEnum):
    resumed = "resumed"
    current = "current"  # already waiting with the newest state of the database
    queued = "queued"  # scheduled or starting: it will read the newest state
    busy = "busy"  # running a pass longer than we waited; it will look again when it suspends
    restarted = "restarted"  # had crashed; rescheduled
    finished = "finished"
    cancelled = "cancelled"
    missing = "missing"


def check_deployment(deployment: str, client: SyncPrefectClient | None = None) -> UUID:
    """Raise if Prefect cannot be reached or does not serve `deployment` (checked before anything is stored); its id."""
    with _client(client) as c:
        return c.read_deployment_by_name(deployment).id


def start_run(slug: str, deployment: str | UUID, stored_at: dt.datetime, client: SyncPrefectClient | None = None) -> str:
    """Create the revision's run (what `run_deployment(..., timeout=0)` does, without reading the
    deployment again when given its id); a repeated call for the same stored revision returns the same run.

    The idempotency key names the revision's row (slug and when it was stored), not the
    slug alone: a domain database set up anew beside a Prefect server that kept its runs
    (a restore, a second installation, a test) must get a run of its own, not the
    finished run of an earlier revision with the same name.
    """
    with _client(client) as c:
        deployment_id = deployment if isinstance(deployment, UUID) else c.read_deployment_by_name(deployment).id
        run = c.create_flow_run_from_deployment(
            deployment_id,
            parameters={"slug": slug},
            state=Scheduled(),
            name=f"revision/{slug}",
            tags=[f"revision:{slug}", "avtaleflyt"],
            idempotency_key=f"revision/{slug}/{clock.aware(stored_at):%Y%m%dT%H%M%S%f}",
        )
    return str(run.id)


def prefect_client() -> SyncPrefectClient:
    """A Prefect client for several calls (`with runs.prefect_client() as client:`): each new one builds a TLS context (~10 ms)."""
    return get_client(sync_client=True)


def _client(given: SyncPrefectClient | None) -> AbstractContextManager[SyncPrefectClient]:
    return nullcontext(given) if given is not None else prefect_client()


def waiting_seq(pause_key: str | None) -> int | None:
    """The event counter a gate key was made from: `wait-12` and `wait-12-3` → 12."""
    if not pause_key or not pause_key.startswith("wait-"):
        return None
    try:
        return int(pause_key.removeprefix("wait-").split("-", 1)[0])
    except ValueError:
        return None


def is_stuck_pending(run: FlowRun, now: dt.datetime | None = None) -> bool:
    """Claimed by a worker (Pending) longer than any start takes: the worker died before starting it."""
    from avtaleflyt.settings import get_settings

    now = now or clock.utcnow()
    return run.state is not None and run.state.timestamp < now - dt.timedelta(seconds=get_settings().stuck_pending_seconds)


def is_silent(client: SyncPrefectClient, run: FlowRun, now: dt.datetime | None = None, *, heartbeat: int | None = None) -> bool:
    """Running for the whole silence window with no heartbeat stored in it: its process is gone.

    The window comes from the heartbeat setting the run processes use (PREFECT_FLOWS_HEARTBEAT_FREQUENCY).
    """
    now = now or clock.utcnow()
    since = now - dt.timedelta(seconds=silence_window(heartbeat or heartbeat_seconds()))
    if run.state is None or run.state.timestamp > since:
        return False
    beats = client.read_events(
        EventFilter(
            occurred=EventOccurredFilter(since=since, until=now),
            event=EventNameFilter(name=["prefect.flow-run.heartbeat"]),
            resource=EventResourceFilter(id=[f"prefect.flow-run.{run.id}"]),
        ),
        limit=1,
    )
    return not beats.events


def nudge(flow_run_id: str, seq: int, *, wait_seconds: float = 30.0, poll: float = 0.5) -> Nudge:
    """Make sure the run sees the database at event `seq`."""
    deadline = time.monotonic() + wait_seconds
    with get_client(sync_client=True) as client:
        while True:
            try:
                run = client.read_flow_run(UUID(flow_run_id))
            except ObjectNotFound:
                return Nudge.missing
            state = run.state
            if state is not None and state.type == StateType.PENDING and is_stuck_pending(run):
                client.set_flow_run_state(run.id, Scheduled(name="AwaitingRestart"), force=True)
                return Nudge.restarted
            if state is None or state.type in (StateType.SCHEDULED, StateType.PENDING):
                return Nudge.queued
            if state.type == StateType.PAUSED:
                waited = waiting_seq(state.state_details.pause_key)
                if waited is not None and waited >= seq:
                    return Nudge.current
                response = client.resume_flow_run(run.id, run_input={"action": "refresh"})
                if response.status.value == "ACCEPT":
                    return Nudge.resumed
            elif state.type == StateType.COMPLETED:
                return Nudge.finished
            elif state.type in (StateType.CANCELLED, StateType.CANCELLING):
                return Nudge.cancelled
            elif state.type in (StateType.CRASHED, StateType.FAILED) or (state.type == StateType.RUNNING and is_silent(client, run)):
                why = f"{state.type.value} {state.name}" if state.type != StateType.RUNNING else "Running with no heartbeat"
                client.set_flow_run_state(run.id, Scheduled(name="AwaitingRestart", message=f"{why}: running the pass again."), force=True)
                return Nudge.restarted
            if time.monotonic() > deadline:
                return Nudge.busy
            time.sleep(poll)


@dataclass(frozen=True)
class RunOutcome:
    nudge: Nudge | None
    error: str | None = None


def try_nudge(flow_run_id: str | None, seq: int, *, wait_seconds: float) -> RunOutcome:
    """`nudge`, for callers whose write already stands: an unreachable run is reported, not raised."""
    if flow_run_id is None:
        return RunOutcome(None, "the revision has no run yet")
    try:
        return RunOutcome(nudge(flow_run_id, seq, wait_seconds=wait_seconds))
    except Exception as exc:  # noqa: BLE001 - the record stands; the run catches up when reachable
        return RunOutcome(None, f"{exc.__class__.__name__}: {exc}")
