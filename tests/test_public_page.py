"""The public status page (/offentlig/{slug}), its Atom feed and its documents, against the real
dashboard and database (SQLite and PostgreSQL): opt-in, the same 404 for unknown and not public,
nothing but what is public by nature (every field of the plan and the database is checked), no
session cookie, cache headers a shared cache may use."""

from __future__ import annotations

import datetime as dt
import re
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.shift import _plan_wide_changes
from avtaleflyt.tasks.store import store_revision

from . import public_page_data as data
from .plans import SMALL_PLAN

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def engine(domain_db_url: str) -> Engine:
    return engine_for(domain_db_url)


@pytest.fixture
def token(engine: Engine) -> str:
    return data.drive(engine)


@pytest.fixture
def client(engine: Engine, token: str) -> TestClient:
    return TestClient(create_app(engine, today=lambda: data.TODAY, prefect_ui="http://127.0.0.1:9"))


def _everything(client: TestClient) -> list:
    """Every answer of the public side of the revision: the page, the feed, a document, 404s."""
    return [
        client.get(f"/offentlig/{data.SLUG}"),
        client.get(f"/offentlig/{data.SLUG}/feed.atom"),
        client.get(f"/offentlig/{data.SLUG}/dokumenter/avtale/v1"),
        client.get(f"/offentlig/{data.SLUG}/dokumenter/internt/v1"),
        client.get(f"/offentlig/{data.SLUG}/dokumenter/avtale/v9"),
        client.get(f"/offentlig/{data.SLUG}/ukjent"),
    ]


def _text_of(answers: list) -> str:
    parts = []
    for a in answers:
        parts += [f"{k}: {v}" for k, v in a.headers.multi_items()]
        parts.append(a.content.decode("utf-8", "replace") if not a.headers.get("content-type", "").startswith("application/pdf") else "")
    return "\n".join(parts)


# --------------------------------------------------------------------------- what it shows, and what not


def test_no_field_of_the_plan_or_the_database_leaks_but_the_public_ones(engine: Engine, client: TestClient, token: str) -> None:
    database = data.mark_database(engine)
    public_columns, public_rows = data.public_columns(engine), data.public_rows(engine)
    tables = {t for t, _, _ in database.values()}
    assert {"revision", "party", "partyobligation", "forumdecision", "document", "documentversion", "outboxmessage", "auditentry",
            "partylink", "user", "usersession", "accountevent", "planversion", "milestone", "followup"} - tables <= {"followup"}, tables
    may_show = {m for m, (t, c, row) in database.items() if (t, c) in public_columns or (t, c, row) in public_rows}
    may_show |= data.PUBLIC_PLAN_MARKERS | data.MAY_SHOW_PLAN_MARKERS
    every = set(database) | set(data.P.values())

    answers = _everything(client)
    shown = _text_of(answers)
    leaked = {m: database.get(m, "the plan") for m in set(data.MARKER.findall(shown)) if m not in may_show}
    assert not leaked, leaked
    assert set(data.MARKER.findall(shown)) <= every  # no marker from elsewhere: the list above is complete
    for private in (token, data.PHONE_DIGITS, "@", "mrk"):  # a token, a phone, any e-mail address; "mrk": below
        if private != "mrk":
            assert private not in shown, private

    def shown_of(table: str, column: str) -> set[str]:
        return {m for m, (t, c, _) in database.items() if (t, c) == (table, column)}

    must_show = set().union(*(shown_of(t, c) for t, c in [("revision", "title"), ("party", "name"), ("forum", "name"), ("stage", "title")]))
    must_show |= {m for m, (t, c, row) in database.items() if (t, c, row) in public_rows and c == "label"}
    must_show |= data.PUBLIC_PLAN_MARKERS
    page = answers[0].text
    assert not must_show - set(data.MARKER.findall(page)), must_show - set(data.MARKER.findall(page))
    decided = shown_of("partyobligation", "reservations") & set(data.MARKER.findall(page))
    assert decided, "the reservations of a conditional approval are part of the public decision"
    assert set(data.MARKER.findall(page)) & shown_of("partyobligation", "case_no")
    assert set(data.MARKER.findall(page)) & shown_of("forumdecision", "case_no")


