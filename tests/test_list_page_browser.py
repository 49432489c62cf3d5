"""The list of revisions in a real browser (issue 15), with JavaScript off: a coordinator filters
by helsefellesskap and overdue, changes the page size and pages through, and the filters stay
chosen; a bad value in the address gives a message in bokmål, not an error page. Debian's
chromium, headless, against the app under uvicorn on loopback (as tests/test_dashboard_browser.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from avtaleflyt.models.enums import Role, StageStatus
from avtaleflyt.tasks.accounts import add_user
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope

from .test_dashboard import TODAY
from .test_dashboard_browser import browser, log_in  # noqa: F401 - the module's chromium
from .test_list_page import OTHER_HF, add_plain, set_stage
from .web import served

expect.set_options(timeout=30_000)  # assertions wait as long as actions: a login hashes with argon2, slow on a busy machine

COORDINATOR = ("kari", "Kari Koordinator", "riktig hest batteri stift")

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def db(domain_db_url: str) -> Engine:
    engine = engine_for(domain_db_url)
    for i in range(25):  # 12 in the other helsefellesskap (the odd ones)
        add_plain(engine, i, helsefellesskap=OTHER_HF if i % 2 else None)
    for slug in ("revisjon-003", "revisjon-004"):  # one overdue in each helsefellesskap
        set_stage(engine, slug, "vedtak", status=StageStatus.active, meeting="2024-11-19")
    with session_scope(engine) as s:
        add_user(s, COORDINATOR[0], COORDINATOR[1], Role.coordinator, COORDINATOR[2])
    return engine


@pytest.fixture
def page(browser: Browser, db: Engine) -> Iterator[Page]:  # noqa: F811
    with served(create_app(db, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")) as url:
        context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900}, locale="nb-NO", java_script_enabled=False)
        context.set_default_timeout(30000)  # a login hashes with argon2: seconds on a busy machine
        try:
            yield context.new_page()
        finally:
            context.close()


def test_a_coordinator_filters_and_pages_without_javascript(page: Page):
    log_in(page, COORDINATOR)
    page.goto("/")
    count = page.locator("#antall")
    expect(count).to_contain_text("25 revideringer · side 1 av 2")

    form = page.get_by_role("form", name="Filtrer revideringene")
    form.get_by_label("Helsefellesskap").select_option(OTHER_HF)
    form.get_by_label("Per side").select_option("10")
    form.get_by_role("button", name="Filtrer").click()
    expect(count).to_have_text(re.compile(r"12 revideringer som passer filteret · side 1 av 2"))
    assert "helsefellesskap=Helsefellesskapet+Nord" in page.url and "per_page=10" in page.url
    expect(page.locator("table.cards tbody tr")).to_have_count(10)

    page.get_by_role("navigation", name="Sider").get_by_role("link", name="Neste →").click()
    expect(count).to_contain_text("side 2 av 2")
    expect(page.locator("table.cards tbody tr")).to_have_count(2)
    expect(form.get_by_label("Helsefellesskap")).to_have_value(OTHER_HF)  # still chosen on the next page
    expect(form.get_by_label("Per side")).to_have_value("10")

    form.get_by_label("Forsinket").check()
    form.get_by_role("button", name="Filtrer").click()
    expect(count).to_have_text(re.compile(r"^1 revidering som passer filteret$"))
    expect(page.locator("table.cards tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Revisjon 3")).to_be_visible()
    expect(form.get_by_label("Forsinket")).to_be_checked()

    form.get_by_label("Trenger min handling").check()
    form.get_by_label("Forsinket").uncheck()
    form.get_by_label("Helsefellesskap").select_option("")
    form.get_by_role("button", name="Filtrer").click()
    expect(count).to_have_text(re.compile(r"^2 revideringer som passer filteret$"))

    page.get_by_role("link", name="Nullstill").click()
    expect(count).to_contain_text("25 revideringer · side 1 av")


def test_a_bad_value_in_the_address_is_explained(page: Page):
    log_in(page, COORDINATOR)
    answer = page.goto("/?status=ferdig&page=2")
    assert answer is not None and answer.status == 400
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"Filteret kunne ikke brukes: status må være «active» \(pågår\) eller «completed» \(fullført\), ikke «ferdig»"))
    expect(page.locator("table.cards tbody tr")).to_have_count(20)  # the list, unfiltered, under it
