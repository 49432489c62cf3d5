"""Plan exports (tasks/export.py): the iCalendar feeds, the printable Fremdriftsplan, the CSV,
and the dashboard's export routes with their signed feed tokens. No Prefect."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.dates import PlanDate
from avtaleflyt.models.fremdriftsplan import MilestoneRow, read_milestones_csv, write_milestones_csv
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import Party, Stage
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import export, feeds, records
from avtaleflyt.tasks.store import store_revision

from .plans import SMALL_PLAN, drive_to_political_treatment
from .web import log_in

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml"
SLUG = "revidering-av-samarbeidsavtalen-2024"
SMALL_SLUG = "testrevisjon-2024"
TODAY = dt.date(2024, 11, 20)
ALT_2 = "Alt. 2"
REVISED = "Revidert tidslinje (status til ASU 19.06.2024)"


@pytest.fixture
def engine(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'domain.db'}")
    source = EXAMPLE.read_text(encoding="utf-8")
    with session_scope(engine) as s:
        store_revision(s, parse_plan(source), source, "tester")
    return engine


def ics(engine, slug: str = SLUG, party: str | None = None) -> Calendar:
    with session_scope(engine) as s:
        text = export.plan_ics(s, slug, party)
    return Calendar.from_ical(text)


def day_of(event) -> dt.date:  # noqa: ANN001
    return event.decoded("dtstart")


def exact_dates_in_example() -> list[dt.date]:
    """Every exact date of the example, counted from the plan file rather than the database."""
    plan = parse_plan(EXAMPLE.read_text(encoding="utf-8")).plan
    stage_dates = [getattr(s, f, None) for s in plan.stages for f in ("opens", "due", "meeting", "deadline")]
    return sorted(d.first_day for d in [*stage_dates, *(m.date for m in plan.milestones)] if d is not None and d.exact)


# --------------------------------------------------------------------------- iCalendar


def test_revision_calendar_validates_and_lists_every_exact_date_in_order(engine):
    cal = ics(engine)
    cal.validate()
    events = cal.events
    assert events, "no events"
    for event in events:
        assert event.errors == []
        for prop in ("UID", "DTSTART", "SUMMARY", "DTSTAMP"):
            assert event.get(prop), f"{prop} missing in {event.get('SUMMARY')}"
        assert isinstance(day_of(event), dt.date) and not isinstance(day_of(event), dt.datetime)  # all-day
    days = [day_of(e) for e in events]
    assert days == sorted(days)
    assert days == exact_dates_in_example()
    assert len({str(e["UID"]) for e in events}) == len(events)
    assert str(cal["X-WR-CALNAME"]) == "Fremdriftsplan — Revidering av samarbeidsavtalen 2024"


def test_revision_calendar_names_stage_dates_in_norwegian_and_skips_month_only_milestones(engine):
    summaries = {str(e["SUMMARY"]): day_of(e) for e in ics(engine).events}
    assert summaries["Høringsfrist: Høring av overordnet avtale og retningslinje 1"] == dt.date(2024, 9, 10)
    assert summaries["Høringen åpner: Høring av øvrige retningslinjer"] == dt.date(2024, 9, 26)
    forums = "Administrativt samarbeidsutvalg, Forhandlingsutvalget, Politisk samarbeidsutvalg, Fagrådene"  # names, not keys
    assert summaries[f"Møte i {forums}: Sluttbehandling av avtale med retningslinjer"] == dt.date(2024, 11, 27)
    assert summaries["Frist for politisk behandling: Politisk behandling i kommunene og i styret til St. Olavs hospital"] == dt.date(2025, 3, 1)
    assert summaries["Frist for utkast: Utkast til overordnet avtale og retningslinje 1"] == dt.date(2024, 6, 18)
    assert "Møte i PSU" not in summaries  # only "2025-01" in the plan
    assert "Fagrådsstruktur vedtas i ekstraordinært ASU" not in summaries  # "2024-08"


def test_a_moved_date_keeps_its_event_uid(engine):
    def by_uid() -> dict[str, tuple[str, dt.date]]:
        return {str(e["UID"]): (str(e["SUMMARY"]), day_of(e)) for e in ics(engine).events}

    before = by_uid()
    with session_scope(engine) as s:  # what `plan shift` does to the plan in force
        stage = s.exec(select(Stage).where(Stage.key == "hoering-1")).one()
        stage.deadline = "2024-09-24"
        s.add(stage)
    after = by_uid()
    assert after.keys() == before.keys()
    moved = {uid for uid in after if after[uid] != before[uid]}
    assert len(moved) == 1
    (uid,) = moved
    assert after[uid] == ("Høringsfrist: Høring av overordnet avtale og retningslinje 1", dt.date(2024, 9, 24))


def test_party_calendar_holds_exactly_the_party_dates(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'small.db'}")
    drive_to_political_treatment(engine, today=dt.date(2025, 1, 10))
    with session_scope(engine) as s:
        records.schedule_party(s, SMALL_SLUG, party="Trondheim kommune", meeting=dt.date(2025, 2, 13), actor="tester")

    trondheim = ics(engine, SMALL_SLUG, "Trondheim kommune")
    trondheim.validate()
    assert [(day_of(e), str(e["SUMMARY"])) for e in trondheim.events] == [
        (dt.date(2024, 6, 20), "Høringen åpner: hoering"),
        (dt.date(2024, 9, 10), "Høringsfrist: hoering"),
        (dt.date(2025, 2, 13), "Bystyret behandler Testrevisjon 2024"),
        (dt.date(2025, 3, 1), "Frist for politisk behandling: politisk"),
    ]
    assert str(trondheim["X-WR-CALNAME"]) == "Testrevisjon 2024 — Trondheim kommune"
    # another party: no Trondheim meeting, and in its own language (Malvik writes nynorsk)
    malvik = ics(engine, SMALL_SLUG, "938726027")
    assert [(day_of(e), str(e["SUMMARY"])) for e in malvik.events] == [
        (dt.date(2024, 6, 20), "Høyringa opnar: hoering"),
        (dt.date(2024, 9, 10), "Høyringsfrist: hoering"),
        (dt.date(2025, 3, 1), "Frist for politisk handsaming: politisk"),
    ]
    # the same stage date in two feeds is two events: each calendar owns its own
    assert not {str(e["UID"]) for e in trondheim.events} & {str(e["UID"]) for e in malvik.events}


def test_party_calendar_leaves_out_dates_after_the_party_left(engine):
    with session_scope(engine) as s:
        party = s.exec(select(Party).where(Party.name == "Holtålen kommune")).one()
        party.active, party.left_on = False, dt.date(2024, 10, 1)
        s.add(party)
    days = [day_of(e) for e in ics(engine, party="Holtålen kommune").events]
    assert days == [dt.date(2024, 6, 20), dt.date(2024, 9, 10), dt.date(2024, 9, 26)]


def test_unknown_revision_or_party_is_refused_by_name(engine):
    with session_scope(engine) as s:
        with pytest.raises(DomainError, match=r"SLUG: no revision 'finnes-ikke'; known: revidering-av-samarbeidsavtalen-2024"):
            export.plan_ics(s, "finnes-ikke")
        with pytest.raises(DomainError, match=r"--party: no party named 'Trondheim kommun'.*did you mean 'Trondheim kommune'"):
            export.plan_ics(s, SLUG, "Trondheim kommun")
        for fn in (export.plan_html, export.plan_csv):
            with pytest.raises(DomainError, match="no revision"):
                fn(s, "finnes-ikke")


# --------------------------------------------------------------------------- HTML


def page_sections(text: str) -> list[str]:
    return re.findall(r'<section class="page">(.*?)</section>', text, re.S)


def test_fremdriftsplan_has_one_page_per_part_and_a_page_of_stages(engine):
    with session_scope(engine) as s:
        text = export.plan_html(s, SLUG, today=TODAY)
    sections = page_sections(text)
    headings = [unescape(re.search(r"<h1>(.*?)</h1>", sec).group(1)) for sec in sections]
    assert headings == [
        "Fremdriftsplan — Revidering av samarbeidsavtalen 2024",
        f"Fremdriftsplan — Revidering av samarbeidsavtalen 2024 — {ALT_2}",
        f"Fremdriftsplan — Revidering av samarbeidsavtalen 2024 — {REVISED}",
        "Fremdriftsplan — Revidering av samarbeidsavtalen 2024 — Trinn og frister",
    ]
    assert "break-after: page" in text
    for sec in sections:
        assert "<th>Når</th><th>Hva</th><th>Om</th><th>Ansvar</th>" in sec
    main, alt2, revised, stages = sections
    assert main.count("<tr><td") == 24 and alt2.count("<tr><td") == 5 and revised.count("<tr><td") == 10
    assert '<td class="when">desember 2024</td><td>Alt. 2: Møte i forhandlingsutvalget</td>' in alt2
    assert '<td class="when">27.06.2024</td><td>Høringsfrist fagrådsstruktur</td>' in revised
    assert '<td class="when">01.03.2025</td><td>Frist for politisk behandling</td>' in stages
    assert "skrevet ut 20.11.2024" in text


def test_fremdriftsplan_rows_are_in_date_order_within_a_part(engine):
    with session_scope(engine) as s:
        text = export.plan_html(s, SLUG, today=TODAY)
    revised = page_sections(text)[2]
    whens = re.findall(r'<td class="when">(.*?)</td>', revised)
    # the file lists 27.06 after the other parts' rows and months in file order; printed in date order
    assert whens[:3] == ["27.06.2024", "august 2024", "25.09.2024"]
    assert whens[-1] == "mai 2025"


def test_fremdriftsplan_escapes_plan_text(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'x.db'}")
    source = SMALL_PLAN + 'milestones:\n  - {date: 2024-06-19, what: "<script>alert(1)</script>", part: "<b>del</b>"}\n'
    with session_scope(engine) as s:
        store_revision(s, parse_plan(source), source, "tester")
        text = export.plan_html(s, SMALL_SLUG, today=TODAY)
    assert "<script>" not in text and "<b>del</b>" not in text
    assert "&lt;script&gt;" in text and "&lt;b&gt;del&lt;/b&gt;" in text


# --------------------------------------------------------------------------- CSV


def test_csv_has_bom_header_crlf_and_norwegian_dates(engine):
    with session_scope(engine) as s:
        text = export.plan_csv(s, SLUG)
    assert text.startswith("\ufeffNår;Hva;Om;Ansvar;Del\r\n")
    lines = text.removeprefix("\ufeff").split("\r\n")
    assert lines[-1] == ""  # every row ends with CRLF
    assert lines[1] == "17.01.2024;Møte i AU til forhandlingsutvalget;kl. 09–10;AU;"
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";"))
    assert len(rows) == 1 + 39
    assert ["jan 2025", "Møte i PSU", 'Orientering ("PSU jan 2025")', "PSU", ""] in rows
    assert ["des 2024", "Alt. 2: Møte i forhandlingsutvalget", 'Sluttføring av avtale etter behandling i ASU ("xx.12.24")', "FU", ALT_2] in rows
    assert ["27.06.2024", "Høringsfrist fagrådsstruktur", '"27. juni"', "Fagråd", REVISED] in rows


FORMULAS = ["=HYPERLINK(\"http://x.example\")", "+47 1", "-1+1", "@SUM(A1)"]  # a plan strips leading tab and CR


def test_csv_neutralises_every_cell_a_spreadsheet_would_run_as_a_formula(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'x.db'}")
    milestones = "".join(
        f"  - {{date: 2024-06-{10 + i}, what: {json.dumps(f)}, about: {json.dumps(f)}, responsible: {json.dumps(f)}, part: {json.dumps(f)}}}\n"
        for i, f in enumerate(FORMULAS)
    )
    source = SMALL_PLAN + "milestones:\n" + milestones
    with session_scope(engine) as s:
        store_revision(s, parse_plan(source), source, "tester")
        text = export.plan_csv(s, SMALL_SLUG)
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";"))[1:]
    assert [row[1:] for row in rows] == [["'" + f] * 4 for f in FORMULAS]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)
    assert [(r.what, r.about, r.responsible, r.part) for r in read_milestones_csv(text)] == [(f,) * 4 for f in FORMULAS]  # read back as written


def test_csv_neutralises_a_leading_tab_or_cr_too():
    text = write_milestones_csv([MilestoneRow(PlanDate(2024, 6, 1), "\tx", "\rx", "a=b", None)])
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";"))
    assert rows[1] == ["01.06.2024", "'\tx", "'\rx", "a=b", ""]


# --------------------------------------------------------------------------- the dashboard


@pytest.fixture
def app_client(engine) -> TestClient:
    return TestClient(create_app(engine, today=lambda: TODAY, prefect_ui="http://prefect.test"))


def party_id(engine, name: str) -> int:
    with session_scope(engine) as s:
        return s.exec(select(Party.id).where(Party.name == name)).one()


def test_feeds_need_a_good_token_not_a_login(engine, app_client):
    secret = get_settings().signing_key()
    trondheim = party_id(engine, "Trondheim kommune")
    malvik = party_id(engine, "Malvik kommune")
    good = app_client.get(f"/revisions/{SLUG}/plan.ics", params={"token": feeds.feed_token(secret, SLUG)})
    assert good.status_code == 200
    assert good.headers["content-type"].startswith("text/calendar")
    assert len(Calendar.from_ical(good.text).events) == len(exact_dates_in_example())

    party = app_client.get(f"/revisions/{SLUG}/parties/{trondheim}/plan.ics", params={"token": feeds.feed_token(secret, SLUG, trondheim)})
    assert party.status_code == 200
    assert str(Calendar.from_ical(party.text)["X-WR-CALNAME"]).endswith("Trondheim kommune")

    refused = {
        "missing": app_client.get(f"/revisions/{SLUG}/plan.ics", follow_redirects=False),
        "tampered": app_client.get(f"/revisions/{SLUG}/plan.ics", params={"token": feeds.feed_token(secret, SLUG)[:-2] + "xx"}, follow_redirects=False),
        "other key": app_client.get(f"/revisions/{SLUG}/plan.ics", params={"token": feeds.feed_token("another key", SLUG)}, follow_redirects=False),
        "other revision": app_client.get(f"/revisions/{SLUG}/plan.ics", params={"token": feeds.feed_token(secret, "annen-revisjon")}, follow_redirects=False),
        "party token for the revision feed": app_client.get(f"/revisions/{SLUG}/plan.ics", params={"token": feeds.feed_token(secret, SLUG, trondheim)}, follow_redirects=False),
        "revision token for a party feed": app_client.get(f"/revisions/{SLUG}/parties/{trondheim}/plan.ics", params={"token": feeds.feed_token(secret, SLUG)}, follow_redirects=False),
        "another party's token": app_client.get(f"/revisions/{SLUG}/parties/{trondheim}/plan.ics", params={"token": feeds.feed_token(secret, SLUG, malvik)}, follow_redirects=False),
    }
    for why, answer in refused.items():
        assert answer.status_code == 403, why
        assert "BEGIN:VCALENDAR" not in answer.text, why


def test_a_good_token_for_an_unknown_revision_or_party_is_404(engine, app_client):
    secret = get_settings().signing_key()
    gone = app_client.get("/revisions/finnes-ikke/plan.ics", params={"token": feeds.feed_token(secret, "finnes-ikke")})
    assert gone.status_code == 404
    assert SLUG not in gone.text  # no login: the known revisions are not listed
    assert app_client.get(f"/revisions/{SLUG}/parties/99999/plan.ics", params={"token": feeds.feed_token(secret, SLUG, 99999)}).status_code == 404


def test_fremdriftsplan_and_csv_need_a_login(engine, app_client):
    for path in (f"/revisions/{SLUG}/fremdriftsplan", f"/revisions/{SLUG}/plan.csv"):
        answer = app_client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), path
    log_in(app_client, engine)
    html = app_client.get(f"/revisions/{SLUG}/fremdriftsplan")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert len(page_sections(html.text)) == 4
    csv = app_client.get(f"/revisions/{SLUG}/plan.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"] and "fremdriftsplan.csv" in csv.headers["content-disposition"]
    assert csv.content.startswith("\ufeffNår;Hva;Om;Ansvar;Del\r\n".encode())
    assert app_client.get("/revisions/finnes-ikke/fremdriftsplan").status_code == 404


def test_revision_page_offers_exports_and_working_subscribe_links(engine, app_client):
    log_in(app_client, engine)
    text = app_client.get(f"/revisions/{SLUG}").text
    for link in ("fremdriftsplan", "plan.csv", "kalendere"):
        assert f'href="/revisions/{SLUG}/{link}"' in text
    (revision_feed,) = [unescape(u) for u in re.findall(r'class="feed-url[^"]*" readonly value="([^"]+)"', text)]
    assert f'href="webcal://{revision_feed.split("://", 1)[1]}"' in unescape(text)

    calendars = app_client.get(f"/revisions/{SLUG}/kalendere").text
    urls = [unescape(u) for u in re.findall(r'class="feed-url[^"]*" readonly value="([^"]+)"', calendars)]
    assert urls[0] == revision_feed
    assert len(urls) == 1 + 21  # and one per active party
    fresh = TestClient(create_app(engine, today=lambda: TODAY, prefect_ui="http://prefect.test"))  # no login
    assert fresh.get(f"/revisions/{SLUG}/kalendere", follow_redirects=False).status_code == 303
    names = []
    for url in (urls[0], urls[1], urls[-1]):
        parts = urlsplit(url)
        assert url.startswith(get_settings().public_url)
        answer = fresh.get(f"{parts.path}?{parts.query}")
        assert answer.status_code == 200, url
        cal = Calendar.from_ical(answer.text)
        cal.validate()
        names.append(str(cal["X-WR-CALNAME"]))
    listed = [unescape(n) for n in re.findall(r'<tr data-party="([^"]+)">', calendars)]
    assert len(listed) == 21
    assert names == [
        "Fremdriftsplan — Revidering av samarbeidsavtalen 2024",
        f"Revidering av samarbeidsavtalen 2024 — {listed[0]}",
        f"Revidering av samarbeidsavtalen 2024 — {listed[-1]}",
    ]
