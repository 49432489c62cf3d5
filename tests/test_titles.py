"""Titles in both languages (issue 14): a revision's, a stage's and a document's title may be
`{nb: …, nn: …}`; a nynorsk party's letters and calendar entries are then entirely in nynorsk,
a bokmål party's in bokmål, and a title given in one language only is used for both. Real SQLite
and PostgreSQL, no Prefect."""

from __future__ import annotations

import pytest
from icalendar import Calendar
from sqlmodel import select

from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import EmailEvent
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.tables import Document, OutboxMessage, Party, Revision, Stage
from avtaleflyt.models.titles import Bilingual, in_language, title_in
from avtaleflyt.tasks import records
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.shift import apply_shift
from avtaleflyt.tasks.store import store_revision

import datetime as dt

SLUG = "revidering-2024"
TODAY = dt.date(2024, 6, 20)
PLAN = f"""
helsefellesskap: Helsefellesskapet Søndre Trøndelag
revision: {{nb: Revidering av overordnet samarbeidsavtale 2024, nn: Revidering av overordna samarbeidsavtale 2024}}
slug: {SLUG}
coordinators: [{{name: Sekretariatet, email: sekretariat@example.no}}]
documents:
  - {{key: overordnet, title: {{nb: Overordnet samarbeidsavtale, nn: Overordna samarbeidsavtale}}}}
  - {{key: r1, title: {{nb: Retningslinje 1 om utskrivning, nn: Retningslinje 1 om utskriving}}}}
parties:
  - {{name: St. Olavs hospital HF, kind: health_trust, org_number: "883974832", email: post@stolav.example.no, body: Styret}}
  - {{name: Rindal kommune, kind: municipality, org_number: "964982597", email: post@rindal.example.no, body: Kommunestyret, language: nn}}
stages:
  - {{key: utkast, kind: draft, due: 2024-06-19}}
  - key: hoering
    kind: hearing
    title: {{nb: Høring av overordnet avtale, nn: Høyring av overordna avtale}}
    opens: 2024-06-20
    deadline: 2024-09-10
  - {{key: politisk, kind: political_treatment, deadline: 2025-03-03}}
"""
NB_ONLY = ("overordnet", "utskrivning", "høring av")  # lower case: no bokmål title anywhere in a nynorsk letter
NN = ("Revidering av overordna samarbeidsavtale 2024", "Overordna samarbeidsavtale", "Retningslinje 1 om utskriving", "Høyring av overordna avtale")


def start(engine, plan: str = PLAN) -> None:
    with session_scope(engine) as s:
        store_revision(s, parse_plan(plan), plan, "t")
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)
    with session_scope(engine) as s:
        records.complete_draft(s, SLUG, stage_key="utkast", actor="t")
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)


def invitations(engine) -> dict[str, OutboxMessage]:
    with session_scope(engine) as s:
        rows = s.exec(
            select(Party.name, OutboxMessage).join(Party, OutboxMessage.party_id == Party.id).where(OutboxMessage.event == EmailEvent.hearing_invitation)
        ).all()
        for _, row in rows:
            s.expunge(row)
    return {name: row for name, row in rows}


def ics_texts(message: OutboxMessage) -> str:
    cal = Calendar.from_ical(message.ics)
    return " | ".join(str(e.get(field, "")) for e in cal.walk("VEVENT") for field in ("SUMMARY", "DESCRIPTION"))


@pytest.fixture
def engine(domain_db_url):
    return engine_for(domain_db_url)


def test_a_nynorsk_partys_letter_and_calendar_entry_are_entirely_in_nynorsk(engine):
    start(engine)
    letters = invitations(engine)
    rindal, stolav = letters["Rindal kommune"], letters["St. Olavs hospital HF"]
    for text in (rindal.subject, rindal.body_text, rindal.body_html, ics_texts(rindal)):
        assert not [t for t in NB_ONLY if t in text.lower()], text
    for t in NN:
        assert t in rindal.body_text, t
    assert "Høyringsfrist: Revidering av overordna samarbeidsavtale 2024" in ics_texts(rindal)
    for t in ("Revidering av overordnet samarbeidsavtale 2024", "Overordnet samarbeidsavtale", "Retningslinje 1 om utskrivning", "Høring av overordnet avtale"):
        assert t in stolav.body_text, t  # the bokmål party reads the bokmål titles
    assert "overordna" not in (stolav.body_text + ics_texts(stolav)).lower()


