"""deploy/prefect.yaml (the distributed setup) and flows/serve.py (the embedded worker of `up`)
declare the same deployments: names, flows, descriptions, tags, schedules, parameters.

The deployments are built as `serve()` gets them (`flows.serve.deployments()`, which
starts nothing) and compared field by field with the file `prefect deploy` reads. A key
in the file this test does not know fails it, so a new setting cannot drift unseen.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import prefect
import pytest
import yaml

from avtaleflyt.flows.serve import deployments

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
PREFECT_YAML = DEPLOY / "prefect.yaml"

DEPLOYMENT_KEYS = {"name", "entrypoint", "description", "tags", "schedules", "parameters", "work_pool"}
SCHEDULE_KEYS = {"cron", "timezone", "active", "day_or", "parameters"}
WORK_POOL_KEYS = {"name", "work_queue_name", "job_variables"}


def declared() -> list[dict[str, Any]]:
    return yaml.safe_load(PREFECT_YAML.read_text())["deployments"]


def served() -> dict[tuple[str, str], Any]:
    return {(d.flow_name, d.name): d for d in deployments()}


def flow_of(entrypoint: str) -> prefect.Flow:
    """The flow a `module.path:attribute` entrypoint names (as a worker with avtaleflyt installed imports it)."""
    module, _, attribute = entrypoint.partition(":")
    assert module and attribute and "/" not in module, f"{entrypoint!r} is not a module path (`pull: []` needs one)"
    flow = getattr(importlib.import_module(module), attribute)
    assert isinstance(flow, prefect.Flow), f"{entrypoint!r} is not a flow"
    return flow


def schedule_from_file(item: dict[str, Any]) -> dict[str, Any]:
    assert set(item) <= SCHEDULE_KEYS, f"schedule keys this test does not compare: {set(item) - SCHEDULE_KEYS}"
    return {
        "cron": item["cron"],
        "timezone": item.get("timezone"),
        "day_or": item.get("day_or", True),
        "active": item.get("active", True),
        "parameters": item.get("parameters") or {},
    }


def from_file(item: dict[str, Any]) -> dict[str, Any]:
    assert set(item) <= DEPLOYMENT_KEYS, f"{item['name']}: keys this test does not compare: {set(item) - DEPLOYMENT_KEYS}"
    return {
        "description": item.get("description"),
        "tags": sorted(item.get("tags") or []),
        "schedules": [schedule_from_file(s) for s in item.get("schedules") or []],
        "parameters": item.get("parameters") or {},
        "job_variables": (item.get("work_pool") or {}).get("job_variables") or {},
        "concurrency_limit": None,  # not a key here: DEPLOYMENT_KEYS has no concurrency_limit
    }


def from_serve(deployment: Any) -> dict[str, Any]:
    assert not deployment.triggers and not deployment.paused
    return {
        "description": deployment.description,
        "tags": sorted(deployment.tags),
        "schedules": [
            {
                "cron": s.schedule.cron,
                "timezone": s.schedule.timezone,
                "day_or": s.schedule.day_or,
                "active": s.active,
                "parameters": s.parameters or {},
            }
            for s in deployment.schedules or []
        ],
        "parameters": deployment.parameters,
        "job_variables": deployment.job_variables,
        "concurrency_limit": deployment.concurrency_limit,
    }


def test_the_same_deployments_in_both():
    in_file = [(flow_of(d["entrypoint"]).name, d["name"]) for d in declared()]
    assert len(in_file) == len(set(in_file)), f"a deployment twice in {PREFECT_YAML.name}: {in_file}"
    assert sorted(in_file) == sorted(served())


def test_entrypoints_name_the_flows_serve_serves():
    by_name = served()
    for item in declared():
        flow = flow_of(item["entrypoint"])
        deployment = by_name[(flow.name, item["name"])]
        # serve() records a file path relative to where it runs; the file's flow is this module's
        file, _, attribute = deployment.entrypoint.partition(":")
        assert Path(file).resolve() == Path(importlib.import_module(flow.fn.__module__).__file__).resolve()
        assert attribute == item["entrypoint"].partition(":")[2]


@pytest.mark.parametrize("item", declared(), ids=lambda d: f"{d['entrypoint'].partition(':')[0].rpartition('.')[2]}/{d['name']}")
def test_each_deployment_field_by_field(item):
    deployment = served()[(flow_of(item["entrypoint"]).name, item["name"])]
    assert from_file(item) == from_serve(deployment)


def test_one_work_pool_the_bootstrap_creates_and_no_limit_per_deployment():
    """serve() caps runs per process (settings.run_limit); the workers' cap is the pool's (bootstrap.sh)."""
    pools = {tuple(sorted((k, v) for k, v in d["work_pool"].items() if k != "job_variables")) for d in declared()}
    assert len(pools) == 1, f"every deployment on one pool and queue: {pools}"
    pool = dict(pools.pop())
    assert set(pool) <= WORK_POOL_KEYS
    default_pool = re.search(r"AVTALEFLYT_WORK_POOL:-([\w.-]+)\}", (DEPLOY / "bootstrap.sh").read_text())
    assert default_pool and pool["name"] == default_pool.group(1)
    assert all(d.concurrency_limit is None for d in deployments())


def test_the_file_names_the_installed_prefect():
    assert yaml.safe_load(PREFECT_YAML.read_text())["prefect-version"] == prefect.__version__