def test_the_page_shows_stages_decisions_forums_and_public_documents(client: TestClient) -> None:
    answer = client.get(f"/offentlig/{data.SLUG}")
    assert answer.status_code == 200
    page = answer.text
    assert '<html lang="nb">' in page
    assert data.P["revision_nb"] in page and data.P["helsefellesskap"] in page
    for title in ("stage_draft", "stage_hearing_nb", "stage_final", "stage_political"):
        assert data.P[title] in page
    assert "ferdig" in page and "pågår" in page  # the stage statuses
    assert "Høringsfrist: <span class=\"nowrap\">10.09.2024</span>" in page
    assert "Frist for politisk behandling: <span class=\"nowrap\">01.03.2025</span>" in page
    # each party's decision with its date and case number, linked to its public records
    assert "godkjent med merknader" in page and "03.02.2025" in page and data.CASE_NO_MUNI in page
    assert f'href="https://postliste.example.no/{data.P["muni_records"]}?sak=1"' in page
    assert f'href="https://innsyn.example.no/{data.P["trust_records"]}"' in page
    assert data.RESERVATIONS in page
    assert "ikke vedtatt ennå" in page  # the third party has not decided
    # the forums' decisions
    assert data.P["forum_asu"] in page and data.CASE_NO_FORUM in page and "28.11.2024" in page
    # only the public document, and its file through the public route
    assert data.P["doc_public_nb"] in page and data.VERSION_PUBLIC in page
    assert f'href="/offentlig/{data.SLUG}/dokumenter/avtale/v1"' in page
    assert data.P["doc_private"] not in page and data.VERSION_PRIVATE not in page
    # none of the internal side
    for private in (data.NOTE, data.MINUTES, data.CLOSE_REASON, data.ACTOR, data.USER_NAME, data.FILE_PRIVATE, data.FILE_PUBLIC):
        assert private not in page
    assert '/revisions/' not in page and '/login' not in page


def test_public_answers_set_no_cookie_and_may_be_cached(client: TestClient) -> None:
    for answer in _everything(client):
        assert "set-cookie" not in answer.headers, answer.url
        assert answer.headers["cache-control"].startswith("public, max-age="), answer.url
    page = client.get(f"/offentlig/{data.SLUG}")
    assert page.headers["cache-control"] == "public, max-age=300"
    assert page.headers["last-modified"].endswith(" GMT")
    assert page.headers["x-content-type-options"] == "nosniff" and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert not client.cookies


def test_a_reader_that_has_the_page_or_the_feed_gets_304(client: TestClient) -> None:
    for path in (f"/offentlig/{data.SLUG}", f"/offentlig/{data.SLUG}/feed.atom"):
        first = client.get(path)
        tag = first.headers["etag"]
        again = client.get(path, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
        assert "set-cookie" not in again.headers and again.headers["cache-control"] == "public, max-age=300"
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_logged_in_visitor_keeps_the_session_but_the_public_answer_does_not_carry_it(engine: Engine, client: TestClient) -> None:
    from .web import log_in

    log_in(client, engine)
    session = client.cookies.get("avtaleflyt_session")
    answer = client.get(f"/offentlig/{data.SLUG}")
    assert answer.status_code == 200 and "set-cookie" not in answer.headers
    assert client.get("/").status_code == 200 and client.cookies.get("avtaleflyt_session") == session  # still logged in


def test_only_versions_of_public_documents_are_served_with_safe_headers(client: TestClient) -> None:
    answer = client.get(f"/offentlig/{data.SLUG}/dokumenter/avtale/v1")
    assert answer.status_code == 200 and answer.content == data.PUBLIC_FILE_BYTES
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-type"] == "application/pdf"
    not_found = client.get(f"/offentlig/{data.SLUG}/ukjent")
    for path in ("dokumenter/internt/v1", "dokumenter/avtale/v2", "dokumenter/ukjent/v1"):
        refused = client.get(f"/offentlig/{data.SLUG}/{path}")
        assert (refused.status_code, refused.content) == (404, not_found.content), path


# --------------------------------------------------------------------------- opt-in, and the same 404


def test_unknown_and_not_public_revisions_answer_the_same_404(engine: Engine, client: TestClient) -> None:
    with session_scope(engine) as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "t")  # public: false, the default
    hidden, unknown = "testrevisjon-2024", "finnes-ikke"
    for tail in ("", "/feed.atom", "/dokumenter/overordnet/v1"):
        a, b = client.get(f"/offentlig/{hidden}{tail}"), client.get(f"/offentlig/{unknown}{tail}")
        assert a.status_code == b.status_code == 404
        assert a.content == b.content
        assert {k: v for k, v in a.headers.items() if k != "date"} == {k: v for k, v in b.headers.items() if k != "date"}
        assert "set-cookie" not in a.headers and hidden not in a.text
    assert client.get(f"/offentlig/{data.SLUG}").status_code == 200


def test_the_plan_opts_in_and_checks_the_records_address() -> None:
    assert parse_plan(SMALL_PLAN).plan.public is False
    assert parse_plan(SMALL_PLAN + "public: true\n").plan.public is True
    bad = SMALL_PLAN.replace("body: Bystyret}", "body: Bystyret, records_url: 'javascript:alert(1)'}")
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(bad)
    (problem,) = caught.value.problems
    assert problem.place == "parties[1].records_url" and problem.line == 9 and "https://" in problem.message
    doc = SMALL_PLAN.replace("title: Overordnet samarbeidsavtale}", "title: Overordnet samarbeidsavtale, public: ja}")
    with pytest.raises(PlanInvalid, match=r"documents\[0\]\.public"):
        parse_plan(doc)
    before, after = parse_plan(SMALL_PLAN).plan, parse_plan(SMALL_PLAN + "public: true\n").plan
    assert "public changed" in _plan_wide_changes(before, after)  # a plan shift may make it public, or not


# --------------------------------------------------------------------------- the feed


