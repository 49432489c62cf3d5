"""A party's draft case where people fetch it (issue 13): through the party's own link from its
decision request (/p/{token}/saksframlegg.docx|html; a forged token gets nothing), for the
coordinators on the dashboard (/revisions/{slug}/parties/{id}/saksframlegg.docx), and from the
CLI (`papers party SLUG --party NAME`). Real app, real database, as tests/test_norwegian_pages.py.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt.cli import app as cli_app
from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import OutboxMessage, Party
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import documents

from .test_papers_party import FROM_THE_PLAN, MALVIK, SLUG, TODAY, TRONDHEIM, TRUST, docx_text, drive, plan_text
from .web import log_in

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    drive(engine, plan_text())
    return engine


@pytest.fixture
def app(engine, monkeypatch):
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    return create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")


def linked_paths(engine, party: str) -> dict[str, str]:  # noqa: ANN001
    """The draft case's addresses in the party's decision request, as paths (docx, html)."""
    with session_scope(engine) as s:
        who = s.exec(select(Party).where(Party.name == party)).one()
        letter = s.exec(select(OutboxMessage).where(OutboxMessage.party_id == who.id, OutboxMessage.event == "decision_request")).one()
        text, html = letter.body_text, letter.body_html
    urls = dict(re.findall(r"(https?://\S+/saksframlegg\.(docx|html))", text))
    found = {fmt: urlsplit(url).path for url, fmt in urls.items()}
    assert set(found) == {"docx", "html"}, text
    assert all(f'href="{url}"' in html for url in urls), "the HTML letter links the same addresses"
    return found


@pytest.mark.parametrize(("party", "words"), [(TRONDHEIM, "Forslag til vedtak"), (MALVIK, "Framlegg til vedtak"), (TRUST, "Styresak")])
def test_the_decision_request_links_the_draft_and_the_party_link_serves_it(app, engine, party, words):
    paths = linked_paths(engine, party)
    client = TestClient(app)
    word = client.get(paths["docx"])
    assert word.status_code == 200 and word.headers["content-type"] == DOCX
    assert "attachment" in word.headers["content-disposition"] and ".docx" in word.headers["content-disposition"]
    text = docx_text(word.content)
    resolution = next(r for p, _, _, r in FROM_THE_PLAN if p == party)
    assert words in text and resolution in text and "sak 09-2024" in text
    page = client.get(paths["html"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert words in page.text and resolution in page.text
    assert "sha256-" in page.headers["content-security-policy"], "the page's own style is allowed by its hash"


@pytest.mark.backends("sqlite")
def test_the_attachments_are_the_current_versions_linked_through_the_partys_own_link(app, engine):
    with session_scope(engine) as s:
        documents.add_version(s, SLUG, "overordnet", label="Høringsutkast", on=TODAY, today=TODAY, actor="t", max_bytes=10_000,
                              upload=documents.Upload("avtale.docx", b"v1"))
        documents.add_version(s, SLUG, "overordnet", label="Vedtatt i ASU", on=TODAY, today=TODAY, actor="t", max_bytes=10_000,
                              upload=documents.Upload("avtale-vedtatt.docx", b"v2"))
        documents.add_version(s, SLUG, "retningslinje-1", label="Endelig", on=TODAY, today=TODAY, actor="t", max_bytes=10_000,
                              url="https://helsefellesskap.example.no/retningslinje-1.pdf")
    path = linked_paths(engine, TRONDHEIM)["docx"]
    text = docx_text(TestClient(app).get(path).content)
    link = get_settings().public_url.rstrip("/") + path.removesuffix("/saksframlegg.docx")
    assert f"Overordnet samarbeidsavtale (Vedtatt i ASU, 02.12.2024): {link}/documents/overordnet/v2" in text
    assert "Retningslinje 1 – ansvars- og oppgåvefordeling (Endelig, 02.12.2024): https://helsefellesskap.example.no/retningslinje-1.pdf" in text
    assert "Høringsutkast" not in text


def test_a_forged_or_unknown_token_gets_no_draft(app, engine):
    path = linked_paths(engine, TRONDHEIM)["docx"]
    token = path.split("/")[2]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    client = TestClient(app)
    for bad in (forged, "x", token + "x"):
        answer = client.get(f"/p/{bad}/saksframlegg.docx")
        assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html"), bad
        assert "Saksframlegg" not in answer.text and "Bystyret" not in answer.text
    assert client.get(f"/p/{token}/saksframlegg.pdf").status_code == 404


def test_coordinators_fetch_any_partys_draft_readers_and_strangers_do_not(app, engine):
    with session_scope(engine) as s:
        malvik = s.exec(select(Party).where(Party.name == MALVIK)).one().id
    path = f"/revisions/{SLUG}/parties/{malvik}/saksframlegg"
    stranger = TestClient(app)
    assert stranger.get(f"{path}.docx", follow_redirects=False).status_code in (303, 401)
    reader = log_in(TestClient(app), engine, Role.reader)
    assert reader.get(f"{path}.docx").status_code == 403
    coordinator = log_in(TestClient(app), engine, Role.coordinator)
    word = coordinator.get(f"{path}.docx")
    assert word.status_code == 200 and "Framlegg til vedtak" in docx_text(word.content)
    assert coordinator.get(f"{path}.html").status_code == 200
    assert coordinator.get(f"/revisions/{SLUG}/parties/99999/saksframlegg.docx").status_code == 404
    assert coordinator.get(f"/revisions/ukjent/parties/{malvik}/saksframlegg.docx").status_code == 404


def test_the_cli_writes_a_partys_draft(engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli_app, ["papers", "party", SLUG, "--party", "malvik kommune"])
    assert result.exit_code == 0, result.output
    written = tmp_path / "saksframlegg-malvik-kommune.docx"
    assert "Framlegg til vedtak" in docx_text(written.read_bytes())
    result = runner.invoke(cli_app, ["papers", "party", SLUG, "--party", TRUST, "--format", "html"])
    assert result.exit_code == 0 and "Styresak" in result.stdout and '<html lang="nb">' in result.stdout
    result = runner.invoke(cli_app, ["papers", "party", SLUG, "--party", "Malvk kommune"])
    assert result.exit_code == 2 and "no party named 'Malvk kommune'" in result.stderr and "Malvik kommune" in result.stderr
    result = runner.invoke(cli_app, ["papers", "party", "ukjent", "--party", TRONDHEIM])
    assert result.exit_code == 2 and "no revision 'ukjent'" in result.stderr


@pytest.mark.backends("sqlite")
def test_papers_party_does_not_import_prefect_and_reads_the_examples_templates(domain_db_url, tmp_path):
    """On the example stored (nothing decided yet): the planned forums, meeting and case number fill its
    resolution_nn for Heim kommune; the forums of one day and case are named together."""
    from avtaleflyt.models.plan import parse_plan
    from avtaleflyt.tasks.store import store_revision

    from .test_cli_start import EXAMPLE, SLUG as EXAMPLE_SLUG, run_fresh

    source = EXAMPLE.read_text(encoding="utf-8")
    with session_scope() as s:
        store_revision(s, parse_plan(source), source, "t")
    output = tmp_path / "heim.docx"
    status, prefect, said = run_fresh("papers", "party", EXAMPLE_SLUG, "--party", "Heim kommune", "--output", str(output))
    assert status == 0 and prefect == [], said
    text = docx_text(output.read_bytes())
    assert "Framlegg til vedtak" in text and "Kommunestyret godkjenner revidert overordna samarbeidsavtale" in text
    assert "slik vedteke i ASU, FU, PSU og fagråd 27.11.2024 (sak 09-2024)." in text and "skal handsamast" in text
    from avtaleflyt.tasks.papers import party_case as papers

    with session_scope() as s:  # the example's own template for the board (the built-in one ends "avtalene.")
        assert papers.for_party(s, EXAMPLE_SLUG, TRUST).proposed_resolution.endswith("gis fullmakt til å signere avtalene med kommunene.")