def test_a_title_given_in_one_language_only_is_used_for_both(engine):
    plan = (
        PLAN.replace("{nb: Overordnet samarbeidsavtale, nn: Overordna samarbeidsavtale}", "Overordnet samarbeidsavtale")
        .replace("{nb: Høring av overordnet avtale, nn: Høyring av overordna avtale}", "{nb: Høring av overordnet avtale}")
        .replace("{nb: Retningslinje 1 om utskrivning, nn: Retningslinje 1 om utskriving}", "{nn: Retningslinje 1 om utskriving}")
    )
    start(engine, plan)
    rindal, stolav = invitations(engine)["Rindal kommune"], invitations(engine)["St. Olavs hospital HF"]
    assert "Overordnet samarbeidsavtale" in rindal.body_text and "Høring av overordnet avtale" in rindal.body_text
    assert "Retningslinje 1 om utskriving" in stolav.body_text  # only nynorsk given: the bokmål party reads it too
    assert "Høyringsfrist: Revidering av overordna samarbeidsavtale 2024" in ics_texts(rindal)


def test_the_titles_are_stored_and_a_plan_shift_keeps_them_current(engine):
    start(engine)
    with session_scope(engine) as s:
        assert s.exec(select(Revision.title, Revision.title_nn)).one() == ("Revidering av overordnet samarbeidsavtale 2024", "Revidering av overordna samarbeidsavtale 2024")
        assert s.exec(select(Stage.title, Stage.title_nn).where(Stage.key == "hoering")).one() == ("Høring av overordnet avtale", "Høyring av overordna avtale")
        assert s.exec(select(Document.title_nn).where(Document.key == "r1")).one() == "Retningslinje 1 om utskriving"
    shifted = PLAN.replace("nn: Høyring av overordna avtale", "nn: Høyring av den overordna avtalen").replace(
        "{nb: Overordnet samarbeidsavtale, nn: Overordna samarbeidsavtale}", "Overordnet samarbeidsavtale"
    )
    with session_scope(engine) as s:
        apply_shift(s, SLUG, shifted, actor="t", today=TODAY, reason="nynorsk")
    with session_scope(engine) as s:
        assert s.exec(select(Stage.title_nn).where(Stage.key == "hoering")).one() == "Høyring av den overordna avtalen"
        assert s.exec(select(Document.title_nn).where(Document.key == "overordnet")).one() is None


def test_title_in_falls_back_and_a_plan_refuses_an_empty_or_unknown_language():
    assert title_in("nn", "Høring", "Høyring") == "Høyring" and title_in("nb", "Høring", "Høyring") == "Høring"
    assert title_in("nn", "Høring", None) == "Høring" and title_in("nb", None, "Høyring") == "Høyring"
    assert in_language((Bilingual("Høring", "Høyring"), "x"), "nn") == ("Høyring", "x")
    for bad, says in (("{}", "give the title in bokmål (nb:), nynorsk (nn:) or both"), ("{se: Gulahallat}", "unknown key")):
        with pytest.raises(PlanInvalid, match=r"stages\[1\]\.title") as err:
            parse_plan(PLAN.replace("{nb: Høring av overordnet avtale, nn: Høyring av overordna avtale}", bad))
        assert says in str(err.value)


def test_the_partys_draft_case_is_in_its_language(engine):
    from avtaleflyt.tasks.papers import party_case

    start(engine)
    with session_scope(engine) as s:
        rindal = party_case.render(party_case.for_party(s, SLUG, "Rindal kommune"), "html").decode()
        stolav = party_case.render(party_case.for_party(s, SLUG, "St. Olavs hospital HF"), "html").decode()
    assert "Revidering av overordna samarbeidsavtale 2024" in rindal and "Overordna samarbeidsavtale" in rindal and "Retningslinje 1 om utskriving" in rindal
    assert "overordnet" not in rindal.lower() and "utskrivning" not in rindal
    assert "Revidering av overordnet samarbeidsavtale 2024" in stolav and "Overordnet samarbeidsavtale" in stolav


def test_the_forum_case_paper_is_in_the_language_asked_for():
    from avtaleflyt.tasks.papers import forum_case

    plan = PLAN.replace("stages:\n", "forums:\n  - {key: ASU, name: Administrativt samarbeidsutvalg, email: asu@example.no}\nstages:\n").replace(
        "  - {key: politisk,",
        "  - {key: asu, kind: forum_approval, forums: [ASU], meeting: 2024-09-25, title: {nb: Sluttbehandling, nn: Sluttbehandling i ASU},\n"
        "     case: {number: 09-2024, proposed_resolution: ASU godkjenner.}}\n  - {key: politisk,",
    )
    nynorsk = forum_case.render(forum_case.preview(plan, "asu", "nn"), "html").decode()
    bokmal = forum_case.render(forum_case.preview(plan, "asu", "nb"), "html").decode()
    assert "Sluttbehandling i ASU" in nynorsk and "Overordna samarbeidsavtale" in nynorsk and "Revidering av overordna samarbeidsavtale 2024" in nynorsk
    assert "overordnet" not in nynorsk.lower()
    assert "Sluttbehandling i ASU" not in bokmal and "Overordnet samarbeidsavtale" in bokmal


