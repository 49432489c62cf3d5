"""A party that rejected the agreement is a follow-up item for the coordinators, shown until closed:
on the dashboard's revision page (with a close form), in the API, and by `followup list/close`; and
the page, the API and `revision show` say for whom the agreement is in force (issue 13)."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt.cli import app as cli_app
from avtaleflyt.dashboard import create_app
from avtaleflyt.models.enums import Role
from avtaleflyt.models.tables import FollowUp
from avtaleflyt.db import session_scope
from avtaleflyt.settings import get_settings

from .test_cli import offline_prefect  # noqa: F401 - a fixture
from .test_signing import MALVIK, SIGNING_PLAN, SLUG, TODAY, decide_all, do, make_engine, to_political_treatment
from .web import form_token, log_in

runner = CliRunner()


@pytest.fixture
def engine(domain_db_url, monkeypatch):
    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", domain_db_url)
    get_settings.cache_clear()
    engine = make_engine(domain_db_url, SIGNING_PLAN)
    to_political_treatment(engine)
    decide_all(engine)
    do(engine, "party_signing", party="Trondheim kommune", date="2025-05-02", signer="Rita Ottervik", signer_title="ordfører")
    return engine


@pytest.fixture
def app(engine):
    return create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")


def cli(*args: str, expect: int = 0) -> str:
    result = runner.invoke(cli_app, list(args))
    assert result.exit_code == expect, result.output
    return result.output


def open_items(engine) -> list[int]:
    with session_scope(engine) as s:
        return [f.id for f in s.exec(select(FollowUp).where(FollowUp.closed_at.is_(None), FollowUp.party_id.is_not(None)))]  # fagrad's: test_quorum


def test_the_revision_page_says_for_whom_it_is_in_force_and_closes_a_follow_up(app, engine):
    client = log_in(TestClient(app), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}").text
    summary = re.search(r'id="i-kraft-oppsummering">(.*?)</p>', page).group(1)
    assert summary == "Avtalen er i kraft for 1 av 3 parter; Malvik kommune vedtok ikke avtalen; St. Olavs hospital HF har ikke signert ennå."
    (item,) = open_items(engine)
    assert f'data-followup="{item}" data-open="ja"' in page and f'id="form-followup-close-{item}"' in page
    assert 'id="form-party-signing"' in page

    api = client.get(f"/api/revisions/{SLUG}").json()
    assert api["in_force"]["summary"].startswith("i kraft for 1 av 3 parter")
    assert {p["party"]: (p["standing"], p["since"]) for p in api["in_force"]["parties"]} == {
        MALVIK: ("rejected", "2025-02-13"), "St. Olavs hospital HF": ("pending", None), "Trondheim kommune": ("in_force", "2025-05-02"),
    }
    assert [(f["id"], f["party"], f["reason"], f["open"]) for f in api["followups"] if f["party"]] == [(item, MALVIK, "rejected", True)]

    answer = client.post(f"/revisions/{SLUG}/record/followup-close", data={"csrf_token": form_token(page), "id": str(item), "note": "dialogmøte 12.03.2025"})
    assert answer.status_code == 200
    assert open_items(engine) == []
    page = client.get(f"/revisions/{SLUG}").text
    assert f'data-followup="{item}" data-open="nei"' in page and "dialogmøte 12.03.2025" in page
    assert f'id="form-followup-close-{item}"' not in page
    assert next(f for f in client.get(f"/api/revisions/{SLUG}").json()["followups"] if f["id"] == item)["closed_by"] == "coordinator"


def test_a_reader_sees_the_items_but_no_close_form(app, engine):
    client = log_in(TestClient(app), engine, Role.reader)
    page = client.get(f"/revisions/{SLUG}").text
    (item,) = open_items(engine)
    assert f'data-followup="{item}" data-open="ja"' in page and "form-followup-close" not in page


def test_followup_list_and_close_by_the_cli_and_revision_show(engine, offline_prefect):  # noqa: ARG001 - no run to nudge
    (item,) = open_items(engine)
    listed = cli("followup", "list", SLUG)
    assert MALVIK in listed and "vedtok ikke avtalen" in listed and "open" in listed
    shown = cli("revision", "show", SLUG)
    assert "i kraft for 1 av 3 parter; Malvik kommune vedtok ikke avtalen; St. Olavs hospital HF har ikke signert ennå" in " ".join(shown.split())
    assert f"follow-up {item}: {MALVIK}" in shown
    as_json = json.loads(cli("revision", "show", SLUG, "--json"))
    assert as_json["in_force"]["count"] == 1 and [f["id"] for f in as_json["followups"] if f["party"]] == [item]

    refused = runner.invoke(cli_app, ["followup", "close", SLUG, str(item + 7)])
    assert refused.exit_code == 2 and f"no follow-up item {item + 7}" in refused.output
    cli("followup", "close", SLUG, str(item), "--note", "dialogmøte 12.03.2025")
    assert open_items(engine) == []
    assert MALVIK not in cli("followup", "list", SLUG)  # fagrad's item (it has not decided) stays open
    assert "closed" in cli("followup", "list", SLUG, "--all")
    assert [f for f in json.loads(cli("revision", "show", SLUG, "--json"))["followups"] if f["party"]] == []
