"""The dashboard in a real browser: Playwright driving Debian's chromium, headless,
against the app served by uvicorn on loopback.

A coordinator logs in and records a decision through the form and sees the party
matrix change; a reader cannot write; a party reports through its link, once.
Screenshots of each page land in test-artifacts/screenshots/ (gitignored).

Needs /usr/bin/chromium (`make system-deps`). Without it the tests skip, except in
CI (CI=true), where a missing browser is a failure, not a silent skip.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import AuditEntry, Party, PartyObligation, Revision
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import links
from avtaleflyt.tasks.accounts import add_user

from .plans import drive_to_political_treatment
from .web import served

expect.set_options(timeout=30_000)  # assertions wait as long as actions: a login hashes with argon2, slow on a busy machine

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)
COORDINATOR = ("kari", "Kari Koordinator", "riktig hest batteri stift")
READER = ("lars", "Lars Leser", "bare lese tilgang her")
# The matrix's treatment cell before and after a party's approval. The brief's contract
# said "Godkjent"; the read side (views.TREATMENT_NB, asserted in test_dashboard.py)
# says "sendt" and "godkjent". Exact matches, so "godkjent med merknader" does not pass.
SENT_LABEL = re.compile(r"^\s*sendt\s*$", re.IGNORECASE)
APPROVED_LABEL = re.compile(r"^\s*godkjent\s*$", re.IGNORECASE)

pytestmark = pytest.mark.timeout(120)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless chromium for the module (Debian's; Playwright's download is not used)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (`make system-deps` as root, or apt-get install chromium)"
        if _in_ci():
            pytest.fail(f"CI is set and {reason}")
        pytest.skip(reason)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


# --------------------------------------------------------------------------- data and server


@pytest.fixture
def engine(domain_db_url: str) -> Engine:
    return engine_for(domain_db_url)


@pytest.fixture
def political(engine: Engine) -> dict[str, Party]:
    """SMALL_PLAN driven to political treatment (as in test_accounts_links), plus two users."""
    drive_to_political_treatment(engine, today=TODAY)
    with session_scope(engine) as s:
        add_user(s, COORDINATOR[0], COORDINATOR[1], Role.coordinator, COORDINATOR[2])
        add_user(s, READER[0], READER[1], Role.reader, READER[2])
    with session_scope(engine) as s:
        return {p.name: p for p in s.exec(select(Party))}


@pytest.fixture
def base_url(engine: Engine, political: dict[str, Party]) -> Iterator[str]:
    """The dashboard served by uvicorn in a thread on a free loopback port."""
    with served(create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")) as url:
        yield url


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A fresh browser context (no cookies) at a laptop's size."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, locale="nb-NO")
    context.set_default_timeout(30000)  # a login hashes with argon2: seconds on a busy machine (5 s timed out under xdist)
    try:
        yield context.new_page()
    finally:
        context.close()


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Treatment:
    status: str
    decided_on: dt.date | None
    case_no: str | None
    self_reported: bool


def treatment(engine: Engine, party: Party) -> Treatment:
    with session_scope(engine) as s:
        row = s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment").where(PartyObligation.party_id == party.id)).one()
        return Treatment(row.status, row.answered_on, row.case_no, row.self_reported)


def audit_count(engine: Engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(AuditEntry)).one()


def party_token(engine: Engine, party: Party, source_key: str) -> str:
    expires = max(dt.datetime.now(dt.timezone.utc), dt.datetime(2025, 2, 10, tzinfo=dt.timezone.utc)) + dt.timedelta(days=30)
    with session_scope(engine) as s:
        revision = s.exec(select(Revision).where(Revision.slug == SLUG)).one()
        return links.issue(s, get_settings().signing_key(), revision, party, source_key=source_key, expires_at=expires)


def log_in(page: Page, user: tuple[str, str, str]) -> None:
    """Fill form#login on the current page (or /login) and wait until we have left it."""
    if "/login" not in page.url:
        page.goto("/login")
    form = page.locator("form#login")
    form.locator("input[name=username]").fill(user[0])
    form.locator("input[name=password]").fill(user[2])
    form.locator("button[type=submit], input[type=submit]").first.click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def matrix_cell(page: Page, party: str):  # noqa: ANN201
    return page.locator(f'tr[data-party="{party}"] td.treatment')


# --------------------------------------------------------------------------- tests


def test_coordinator_logs_in_records_a_decision_and_sees_the_matrix_change(page: Page, base_url: str, engine: Engine, political):
    page.goto(f"/revisions/{SLUG}")
    expect(page).to_have_url(re.compile(r"/login"))  # not logged in: sent to the login page
    log_in(page, COORDINATOR)
    if not page.url.endswith(f"/revisions/{SLUG}"):
        page.goto(f"/revisions/{SLUG}")

    cell = matrix_cell(page, "Malvik kommune")
    before = cell.inner_text()
    assert SENT_LABEL.match(before), f"Malvik has only been sent the request, but the matrix says {before!r}"
    assert treatment(engine, political["Malvik kommune"]).status == "sent"

    form = page.locator("section#registrer form#form-party-decision")
    form.locator("select[name=party]").select_option(value="Malvik kommune")
    form.locator("select[name=outcome]").select_option(value="approved")
    form.locator("input[name=date]").fill("2025-02-06")
    form.locator("input[name=case_no]").fill("PS 4/25")
    form.locator("button[type=submit], input[type=submit]").first.click()

    expect(page.locator("div.flash.ok")).to_be_visible()
    expect(page.locator("div.flash.error")).to_have_count(0)
    assert re.search(rf"/revisions/{SLUG}(#.*)?$", page.url), page.url
    expect(cell).to_have_text(APPROVED_LABEL)
    assert cell.inner_text() != before

    assert treatment(engine, political["Malvik kommune"]) == Treatment("approved", dt.date(2025, 2, 6), "PS 4/25", False)
    with session_scope(engine) as s:
        actors = s.exec(select(AuditEntry.actor).where(AuditEntry.action == "party.decided")).all()
    assert actors == [COORDINATOR[0]], f"audit log for party.decided: {actors}"


