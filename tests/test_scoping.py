"""Several helsefellesskap on one installation (issue 16): an account sees and records only in the
helsefellesskap it has a role in. Every dashboard route that takes a revision's slug answers an
account of another helsefellesskap 404 (by GET, and by POST where it takes one) with the very
answer an unknown slug gets, and writes nothing; a route added later fails this test until it is
walked here or listed as exempt with its reason. The list page and /api/revisions show only the
account's helsefellesskap. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from avtaleflyt.models.enums import Role
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import Party, Revision
from avtaleflyt.tasks import accounts
from avtaleflyt.tasks.store import store_revision
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import SQLModel, select

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope

from . import public_page_data as data
from .test_dashboard import PREFECT_UI, big_plan
from .web import PASSWORD, form_token

HF = data.P["helsefellesskap"]  # the driven revision's helsefellesskap (plays Søndre Trøndelag)
AGDER = "Helsefellesskapet Agder"

# Routes that take no revision from an account's scope, each with its reason. Every other route
# must have {slug} in its path and is walked below.
EXEMPT = {
    "/login": "logging in: no revision",
    "/logout": "logging out: no revision",
    "/healthz": "liveness: no revision",
    "/openapi.json": "the API's description: no revision",
    "/docs": "the API's description: no revision",
    "/": "the list: scoped by its query (test_the_list_shows_only_the_accounts_helsefellesskap)",
    "/api/revisions": "the list: scoped by its query (test_the_list_shows_only_the_accounts_helsefellesskap)",
    "/revisions/{slug}/plan.ics": "a calendar feed: its signed token is the scope (given only on the scoped calendars page)",
    "/revisions/{slug}/parties/{party_id}/plan.ics": "a party's calendar feed: its signed token is the scope",
}
EXEMPT_PREFIXES = {
    "/offentlig/": "the public status page: public on purpose, no login (issue 16)",
    "/p/": "a party's link: the token in it is the scope",
    "/static": "style sheet and script",
    "/admin": "accounts and the account event log: admins only, no revision (tests/test_admin.py)",
    "/avmelding/": "opting out of a digest: the signed token in the link is the scope",
}


def all_routes(app) -> list[APIRoute]:
    """Every route, also those of included routers."""
    found = []

    def walk(routes) -> None:
        for r in routes:
            if isinstance(r, APIRoute):
                found.append(r)
            elif hasattr(r, "original_router"):
                walk(r.original_router.routes)
            elif hasattr(r, "routes") and not hasattr(r, "path"):
                walk(r.routes)
    walk(app.routes)
    return found


def exempt(path: str) -> bool:
    return path in EXEMPT or any(path.startswith(p) for p in EXEMPT_PREFIXES)


def log_in(app, username: str) -> TestClient:
    client = TestClient(app)
    token = form_token(client.get("/login").text)
    answer = client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD, "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def csrf(client: TestClient) -> str:
    return form_token(client.get("/").text)


def everything(engine) -> dict[str, list]:
    """Every row of every table: what a refused request must leave as it was."""
    with engine.connect() as conn:
        return {name: sorted(map(repr, conn.execute(sa.select(table)).all())) for name, table in SQLModel.metadata.tables.items()}


@pytest.fixture
def installation(domain_db_url):
    """The public test revision (every field filled) in HF, a revision in Agder, and four accounts."""
    engine = engine_for(domain_db_url)
    data.drive(engine)
    with session_scope(engine) as s:
        source = big_plan(1, 1).replace("Helsefellesskapet Test", AGDER)
        store_revision(s, parse_plan(source), source, "tester")
        accounts.add_user(s, "agder", "Agder koordinator", None, PASSWORD, {AGDER: Role.coordinator})
        accounts.add_user(s, "sondre", "Søndre koordinator", None, PASSWORD, {HF: Role.coordinator})
        accounts.add_user(s, "mixed", "Leser her, koordinator der", None, PASSWORD, {HF: Role.reader, AGDER: Role.coordinator})
        accounts.add_user(s, "nobody", "Uten rolle", None, PASSWORD)
    app = create_app(engine, today=lambda: data.TODAY, prefect_ui=PREFECT_UI)
    return engine, app


def path_values(engine) -> dict[str, str]:
    with session_scope(engine) as s:
        revision = s.exec(select(Revision).where(Revision.slug == data.SLUG)).one()
        party = s.exec(select(Party).where(Party.revision_id == revision.id, Party.name == data.P["muni_name"])).one()
        return {"slug": data.SLUG, "key": "avtale", "number": "1", "party_id": str(party.id), "stage": "slutt", "fmt": "docx", "action": "party-decision"}


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m[1]], path)


def test_every_route_with_a_revision_answers_another_helsefellesskap_404_and_writes_nothing(installation):
    engine, app = installation
    routes = all_routes(app)
    uncovered = [r.path for r in routes if not exempt(r.path) and "{slug}" not in r.path]
    assert uncovered == [], f"routes neither walked nor exempt (add them to EXEMPT with a reason, or give them a slug): {uncovered}"
    walked = [(r.path, method) for r in routes if not exempt(r.path) for method in sorted(r.methods - {"HEAD"})]
    assert len(walked) >= 10 and any(m == "POST" for _, m in walked)

    values = path_values(engine)
    unknown = {**values, "slug": "finnes-ikke"}
    agder, sondre = log_in(app, "agder"), log_in(app, "sondre")
    agder_token = csrf(agder)
    before = everything(engine)
    for path, method in walked:
        url, nowhere = fill(path, values), fill(path, unknown)
        form = {"csrf_token": agder_token, "party": data.P["muni_name"], "outcome": "approved", "on": "2025-02-05", "case_no": "1/25"}
        send = (lambda c, u, form=form: c.post(u, data=form, follow_redirects=False)) if method == "POST" else (lambda c, u: c.get(u, follow_redirects=False))
        refused, missing = send(agder, url), send(agder, nowhere)
        assert refused.status_code == 404, (method, url, refused.status_code, refused.text[:300])
        # The same answer as for a slug that does not exist: it does not tell that the revision is there.
        assert refused.text.replace(data.SLUG, "X") == missing.text.replace("finnes-ikke", "X"), (method, url)
        assert data.P["revision_nb"] not in refused.text
        # The route is there for its own helsefellesskap (a POST without a valid form token: refused, not 404).
        own = sondre.post(url, data={"csrf_token": "feil"}, follow_redirects=False) if method == "POST" else sondre.get(url, follow_redirects=False)
        assert not (own.status_code == 404 and "Fant ingen revidering" in own.text), (method, url, own.status_code)
    assert everything(engine) == before


def test_the_list_shows_only_the_accounts_helsefellesskap(installation):
    _, app = installation
    agder = log_in(app, "agder")
    listed = agder.get("/api/revisions").json()
    assert [r["helsefellesskap"] for r in listed["items"]] == [AGDER] and listed["total"] == 1
    assert listed["helsefellesskap_options"] == [AGDER]
    page = agder.get("/").text
    assert data.SLUG not in page and HF not in page
    # Filtering by the other helsefellesskap: the answer a helsefellesskap without revisions gets.
    other = agder.get("/api/revisions", params={"helsefellesskap": HF})
    none = agder.get("/api/revisions", params={"helsefellesskap": "Helsefellesskapet Ingen"})
    assert other.status_code == none.status_code == 422
    assert other.json()["detail"][0]["msg"].replace(HF[:80], "X") == none.json()["detail"][0]["msg"].replace("Helsefellesskapet Ingen", "X")

    both = log_in(app, "mixed").get("/api/revisions").json()
    assert sorted(r["helsefellesskap"] for r in both["items"]) == sorted([AGDER, HF])
    assert log_in(app, "nobody").get("/api/revisions").json()["total"] == 0
    assert log_in(app, "nobody").get(f"/api/revisions/{data.SLUG}").status_code == 404


def test_one_account_reads_in_one_helsefellesskap_and_records_in_another(installation):
    engine, app = installation
    mixed = log_in(app, "mixed")
    token = csrf(mixed)
    page = mixed.get(f"/revisions/{data.SLUG}")
    assert page.status_code == 200 and 'action="/revisions/' not in page.text  # a reader there: no forms
    before = everything(engine)
    refused = mixed.post(f"/revisions/{data.SLUG}/record/hearing-close", data={"csrf_token": token, "reason": "x"}, follow_redirects=False)
    assert refused.status_code == 403
    assert mixed.get(f"/revisions/{data.SLUG}/papers/slutt.docx").status_code == 403  # papers: coordinators only
    assert everything(engine) == before
    with session_scope(engine) as s:
        agder_slug = s.exec(select(Revision.slug).where(Revision.helsefellesskap == AGDER)).one()
    mine = mixed.get(f"/revisions/{agder_slug}")
    assert mine.status_code == 200 and f'action="/revisions/{agder_slug}/record/' in mine.text  # a coordinator there: the forms


def test_grant_and_revoke_take_effect_on_the_next_request(installation):
    engine, app = installation
    agder = log_in(app, "agder")
    assert agder.get(f"/revisions/{data.SLUG}").status_code == 404
    with session_scope(engine) as s:
        accounts.grant(s, "agder", HF, Role.reader, actor="test")
    assert agder.get(f"/revisions/{data.SLUG}").status_code == 200
    with session_scope(engine) as s:
        accounts.revoke(s, "agder", HF, actor="test")
    assert agder.get(f"/revisions/{data.SLUG}").status_code == 404


def test_scope_queries_select_the_helsefellesskap_on_each_database(installation):
    engine, _ = installation
    with session_scope(engine) as s:
        users = {u.username: u for u in s.exec(select(accounts.User)).all()}
        def slugs(name: str, role: Role | None = None) -> list[str]:
            scope = accounts.scope_of(s, users[name])
            return sorted(s.exec(select(Revision.helsefellesskap).where(scope.where(Revision.helsefellesskap, role))).all())
        assert slugs("agder") == [AGDER] and slugs("sondre") == [HF] and slugs("nobody") == []
        assert slugs("mixed") == sorted([AGDER, HF]) and slugs("mixed", Role.coordinator) == [AGDER]
        assert slugs("kari") == sorted([AGDER, HF])  # the driven data's installation-wide coordinator
        assert accounts.helsefellesskap_of(s, users["mixed"], Role.coordinator) == {AGDER}
        assert accounts.helsefellesskap_of(s, users["kari"]) is None  # every helsefellesskap, also those to come
