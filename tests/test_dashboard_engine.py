"""The dashboard writes through the engine it was created with, not the configured one,
and reads the time from its clock dependency.

`create_app(engine=A)` while AVTALEFLYT_DATABASE_URL names database B: a coordinator's
form and a party's link both land in A, and B is left as it was.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.dashboard.deps import Clock, get_clock
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import Party, PartyObligation, Revision
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import links

from .plans import drive_to_political_treatment
from .web import form_token, log_in

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)


@pytest.fixture
def databases(domain_db_url, tmp_path, monkeypatch):
    """(A, B): the app's engine and the one AVTALEFLYT_DATABASE_URL names, both with the same revision."""
    a = engine_for(domain_db_url)
    b = engine_for(f"sqlite:///{tmp_path / 'other.db'}")
    for engine in (a, b):
        drive_to_political_treatment(engine, today=TODAY)
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", str(b.url))
    get_settings.cache_clear()
    return a, b


def treatment(engine, party: str) -> str:  # noqa: ANN001
    with session_scope(engine) as s:
        who = s.exec(select(Party).where(Party.name == party)).one()
        return s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment").where(PartyObligation.party_id == who.id)).one().status


def test_a_form_writes_to_the_apps_database(databases):
    a, b = databases
    client = log_in(TestClient(create_app(a, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")), a, Role.coordinator)
    token = form_token(client.get(f"/revisions/{SLUG}").text)
    form = {"csrf_token": token, "party": "Malvik kommune", "outcome": "approved", "date": "2025-02-06", "case_no": "PS 4/25"}
    assert client.post(f"/revisions/{SLUG}/record/party-decision", data=form, follow_redirects=False).status_code == 303
    assert "Registrert: Malvik kommune" in client.get(f"/revisions/{SLUG}").text
    assert (treatment(a, "Malvik kommune"), treatment(b, "Malvik kommune")) == ("approved", "sent")


def test_a_party_link_writes_to_the_apps_database(databases):
    a, b = databases
    with session_scope(a) as s:
        revision = s.exec(select(Revision)).one()
        party = s.exec(select(Party).where(Party.name == "Trondheim kommune")).one()
        token = links.issue(s, get_settings().signing_key(), revision, party, source_key="t",
                            expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    client = TestClient(create_app(a, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9"))
    page = client.get(f"/p/{token}")
    done = client.post(f"/p/{token}", data={"csrf_token": form_token(page.text), "outcome": "rejected", "date": "2025-02-05", "case_no": "PS 1/25"})
    assert done.status_code == 200 and "Takk, Trondheim kommune" in done.text
    assert (treatment(a, "Trondheim kommune"), treatment(b, "Trondheim kommune")) == ("rejected", "sent")


def test_the_clock_is_a_dependency_a_test_may_override(domain_db_url):
    engine = engine_for(domain_db_url)
    drive_to_political_treatment(engine, today=TODAY)
    app = create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")
    app.dependency_overrides[get_clock] = lambda: Clock(today_fn=lambda: dt.date(2025, 2, 1))
    client = log_in(TestClient(app), engine, Role.coordinator)
    token = form_token(client.get(f"/revisions/{SLUG}").text)
    form = {"csrf_token": token, "party": "Malvik kommune", "outcome": "approved", "date": "2025-02-06"}
    client.post(f"/revisions/{SLUG}/record/party-decision", data=form, follow_redirects=False)
    assert "Ikke registrert" in client.get(f"/revisions/{SLUG}").text  # the 6th is after the overridden today
    assert treatment(engine, "Malvik kommune") == "sent"
    del app.dependency_overrides[get_clock]
    client.post(f"/revisions/{SLUG}/record/party-decision", data=form, follow_redirects=False)
    assert treatment(engine, "Malvik kommune") == "approved"


def test_the_clocks_today_is_oslos_day_of_its_now():
    late = Clock(now=lambda: dt.datetime(2025, 1, 1, 23, 30, tzinfo=dt.timezone.utc))
    assert late.today() == dt.date(2025, 1, 2)
    assert Clock(now=late.now, today_fn=lambda: TODAY).today() == TODAY
