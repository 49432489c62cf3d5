"""A party's draft case (saksframlegg; styresak for a health trust's board) with its proposed
resolution (issue 13): the plan's resolution templates and their placeholders, checked by
plan check; the paper per language (nb, nn) and party kind (municipality, health trust),
rendered as .docx and read back with python-docx, and as HTML. Real database.
"""

from __future__ import annotations

import datetime as dt
import io

import docx
import pytest
from sqlmodel import select

from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import ForumOutcome
from avtaleflyt.models.papers import party_case as pc
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.tables import OutboxMessage, Party
from avtaleflyt.tasks import records
from avtaleflyt.tasks.papers import party_case as papers
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision

SLUG = "saksframlegg-2024"
TODAY = dt.date(2024, 12, 2)
TRUST, TRONDHEIM, MALVIK = "St. Olavs hospital HF", "Trondheim kommune", "Malvik kommune"

RESOLUTIONS = """
    resolution:
      municipality: "{body} i {party} godkjenner avtalen med {trust}, slik vedtatt i {forum} {forum_date} (sak {case_no}). Frist {deadline}. {{ikke en plassholder}}"
      health_trust: "{body} i {party} godkjenner avtalene med kommunene i {helsefellesskap} ({adopted})."
    resolution_nn:
      municipality: "{body} i {party} godkjenner avtalen med {trust}, slik vedteke i {forum_name} {forum_date} (sak {case_no})."
"""


def plan_text(*, resolutions: str = RESOLUTIONS, trust_language: str = "nb") -> str:
    return f"""
helsefellesskap: Helsefellesskapet Søndre Trøndelag
revision: Revidering av samarbeidsavtalen 2024
slug: {SLUG}
coordinators: [{{name: Sekretariatet for helsefellesskapet, email: sekretariat@example.no}}]
documents:
  - {{key: overordnet, title: Overordnet samarbeidsavtale}}
  - {{key: retningslinje-1, title: Retningslinje 1 – ansvars- og oppgåvefordeling}}
parties:
  - {{name: {TRUST}, kind: health_trust, org_number: "883974832", email: postmottak@stolav.example.no, body: Styret, language: {trust_language}}}
  - {{name: {TRONDHEIM}, kind: municipality, org_number: "942110464", email: postmottak@trondheim.example.no, body: Bystyret}}
  - {{name: {MALVIK}, kind: municipality, org_number: "938726027", email: postmottak@malvik.example.no, body: Kommunestyret, language: nn}}
forums:
  - {{key: ASU, name: Administrativt samarbeidsutval}}
stages:
  - {{key: utkast, kind: draft, due: 2024-06-14}}
  - {{key: sluttbehandling, kind: forum_approval, forums: [ASU], meeting: 2024-11-27}}
  - key: politisk
    kind: political_treatment
    deadline: 2025-03-01
{resolutions}
"""


def drive(engine, text: str) -> None:  # noqa: ANN001
    """Store the plan and drive it until political treatment has started (ASU approved 27.11.2024, sak 09-2024)."""
    with session_scope(engine) as s:
        store_revision(s, parse_plan(text), text, "t")
    steps = [
        lambda s: records.complete_draft(s, SLUG, stage_key=None, actor="t"),
        lambda s: records.record_forum_decision(s, SLUG, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 11, 27), case_no="09-2024", today=TODAY, actor="t"),
    ]
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)
    for step in steps:
        with session_scope(engine) as s:
            step(s)
        with session_scope(engine) as s:
            reconcile_revision(s, SLUG, today=TODAY)


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    cells = [p.text for t in document.tables for row in t.rows for c in row.cells for p in c.paragraphs]
    return "\n".join([p.text for p in document.paragraphs] + cells)


# --------------------------------------------------------------------------- the template


def test_placeholders_are_filled_and_double_braces_are_braces():
    assert pc.fill("{party} {{x}} {party}", {"party": "Malvik kommune"}) == "Malvik kommune {x} Malvik kommune"
    assert pc.template_problems("{body} i {party}: {{ok}}") == []


