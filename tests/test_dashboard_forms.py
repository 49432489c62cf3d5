"""The dashboard's write side: login, roles, CSRF, the coordinator's forms and a party's link."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import AuditEntry, Party, PartyTreatment, Revision
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import links

from .plans import drive_to_political_treatment
from .web import form_token, log_in

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)
XSS = "<script>alert(1)</script>"


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    drive_to_political_treatment(engine, today=TODAY, hearing_closed_because=f"stengt {XSS}")
    return engine


@pytest.fixture
def app(engine, monkeypatch):
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    return create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")


def treatment(engine, party: str) -> str:
    with session_scope(engine) as s:
        who = s.exec(select(Party).where(Party.name == party)).one()
        return s.exec(select(PartyTreatment).where(PartyTreatment.party_id == who.id)).one().status.value


def decision_form(token: str, party: str = "Malvik kommune") -> dict:
    return {"csrf_token": token, "party": party, "outcome": "approved", "date": "2025-02-06", "case_no": "PS 4/25"}


def test_pages_and_api_need_a_login(app):
    client = TestClient(app)
    answer = client.get(f"/revisions/{SLUG}", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, f"/login?next=/revisions/{SLUG}")
    assert client.get("/api/revisions").status_code == 401
    token = form_token(client.get("/login").text)
    wrong = client.post("/login", data={"csrf_token": token, "username": "coordinator", "password": "ikke riktig passord"})
    assert wrong.status_code == 401 and "Feil brukernavn eller passord." in wrong.text


def test_a_coordinator_records_a_decision_through_the_form(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}")
    assert 'id="form-party-decision"' in page.text
    answer = client.post(f"/revisions/{SLUG}/record/party-decision", data=decision_form(form_token(page.text)), follow_redirects=False)
    assert answer.status_code == 303
    after = client.get(f"/revisions/{SLUG}").text
    assert 'class="flash ok"' in after and "Registrert: Malvik kommune: approved on 2025-02-06 (case PS 4/25)" in after
    assert treatment(engine, "Malvik kommune") == "approved"
    with session_scope(engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "party.decided")).one().actor == "coordinator"


def test_refusals_are_shown_escaped_and_change_nothing(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    token = form_token(client.get(f"/revisions/{SLUG}").text)
    client.post(f"/revisions/{SLUG}/record/party-decision", data=decision_form(token, party=XSS), follow_redirects=False)
    page = client.get(f"/revisions/{SLUG}").text  # the message is shown once, on the page after the form
    assert 'class="flash error"' in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert XSS not in page  # neither in the message nor in the hearing's closing reason
    assert treatment(engine, "Malvik kommune") == "sent"


def test_a_form_without_the_csrf_token_is_refused(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    for token in ("", "forged-token"):
        answer = client.post(f"/revisions/{SLUG}/record/party-decision", data=decision_form(token))
        assert answer.status_code == 403 and "CSRF" in answer.text
    assert treatment(engine, "Malvik kommune") == "sent"


def test_a_reader_cannot_record(app, engine):
    client = log_in(TestClient(app), engine, Role.reader)
    page = client.get(f"/revisions/{SLUG}").text
    assert 'id="registrer"' not in page
    answer = client.post(f"/revisions/{SLUG}/record/party-decision", data=decision_form(form_token(page)))
    assert answer.status_code == 403 and "lesetilgang" in answer.text
    assert treatment(engine, "Malvik kommune") == "sent"


def test_a_party_reports_through_its_link_once(app, engine):
    with session_scope(engine) as s:
        revision = s.exec(select(Revision)).one()
        party = s.exec(select(Party).where(Party.name == "Trondheim kommune")).one()
        token = links.issue(s, get_settings().signing_key(), revision, party, source_key="t", expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    client = TestClient(app)
    form = client.get(f"/p/{token}")
    assert form.status_code == 200 and "Meld vedtak: Trondheim kommune" in form.text
    done = client.post(f"/p/{token}", data={"csrf_token": form_token(form.text), "outcome": "rejected", "date": "2025-02-05", "case_no": "PS 1/25"})
    assert done.status_code == 200 and "Takk, Trondheim kommune" in done.text
    assert treatment(engine, "Trondheim kommune") == "rejected"
    again = client.get(f"/p/{token}")
    assert again.status_code == 410 and "was used on" in again.text
    tampered = client.get(f"/p/{token[:-3]}xyz")
    assert tampered.status_code == 403 and "not valid" in tampered.text


def test_the_party_form_needs_its_csrf_token(app, engine):
    with session_scope(engine) as s:
        revision = s.exec(select(Revision)).one()
        party = s.exec(select(Party).where(Party.name == "Malvik kommune")).one()
        token = links.issue(s, get_settings().signing_key(), revision, party, source_key="t2", expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    answer = TestClient(app).post(f"/p/{token}", data={"outcome": "approved", "date": "2025-02-05"})
    assert answer.status_code == 403
    assert treatment(engine, "Malvik kommune") == "sent"
