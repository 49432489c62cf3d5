"""/admin in a real browser (Debian's chromium, headless, against uvicorn on loopback): an admin
adds an account and reads its one-time password off the page, the account logs in with it; the
disable button does nothing until "bekreft" is ticked, then the account is disabled and the
audit page shows both changes with the admin as actor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from avtaleflyt.models.tables import User
from avtaleflyt.tasks.accounts import add_user
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope

from .test_dashboard_browser import browser  # noqa: F401  (a fixture: one chromium for the module)
from .web import PASSWORD, served

expect.set_options(timeout=30_000)  # assertions wait as long as actions: a login hashes with argon2, slow on a busy machine

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def admin_page(browser: Browser, domain_db_url: str) -> Iterator[tuple[Page, object]]:  # noqa: F811
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:
        add_user(s, "sjef", "Sjef Admin", None, PASSWORD, admin=True)
    with served(create_app(engine, today=lambda: dt.date(2026, 11, 30), prefect_ui="http://127.0.0.1:9")) as url:
        context = browser.new_context(base_url=url, locale="nb-NO")
        context.set_default_timeout(30000)  # a login hashes with argon2: 10 s timed out with four xdist workers on 2 cores
        try:
            yield context.new_page(), engine
        finally:
            context.close()


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login button[type=submit]")
    page.wait_for_url("**/")


def test_an_admin_adds_and_disables_an_account_in_the_browser(admin_page, browser):  # noqa: F811
    page, engine = admin_page
    log_in(page, "sjef", PASSWORD)
    page.goto("/admin/accounts")
    page.fill("#username", "ola")
    page.fill("#helsefellesskap-ny", "Helsefellesskapet Agder")
    page.click("#ny-konto button[type=submit]")
    password = page.locator("#engangspassord code").inner_text()
    assert len(password) >= 12

    other = browser.new_context(base_url=page.url.split("/admin")[0]).new_page()
    log_in(other, "ola", password)
    other.context.close()

    page.goto("/admin/accounts")
    disable = page.locator("#konto-ola form[action$='/active']")
    disable.locator("button").click()  # "bekreft" not ticked: the browser does not send it
    page.wait_for_timeout(300)
    with session_scope(engine) as s:
        assert s.exec(select(User.active).where(User.username == "ola")).one() is True
    disable.locator("input[name=confirm]").check()
    disable.locator("button").click()
    expect(page.locator("#melding")).to_contain_text("Deaktivert: ola")
    expect(page.locator("#konto-ola")).to_contain_text("deaktivert")
    page.goto("/admin/audit?bruker=ola")
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(3)  # newest first: disabled, logged in, added
    assert [rows.nth(i).locator("td").nth(1).inner_text() for i in range(3)] == ["user.disabled", "login", "user.added"]
    assert rows.nth(0).locator("td").nth(3).inner_text() == "sjef"
