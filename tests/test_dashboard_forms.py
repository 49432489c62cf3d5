"""The dashboard's write side: login, roles, CSRF, the coordinator's forms and a party's link."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import AuditEntry, Party, PartyObligation, Revision
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import links

from .plans import drive_to_political_treatment
from .web import PASSWORD, form_token, log_in

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)
XSS = "<script>alert(1)</script>"


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    drive_to_political_treatment(engine, today=TODAY, hearing_closed_because=f"stengt {XSS}")
    return engine


@pytest.fixture
def app(engine, monkeypatch):
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    return create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")


def treatment(engine, party: str) -> str:
    with session_scope(engine) as s:
        who = s.exec(select(Party).where(Party.name == party)).one()
        return s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment").where(PartyObligation.party_id == who.id)).one().status


def decision_form(token: str, party: str = "Malvik kommune") -> dict:
    return {"csrf_token": token, "party": party, "outcome": "approved", "date": "2025-02-06", "case_no": "PS 4/25"}


def test_pages_and_api_need_a_login(app):
    client = TestClient(app)
    answer = client.get(f"/revisions/{SLUG}", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, f"/login?next=/revisions/{SLUG}")
    assert client.get("/api/revisions").status_code == 401
    token = form_token(client.get("/login").text)
    wrong = client.post("/login", data={"csrf_token": token, "username": "coordinator", "password": "ikke riktig passord"})
    assert wrong.status_code == 401 and "Feil brukernavn eller passord." in wrong.text


def test_a_coordinator_records_a_decision_through_the_form(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}")
    assert 'id="form-party-decision"' in page.text
    answer = client.post(f"/revisions/{SLUG}/record/party-decision", data=decision_form(form_token(page.text)), follow_redirects=False)
    assert answer.status_code == 303
    after = client.get(f"/revisions/{SLUG}").text
    assert 'class="flash ok"' in after and "Registrert: Malvik kommune har vedtatt 06.02.2025: godkjent (saksnr. PS 4/25)" in after
    assert treatment(engine, "Malvik kommune") == "approved"
    with session_scope(engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "party.decided")).one().actor == "coordinator"


def test_refusals_are_shown_escaped_and_change_nothing(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    token = form_token(client.get(f"/revisions/{SLUG}").text)
    client.post(f"/revisions/{SLUG}/record/party-decision", data=decision_form(token, party=XSS), follow_redirects=False)
    page = client.get(f"/revisions/{SLUG}").text  # the message is shown once, on the page after the form
    assert 'class="flash error"' in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert XSS not in page  # neither in the message nor in the hearing's closing reason
    assert treatment(engine, "Malvik kommune") == "sent"


def test_a_form_without_the_csrf_token_is_refused(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    for token in ("", "forged-token"):
        answer = client.post(f"/revisions/{SLUG}/record/party-decision", data=decision_form(token))
        assert answer.status_code == 403 and "CSRF" in answer.text
    assert treatment(engine, "Malvik kommune") == "sent"


def test_a_reader_cannot_record(app, engine):
    client = log_in(TestClient(app), engine, Role.reader)
    page = client.get(f"/revisions/{SLUG}").text
    assert 'id="registrer"' not in page
    answer = client.post(f"/revisions/{SLUG}/record/party-decision", data=decision_form(form_token(page)))
    assert answer.status_code == 403 and "lesetilgang" in answer.text
    assert treatment(engine, "Malvik kommune") == "sent"


def party_link(engine, party_name: str, source_key: str) -> str:  # noqa: ANN001
    """A token for the party's own link, valid for a day."""
    with session_scope(engine) as s:
        revision = s.exec(select(Revision)).one()
        party = s.exec(select(Party).where(Party.name == party_name)).one()
        return links.issue(s, get_settings().signing_key(), revision, party, source_key=source_key,
                           expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))


