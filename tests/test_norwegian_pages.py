"""Norwegian time and words where people read them (issue 12): a party's own page in its
language (bokmål or nynorsk), "already decided" when the link is opened, no way into the
coordinators' dashboard from it; times in Norway's time on the dashboard and in the CLI;
a dashboard form's confirmation in Norwegian, with the recorded state on the page at once.
Real app, real database (SQLite and PostgreSQL), as tests/test_dashboard_forms.py.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt import actions
from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models import wording
from avtaleflyt.models.commands import parse_command
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import OutboxMessage, Party, PartyLink, Revision
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import links

from .plans import drive_to_political_treatment
from .web import form_token, log_in

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)
LATE_EVENING_UTC = dt.datetime(2025, 2, 9, 23, 30, tzinfo=dt.timezone.utc)  # 10.02.2025 00:30 in Oslo
NYNORSK, BOKMAAL = "Malvik kommune", "Trondheim kommune"  # SMALL_PLAN: Malvik writes nynorsk


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    drive_to_political_treatment(engine, today=TODAY)
    return engine


@pytest.fixture
def app(engine, monkeypatch):
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    return create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")


def link_for(engine, party_name: str, source_key: str) -> str:  # noqa: ANN001
    with session_scope(engine) as s:
        revision = s.exec(select(Revision)).one()
        party = s.exec(select(Party).where(Party.name == party_name)).one()
        return links.issue(s, get_settings().signing_key(), revision, party, source_key=source_key,
                           expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))


def decide(engine, party_name: str) -> None:  # noqa: ANN001
    """The coordinator records the party's decision (as the CLI does)."""
    command = parse_command({"action": "party_decision", "revision": SLUG, "party": party_name, "outcome": "approved", "date": "2025-02-06", "case_no": "PS 4/25"})
    actions.execute(command, actor="coordinator", clock=actions._FixedClock(dt.datetime(2025, 2, 10, 12, tzinfo=dt.timezone.utc), TODAY), engine=engine)


def targets(html: str) -> list[str]:
    return re.findall(r'(?:href|action|src)="([^"]*)"', html)


# --------------------------------------------------------------------------- a party's page in its language


def test_a_nynorsk_partys_page_is_in_nynorsk_and_a_bokmaal_partys_in_bokmaal(app, engine):
    client = TestClient(app)
    nn = client.get(f"/p/{link_for(engine, NYNORSK, 'nn')}")
    assert nn.status_code == 200 and '<html lang="nn">' in nn.text
    for text in ("Meld vedtak: Malvik kommune", "Vedtak i kommunestyret", "Vedtaksdato", "Saksnummer", "t.d. PS 12/25",
                 ">Godkjend<", ">Godkjend med merknader<", ">Ikkje godkjend<", "Lenka kan brukast éin gong"):
        assert text in nn.text, text
    assert "Lenken kan brukes" not in nn.text and "Ikke godkjent" not in nn.text
    nb = client.get(f"/p/{link_for(engine, BOKMAAL, 'nb')}")
    assert nb.status_code == 200 and '<html lang="nb">' in nb.text
    for text in ("Vedtak i bystyret", ">Godkjent<", ">Ikke godkjent<", "Lenken kan brukes én gang", "f.eks. PS 12/25"):
        assert text in nb.text, text


def test_a_nynorsk_party_is_refused_in_nynorsk_and_thanked_in_nynorsk(app, engine):
    client = TestClient(app)
    token = link_for(engine, NYNORSK, "nn-bad")
    csrf = form_token(client.get(f"/p/{token}").text)
    bad = client.post(f"/p/{token}", data={"csrf_token": csrf, "outcome": "rejected", "date": "2025-02-30"})
    assert bad.status_code == 422 and "Ikkje sendt: dato: «2025-02-30» er ikkje ein dato" in bad.text, bad.text
    assert "er ikke en dato" not in bad.text and "has" not in bad.text
    future = client.post(f"/p/{token}", data={"csrf_token": csrf, "outcome": "rejected", "date": "2025-02-11"})
    assert future.status_code == 422 and "registrer vedtak når dei er gjorde" in future.text
    done = client.post(f"/p/{token}", data={"csrf_token": csrf, "outcome": "approved_with_reservations", "date": "2025-02-06", "reservations": "Forutset midlar"})
    assert done.status_code == 200 and "Vedtaket er registrert: <b>godkjend med merknader</b>" in done.text
    assert "Sekretariatet ser det med ein gong" in done.text


def test_a_spent_link_is_refused_in_the_partys_language_in_norways_time(app, engine):
    token = link_for(engine, NYNORSK, "used")
    with session_scope(engine) as s:  # used late in the evening, UTC: past midnight in Norway
        link = s.exec(select(PartyLink).order_by(PartyLink.id.desc())).first()  # the one just issued
        link.used_at = LATE_EVENING_UTC
        s.add(link)
    page = TestClient(app).get(f"/p/{token}")
    assert page.status_code == 410 and '<html lang="nn">' in page.text
    assert "Lenka kan ikkje brukast: Lenka vart brukt 10.02.2025 00:30 (norsk tid); be sekretariatet om ei ny" in page.text, page.text


# --------------------------------------------------------------------------- "already decided" when the link is opened


