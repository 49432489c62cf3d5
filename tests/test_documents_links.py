"""Letters link to each document's current version, and the dashboard serves a version's file only
to those allowed: a logged-in user, or a party through the signed link in its letter (issue 13)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import Role
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import OutboxMessage, Party, PartyLink, Revision
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import links
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision

from .plans import SMALL_PLAN
from .test_documents import SLUG, TODAY, add, do
from .web import log_in

PLAN = SMALL_PLAN.replace("{key: ASU, name: Administrativt samarbeidsutvalg}", "{key: ASU, name: Administrativt samarbeidsutvalg, email: asu@example.no}")
OTHER = PLAN.replace("revision: Testrevisjon 2024", "revision: Annen revidering 2024")
PDF = b"%PDF-1.4 overordnet samarbeidsavtale"
LINK = re.compile(r"http://127\.0\.0\.1:8000(/\S+/documents/overordnet/v\d+)")


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    for plan in (PLAN, OTHER):
        with session_scope(engine) as s:
            store_revision(s, parse_plan(plan), plan, "t")
        with session_scope(engine) as s:
            reconcile_revision(s, parse_plan(plan).plan.revision_slug, today=TODAY)
    return engine


def letters(engine, event: str, slug: str = SLUG) -> list[OutboxMessage]:
    with session_scope(engine) as s:
        revision = s.exec(select(Revision).where(Revision.slug == slug)).one()
        rows = list(s.exec(select(OutboxMessage).where(OutboxMessage.event == event, OutboxMessage.revision_id == revision.id).order_by(OutboxMessage.id)))
        for r in rows:
            s.expunge(r)
        return rows


@pytest.fixture
def client(engine) -> TestClient:
    return TestClient(create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9"))


def test_the_letters_link_to_the_current_version(engine):
    add(engine, content=PDF, label="Utkast til høring")
    do(engine, "draft_complete", stage="utkast")
    notice = letters(engine, "forum_meeting_notice")[0]  # to a forum: the file after the coordinators' login
    assert ("- Overordnet samarbeidsavtale – Utkast til høring, 10.02.2025: "
            f"http://127.0.0.1:8000/revisions/{SLUG}/documents/overordnet/v1") in notice.body_text
    assert f'href="http://127.0.0.1:8000/revisions/{SLUG}/documents/overordnet/v1"' in notice.body_html
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-06-19", stage="hoeringsforslag")
    invitations = letters(engine, "hearing_invitation")
    assert len(invitations) == 3
    for letter in invitations:  # to a party: through its own signed link
        assert re.search(r"- Overordnet samarbeidsavtale – Utkast til høring, 10\.02\.2025: http://127\.0\.0\.1:8000/p/[^/\s]+/documents/overordnet/v1", letter.body_text)
        assert "Utkast til høring, 10.02.2025" in letter.body_html and "/documents/overordnet/v1" in letter.body_html
        assert "mangler noen av dokumentene" not in letter.body_text and "manglar nokon av dokumenta" not in letter.body_text
    do(engine, "hearing_close", stage="hoering", reason="fristen er ute")
    add(engine, label="Etter høringen", url="https://example.no/avtale-v2.pdf", significant=False)
    for forum in ("ASU", "FU", "PSU"):
        do(engine, "forum_decision", forum=forum, outcome="approved", date="2024-11-27", stage="sluttbehandling")
    requests = letters(engine, "decision_request")
    assert len(requests) == 3
    for letter in requests:  # a web address: the address itself
        assert "- Overordnet samarbeidsavtale – Etter høringen, 10.02.2025: https://example.no/avtale-v2.pdf" in letter.body_text


def party_letter_path(engine, party: str = "Malvik kommune", slug: str = SLUG) -> str:
    with session_scope(engine) as s:
        revision = s.exec(select(Revision).where(Revision.slug == slug)).one()
        who = s.exec(select(Party).where(Party.revision_id == revision.id, Party.name == party)).one()
        token = links.issue(s, get_settings().signing_key(), revision, who, source_key=f"{slug}/test/{party}",
                            expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30))
    return f"/p/{token}"


def test_a_file_is_served_to_a_logged_in_user_and_to_a_party_through_its_link(engine, client):
    add(engine, content=PDF, name="Overordnet avtale æøå.pdf", label="Utkast")
    do(engine, "draft_complete", stage="utkast")
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-06-19", stage="hoeringsforslag")
    path = LINK.search(letters(engine, "hearing_invitation")[0].body_text).group(1)
    assert path.startswith("/p/")

    answer = client.get(path)  # the party, through the link in its letter
    assert answer.status_code == 200 and answer.content == PDF
    assert answer.headers["content-disposition"] == "attachment; filename=\"Overordnet avtale ___.pdf\"; filename*=UTF-8''Overordnet%20avtale%20%C3%A6%C3%B8%C3%A5.pdf"
    assert answer.headers["x-content-type-options"] == "nosniff" and answer.headers["content-type"] == "application/pdf"

    mine = f"/revisions/{SLUG}/documents/overordnet/v1"
    anonymous = client.get(mine, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert client.get(mine.replace("/revisions/", "/api/revisions/"), follow_redirects=False).status_code != 200
    log_in(client, engine, Role.reader)
    answer = client.get(mine)
    assert answer.status_code == 200 and answer.content == PDF
    assert client.get(f"/revisions/{SLUG}/documents/overordnet/v2").status_code == 404


def test_a_party_link_opens_only_its_own_revisions_documents(engine, client):
    add(engine, content=PDF, label="Utkast")
    own = party_letter_path(engine)
    assert client.get(f"{own}/documents/overordnet/v1").content == PDF
    forged = own[:-3] + ("aaa" if not own.endswith("aaa") else "bbb")
    assert client.get(f"{forged}/documents/overordnet/v1").status_code == 403
    assert client.get("/p/not-a-token/documents/overordnet/v1").status_code == 403
    other = party_letter_path(engine, slug="annen-revidering-2024")  # a genuine link of another revision
    answer = client.get(f"{other}/documents/overordnet/v1")
    assert answer.status_code == 404 and PDF not in answer.content


def test_a_used_or_withdrawn_link_still_reads_an_expired_one_does_not(engine, client):
    add(engine, content=PDF, label="Utkast")
    path = party_letter_path(engine)
    with session_scope(engine) as s:
        link = s.exec(select(PartyLink)).one()
        link.used_at = link.revoked_at = dt.datetime.now(dt.timezone.utc)
        s.add(link)
    assert client.get(f"{path}/documents/overordnet/v1").content == PDF
    with session_scope(engine) as s:
        link = s.exec(select(PartyLink)).one()
        link.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
        s.add(link)
    assert client.get(f"{path}/documents/overordnet/v1").status_code == 410


def test_the_revision_page_shows_a_significant_change_and_offers_a_new_hearing_round(engine, client):
    from .web import form_token

    add(engine, content=PDF, label="Utkast til høring")
    do(engine, "draft_complete", stage="utkast")
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-06-19", stage="hoeringsforslag")
    do(engine, "hearing_close", stage="hoering", reason="fristen er ute")
    log_in(client, engine, Role.reader)
    page = client.get(f"/revisions/{SLUG}").text
    assert 'id="dokumenter"' in page and "v1 Utkast til høring" in page and "ASU 19.06.2024" in page
    assert f'href="/revisions/{SLUG}/documents/overordnet/v1"' in page and "endret etter høringen" not in page
    add(engine, label="Ny paragraf 5", url="https://example.no/v2", significant=True)
    page = client.get(f"/revisions/{SLUG}").text
    assert "endret etter høringen" in page and "vesentlig endring" in page
    assert "form-hearing-reopen-overordnet" not in page  # a reader sees the change, not the form
    api = client.get(f"/api/revisions/{SLUG}").json()
    assert api["documents"][0]["changed_since_hearing"] == ["hoering"] and api["documents"][0]["versions"][1]["url"] == "https://example.no/v2"

    client.post("/logout", data={"csrf_token": form_token(page)})
    coordinator = TestClient(client.app)
    log_in(coordinator, engine, Role.coordinator)
    page = coordinator.get(f"/revisions/{SLUG}").text
    assert 'action="/revisions/testrevisjon-2024/record/hearing-reopen"' in page
    answer = coordinator.post(f"/revisions/{SLUG}/record/hearing-reopen", data={
        "csrf_token": form_token(page), "stage": "hoering", "deadline": "2025-03-14", "reason": "ny paragraf 5"}, follow_redirects=False)
    assert answer.status_code == 303
    page = coordinator.get(f"/revisions/{SLUG}").text
    assert "Registrert" in page and "endret etter høringen" not in page
    assert len([m for m in letters(engine, "hearing_invitation") if m.key.endswith("/2025-03-14/r2")]) == 3


def test_a_refused_new_round_is_said_in_norwegian_on_the_page(engine, client):
    from .web import form_token

    add(engine, content=PDF, label="Utkast til høring")
    do(engine, "draft_complete", stage="utkast")
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-06-19", stage="hoeringsforslag")
    do(engine, "hearing_close", stage="hoering", reason="fristen er ute")
    log_in(client, engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}").text
    page = client.post(f"/revisions/{SLUG}/record/hearing-reopen", data={"csrf_token": form_token(page), "stage": "hoering", "deadline": "2025-03-14"}).text
    assert "Ikke registrert: trinn: ingen av dokumentene i høringen «hoering» er endret vesentlig etter at den ble avsluttet" in page