def test_a_party_reports_through_its_link_once(app, engine):
    token = party_link(engine, "Trondheim kommune", "t")
    client = TestClient(app)
    form = client.get(f"/p/{token}")
    assert form.status_code == 200 and "Meld vedtak: Trondheim kommune" in form.text
    done = client.post(f"/p/{token}", data={"csrf_token": form_token(form.text), "outcome": "rejected", "date": "2025-02-05", "case_no": "PS 1/25"})
    assert done.status_code == 200 and "Takk, Trondheim kommune" in done.text
    assert treatment(engine, "Trondheim kommune") == "rejected"
    again = client.get(f"/p/{token}")
    assert again.status_code == 410 and "Lenken kan ikke brukes: Lenken ble brukt " in again.text  # in Norwegian, from its code
    tampered = client.get(f"/p/{token[:-3]}xyz")
    assert tampered.status_code == 403 and "Lenken kan ikke brukes: Lenken er ikke gyldig (den er endret eller ufullstendig)" in tampered.text


def test_a_party_link_refuses_bad_input_in_norwegian_and_stays_unused(app, engine):
    token = party_link(engine, "Trondheim kommune", "t3")
    client = TestClient(app)
    csrf = form_token(client.get(f"/p/{token}").text)
    bad = client.post(f"/p/{token}", data={"csrf_token": csrf, "outcome": "rejected", "date": "2025-02-30"})
    assert bad.status_code == 422 and "dato: «2025-02-30» er ikke en dato" in bad.text
    future = client.post(f"/p/{token}", data={"csrf_token": csrf, "outcome": "rejected", "date": "2025-02-11"})  # TODAY + 1
    assert future.status_code == 422 and "er etter i dag" in future.text
    assert treatment(engine, "Trondheim kommune") == "sent"
    assert client.get(f"/p/{token}").status_code == 200  # not used by the refused reports


def test_the_party_form_needs_its_csrf_token(app, engine):
    token = party_link(engine, "Malvik kommune", "t2")
    answer = TestClient(app).post(f"/p/{token}", data={"outcome": "approved", "date": "2025-02-05"})
    assert answer.status_code == 403
    assert treatment(engine, "Malvik kommune") == "sent"


# --------------------------------------------------------------------------- sessions that end


def run_cli(*args: str) -> str:
    from typer.testing import CliRunner

    from avtaleflyt.cli import app as cli

    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def account_events(engine) -> list[tuple[str, str | None]]:
    from avtaleflyt.models.tables import AccountEvent

    with session_scope(engine) as s:
        return [(e.action, e.username) for e in s.exec(select(AccountEvent).order_by(AccountEvent.id))]


