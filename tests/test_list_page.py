"""The list of revisions (`/`, `/api/revisions`, issue 15): filters, pages that keep them, bad
values refused in bokmål, aggregate counts in a fixed number of statements; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import itertools
import os

import pytest
from avtaleflyt.models.enums import RevisionStatus, Role, StageStatus
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import FollowUp, PartyObligation, Revision, Stage
from avtaleflyt.tasks.store import store_revision
from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope

from .test_dashboard import (
    EXAMPLE_SLUG,
    PREFECT_UI,
    TODAY,
    big_plan,
    count_queries,
    drive_example,
    drive_xss,
)
from .web import log_in

OTHER_HF = "Helsefellesskapet Nord"
_numbers = itertools.count(1)


@pytest.fixture
def db(domain_db_url):
    return engine_for(domain_db_url)


@pytest.fixture
def second_db(db_backend, request, tmp_path):
    """Another empty domain database on the same backend as `db`."""
    if db_backend == "sqlite":
        yield engine_for(f"sqlite:///{tmp_path / 'second.db'}")
        return
    server = request.getfixturevalue("postgres_server")
    name = f"list_second_{next(_numbers)}_{os.getpid()}"
    url = server.create_database(name, template=server.template)
    try:
        yield engine_for(url)
    finally:
        server.drop_database(name)


def client_as(db, role: Role = Role.reader) -> TestClient:
    return log_in(TestClient(create_app(db, today=lambda: TODAY, prefect_ui=PREFECT_UI)), db, role)


def add_plain(db, i: int, *, helsefellesskap: str | None = None) -> str:
    """A revision stored and not started: every stage pending, so nothing is overdue or waits for anyone."""
    source = big_plan(i, 1)
    if helsefellesskap:
        source = source.replace("helsefellesskap: Helsefellesskapet Test", f"helsefellesskap: {helsefellesskap}")
    with session_scope(db) as s:
        return store_revision(s, parse_plan(source), source, "tester").slug


def set_stage(db, slug: str, key: str, **values) -> None:
    with session_scope(db) as s:
        stage = s.exec(select(Stage).join(Revision).where(Revision.slug == slug, Stage.key == key)).one()
        for name, value in values.items():
            setattr(stage, name, value)


def slugs(client: TestClient, query: str = "") -> set[str]:
    answer = client.get(f"/api/revisions?per_page=100&{query}")
    assert answer.status_code == 200, answer.text
    return {r["slug"] for r in answer.json()["items"]}


@pytest.fixture
def mixed(db):
    """The example (overdue), the small plan in political treatment (not overdue), plain revisions in
    two helsefellesskap, one completed, forum stages with their own meeting days."""
    drive_example(db)
    drive_xss(db)
    for i in range(3):
        add_plain(db, i)
    for i in range(3, 5):
        add_plain(db, i, helsefellesskap=OTHER_HF)
    with session_scope(db) as s:
        s.exec(select(Revision).where(Revision.slug == "revisjon-004")).one().status = RevisionStatus.completed
    # forum stages: the shared meeting passed but the forum meets on its own later day (not overdue); its own day passed (overdue)
    set_stage(db, "revisjon-000", "vedtak", status=StageStatus.active, meeting="2024-11-01", meetings={"ASU": {"date": "2024-12-01"}})
    set_stage(db, "revisjon-001", "vedtak", status=StageStatus.active, meeting="2024-12-01", meetings={"ASU": {"date": "2024-11-10"}})
    set_stage(db, "revisjon-002", "vedtak", status=StageStatus.active, meeting="2024-11")  # a month: no exact day to pass
    set_stage(db, "revisjon-003", "vedtak", status=StageStatus.active, meeting="2024-11-19")
    return db


def test_overdue_filter_agrees_with_each_rows_overdue_count(mixed):
    client = client_as(mixed)
    rows = client.get("/api/revisions?per_page=100").json()["items"]
    assert len(rows) == 7
    late = {r["slug"] for r in rows if r["overdue"]}
    assert late == {EXAMPLE_SLUG, "revisjon-001", "revisjon-003"}
    assert slugs(client, "overdue=1") == late
    assert slugs(client, "overdue=1&helsefellesskap=" + OTHER_HF) == {"revisjon-003"}


def test_status_and_helsefellesskap_filters(mixed):
    client = client_as(mixed)
    assert slugs(client, "status=completed") == {"revisjon-004"}
    assert len(slugs(client, "status=active")) == 6
    assert slugs(client, f"helsefellesskap={OTHER_HF}") == {"revisjon-003", "revisjon-004"}
    listing = client.get("/api/revisions").json()
    assert listing["helsefellesskap_options"] == ["Helsefellesskapet Nord", "Helsefellesskapet Søndre Trøndelag", "Helsefellesskapet Test"]
    assert client.get("/api/revisions?status=active&helsefellesskap=" + OTHER_HF).json()["total"] == 1


def test_needs_my_action_is_what_a_coordinator_must_do(mixed):
    xss = next(s for s in slugs(client_as(mixed)) if s.startswith("xss"))
    coordinator = client_as(mixed, Role.coordinator)
    overdue = {EXAMPLE_SLUG, "revisjon-001", "revisjon-003"}
    assert slugs(coordinator, "mine=1") == overdue | {xss}  # xss: a forum that has not decided (fagrad), an open follow-up
    with session_scope(mixed) as s:
        revision = s.exec(select(Revision).where(Revision.slug == xss)).one()
        for item in s.exec(select(FollowUp).where(FollowUp.revision_id == revision.id)):
            item.closed_at, item.closed_by = dt.datetime(2024, 11, 19, tzinfo=dt.UTC), "tester"
    assert slugs(coordinator, "mine=1") == overdue
    with session_scope(mixed) as s:  # a council met and its decision is not recorded; a follow-up left open
        revision = s.exec(select(Revision).where(Revision.slug == xss)).one()
        undecided = s.exec(
            select(PartyObligation).join(Stage).where(Stage.revision_id == revision.id, Stage.key == "politisk", PartyObligation.answered_on.is_(None))
        ).first()
        undecided.meeting_date = dt.date(2024, 11, 12)
        plain = s.exec(select(Revision).where(Revision.slug == "revisjon-002")).one()
        s.add(FollowUp(revision_id=plain.id, reason="rejected", opened_on=dt.date(2024, 11, 1)))
    assert slugs(coordinator, "mine=1") == overdue | {xss, "revisjon-002"}
    assert slugs(coordinator, "mine=1&overdue=1") == overdue
    assert slugs(client_as(mixed), "mine=1") == set()  # a reader is asked to do nothing


def test_pages_keep_the_filters(db):
    for i in range(7):
        add_plain(db, i, helsefellesskap=OTHER_HF if i % 2 else None)
    client = client_as(db)
    first = client.get(f"/api/revisions?per_page=2&helsefellesskap={OTHER_HF}").json()
    assert (first["total"], first["pages"], first["prev"]) == (3, 2, None)
    assert first["next"] == "/api/revisions?helsefellesskap=Helsefellesskapet+Nord&per_page=2&page=2"
    second = client.get(first["next"]).json()
    assert len(second["items"]) == 1 and second["next"] is None and second["prev"].endswith("per_page=2&page=1")
    assert {r["slug"] for r in first["items"] + second["items"]} == {"revisjon-001", "revisjon-003", "revisjon-005"}
    page = client.get(f"/?per_page=2&helsefellesskap={OTHER_HF}&page=2").text
    assert 'href="/?helsefellesskap=Helsefellesskapet+Nord&amp;per_page=2&amp;page=1" rel="prev"' in page
    assert "3 revideringer som passer filteret · side 2 av 2" in page
    assert '<option value="Helsefellesskapet Nord" selected>' in page


@pytest.mark.parametrize(
    ("query", "param", "words"),
    [
        ("status=open", "status", "status må være «active» (pågår) eller «completed» (fullført), ikke «open»"),
        ("page=0", "page", "sidenummeret (page) må være et helt tall fra 1 til 100 000, ikke «0»"),
        ("page=abc", "page", "ikke «abc»"),
        ("per_page=1000", "per_page", "antall per side (per_page) må være et helt tall fra 1 til 100, ikke «1000»"),
        ("overdue=kanskje", "overdue", "«Forsinket»: skriv 1 (ja) eller 0 (nei), ikke «kanskje»"),
        ("mine=2", "mine", "«Trenger min handling»: skriv 1 (ja) eller 0 (nei)"),
        ("helsefellesskap=Finnes+ikke", "helsefellesskap", "ingen revideringer i helsefellesskapet «Finnes ikke»"),
    ],
)
def test_bad_filter_values_are_refused_by_name(db, query, param, words):
    add_plain(db, 1)
    client = client_as(db)
    api = client.get(f"/api/revisions?{query}")
    assert api.status_code == 422
    (problem,) = api.json()["detail"]
    assert problem["loc"] == ["query", param] and words in problem["msg"]
    page = client.get(f"/?{query}")
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in page.text and "Filteret kunne ikke brukes: " in page.text and words in html.unescape(page.text)
    assert "Traceback" not in page.text and 'href="/revisions/revisjon-001"' in page.text  # the list, unfiltered, under the message


def test_statements_do_not_grow_with_revisions(db, second_db):
    small, large = db, second_db
    for i in range(10):
        add_plain(small, i, helsefellesskap=OTHER_HF if i % 2 else None)
    for i in range(200):
        add_plain(large, i, helsefellesskap=OTHER_HF if i % 2 else None)
    for e in (small, large):
        set_stage(e, "revisjon-003", "vedtak", status=StageStatus.active, meeting="2024-11-19")
    urls = (
        "/", "/?page=2&per_page=5", "/?overdue=1", "/?mine=1&status=active", f"/?helsefellesskap={OTHER_HF}&per_page=3&page=2",
        "/api/revisions", "/api/revisions?mine=1&overdue=1&per_page=100", "/api/revisions?status=completed",
    )
    counts = {}
    for name, e in (("small", small), ("large", large)):
        client = client_as(e, Role.coordinator)
        counts[name] = {url: count_queries(e, client, url) for url in urls}
    print("statements per list page:", counts)
    assert counts["small"] == counts["large"]
    assert max(counts["large"].values()) <= 10