def test_the_partys_page_gives_the_revisions_title_in_its_language(engine):
    from fastapi.testclient import TestClient

    from avtaleflyt.dashboard import create_app
    from avtaleflyt.settings import get_settings
    from avtaleflyt.tasks import links

    start(engine)
    client = TestClient(create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9"))
    pages = {}
    with session_scope(engine) as s:
        revision = s.exec(select(Revision)).one()
        tokens = {
            p.name: links.issue(s, get_settings().signing_key(), revision, p, source_key=f"test/{p.id}", expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
            for p in s.exec(select(Party))
        }
    for name, token in tokens.items():
        pages[name] = client.get(f"/p/{token}").text
    assert "Revidering av overordna samarbeidsavtale 2024" in pages["Rindal kommune"] and "overordnet" not in pages["Rindal kommune"].lower()
    assert "Revidering av overordnet samarbeidsavtale 2024" in pages["St. Olavs hospital HF"]


def test_the_partys_calendar_feed_is_in_its_language(engine):
    from avtaleflyt.tasks.export import plan_ics

    start(engine)
    with session_scope(engine) as s:
        rindal = Calendar.from_ical(plan_ics(s, SLUG, "Rindal kommune"))
        stolav = Calendar.from_ical(plan_ics(s, SLUG, "St. Olavs hospital HF"))
    texts = [str(rindal["X-WR-CALNAME"])] + [str(e.get(f, "")) for e in rindal.walk("VEVENT") for f in ("SUMMARY", "DESCRIPTION")]
    assert "Høyringsfrist: Høyring av overordna avtale" in texts and "Revidering av overordna samarbeidsavtale 2024 — Rindal kommune" in texts
    assert not [t for t in texts if "overordnet" in t.lower()], texts
    assert "Høringsfrist: Høring av overordnet avtale" in [str(e["SUMMARY"]) for e in stolav.walk("VEVENT")]


def test_a_milestones_title_in_the_plans_language_on_the_fremdriftsplan_and_its_feed(engine):
    from avtaleflyt.tasks.export import plan_csv, plan_ics, plan_pages

    plan = PLAN.replace("slug: ", "language: nn\nslug: ") + "milestones:\n  - {date: 2024-09-25, what: {nb: Møte i forhandlingsutvalget, nn: Møte i forhandlingsutvalet}}\n"
    start(engine, plan)
    with session_scope(engine) as s:
        _, pages = plan_pages(s, SLUG)
        feed = Calendar.from_ical(plan_ics(s, SLUG))
        csv = plan_csv(s, SLUG)
    assert [r.what for p in pages for r in p.rows if "Møte" in r.what] == ["Møte i forhandlingsutvalet"]
    assert "Møte i forhandlingsutvalet" in [str(e["SUMMARY"]) for e in feed.walk("VEVENT")]
    assert "Møte i forhandlingsutvalget" in csv  # what `plan import` reads back: the title as stored


def test_a_forums_meeting_notice_and_its_calendar_entry_in_the_plans_language(engine):
    plan = PLAN.replace("slug: ", "language: nn\nslug: ").replace("stages:\n", "forums:\n  - {key: ASU, name: Administrativt samarbeidsutval, email: asu@example.no}\nstages:\n").replace(
        "  - {key: politisk,",
        "  - {key: asu, kind: forum_approval, after: [utkast], forums: [ASU], meeting: 2024-06-26, title: {nb: Behandling i ASU, nn: Handsaming i ASU}}\n  - {key: politisk,",
    )
    start(engine, plan)
    with session_scope(engine) as s:
        (notice,) = s.exec(select(OutboxMessage).where(OutboxMessage.event == EmailEvent.forum_meeting_notice)).all()
        texts = [notice.body_text, ics_texts(notice)]
    assert "Handsaming i ASU" in texts[0] and "ASU: Handsaming i ASU" in texts[1], texts
    assert not [t for t in texts if "Behandling i ASU" in t or "overordnet" in t.lower()], texts