def test_a_reader_sees_no_forms_and_cannot_post(page: Page, base_url: str, engine: Engine, political):
    log_in(page, READER)
    page.goto(f"/revisions/{SLUG}")
    expect(page.locator('tr[data-party="Malvik kommune"]')).to_be_visible()  # the page is there...
    expect(page.locator("section#registrer")).to_have_count(0)  # ...without the forms

    # The session's own CSRF token (from the logout form), so a refusal is for the role, not the token.
    tokens = page.locator("form[action='/logout'] input[name=csrf_token]")
    expect(tokens).to_have_count(1)
    csrf = tokens.get_attribute("value")
    assert csrf, "the reader's page carries no CSRF token"
    before = (treatment(engine, political["Malvik kommune"]), audit_count(engine))
    response = page.request.post(
        f"/revisions/{SLUG}/record/party-decision",
        form={"csrf_token": csrf, "party": "Malvik kommune", "outcome": "approved", "date": "2025-02-06", "case_no": "PS 4/25"},
        max_redirects=0,
    )
    assert response.status == 403, f"{response.status}: {response.text()[:300]}"
    assert "lesetilgang" in response.text() and "CSRF" not in response.text(), response.text()[:300]  # the role, not the token
    assert (treatment(engine, political["Malvik kommune"]), audit_count(engine)) == before
    # ...and the token is good: the same session logs out with it.
    logout = page.request.post("/logout", form={"csrf_token": csrf}, max_redirects=0)
    assert logout.status == 303 and logout.headers["location"] == "/login"


def test_a_party_reports_through_its_link_once(page: Page, base_url: str, engine: Engine, political):
    token = party_token(engine, political["Trondheim kommune"], "browser/trondheim")
    response = page.goto(f"/p/{token}")  # no login
    assert response is not None and response.status == 200
    form = page.locator("form#party-report")
    expect(form.locator("input[name=csrf_token]")).to_have_count(1)
    form.locator("select[name=outcome]").select_option(value="approved_with_reservations")
    form.locator("input[name=date]").fill("2025-02-05")
    form.locator("input[name=case_no]").fill("BY 7/25")
    form.locator("textarea[name=reservations]").fill("Forutsatt finansiering")  # required with a conditional approval
    with page.expect_navigation():
        form.locator("button[type=submit], input[type=submit]").first.click()
    expect(page.locator("body")).to_contain_text(re.compile(r"takk", re.I))
    assert treatment(engine, political["Trondheim kommune"]) == Treatment("approved_with_reservations", dt.date(2025, 2, 5), "BY 7/25", True)

    again = page.goto(f"/p/{token}")
    assert again is not None and again.status in (403, 410), again.status
    assert "text/html" in again.headers.get("content-type", ""), again.headers.get("content-type")
    expect(page.locator("form#party-report")).to_have_count(0)
    expect(page.locator("body")).to_contain_text(re.compile(r"\bused\b|\bbrukt\b", re.I))

    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    refused = page.goto(f"/p/{tampered}")
    assert refused is not None and refused.status in (403, 410), refused.status
    expect(page.locator("form#party-report")).to_have_count(0)
    expect(page.locator("body")).to_contain_text(re.compile(r"not valid|ikke gyldig|ugyldig", re.I))


def test_screenshots_of_every_page(browser: Browser, page: Page, base_url: str, engine: Engine, political):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    refused: list[str] = []  # what the Content-Security-Policy blocked, as chromium reports it

    def watch(p: Page) -> Page:
        p.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        return p

    watch(page)

    def shoot(p: Page, name: str) -> None:
        path = SCREENSHOTS / f"{name}.png"
        p.screenshot(path=str(path), full_page=True)
        shots.append(path)

    page.goto("/login")
    expect(page.locator("form#login")).to_be_visible()
    shoot(page, "login")

    log_in(page, COORDINATOR)
    page.goto("/")
    expect(page.get_by_text("Testrevisjon 2024").first).to_be_visible()
    shoot(page, "index")
    page.goto(f"/revisions/{SLUG}")
    expect(page.locator("section#registrer")).to_be_visible()
    shoot(page, "revision")

    token = party_token(engine, political["Malvik kommune"], "browser/screenshot")
    party = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, locale="nb-NO")
    phone = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="nb-NO")
    try:
        link_page = watch(party.new_page())
        link_page.goto(f"/p/{token}")
        expect(link_page.locator("form#party-report")).to_be_visible()
        shoot(link_page, "party-link")

        # The same pages at a phone's width: the issue asks for laptop and phone.
        phone_page = watch(phone.new_page())
        phone_page.goto(f"/p/{token}")
        expect(phone_page.locator("form#party-report")).to_be_visible()
        shoot(phone_page, "party-link-phone")
        log_in(phone_page, COORDINATOR)
        phone_page.goto(f"/revisions/{SLUG}")
        expect(phone_page.locator('tr[data-party="Malvik kommune"]')).to_be_visible()
        shoot(phone_page, "revision-phone")
    finally:
        party.close()
        phone.close()

    page.goto(f"/revisions/{SLUG}/fremdriftsplan")
    expect(page.locator(".toolbar button")).to_have_text("Skriv ut")  # made by /static/dashboard.js
    page.goto(f"/revisions/{SLUG}/kalendere")
    for path in shots:
        assert path.stat().st_size > 5_000, f"{path} is suspiciously small"
    assert refused == [], refused
