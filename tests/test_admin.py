"""/admin (issue 16): an admin manages accounts in the dashboard through tasks/accounts, each
change an account event with the admin as actor and the admin's address; destructive changes
need a confirmation; forms need the CSRF token; anyone else gets 404. Against the real dashboard
and database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import AccountEvent, Membership, User
from avtaleflyt.tasks.accounts import add_user, scope_of, set_admin
from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.settings import get_settings

from .web import PASSWORD, form_token

AGDER, SONDRE = "Helsefellesskapet Agder", "Helsefellesskapet Søndre Trøndelag"
TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:
        add_user(s, "sjef", "Sjef Admin", None, PASSWORD, admin=True)
        add_user(s, "kari", "Kari Koordinator", None, PASSWORD, {AGDER: Role.coordinator})
    return engine


@pytest.fixture
def app(engine, monkeypatch):
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    return create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")


def login(app, username: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(app)
    token = form_token(client.get("/login").text)
    answer = client.post("/login", data={"csrf_token": token, "username": username, "password": password, "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def events(engine, after: int = 0) -> list[tuple[str, str | None, str | None, str | None]]:
    with session_scope(engine) as s:
        return [(e.action, e.username, e.actor, e.ip) for e in s.exec(select(AccountEvent).where(AccountEvent.id > after).order_by(AccountEvent.id))]


def last_event_id(engine) -> int:
    with session_scope(engine) as s:
        return max(e.id for e in s.exec(select(AccountEvent)))


def user(engine, name: str) -> tuple[bool, bool, dict[str, Role]]:
    with session_scope(engine) as s:
        u = s.exec(select(User).where(User.username == name)).one()
        return u.active, u.admin, dict(scope_of(s, u).roles)


def test_non_admins_get_404_for_every_admin_page_and_change_nothing(app, engine):
    kari = login(app, "kari")
    front = kari.get("/").text
    token = form_token(front)
    assert 'href="/admin/accounts"' not in front
    before = last_event_id(engine)
    for path in ("/admin", "/admin/accounts", "/admin/audit"):
        assert kari.get(path, follow_redirects=False).status_code == 404, path
    for path, data in [
        ("/admin/accounts/add", {"username": "ny", "helsefellesskap": AGDER, "role": "coordinator", "password": PASSWORD}),
        ("/admin/accounts/kari/grant", {"helsefellesskap": SONDRE, "role": "coordinator"}),
        ("/admin/accounts/kari/admin", {"admin": "1"}),
        ("/admin/accounts/sjef/active", {"active": "0", "confirm": "ja"}),
    ]:
        assert kari.post(path, data={"csrf_token": token, **data}, follow_redirects=False).status_code == 404, path
    assert user(engine, "kari") == (True, False, {AGDER: Role.coordinator}) and user(engine, "sjef")[:2] == (True, True)
    assert events(engine, before) == []
    assert TestClient(app).get("/admin/accounts", follow_redirects=False).status_code == 303  # not logged in: to /login, as every page
    admin = login(app, "sjef")  # the pages are there: for an admin
    assert [admin.get(p, follow_redirects=True).status_code for p in ("/admin", "/admin/accounts", "/admin/audit")] == [200, 200, 200]
    assert '<a href="/admin/accounts">Kontoer</a>' in admin.get("/").text  # the header leads an admin there
    with session_scope(engine) as s:  # as `user admin kari` does: kari's session under way has it on its next request
        set_admin(s, "kari", True, actor="operatør")
    assert kari.get("/admin/accounts").status_code == 200


def test_an_admin_adds_an_account_with_a_one_time_password_that_logs_in(app, engine):
    admin = login(app, "sjef")
    page = admin.get("/admin/accounts")
    assert page.status_code == 200 and "kari" in page.text and AGDER in page.text
    before = last_event_id(engine)
    added = admin.post("/admin/accounts/add", data={"csrf_token": form_token(page.text), "username": "Ola", "name": "Ola Leser", "helsefellesskap": SONDRE, "role": "reader"})
    assert added.status_code == 200
    password = re.search(r'id="engangspassord">.*?<code>([^<]+)</code>', added.text, re.DOTALL).group(1)
    assert len(password) >= 12 and user(engine, "ola") == (True, False, {SONDRE: Role.reader})
    assert events(engine, before) == [("user.added", "ola", "sjef", "testclient")]
    assert login(app, "ola", password).get("/").status_code == 200
    assert password not in admin.get("/admin/accounts").text  # shown once
    token = form_token(admin.get("/admin/accounts").text)
    admin.post("/admin/accounts/add", data={"csrf_token": token, "username": "drift", "everywhere": "1", "role": "reader", "password": PASSWORD})
    assert user(engine, "drift") == (True, False, {}) and "alle helsefellesskap: lesetilgang" in admin.get("/admin/accounts").text
    assert 'id="engangspassord"' not in admin.get("/admin/accounts").text


def test_an_admin_grants_revokes_disables_each_change_one_event_with_the_admin_as_actor(app, engine):
    admin = login(app, "sjef")
    token = form_token(admin.get("/admin/accounts").text)
    before = last_event_id(engine)

    def post(path: str, **data: str):
        answer = admin.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        return admin.get("/admin/accounts").text

    assert "Helsefellesskapet Søndre Trøndelag" in post("/admin/accounts/kari/grant", helsefellesskap=SONDRE, role="reader")
    page = post("/admin/accounts/kari/revoke", helsefellesskap=AGDER)  # not confirmed: refused, nothing changed
    assert "kryss av for å bekrefte" in page and user(engine, "kari")[2] == {AGDER: Role.coordinator, SONDRE: Role.reader}
    post("/admin/accounts/kari/revoke", helsefellesskap=AGDER, confirm="ja")
    post("/admin/accounts/kari/active", active="0")  # not confirmed
    assert user(engine, "kari")[0] is True
    kari = login(app, "kari")
    post("/admin/accounts/kari/active", active="0", confirm="ja")
    assert kari.get("/", follow_redirects=False).status_code == 303  # out on its next request
    post("/admin/accounts/kari/active", active="1")
    post("/admin/accounts/kari/admin", admin="1")
    assert user(engine, "kari") == (True, True, {SONDRE: Role.reader})
    page = post("/admin/accounts/kari/revoke", helsefellesskap=AGDER, confirm="ja")  # has none there: refused in Norwegian
    assert "Ikke endret" in page and "has no role" not in page
    page = post("/admin/accounts/sjef/active", active="0", confirm="ja")  # not oneself
    assert "din egen konto" in page and user(engine, "sjef")[0] is True
    page = post("/admin/accounts/sjef/admin", admin="0", confirm="ja")  # nor one's own admin role
    assert "din egen administratorrolle" in page and user(engine, "sjef")[1] is True
    page = post("/admin/accounts/kari/admin", admin="0")  # not confirmed
    assert "kryss av for å bekrefte at kari ikke lenger skal være administrator" in page and user(engine, "kari")[1] is True
    assert events(engine, before) == [
        ("membership.granted", "kari", "sjef", "testclient"), ("membership.revoked", "kari", "sjef", "testclient"),
        ("login", "kari", None, "testclient"),
        ("user.disabled", "kari", "sjef", "testclient"), ("user.enabled", "kari", "sjef", "testclient"), ("user.admin", "kari", "sjef", "testclient"),
    ]


def test_admin_forms_need_the_csrf_token(app, engine):
    admin = login(app, "sjef")
    answer = admin.post("/admin/accounts/kari/grant", data={"helsefellesskap": SONDRE, "role": "coordinator"})
    assert answer.status_code == 403 and user(engine, "kari")[2] == {AGDER: Role.coordinator}


def test_an_account_whose_name_has_a_slash_is_managed_too_and_every_value_is_escaped(app, engine):
    with session_scope(engine) as s:
        add_user(s, "drift/ola", "<script>alert(1)</script>", None, PASSWORD, {"<b>HF</b>": Role.reader})
        s.add(AccountEvent(action="login.failed", username="<img src=x>", ip="10.0.0.9", note="<script>x</script>"))
    admin = login(app, "sjef")
    page = admin.get("/admin/accounts").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page and "<b>HF" not in page
    audit_page = admin.get("/admin/audit").text
    assert "&lt;img src=x&gt;" in audit_page and "<img src=x>" not in audit_page and "<script>x" not in audit_page
    assert 'action="/admin/accounts/drift%2Fola/grant"' in page
    admin.post("/admin/accounts/drift%2Fola/grant", data={"csrf_token": form_token(page), "helsefellesskap": SONDRE, "role": "coordinator"})
    assert user(engine, "drift/ola")[2] == {"<b>HF</b>": Role.reader, SONDRE: Role.coordinator}
    assert admin.get("/admin/audit", params={"side": "x"}).status_code == 200  # a bad page number: the first page


def test_add_refusals_are_worded_in_norwegian_and_write_nothing(app, engine):
    admin = login(app, "sjef")
    token = form_token(admin.get("/admin/accounts").text)
    before = last_event_id(engine)
    for data, said in [
        ({"username": "kari", "helsefellesskap": AGDER, "role": "reader", "password": PASSWORD}, "finnes allerede"),
        ({"username": "ny", "helsefellesskap": AGDER, "role": "reader", "password": "kort"}, "minst 12 tegn"),
        ({"username": "to ord", "helsefellesskap": AGDER, "role": "reader", "password": PASSWORD}, "ett ord"),
        ({"username": "ny", "helsefellesskap": AGDER, "role": "sjef", "password": PASSWORD}, "rolle: «sjef» er ikke et gyldig valg"),
        ({"username": "ny", "role": "reader", "password": PASSWORD}, "helsefellesskap: må fylles ut"),
    ]:
        answer = admin.post("/admin/accounts/add", data={"csrf_token": token, **data})
        assert answer.status_code == 200 and "Ikke endret" in answer.text and said in answer.text, (data, answer.text[-2000:])
    assert events(engine, before) == []
    with session_scope(engine) as s:
        assert {u.username for u in s.exec(select(User))} == {"sjef", "kari"} and len(s.exec(select(Membership)).all()) == 1


def test_the_audit_page_newest_first_paginated_and_filtered(app, engine):
    with session_scope(engine) as s:
        for n in range(60):
            s.add(AccountEvent(at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(hours=n), action="login.failed", username=f"gjest{n}", ip="10.1.1.1"))
    admin = login(app, "sjef")
    page = admin.get("/admin/audit").text
    assert "63 hendelser" in page and "side 1 av 2" in page  # two user.added, one login, sixty failed
    assert page.index(">login<") < page.index("gjest59") < page.index("gjest58")  # newest first
    assert "gjest9<" not in page and "gjest9<" in admin.get("/admin/audit?side=2").text
    only = admin.get("/admin/audit", params={"bruker": "gjest7"}).text
    assert "1 hendelser" in only and "gjest7<" in only
    dated = admin.get("/admin/audit", params={"handling": "login.failed", "fra": "2026-11-02", "til": "2026-11-02"}).text
    assert "24 hendelser" in dated and "gjest24<" in dated and "gjest48<" not in dated
    assert "ÅÅÅÅ-MM-DD" in admin.get("/admin/audit", params={"fra": "2. november"}).text
    by_admin = admin.get("/admin/audit", params={"bruker": "sjef"}).text
    assert "2 hendelser" in by_admin  # sjef's own: added, logged in
