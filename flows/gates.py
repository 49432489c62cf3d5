"""A human gate: suspend the run in a state named for what it waits on.

Prefect's `suspend_flow_run` always names the state "Suspended". This is the same
protocol (a Paused state with `pause_reschedule`, a pause key, a run-input keyset)
with a name the UI shows, e.g. `AwaitingPoliticalTreatment`. The keyset is built
from the key alone, so a gate that fired returns its input whatever the name was.
"""

from __future__ import annotations

from typing import TypeVar

import httpx
from prefect import get_client, get_run_logger
from prefect.context import FlowRunContext
from prefect.exceptions import Abort, Pause
from prefect.input.run_input import RunInput, keyset_from_base_key
from prefect.states import Paused
from prefect.utilities.engine import propose_state_sync

T = TypeVar("T", bound=RunInput)


def suspend_awaiting(name: str, key: str, wait_for_input: type[T]) -> T | None:
    """Suspend until resumed; if this key's gate already fired, return its input (or None without input)."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("suspend_awaiting must run inside a flow run")
    flow_run_id = context.flow_run.id
    keyset = keyset_from_base_key(f"revision-{key}")
    proposed = Paused(name=name, reschedule=True, pause_key=key)
    proposed.state_details.run_input_keyset = keyset
    with get_client(sync_client=True) as client:
        state = propose_state_sync(client=client, state=proposed, flow_run_id=flow_run_id)
        if state.is_running():
            try:
                return wait_for_input.load(keyset, flow_run_id=flow_run_id)
            except Exception as exc:  # noqa: BLE001 - input the server let through but we cannot read
                get_run_logger().warning("resume input for gate %s not used: %s", key, exc)
                return None
        if not state.is_paused():
            # Restarted (Scheduled), cancelled or finished under this process: the run goes on
            # without it. Abort ends the process (exit 0) and proposes no state, where an
            # exception would mark the restarted run Failed.
            raise Abort(f"not suspended: the run is {state.type.value} {state.name} now; this process stops")
        try:
            wait_for_input.save(keyset, flow_run_id=flow_run_id)
        except httpx.HTTPStatusError as exc:
            # A pass that stalled after suspending here (its worker died, or a late heartbeat
            # had it marked Stalled) saved this gate's form already; the same one stands.
            if exc.response.status_code != 409:
                raise
    raise Pause(state=state)