def test_the_atom_feed_lists_each_decision_with_norwegian_titles(client: TestClient) -> None:
    answer = client.get(f"/offentlig/{data.SLUG}/feed.atom")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert "set-cookie" not in answer.headers and answer.headers["cache-control"] == "public, max-age=300"
    feed = ET.fromstring(answer.content)
    assert feed.tag == f"{ATOM}feed" and feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "nb"
    for tag in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{tag}") is not None and feed.find(f"{ATOM}{tag}").text, tag
    assert feed.find(f"{ATOM}author/{ATOM}name").text == data.P["helsefellesskap"]
    assert RFC3339.match(feed.find(f"{ATOM}updated").text)
    self_link = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link and self_link[0].get("href").endswith(f"/offentlig/{data.SLUG}/feed.atom")
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 4  # two parties and two forums have decided
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == 4 and all(i.startswith("urn:uuid:") for i in ids)
    for e in entries:
        assert RFC3339.match(e.find(f"{ATOM}updated").text) and e.find(f"{ATOM}title").text and e.find(f"{ATOM}link").get("href")
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert titles[0] == f"{data.P['trust_name']}: godkjent 04.02.2025 ({data.P['stage_political']})"  # newest first
    assert titles[1] == f"{data.P['muni_name']}: godkjent med merknader 03.02.2025 ({data.P['stage_political']})"
    assert titles[2] == f"{data.P['forum_fu']}: vedtatt 28.11.2024 ({data.P['stage_final']})"
    content = entries[1].find(f"{ATOM}content").text
    assert f"Saksnummer: {data.CASE_NO_MUNI}" in content and f"Forbehold: {data.RESERVATIONS}" in content
    assert entries[1].find(f"{ATOM}link").get("href") == f"https://postliste.example.no/{data.P['muni_records']}?sak=1"
    again = ET.fromstring(client.get(f"/offentlig/{data.SLUG}/feed.atom").content)
    assert [e.find(f"{ATOM}id").text for e in again.findall(f"{ATOM}entry")] == ids  # stable ids


def test_a_nynorsk_revision_has_a_nynorsk_page_and_feed(domain_db_url: str) -> None:
    engine = engine_for(domain_db_url)
    plan = SMALL_PLAN + "public: true\nlanguage: nn\n"
    with session_scope(engine) as s:
        store_revision(s, parse_plan(plan), plan, "t")
    client = TestClient(create_app(engine, today=lambda: dt.date(2024, 6, 1)))
    page = client.get("/offentlig/testrevisjon-2024")
    assert page.status_code == 200 and '<html lang="nn">' in page.text
    assert "Vedtak hos partane" in page.text and "Ingen vedtak enno." in page.text and "ventar" in page.text
    assert "Høyringsfrist" in page.text
    feed = ET.fromstring(client.get("/offentlig/testrevisjon-2024/feed.atom").content)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "nn"
    assert feed.find(f"{ATOM}title").text == "Vedtak: Testrevisjon 2024" and feed.findall(f"{ATOM}entry") == []


def test_a_plan_shift_makes_a_running_revision_public_and_private_again(domain_db_url: str) -> None:
    from avtaleflyt.tasks.shift import apply_shift

    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "t")
    client = TestClient(create_app(engine, today=lambda: dt.date(2024, 6, 1)))
    assert client.get("/offentlig/testrevisjon-2024").status_code == 404
    for plan, status in ((SMALL_PLAN + "public: true\n", 200), (SMALL_PLAN + "public: false\n", 404)):
        with session_scope(engine) as s:
            apply_shift(s, "testrevisjon-2024", plan, actor="t", reason="offentlig side", today=dt.date(2024, 6, 1))
        assert client.get("/offentlig/testrevisjon-2024").status_code == status


def test_document_add_public_publishes_that_version_only(client: TestClient, tmp_path) -> None:  # noqa: ANN001
    from typer.testing import CliRunner

    from avtaleflyt.cli.app import app

    page = client.get(f"/offentlig/{data.SLUG}").text
    assert data.P["doc_private"] not in page  # the plan does not mark it public, no version is
    paper = tmp_path / "vedtatt.pdf"
    paper.write_bytes(b"%PDF-1.4 as adopted\n")
    added = CliRunner().invoke(app, ["document", "add", data.SLUG, "internt", str(paper), "--label", "Vedtatt versjon", "--not-significant", "--public"])
    assert added.exit_code == 0, added.output
    assert "(public)" in added.output
    listed = CliRunner().invoke(app, ["document", "list", data.SLUG])
    assert "Vedtatt versjon" in listed.output and "[public]" in listed.output
    page = client.get(f"/offentlig/{data.SLUG}").text
    assert data.P["doc_private"] in page and "Vedtatt versjon" in page and data.VERSION_PRIVATE not in page
    assert f'href="/offentlig/{data.SLUG}/dokumenter/internt/v2"' in page
    served = client.get(f"/offentlig/{data.SLUG}/dokumenter/internt/v2")
    assert served.status_code == 200 and served.content == b"%PDF-1.4 as adopted\n"
    assert client.get(f"/offentlig/{data.SLUG}/dokumenter/internt/v1").status_code == 404  # added without --public
