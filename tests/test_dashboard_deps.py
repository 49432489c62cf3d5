"""Every router reads the session, the clock, the settings and Prefect's address through
FastAPI dependencies (deps.py), so a test's override reaches every page and the API."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.dashboard.deps import get_prefect_ui, get_settings
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.tables import Revision
from avtaleflyt.settings import get_settings as configured_settings

from .plans import drive_to_political_treatment
from .web import log_in

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)


def test_the_revision_page_and_api_take_prefects_address_and_the_settings_from_dependencies(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'domain.db'}")
    drive_to_political_treatment(engine, today=TODAY)
    with session_scope(engine) as s:
        revision = s.exec(select(Revision)).one()
        revision.flow_run_id = "run-1"
        s.add(revision)
    app = create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")
    other = configured_settings().model_copy(update={"public_url": "https://avtaler.example.no"})
    app.dependency_overrides[get_prefect_ui] = lambda: "http://prefect.example.no"
    app.dependency_overrides[get_settings] = lambda: other
    client = log_in(TestClient(app), engine)

    assert client.get(f"/api/revisions/{SLUG}").json()["prefect_run_url"] == "http://prefect.example.no/runs/flow-run/run-1"
    page = client.get(f"/revisions/{SLUG}").text
    assert "http://prefect.example.no/runs/flow-run/run-1" in page
    assert "webcal://avtaler.example.no/revisions/testrevisjon-2024/plan.ics?token=" in page
