"""A forum's case paper (saksframstilling): from the plan's `case:` block, in Word and HTML, in
bokmål and nynorsk, with the revision's own history; the meeting notice carries it; the CLI's
and the dashboard's refusals."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt.cli import app as cli_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import ForumOutcome, Role
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.tables import OutboxMessage
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import records
from avtaleflyt.tasks.papers import forum_case
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision

from .plans import SMALL_PLAN
from .web import log_in

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
SLUG = "revidering-av-samarbeidsavtalen-2024"
TODAY = dt.date(2024, 9, 1)
runner = CliRunner()

NORWEGIAN = "Særutskrift fra øvre Åsen – ÆØÅ æøå"
HOSTILE = "<script>alert(1)</script> [klikk](javascript:alert(2)) <img src=x onerror=alert(3)>"

LABELS = {
    "nb": ("Saksframstilling", "Råd/utvalg", "Møtedato", "Saksnummer", "Saksbehandler", "Sakstittel", "Forslag til vedtak", "Vedlegg",
           "Bakgrunn for saken (oppfølging sak 05-2024 og 07-2024)", "Saksopplysninger", "Vurderinger", "Tidligere behandling", "Høringsinnspill"),
    "nn": ("Saksframstilling", "Råd/utval", "Møtedato", "Saksnummer", "Sakshandsamar", "Sakstittel", "Framlegg til vedtak", "Vedlegg",
           "Bakgrunn for saka (oppfølging sak 05-2024 og 07-2024)", "Saksopplysningar", "Vurderingar", "Tidlegare handsaming", "Høyringsinnspel"),
}


def example(**replace: str) -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text


def read_docx(data: bytes) -> tuple[list[str], dict[str, str], list[list[str]]]:
    """The paragraphs' text, the field table (label -> value) and every other table's rows."""
    document = docx.Document(io.BytesIO(data))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    return [p.text for p in document.paragraphs], dict(tables[0]), [row for t in tables[1:] for row in t]


def run(*args: str):
    return runner.invoke(cli_app, [str(a) for a in args])


# --- the paper from the plan --------------------------------------------------------------


@pytest.mark.parametrize("language", ["nb", "nn"])
def test_every_field_of_the_example_in_word_read_back(language):
    source = example(**{"title: Revidert samarbeidsavtale med retningslinjer – sluttbehandling": f"title: {NORWEGIAN}"})
    paragraphs, fields, _ = read_docx(forum_case.render(forum_case.preview(source, "sluttbehandling", language), "docx"))
    kind, forum, meeting, number, officer, title, resolution, attachments, background, facts, assessment, *_ = LABELS[language]
    assert fields == {
        forum: "Administrativt samarbeidsutvalg, Forhandlingsutvalget, Politisk samarbeidsutvalg, Fagrådene",
        meeting: "27.11.2024",
        number: "09-2024",
        officer: "NN, sekretariatsleder",
        title: NORWEGIAN,
    }
    assert paragraphs[:2] == [kind, NORWEGIAN]
    for heading in (resolution, attachments, background, facts, assessment):
        assert heading in paragraphs
    after = lambda heading: paragraphs[paragraphs.index(heading) + 1]
    assert after(resolution).startswith("Revidert overordnet samarbeidsavtale med tilhørende retningslinjer vedtas, justert for ev. innspill i møtet")
    assert paragraphs[paragraphs.index(attachments) + 1: paragraphs.index(attachments) + 4] == [
        "Overordnet samarbeidsavtale", "Retningslinje 1", "Øvrige retningslinjer",
    ]
    assert after(background).startswith("ASU sendte overordnet avtale og retningslinje 1 (sak 05-2024)")
    assert after(facts).startswith("Høringsinnspillene er innarbeidet")
    assert after(assessment).startswith("Avtalen er klar for politisk behandling")
    document = docx.Document(io.BytesIO(forum_case.render(forum_case.preview(source, "sluttbehandling", language), "docx")))
    assert document.core_properties.language == {"nb": "nb-NO", "nn": "nn-NO"}[language]


def test_markdown_keeps_its_lists_emphasis_and_links_in_word():
    document = docx.Document(io.BytesIO(forum_case.render(forum_case.preview(example(), "hoeringsforslag"), "docx")))
    bullets = [p for p in document.paragraphs if p.style.name == "List Bullet"]
    bullets = bullets[[p.text for p in bullets].index("komprimering og forenkling av innhold, tekst og språk"):]  # after the attachments, the earlier case
    assert [p.text for p in bullets][:2] == [
        "komprimering og forenkling av innhold, tekst og språk",
        "fokus på ansvar- og oppgavefordeling dreies fra ansvar hos den enkelte part til felles ansvar og oppgaveløsning i samhandlingsrommet i helsefellesskapet",
    ]
    assert any(r.italic and r.text == "felles ansvar og oppgaveløsning" for r in bullets[1].runs)
    assessment = next(p for p in document.paragraphs if p.text.startswith("Utkastet er klart for høring"))
    assert any(r.bold and r.text == "20.06–10.09" for r in assessment.runs)


def test_hostile_markdown_is_escaped_in_html_and_text_in_word():
    linked = "[plan](https://example.no/plan)"
    source = example(**{
        "Avtalen er klar for politisk behandling.": f"{HOSTILE} {linked}",
        "officer: {name: NN, title: sekretariatsleder}\n      title: Revidert": "officer: {name: '<b>NN</b>', title: sekretariatsleder}\n      title: Revidert",
    })
    html = forum_case.render(forum_case.preview(source, "sluttbehandling"), "html").decode("utf-8")
    assert "<script" not in html and "<img" not in html and "javascript:" not in html.replace("[klikk](javascript:alert(2))", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(3)&gt;" in html
    assert "&lt;b&gt;NN&lt;/b&gt;, sekretariatsleder" in html
    assert '<a href="https://example.no/plan">plan</a>' in html
    paragraphs, fields, _ = read_docx(forum_case.render(forum_case.preview(source, "sluttbehandling"), "docx"))
    assert any(p.startswith("<script>alert(1)</script> [klikk](javascript:alert(2))") for p in paragraphs)
    assert fields["Saksbehandler"] == "<b>NN</b>, sekretariatsleder"


def test_a_preview_says_the_history_has_none_yet(tmp_path):
    output = tmp_path / "sak.docx"
    result = run("papers", "preview", EXAMPLE, "--stage", "sluttbehandling", "--format", "docx", "--output", output)
    assert result.exit_code == 0, result.output
    paragraphs, fields, _ = read_docx(output.read_bytes())
    assert fields["Saksnummer"] == "09-2024"
    for heading in ("Tidligere behandling", "Høringsinnspill"):
        assert paragraphs[paragraphs.index(heading) + 1] == "Ingen ennå: revideringen er ikke startet."
    html = tmp_path / "sak.html"
    result = run("papers", "preview", EXAMPLE, "--stage", "hoeringsforslag", "--output", html, "--language", "nn")
    assert result.exit_code == 0, result.output
    assert '<html lang="nn">' in html.read_text(encoding="utf-8") and "Framlegg til vedtak" in html.read_text(encoding="utf-8")


# --- the plan's checks ---------------------------------------------------------------------


def test_the_case_block_is_checked_with_place_and_line():
    source = example(**{
        "      number: 09-2024\n": "      number: \"09-2024\\nx\"\n      colour: red\n",
        "      earlier_cases: [05-2024, 07-2024]\n": "      earlier_cases: [05-2024, {title: uten nummer}]\n",
        "      proposed_resolution: |\n        Forslag til øvrige": "      proposed_resolution: ''\n      x_resolution: |\n        Forslag til øvrige",
    })
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(source)
    said = str(caught.value)
    assert "stages[6].case.number: must be on one line" in said
    assert "stages[6].case.colour: unknown key" in said
    assert "stages[6].case.earlier_cases[1].number: required" in said
    assert "stages[4].case.proposed_resolution: String should have at least 1 character" in said
    assert all(p.line for p in caught.value.problems)
    long = example(**{"      background: |\n        ASU sendte": "      background: |\n        " + "x" * 20_001 + "\n        ASU sendte"})
    with pytest.raises(PlanInvalid, match=r"stages\[6\]\.case\.background: String should have at most 20000 characters"):
        parse_plan(long)


def test_the_example_plan_checks_with_its_case_blocks():
    plan = parse_plan(EXAMPLE.read_text(encoding="utf-8")).plan
    cases = {s.key: s.case.number for s in plan.stages if getattr(s, "case", None)}
    assert cases == {"hoeringsforslag": "05-2024", "hoeringsforslag-ovrige": "07-2024", "sluttbehandling": "09-2024"}


# --- a running revision ----------------------------------------------------------------------


@pytest.fixture
def revision(domain_db_url):
    """The example, its first draft done, ASU's decision on the hearing draft recorded, and two
    answers (Trondheim, Heim) in the first hearing; the other parties have not answered."""
    source = EXAMPLE.read_text(encoding="utf-8")
    with session_scope() as s:
        store_revision(s, parse_plan(source), source, "t")
    steps = [
        lambda s: records.complete_draft(s, SLUG, stage_key="utkast", actor="t"),
        lambda s: records.record_forum_decision(
            s, SLUG, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 6, 19), today=TODAY, case_no="05-2024", actor="t"
        ),
        lambda s: records.record_hearing_response(s, SLUG, party="Trondheim kommune", on=dt.date(2024, 8, 30), today=TODAY, stage_key="hoering-1", actor="t"),
        lambda s: records.record_hearing_response(s, SLUG, party="Heim kommune", on=dt.date(2024, 9, 1), today=TODAY, stage_key="hoering-1", actor="t"),
    ]
    with session_scope() as s:
        reconcile_revision(s, SLUG, today=TODAY)
    for step in steps:
        with session_scope() as s:
            step(s)
        with session_scope() as s:
            reconcile_revision(s, SLUG, today=TODAY)
    return SLUG


def test_the_paper_of_a_running_revision_has_its_history(revision, tmp_path):
    output = tmp_path / "sluttbehandling.docx"
    result = run("papers", "forum", revision, "--stage", "sluttbehandling", "--output", output)
    assert result.exit_code == 0, result.output
    paragraphs, fields, rows = read_docx(output.read_bytes())
    assert fields["Saksnummer"] == "09-2024" and fields["Møtedato"] == "27.11.2024"
    assert ["19.06.2024", "Administrativt samarbeidsutvalg", "Høringsforslag til overordnet avtale og retningslinje 1 vedtas i ASU", "vedtatt", "05-2024"] in rows
    assert "Høring av overordnet avtale og retningslinje 1 (frist 10.09.2024): svar fra 2 av 21 parter." in paragraphs
    assert ["Trondheim kommune", "30.08.2024"] in rows and ["Heim kommune", "01.09.2024"] in rows
    assert ["Malvik kommune", "ikke svart"] in rows and ["St. Olavs hospital HF", "ikke svart"] in rows
    assert "Høring av øvrige retningslinjer (frist 08.11.2024): Høringen er ikke startet." in paragraphs
    nynorsk = run("papers", "forum", revision, "--stage", "sluttbehandling", "--format", "html", "--language", "nn")
    assert nynorsk.exit_code == 0, nynorsk.output
    assert "svar frå 2 av 21 partar" in nynorsk.stdout and "<td>ikkje svart</td>" in nynorsk.stdout and "vedteke" in nynorsk.stdout


def test_the_meeting_notice_carries_the_case_number_and_the_paper(revision):
    with session_scope() as s:
        notice = s.exec(select(OutboxMessage).where(OutboxMessage.stage_key == "hoeringsforslag", OutboxMessage.to_address == "asu@example.no")).one()
    assert "Saksnummer: 05-2024" in notice.body_text
    assert "Saksbehandler: NN, sekretariatsleder" in notice.body_text
    assert "Forslag til vedtak\n------------------\nUtkast til revidert overordnet samarbeidsavtale og retningslinje 1 sendes på høring" in notice.body_text
    assert "Bakgrunn for saken (oppfølging sak 03-2024)" in notice.body_text
    assert "<h3" in notice.body_html and "<strong>20.06–10.09</strong>" in notice.body_html
    assert "Saksnummer" in notice.body_html and "05-2024" in notice.body_html


def test_a_notice_without_a_case_is_as_before(domain_db_url):
    with session_scope() as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "t")
    with session_scope() as s:
        reconcile_revision(s, "testrevisjon-2024", today=TODAY)
        records.complete_draft(s, "testrevisjon-2024", stage_key=None, actor="t")
    with session_scope() as s:
        reconcile_revision(s, "testrevisjon-2024", today=TODAY)
    with session_scope() as s:
        notices = s.exec(select(OutboxMessage).where(OutboxMessage.stage_key == "hoeringsforslag")).all()
    assert notices == []  # SMALL_PLAN's forums have no address; the letter test covers the words
    result = run("papers", "forum", "testrevisjon-2024", "--stage", "hoeringsforslag", "--format", "html")
    assert result.exit_code == 2 and "'hoeringsforslag' has no case: block in the plan" in result.stderr


# --- refusals ----------------------------------------------------------------------------------


def test_the_cli_refuses_clearly(tmp_path):
    small = tmp_path / "small.yaml"
    small.write_text(SMALL_PLAN, encoding="utf-8")
    cases = [
        (("papers", "preview", EXAMPLE, "--stage", "nope", "--output", tmp_path / "a.docx"), "--stage: no stage 'nope'; the plan's stages are utkast"),
        (("papers", "preview", EXAMPLE, "--stage", "politisk", "--output", tmp_path / "a.docx"), "'politisk' is a political_treatment stage; a case paper is for a forum stage (hoeringsforslag, hoeringsforslag-ovrige, sluttbehandling)"),
        (("papers", "preview", small, "--stage", "sluttbehandling", "--output", tmp_path / "a.docx"), "'sluttbehandling' has no case: block in the plan"),
        (("papers", "preview", EXAMPLE, "--stage", "sluttbehandling", "--output", tmp_path / "none" / "a.docx"), f"--output: cannot write '{tmp_path / 'none' / 'a.docx'}': No such file or directory"),
        (("papers", "preview", EXAMPLE, "--stage", "sluttbehandling", "--output", tmp_path), "is a folder; name the file"),
        (("papers", "preview", EXAMPLE, "--stage", "sluttbehandling", "--format", "docx", "--output", tmp_path / "a.html"), "ends in .html, but --format is docx"),
        (("papers", "preview", tmp_path / "missing.yaml", "--stage", "sluttbehandling"), "FILE: cannot read"),
    ]
    for args, said in cases:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert said in result.stderr and "Traceback" not in result.output, (args, result.stderr)
    assert not (tmp_path / "a.docx").exists() and not (tmp_path / "a.html").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text(example(**{"      number: 09-2024\n": "      number: [1]\n"}), encoding="utf-8")
    result = run("papers", "preview", bad, "--stage", "sluttbehandling", "--format", "html")
    assert result.exit_code == 2 and "stages[6].case.number" in result.stderr and "line " in result.stderr


def test_an_existing_output_is_kept_unless_forced(tmp_path):
    output = tmp_path / "sak.docx"
    output.write_bytes(b"edited by hand")
    result = run("papers", "preview", EXAMPLE, "--stage", "sluttbehandling", "--output", output)
    assert result.exit_code == 2 and "exists; give --force to replace it" in result.stderr
    assert output.read_bytes() == b"edited by hand"
    result = run("papers", "preview", EXAMPLE, "--stage", "sluttbehandling", "--output", output, "--force")
    assert result.exit_code == 0, result.output
    assert read_docx(output.read_bytes())[1]["Saksnummer"] == "09-2024"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sak.docx"]  # no temporary file left


def test_papers_forum_of_an_unknown_revision(domain_db_url):
    result = run("papers", "forum", "ingen-slik", "--stage", "sluttbehandling", "--format", "html")
    assert result.exit_code == 2 and "SLUG: no revision 'ingen-slik'" in result.stderr


# --- the dashboard -------------------------------------------------------------------------------


def test_the_dashboard_serves_the_paper_to_coordinators_only(revision, domain_db_url, monkeypatch):
    from avtaleflyt.dashboard import create_app

    engine = engine_for(domain_db_url)
    get_settings.cache_clear()
    app = create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")
    anonymous = TestClient(app).get(f"/revisions/{revision}/papers/sluttbehandling.docx", follow_redirects=False)
    assert anonymous.status_code == 303
    reader = log_in(TestClient(app), engine, Role.reader)
    assert reader.get(f"/revisions/{revision}/papers/sluttbehandling.docx").status_code == 403
    coordinator = log_in(TestClient(app), engine, Role.coordinator)
    answer = coordinator.get(f"/revisions/{revision}/papers/sluttbehandling.docx")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "sluttbehandling-saksframstilling.docx" in answer.headers["content-disposition"]
    assert read_docx(answer.content)[1]["Saksnummer"] == "09-2024"
    page = coordinator.get(f"/revisions/{revision}/papers/sluttbehandling.html?language=nn")
    assert page.status_code == 200 and "Framlegg til vedtak" in page.text and "style-src 'self' 'sha256-" in page.headers["content-security-policy"]
    assert coordinator.get(f"/revisions/{revision}/papers/politisk.docx").status_code == 404
    missing = coordinator.get(f"/revisions/{revision}/papers/utkast-ovrige.html")
    assert missing.status_code == 404


def test_a_running_revision_takes_a_case_block_through_plan_shift(domain_db_url):
    """A revision stored without case papers gets one for a forum stage that has not started."""
    from avtaleflyt.tasks.shift import apply_shift

    slug = "testrevisjon-2024"
    with session_scope() as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "t")
    with session_scope() as s:
        reconcile_revision(s, slug, today=TODAY)
    with_case = SMALL_PLAN.replace(
        "required: 3, meeting: 2024-11-27}",
        "required: 3, meeting: 2024-11-27, case: {number: 09-2024, proposed_resolution: Avtalen vedtas., assessment: 'Klar for **vedtak**.'}}",
    )
    with session_scope() as s:
        apply_shift(s, slug, with_case, actor="t", reason="saksframstilling", today=TODAY)
    result = run("papers", "forum", slug, "--stage", "sluttbehandling", "--format", "html")
    assert result.exit_code == 0, result.output
    assert "<td>09-2024</td>" in result.stdout and "<strong>vedtak</strong>" in result.stdout
    assert "Testrevisjon 2024" in result.stdout  # the footer names the revision


def test_the_attachments_are_the_documents_current_versions(revision):
    from avtaleflyt.tasks.documents import add_version

    with session_scope() as s:
        add_version(
            s, revision, "overordnet", label="Høringsutkast", on=dt.date(2024, 6, 20), today=TODAY, actor="t", max_bytes=1000,
            url="https://example.no/overordnet-v1.pdf",
        )
    with session_scope() as s:
        paper = forum_case.for_revision(s, revision, "sluttbehandling")
    paragraphs, _, _ = read_docx(forum_case.render(paper, "docx"))
    start = paragraphs.index("Vedlegg") + 1
    assert paragraphs[start:start + 3] == [
        "Overordnet samarbeidsavtale (versjon 1: Høringsutkast, 20.06.2024): https://example.no/overordnet-v1.pdf", "Retningslinje 1", "Øvrige retningslinjer",
    ]