def test_logout_ends_the_session_on_the_server(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    stolen = dict(client.cookies)  # a copy of the cookie, as someone who saw it would keep it
    page = client.get(f"/revisions/{SLUG}")
    assert page.status_code == 200
    assert client.post("/logout", data={"csrf_token": form_token(page.text)}, follow_redirects=False).status_code == 303
    replay = TestClient(app, cookies=stolen)
    assert replay.get(f"/revisions/{SLUG}", follow_redirects=False).status_code == 303  # to /login
    assert replay.get("/api/revisions").status_code == 401
    answer = replay.post(f"/revisions/{SLUG}/record/party-decision", data=decision_form(form_token(page.text)), follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, f"/login?next=/revisions/{SLUG}/record/party-decision")
    assert treatment(engine, "Malvik kommune") == "sent"
    assert [a for a, _ in account_events(engine)] == ["user.added", "login", "logout"]  # user.added: log_in makes the account


def test_a_user_demoted_during_a_session_reads_only_from_the_next_request(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}").text
    assert 'id="registrer"' in page
    assert "coordinator → reader" in run_cli("user", "role", "coordinator", "--role", "reader")
    answer = client.post(f"/revisions/{SLUG}/record/party-decision", data=decision_form(form_token(page)))
    assert answer.status_code == 403 and "lesetilgang" in answer.text
    assert treatment(engine, "Malvik kommune") == "sent"
    assert 'id="registrer"' not in client.get(f"/revisions/{SLUG}").text
    assert ("user.role", "coordinator") in account_events(engine)


def test_a_disabled_user_is_out_on_the_next_request_and_cannot_log_in(app, engine):
    client = log_in(TestClient(app), engine, Role.reader)
    assert client.get("/api/revisions").status_code == 200
    assert "disabled (1 session(s) ended): reader" in run_cli("user", "disable", "reader")
    assert client.get("/api/revisions").status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 303
    token = form_token(client.get("/login").text)
    again = client.post("/login", data={"csrf_token": token, "username": "reader", "password": PASSWORD})
    assert again.status_code == 401
    run_cli("user", "enable", "reader")
    assert log_in(TestClient(app), engine, Role.reader).get("/api/revisions").status_code == 200
    assert [a for a, u in account_events(engine)] == ["user.added", "login", "user.disabled", "login.failed", "user.enabled", "login"]


def test_user_commands_refuse_an_unknown_user():
    from typer.testing import CliRunner

    from avtaleflyt.cli import app as cli

    for args in (["user", "disable", "ingen"], ["user", "role", "ingen", "--role", "reader"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2 and "no user 'ingen'" in result.stderr


# --------------------------------------------------------------------------- throttled logins


def test_failed_logins_wait_longer_and_longer_and_are_logged(app, engine):
    log_in(TestClient(app), engine, Role.coordinator)  # makes the account
    client = TestClient(app)
    token = form_token(client.get("/login").text)

    def attempt(password: str):  # noqa: ANN202
        return client.post("/login", data={"csrf_token": token, "username": "coordinator", "password": password}, follow_redirects=False)

    assert [attempt("feil passord her").status_code for _ in range(5)] == [401] * 5
    refused = attempt(PASSWORD)  # even the right password waits now
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "For mange mislykte innlogginger" in refused.text
    events = account_events(engine)
    assert [a for a, _ in events].count("login.failed") == 5
    assert ("login.throttled", "coordinator") in events


def test_the_throttle_backs_off_exponentially_then_locks_out():
    from avtaleflyt.dashboard.throttle import ACCOUNT, LoginThrottle

    now = [1000.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    waits, events = {}, []
    for n in range(1, ACCOUNT.lock_after + 1):  # each try at the first moment it is allowed
        decision = throttle.begin("10.0.0.1", "kari")
        assert decision.wait == 0, n
        events += decision.events
        if n >= ACCOUNT.free:
            waits[n] = throttle.begin("10.0.0.1", "kari").wait  # one more at once: refused, not counted
            now[0] += waits[n] + 0.001
    assert waits == {n: 2.0 ** (n - ACCOUNT.free) for n in range(ACCOUNT.free, ACCOUNT.lock_after)} | {ACCOUNT.lock_after: ACCOUNT.lockout_seconds}
    assert [a for a, _ in events] == ["login.throttled", "login.locked"]
    # A wait runs from the end of the failed check, however long the check took.
    throttle.succeeded("10.0.0.1", "kari")
    for _ in range(ACCOUNT.free):
        assert throttle.begin("10.0.0.3", "per").wait == 0
    now[0] += 5.0  # a check that took five seconds...
    throttle.failed("10.0.0.3", "per")
    assert throttle.begin("10.0.0.3", "per").wait == ACCOUNT.base_seconds  # ...still leaves the full wait
    other = throttle.begin("10.0.0.2", "ola")  # another address and account are not held up
    assert other.wait == 0
    throttle.succeeded("10.0.0.2", "ola")


# --------------------------------------------------------------------------- flash and headers


def test_a_refusal_quoting_a_huge_value_keeps_the_cookie_small(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    token = form_token(client.get(f"/revisions/{SLUG}").text)
    answer = client.post(f"/revisions/{SLUG}/record/party-decision", data=decision_form(token, party="x" * 100_000), follow_redirects=False)
    assert answer.status_code == 303
    assert len(answer.headers["set-cookie"]) < 2_000
    page = client.get(f"/revisions/{SLUG}").text
    flash = re.search(r"<div class=\"flash error\"[^>]*>(.*?)</div>", page, re.S).group(1)
    assert flash.startswith("Ikke registrert: ") and len(flash) <= 320 and "x" * 1_000 not in page, flash


def test_every_answer_carries_the_security_headers_and_pages_have_no_inline_script_or_style(app, engine):
    import re

    token = party_link(engine, "Malvik kommune", "h")
    anonymous = TestClient(app)
    client = log_in(TestClient(app), engine, Role.coordinator)
    answers = {
        "/login": anonymous.get("/login"), "/p/…": anonymous.get(f"/p/{token}"), "/healthz": anonymous.get("/healthz"),
        "/static/dashboard.css": anonymous.get("/static/dashboard.css"), "redirect": anonymous.get("/", follow_redirects=False),
        "/": client.get("/"), "/revisions/…": client.get(f"/revisions/{SLUG}"), "404": client.get("/finnes-ikke"),
        "/api/revisions": client.get("/api/revisions"), "/docs": client.get("/docs"), "kalendere": client.get(f"/revisions/{SLUG}/kalendere"),
        "fremdriftsplan": client.get(f"/revisions/{SLUG}/fremdriftsplan"),
    }
    for name, answer in answers.items():
        assert answer.status_code in (200, 303, 404), name
        csp = answer.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp, name
        assert answer.headers.get("x-content-type-options") == "nosniff", name
        assert answer.headers.get("referrer-policy") == "no-referrer", name
        if answer.headers.get("content-type", "").startswith("text/html"):
            text = answer.text
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"{name}: inline script"
            assert not re.search(r"\son[a-z]+\s*=", text), f"{name}: an event handler attribute"
            assert " style=" not in text, f"{name}: a style attribute"
            if name != "fremdriftsplan":
                assert "<style" not in text, f"{name}: an inline style block"
    # The printable plan keeps its one style block (it is also a file of its own); the policy names its hash.
    import base64
    import hashlib

    plan = answers["fremdriftsplan"]
    style = re.search(r"<style>(.*?)</style>", plan.text, re.S).group(1)
    assert f"'sha256-{base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()}'" in plan.headers["content-security-policy"]


def test_the_api_docs_need_a_login_and_load_nothing_from_elsewhere(app, engine):
    anonymous = TestClient(app)
    assert anonymous.get("/docs", follow_redirects=False).status_code == 303
    assert anonymous.get("/openapi.json").status_code == 401
    client = log_in(TestClient(app), engine, Role.reader)
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/api/revisions/{slug}" in docs.text
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    assert "/api/revisions" in client.get("/openapi.json").json()["paths"]


def test_logging_in_again_ends_the_session_before(app, engine):
    client = log_in(TestClient(app), engine, Role.reader)
    before = dict(client.cookies)
    log_in(client, engine, Role.reader)  # the same browser logs in again
    assert client.get("/api/revisions").status_code == 200
    assert TestClient(app, cookies=before).get("/api/revisions").status_code == 401


# --------------------------------------------------------------------------- closing a hearing


@pytest.fixture
def hearing_open(domain_db_url, monkeypatch):
    """SMALL_PLAN driven until its hearing is open; an app on that database."""
    from avtaleflyt.models.enums import ForumOutcome
    from avtaleflyt.models.plan import parse_plan
    from avtaleflyt.tasks import records
    from avtaleflyt.tasks.reconcile import reconcile_revision
    from avtaleflyt.tasks.store import store_revision

    from .plans import SMALL_PLAN

    engine = engine_for(domain_db_url)
    today = dt.date(2024, 7, 1)
    steps = [
        lambda s: records.complete_draft(s, SLUG, stage_key=None, actor="t"),
        lambda s: records.record_forum_decision(s, SLUG, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 6, 19), today=today, actor="t"),
    ]
    with session_scope(engine) as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "t")
    for step in [None, *steps]:
        if step is not None:
            with session_scope(engine) as s:
                step(s)
        with session_scope(engine) as s:
            reconcile_revision(s, SLUG, today=today)
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    return engine, create_app(engine, today=lambda: today, prefect_ui="http://127.0.0.1:9")


def stage_row(engine, key: str):  # noqa: ANN201
    from avtaleflyt.models.tables import Stage

    with session_scope(engine) as s:
        stage = s.exec(select(Stage).where(Stage.key == key)).one()
        s.expunge(stage)
        return stage


def test_a_coordinator_closes_a_hearing_through_the_form(hearing_open):
    engine, app = hearing_open
    client = log_in(TestClient(app), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}").text
    assert 'id="form-hearing-close"' in page
    answer = client.post(f"/revisions/{SLUG}/record/hearing-close", data={"csrf_token": form_token(page), "stage": "hoering", "reason": "alle har svart"}, follow_redirects=False)
    assert answer.status_code == 303
    after = client.get(f"/revisions/{SLUG}").text
    assert "Registrert: høringen «hoering» er avsluttet (alle har svart)" in after, after
    assert stage_row(engine, "hoering").closed_reason == "alle har svart"
    with session_scope(engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "hearing.closed")).one()
        assert (entry.actor, entry.note) == ("coordinator", "alle har svart")


def test_a_hearing_closed_without_a_reason_says_who_closed_it(hearing_open):
    engine, app = hearing_open
    client = log_in(TestClient(app), engine, Role.coordinator)
    token = form_token(client.get(f"/revisions/{SLUG}").text)
    client.post(f"/revisions/{SLUG}/record/hearing-close", data={"csrf_token": token, "stage": "hoering", "reason": " "}, follow_redirects=False)
    assert stage_row(engine, "hoering").closed_reason == "stengt av coordinator 2024-07-01"


def test_closing_a_hearing_is_refused_in_norwegian_and_writes_nothing(hearing_open):
    engine, app = hearing_open
    client = log_in(TestClient(app), engine, Role.coordinator)
    token = form_token(client.get(f"/revisions/{SLUG}").text)
    for data, wording in [
        ({"stage": "utkast"}, "trinn: «utkast» er et trinn for utkast, ikke høring"),
        ({"stage": "hoering", "reason": "r" * 2001}, "begrunnelse: for lang (2001 tegn; høyst 2000)"),
    ]:
        client.post(f"/revisions/{SLUG}/record/hearing-close", data={"csrf_token": token, **data}, follow_redirects=False)
        page = client.get(f"/revisions/{SLUG}").text
        assert f"Ikke registrert: {wording}" in page, page
    assert stage_row(engine, "hoering").closed_reason is None
    answer = TestClient(app).post(f"/revisions/{SLUG}/record/hearing-close", data={"csrf_token": token, "stage": "hoering"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")  # no login: nothing closes
    assert stage_row(engine, "hoering").closed_reason is None


def test_an_unknown_recording_is_not_found(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    token = form_token(client.get(f"/revisions/{SLUG}").text)
    assert client.post(f"/revisions/{SLUG}/record/sign-everything", data={"csrf_token": token}).status_code == 404


def test_a_coordinator_wakes_the_run_and_nothing_is_recorded(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}").text
    assert 'id="form-refresh"' in page
    with session_scope(engine) as s:
        seq = s.exec(select(Revision.seq)).one()
    client.post(f"/revisions/{SLUG}/record/refresh", data={"csrf_token": form_token(page)}, follow_redirects=False)
    assert "Revideringen har ingen kjøring ennå" in client.get(f"/revisions/{SLUG}").text
    with session_scope(engine) as s:
        assert s.exec(select(Revision.seq)).one() == seq