def test_the_page_says_already_decided_when_opened_in_the_partys_language(app, engine):
    before = link_for(engine, NYNORSK, "before")  # the link in the decision request: withdrawn when the decision is recorded
    decide(engine, NYNORSK)
    after = link_for(engine, NYNORSK, "after")  # a link that still works
    client = TestClient(app)
    page = client.get(f"/p/{after}")
    assert page.status_code == 200
    assert "Vedtaket er allereie registrert: <b>godkjend</b> 06.02.2025 (saksnr. PS 4/25)" in page.text, page.text
    assert 'id="party-report"' not in page.text  # no form to send again
    withdrawn = client.get(f"/p/{before}")
    assert withdrawn.status_code == 410
    assert "Vedtaket er allereie registrert: <b>godkjend</b> 06.02.2025 (saksnr. PS 4/25)" in withdrawn.text, withdrawn.text
    decide(engine, BOKMAAL)
    nb = client.get(f"/p/{link_for(engine, BOKMAAL, 'nb-after')}")
    assert "Vedtaket er allerede registrert: <b>godkjent</b> 06.02.2025 (saksnr. PS 4/25)" in nb.text


def test_a_party_page_has_no_links_into_the_dashboard_or_the_api(app, engine):
    client = TestClient(app)
    token = link_for(engine, BOKMAAL, "links")
    form = client.get(f"/p/{token}")
    done = client.post(f"/p/{token}", data={"csrf_token": form_token(form.text), "outcome": "approved", "date": "2025-02-06"})
    spent = client.get(f"/p/{token}")
    forged = client.get(f"/p/{token[:-3]}xyz")
    no_csrf = client.post(f"/p/{link_for(engine, NYNORSK, 'x')}", data={"outcome": "approved", "date": "2025-02-06"})
    assert [a.status_code for a in (form, done, spent, forged, no_csrf)] == [200, 200, 410, 403, 403]
    assert "Lenka kan ikkje brukast" in no_csrf.text and "CSRF" in no_csrf.text
    for answer in (form, done, spent, forged, no_csrf):
        for target in targets(answer.text):
            assert target.startswith(("/p/", "/static/")), (answer.request.url, target)
        for word in ("/revisions", "/docs", "/api", "Logg ut", "API-dokumentasjon"):
            assert word not in answer.text, (answer.request.url, word)


# --------------------------------------------------------------------------- times in Norway's time


def test_a_moment_is_said_in_norways_time_with_its_zone_where_it_matters():
    oslo = ZoneInfo("Europe/Oslo")
    assert wording.moment(LATE_EVENING_UTC, oslo) == "10.02.2025 00:30"
    assert wording.moment(LATE_EVENING_UTC.replace(tzinfo=None), oslo, "nn", zone=True) == "10.02.2025 00:30 (norsk tid)"  # naive: UTC
    assert wording.moment(dt.datetime(2025, 6, 30, 22, 30, tzinfo=dt.timezone.utc), oslo) == "01.07.2025 00:30"  # summer time: +2


def test_the_dashboards_email_log_shows_norways_time_and_says_so(app, engine):
    with session_scope(engine) as s:
        letter = s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        letter.created_at, letter.sent_at = LATE_EVENING_UTC, LATE_EVENING_UTC + dt.timedelta(minutes=1)
        s.add(letter)
    page = log_in(TestClient(app), engine, Role.reader).get(f"/revisions/{SLUG}").text
    assert "<th>Tid (norsk tid)</th>" in page
    assert "10.02.2025 00:30" in page and "sendt 10.02.2025 00:31" in page
    assert "09.02.2025 23:30" not in page


def test_mail_outbox_shows_norways_time_with_its_zone(engine, monkeypatch):
    from typer.testing import CliRunner

    from avtaleflyt.cli import app as cli
    from avtaleflyt.cli import common

    monkeypatch.setattr(common.out, "_console", None)  # made anew, as wide as COLUMNS below (not as an earlier test's)

    with session_scope(engine) as s:
        letter = s.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        letter.created_at = LATE_EVENING_UTC
        s.add(letter)
    shown = CliRunner().invoke(cli, ["mail", "outbox", "--limit", "1"], env={"COLUMNS": "400"})
    assert shown.exit_code == 0, shown.output
    assert "created (Norway)" in shown.stdout and "2025-02-10 00:30 CET" in shown.stdout, shown.stdout
    assert "2025-02-09" not in shown.stdout


# --------------------------------------------------------------------------- a form's confirmation, and the state at once


def test_a_forms_confirmation_is_norwegian_visible_and_the_state_is_shown_at_once(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}")
    assert "1/3 vedtatt" not in page.text
    form = {"csrf_token": form_token(page.text), "party": NYNORSK, "outcome": "approved", "date": "2025-02-06", "case_no": "PS 4/25"}
    answer = client.post(f"/revisions/{SLUG}/record/party-decision", data=form, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/revisions/{SLUG}#melding"  # to the message
    after = client.get(answer.headers["location"]).text  # no wait for a run: the command reconciled in its transaction
    assert '<div class="flash ok" role="status" id="melding">Registrert: Malvik kommune har vedtatt 06.02.2025: godkjent (saksnr. PS 4/25)</div>' in after, after
    assert "approved on" not in after
    row = re.search(r"<b>Malvik kommune</b>.*?</tr>", after, re.DOTALL).group(0)
    assert "godkjent" in row and "06.02.2025" in row and "PS 4/25" in row
    assert "1/3 vedtatt" in after
    again = client.post(f"/revisions/{SLUG}/record/party-decision", data=form, follow_redirects=True).text
    assert "Uendret (var allerede registrert): Malvik kommune har vedtatt 06.02.2025: godkjent (saksnr. PS 4/25)" in again