def test_attribute_access_and_unknown_placeholders_are_refused_not_evaluated():
    problems = pc.template_problems("{party.__class__} {party[0]} {kommune} {party!r}")
    assert [p.split(";")[0] for p in problems] == [
        "unknown placeholder {party.__class__}", "unknown placeholder {party[0]}", "unknown placeholder {kommune}", "unknown placeholder {party!r}",
    ]
    # filled at send time from a template that slipped through, nothing is evaluated: it stays as written
    assert pc.fill("{party.__class__}", {"party": "Malvik kommune"}) == "{party.__class__}"
    assert pc.template_problems("{party") == ["a lone '{' at character 1; write {{ for the brace itself"]


def test_plan_check_names_the_unknown_placeholder_and_its_place():
    text = plan_text(resolutions="""
    resolution_nn:
      health_trust: "{body} godkjenner {party.__class__}"
""")
    with pytest.raises(PlanInvalid) as err:
        parse_plan(text)
    [problem] = err.value.problems
    assert problem.place == "stages[2].resolution_nn.health_trust"
    assert "unknown placeholder {party.__class__}" in problem.message and "{party}" in problem.message
    assert problem.line is not None and "party.__class__" in text.splitlines()[problem.line - 1]


def test_a_resolution_template_with_an_unknown_key_is_refused():
    with pytest.raises(PlanInvalid, match=r"stages\[2\]\.resolution\.kommune: unknown key"):
        parse_plan(plan_text(resolutions='    resolution: {kommune: "x"}\n'))


# --------------------------------------------------------------------------- the paper, per language and party kind


@pytest.fixture
def engine(domain_db_url):
    return engine_for(domain_db_url)


def paper_of(engine, party: str, fmt: str = "docx") -> tuple[pc.PartyCase, bytes]:  # noqa: ANN001
    with session_scope(engine) as s:
        case = papers.for_party(s, SLUG, party)
        return case, papers.render(case, fmt)


# (party, its paper's kind, its words, the proposed resolution) from the plan's templates
FROM_THE_PLAN = [
    (TRONDHEIM, "Saksframlegg", ("Forslag til vedtak", "Vedtaksorgan", "Saksopplysninger", "Saken er behandlet i helsefellesskapet"),
     "Bystyret i Trondheim kommune godkjenner avtalen med St. Olavs hospital HF, slik vedtatt i ASU 27.11.2024 (sak 09-2024). "
     "Frist 28.02.2025. {ikke en plassholder}"),
    (MALVIK, "Saksframlegg", ("Framlegg til vedtak", "Vedtaksorgan", "Saksopplysningar", "Saka er handsama i helsefellesskapet"),
     "Kommunestyret i Malvik kommune godkjenner avtalen med St. Olavs hospital HF, slik vedteke i Administrativt samarbeidsutval 27.11.2024 (sak 09-2024)."),
    (TRUST, "Styresak", ("Forslag til vedtak", "Saken legges fram for styret som styresak"),
     "Styret i St. Olavs hospital HF godkjenner avtalene med kommunene i Helsefellesskapet Søndre Trøndelag (ASU 27.11.2024 (sak 09-2024))."),
]


@pytest.mark.parametrize(("party", "kind", "words", "resolution"), FROM_THE_PLAN, ids=["nb-municipality", "nn-municipality", "nb-health-trust"])
def test_the_draft_case_from_the_plans_template_read_back_from_word(engine, party, kind, words, resolution):
    drive(engine, plan_text())
    case, data = paper_of(engine, party)
    text = docx_text(data)
    assert case.proposed_resolution == resolution and resolution in text
    body = {TRONDHEIM: "Bystyret", MALVIK: "Kommunestyret", TRUST: "Styret"}[party]
    for expected in (kind, "Revidering av samarbeidsavtalen 2024", party, body, *words,
                     "Administrativt samarbeidsutval (ASU)", "27.11.2024", "sak 09-2024", "28.02.2025",
                     "Overordnet samarbeidsavtale", "Retningslinje 1 – ansvars- og oppgåvefordeling", "sekretariat@example.no"):
        assert expected in text, expected
    assert "politisk" not in text.casefold() if party == TRUST else "politisk" in text
    other = {"nb": ("Framlegg til vedtak", "Saksopplysningar"), "nn": ("Forslag til vedtak", "Saksopplysninger")}[case.facts.language.value]
    assert not any(w in text for w in other)


