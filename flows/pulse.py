"""A revision run's heartbeat, on a thread of its own from the moment its process loads the flow.

Prefect 3.8.8 beats too (`flow_engine._send_heartbeats`, a daemon thread), but only once
the server has answered the run's Running proposal, and through the process's one
EventsWorker: a queue shared with every other event of the process, one websocket, and
API look-ups of related resources per event. Under load (bench/README.md) a run's first
beat came two minutes after its Running state, while the server stalled on SQLite, and
beats were dropped ("Service 'EventsWorker' failed to process item"). This thread posts
each beat itself (`POST /api/events`, its own HTTP connection, a bounded timeout) from the
start of the process, so a process that lives beats whatever the rest of it waits for.
A beat that fails is skipped; the next comes one interval later.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import threading
import uuid

import httpx

from avtaleflyt import clock
from avtaleflyt.settings import REVISION_FLOW, heartbeat_seconds

_lock = threading.Lock()
_started: set[str] = set()


def heartbeat_event(flow_run_id: str, flow_id: str | None, tags: list[str], now: dt.datetime) -> dict:
    """Prefect's `prefect.flow-run.heartbeat` event; the related flow is what the automations match on."""
    related = [{"prefect.resource.id": f"prefect.flow.{flow_id}", "prefect.resource.role": "flow", "prefect.resource.name": REVISION_FLOW}] if flow_id else []
    related += [{"prefect.resource.id": f"prefect.tag.{tag}", "prefect.resource.role": "tag"} for tag in tags]
    return {
        "occurred": now.isoformat(),
        "event": "prefect.flow-run.heartbeat",
        "resource": {"prefect.resource.id": f"prefect.flow-run.{flow_run_id}"},
        "related": related,
        "payload": {},
        "id": str(uuid.uuid4()),
    }


def _api() -> tuple[str, dict[str, str]]:
    from prefect.settings import get_current_settings

    api = get_current_settings().api
    headers = {}
    if api.auth_string is not None and api.auth_string.get_secret_value():
        headers["Authorization"] = "Basic " + base64.b64encode(api.auth_string.get_secret_value().encode()).decode()
    elif api.key is not None and api.key.get_secret_value():
        headers["Authorization"] = f"Bearer {api.key.get_secret_value()}"
    return str(api.url or "").rstrip("/"), headers


def _beat(flow_run_id: str, every: int, stop: threading.Event) -> None:
    url, headers = _api()
    if not url:
        return
    flow_id, tags = None, []
    with httpx.Client(base_url=url, headers=headers, timeout=min(every, 20)) as client:
        while True:
            try:
                client.post("/events", json=[heartbeat_event(flow_run_id, flow_id, tags, clock.utcnow())])
                if flow_id is None:
                    run = client.get(f"/flow_runs/{flow_run_id}")
                    if run.status_code == 200:
                        flow_id, tags = run.json()["flow_id"], list(run.json().get("tags") or [])
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if stop.wait(every):
                return


def start(flow_run_id: str | None = None, every: int | None = None) -> threading.Event | None:
    """Beat for `flow_run_id` (default: this process's run, PREFECT__FLOW_RUN_ID) until the process ends
    or the returned event is set; once per run and process. None when there is no run."""
    flow_run_id = flow_run_id or os.environ.get("PREFECT__FLOW_RUN_ID")
    if not flow_run_id:
        return None
    with _lock:
        if flow_run_id in _started:
            return None
        _started.add(flow_run_id)
    stop = threading.Event()
    threading.Thread(
        target=_beat, args=(flow_run_id, every or heartbeat_seconds(), stop), name="avtaleflyt-heartbeat", daemon=True
    ).start()
    return stop
