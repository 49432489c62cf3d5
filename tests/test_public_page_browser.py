"""The public status page in a real browser (Debian's chromium, headless, as in
test_dashboard_browser.py) at a phone's width: it reads without scrolling sideways, the styles
load under the Content-Security-Policy, no cookie is set. A screenshot lands in
test-artifacts/screenshots/public-page-phone.png."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import ForumOutcome, PartyOutcome
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.tasks import records
from avtaleflyt.tasks.party_returns import Returns
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision

from .plans import SMALL_PLAN
from .test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, _in_ci
from .web import served

expect.set_options(timeout=30_000)  # assertions wait as long as actions: a login hashes with argon2, slow on a busy machine

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)
PHONE = 390
RECORDS = "https://innsyn.trondheim.kommune.example.no/postliste/saksinnsyn/2025/000123?visning=fullstendig&sprak=nb"
PLAN = (
    SMALL_PLAN.replace("body: Bystyret}", f"body: Bystyret, records_url: '{RECORDS}'}}")
    .replace("title: Overordnet samarbeidsavtale}", "title: Overordnet samarbeidsavtale mellom kommunene og helseforetaket, public: true}")
    + "public: true\n"
)

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
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


def _drive(engine) -> None:  # noqa: ANN001
    """PLAN through the forums and the hearing into political treatment; two parties decide."""
    steps = [
        lambda s: records.complete_draft(s, SLUG, stage_key=None, actor="t"),
        lambda s: records.record_forum_decision(s, SLUG, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 6, 19), today=TODAY, case_no="24/101", actor="t"),
        lambda s: records.close_hearing(s, SLUG, stage_key=None, reason="t", actor="t"),
        lambda s: [records.record_forum_decision(s, SLUG, forum=f, outcome=ForumOutcome.approved, on=dt.date(2024, 11, 27), today=TODAY, actor="t") for f in ("ASU", "FU", "PSU")],
        lambda s: records.record_party_decision(
            s, SLUG, party="Trondheim kommune", outcome=PartyOutcome.approved_with_reservations, on=dt.date(2025, 2, 5), today=TODAY,
            case_no="2025/000123", actor="t",
            returns=Returns(reservations="Bystyret forutsetter at kapittel 4 om utskrivningsklare pasienter evalueres etter ett år, og at kommunen deltar i evalueringen."),
        ),
        lambda s: records.record_party_decision(s, SLUG, party="St. Olavs hospital HF", outcome=PartyOutcome.approved, on=dt.date(2025, 2, 6), today=TODAY, case_no="S-12/25", actor="t"),
    ]
    with session_scope(engine) as s:
        store_revision(s, parse_plan(PLAN), PLAN, "t")
    for step in [lambda s: None, *steps]:
        with session_scope(engine) as s:
            step(s)
        with session_scope(engine) as s:
            reconcile_revision(s, SLUG, today=TODAY)


def test_the_public_page_reads_on_a_phone(browser: Browser, domain_db_url: str) -> None:
    engine = engine_for(domain_db_url)
    _drive(engine)
    with served(create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")) as url:
        phone = browser.new_context(base_url=url, viewport={"width": PHONE, "height": 844}, is_mobile=True, has_touch=True, locale="nb-NO")
        try:
            page = phone.new_page()
            refused: list[str] = []
            page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
            answer = page.goto(f"/offentlig/{SLUG}")
            assert answer is not None and answer.status == 200
            expect(page.locator("h1")).to_have_text("Testrevisjon 2024")
            expect(page.locator("#party-decisions")).to_contain_text("godkjent med merknader")
            expect(page.locator(f'#party-decisions a[href="{RECORDS}"]').first).to_be_visible()
            # the styles loaded (a CSP refusal would leave the table as a table): cards on a phone
            assert page.locator("#stages thead").evaluate("e => getComputedStyle(e).display") == "none"
            widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
            assert max(widths) <= PHONE, f"the page scrolls sideways on a phone: {widths}"
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shot = SCREENSHOTS / "public-page-phone.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 5_000
            assert phone.cookies() == []
            assert refused == [], refused
        finally:
            phone.close()
