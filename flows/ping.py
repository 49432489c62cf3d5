"""`ping`: a flow that does nothing but answer, served beside the real deployments.

A run of `ping/avtaleflyt` travels exactly the path a revision run does —
`run_deployment` → the Prefect server → the serving process polls for it → a new
flow-run process — and then returns at once, with no database, mail or task of
ours. So it is the health check of a stack (does the worker pick up and finish
runs?) and the baseline the benchmarks in `bench/` measure a revision against.
"""

from __future__ import annotations

from prefect import flow

PING_FLOW = "ping"
PING_DEPLOYMENT = "avtaleflyt"  # served as `ping/avtaleflyt` (deploy/prefect.yaml: entrypoint flows/ping.py:ping)


@flow(name=PING_FLOW, persist_result=False)
def ping() -> str:
    return "pong"