# (party, kind, the built-in resolution: the example)
BUILT_IN = [
    (TRONDHEIM, "Saksframlegg", "Bystyret godkjenner revidert overordnet samarbeidsavtale med tilhørende retningslinjer mellom Trondheim kommune "
     "og St. Olavs hospital HF, slik vedtatt i ASU 27.11.2024 (sak 09-2024). Kommunedirektøren gis fullmakt til å signere avtalen."),
    (MALVIK, "Saksframlegg", "Kommunestyret godkjenner revidert overordna samarbeidsavtale med tilhøyrande retningslinjer mellom Malvik kommune "
     "og St. Olavs hospital HF, slik vedteke i ASU 27.11.2024 (sak 09-2024). Kommunedirektøren får fullmakt til å signere avtalen."),
    (TRUST, "Styresak", "Styret godkjenner revidert overordna samarbeidsavtale med tilhøyrande retningslinjer mellom St. Olavs hospital HF og "
     "kommunane i Helsefellesskapet Søndre Trøndelag, slik vedteke i ASU 27.11.2024 (sak 09-2024). Administrerande direktør får fullmakt til å signere avtalane."),
]


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize(("party", "kind", "resolution"), BUILT_IN, ids=["nb-municipality", "nn-municipality", "nn-health-trust"])
def test_without_a_template_the_built_in_resolution_in_the_partys_language(engine, party, kind, resolution):
    drive(engine, plan_text(resolutions="", trust_language="nn"))
    case, data = paper_of(engine, party)
    text = docx_text(data)
    assert case.proposed_resolution == resolution and resolution in text and kind in text


@pytest.mark.backends("sqlite")
def test_a_nynorsk_party_without_a_nynorsk_template_gets_the_built_in_nynorsk_text(engine):
    drive(engine, plan_text(resolutions='    resolution: {municipality: "{party} sier ja."}\n'))
    case, _ = paper_of(engine, MALVIK)
    assert case.proposed_resolution.startswith("Kommunestyret godkjenner revidert overordna samarbeidsavtale")
    assert paper_of(engine, TRONDHEIM)[0].proposed_resolution == "Trondheim kommune sier ja."


@pytest.mark.backends("sqlite")
def test_the_html_paper_in_the_partys_language_escaped(engine):
    drive(engine, plan_text(resolutions='    resolution: {municipality: "{party} <script>alert(1)</script> godkjenner."}\n'))
    _, data = paper_of(engine, TRONDHEIM, "html")
    page = data.decode("utf-8")
    assert '<html lang="nb">' in page and "Saksframlegg" in page and "Bystyret" in page and "sak 09-2024" in page
    assert "&lt;script&gt;" in page and "<script>" not in page
    _, data = paper_of(engine, MALVIK, "html")
    assert '<html lang="nn">' in data.decode("utf-8") and "Framlegg til vedtak" in data.decode("utf-8")


@pytest.mark.backends("sqlite")
def test_the_decision_request_quotes_the_plans_resolution(engine):
    drive(engine, plan_text())
    with session_scope(engine) as s:
        party = s.exec(select(Party).where(Party.name == TRONDHEIM)).one()
        letter = s.exec(select(OutboxMessage).where(OutboxMessage.party_id == party.id, OutboxMessage.event == "decision_request")).one()
        text, html = letter.body_text, letter.body_html
    resolution = FROM_THE_PLAN[0][3]
    assert resolution in text and "/saksframlegg.docx" in text and "/saksframlegg.html" in text
    assert "/saksframlegg.docx" in html


@pytest.mark.backends("sqlite")
def test_a_stored_plan_that_no_longer_reads_gives_the_built_in_text_not_a_failure(engine):
    from avtaleflyt.models.tables import PlanVersion

    drive(engine, plan_text())
    with session_scope(engine) as s:
        for version in s.exec(select(PlanVersion)).all():
            version.effective, version.source = {"stages": "not a list"}, "not: [a plan"
            s.add(version)
    case, data = paper_of(engine, TRONDHEIM)
    assert case.proposed_resolution == BUILT_IN[0][2] and BUILT_IN[0][2] in docx_text(data)
