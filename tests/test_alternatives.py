"""A plan's named alternatives (issue 14): checked with place and line, chosen on a running revision
through the path of `plan shift` (what moves, who is told, a new plan version with the reason),
refused once a stage it concerns has started, and shown on the dashboard (the one not chosen greyed)."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from avtaleflyt.models.enums import ForumOutcome, Role
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.shift import ShiftRefused
from avtaleflyt.models.tables import AuditEntry, OutboxMessage, PlanVersion, Stage
from avtaleflyt.tasks import records
from avtaleflyt.tasks.alternatives import apply_choice, preview_choice
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.shift import apply_shift
from avtaleflyt.tasks.store import store_revision
from fastapi.testclient import TestClient
from sqlmodel import func, select
from typer.testing import CliRunner

from avtaleflyt.cli import app
from avtaleflyt.dashboard import create_app
from avtaleflyt.db import engine_for, session_scope

from .web import log_in

EXAMPLE = (Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml").read_text(encoding="utf-8")
SLUG = "revidering-av-samarbeidsavtalen-2024"
START = dt.date(2024, 6, 18)
ALT_BLOCK = "      sluttbehandling: {meeting: 2024-12-04}\n"


def edited(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def problems(text: str) -> list[str]:
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(text)
    return [str(p) for p in caught.value.problems]


# --- the plan file ------------------------------------------------------------------------------


def test_the_example_holds_alt_2_of_the_milestone_plan():
    plan = parse_plan(EXAMPLE).plan
    (alt,) = plan.alternatives
    assert alt.key == "alt-2" and alt.title.startswith("Alt. 2")
    assert {k: {f: str(d) for f, d in v.given().items()} for k, v in alt.stages.items()} == {
        "hoering-ovrige": {"opens": "2024-09-26", "deadline": "2024-11-10"},
        "sluttbehandling": {"meeting": "2024-12-04"},
    }


def test_plan_check_warns_of_what_only_the_alternative_has():
    warnings = [str(w) for w in parse_plan(EXAMPLE).warnings if "alternatives" in w.place]
    assert len(warnings) == 1 and warnings[0].startswith("line ")
    assert "alternatives[0]: with 'alt-2' chosen: stages[5].deadline: 2024-11-10 is not a working day (søndag)" in warnings[0]


def test_each_wrong_alternative_is_named_with_its_place_and_line():
    text = edited(EXAMPLE, ALT_BLOCK, (
        "      sluttbehandling: {meeting: 2024-12-04, deadline: 2024-12-05}\n"
        "      ukjent: {meeting: 2024-12-04}\n"
        "  - key: alt-3\n    title: Alt. 3\n    stages:\n      hoering-1: {}\n"
        "  - key: alt-2\n    title: Igjen\n    stages: {politisk: {deadline: 2025-04-01}}\n"
    ))
    found = problems(text)
    lines = text.splitlines()

    def line_of(message: str) -> str:
        (hit,) = [p for p in found if message in p]
        return lines[int(re.match(r"line (\d+): ", hit).group(1)) - 1]

    assert any("alternatives[0].stages.sluttbehandling.deadline: stage 'sluttbehandling' (forum_approval) has no deadline date; it has: meeting" in p for p in found)
    assert "sluttbehandling:" in line_of("sluttbehandling.deadline")
    assert any("alternatives[0].stages.ukjent: unknown stage 'ukjent'; known: utkast, " in p for p in found)
    assert "ukjent:" in line_of("stages.ukjent")
    assert any("alternatives[1].stages.hoering-1: no date given" in p for p in found)
    assert any("alternatives[2].key: 'alt-2' repeats alternatives[0]" in p for p in found)
    assert len(found) == 4


def test_an_alternative_that_puts_stages_out_of_order_is_refused_by_plan_check():
    found = problems(edited(EXAMPLE, ALT_BLOCK, "      sluttbehandling: {meeting: 2024-11-01}\n"))
    assert len(found) == 1
    assert "alternatives[0]: with 'alt-2' chosen: stages[6]: starts 2024-11-01, before stage 'hoering-ovrige' it comes after ends (2024-11-10)" in found[0]
    assert found[0].startswith("line ")


def test_only_dates_may_be_given():
    found = problems(edited(EXAMPLE, ALT_BLOCK, "      sluttbehandling: {meeting: 2024-12-04, title: Annen tittel}\n"))
    assert any("alternatives[0].stages.sluttbehandling.title: unknown key" in p for p in found)


# --- chosen on a running revision (database) ----------------------------------------------------


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:
        store_revision(s, parse_plan(EXAMPLE), EXAMPLE, "sekretariatet")
    reconcile(engine, START)
    return engine


def reconcile(engine, today):
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=today)


def dates(engine) -> dict[str, tuple]:
    with session_scope(engine) as s:
        return {st.key: (st.opens, st.meeting, st.deadline, st.status.value) for st in s.exec(select(Stage))}


def choose(engine, key: str = "alt-2", reason: str = "Nasjonal plan kom sent"):
    with session_scope(engine) as s:
        return apply_choice(s, SLUG, key, actor="Kari Nordmann", reason=reason, today=START)


def outbox(engine) -> Counter:
    with session_scope(engine) as s:
        return Counter((m.event.value, "party" if m.party_id else "forum") for m in s.exec(select(OutboxMessage)))


def snapshot(engine) -> tuple:
    with session_scope(engine) as s:
        return (
            dates(engine),
            s.exec(select(func.count()).select_from(PlanVersion)).one(),
            s.exec(select(func.count()).select_from(OutboxMessage)).one(),
            s.exec(select(func.count()).select_from(AuditEntry)).one(),
        )


def test_choosing_alt_2_moves_its_stages_and_what_follows_and_tells_parties_and_forums(engine):
    before = dates(engine)
    letters_before = outbox(engine)
    with session_scope(engine) as s:
        preview = preview_choice(s, SLUG, "alt-2")
    assert snapshot(engine)[1:] == (1, sum(letters_before.values()), snapshot(engine)[3])

    applied = choose(engine)
    after = dates(engine)
    assert after["hoering-ovrige"][:3] == ("2024-09-26", None, "2024-11-10")
    assert after["sluttbehandling"][1] == "2024-12-04"
    assert after["politisk"][2] == "2025-03-08"  # moves with sluttbehandling (moves_with_after), as a shift moves it
    for unmoved in ("utkast", "hoeringsforslag", "hoering-1", "utkast-ovrige", "hoeringsforslag-ovrige"):
        assert after[unmoved] == before[unmoved]
    moves = {(m.stage, m.field): m.moved_with for m in applied.preview.shift.date_moves}
    expected = {("hoering-ovrige", "deadline"): None, ("sluttbehandling", "meeting"): None, ("politisk", "deadline"): "sluttbehandling"}
    assert {k: moves.get(k) for k in expected} == expected
    assert all(moves[k] for k in moves.keys() - expected.keys())  # any stage further on moved along
    assert [n.forum for n in preview.forum_notices] == ["FU", "ASU", "PSU", "fagråd"]

    sent = outbox(engine) - letters_before
    assert sent == Counter({("deadline_moved", "party"): 21, ("deadline_moved", "forum"): 4})  # a forum's is its meeting moved
    with session_scope(engine) as s:
        v1, v2 = s.exec(select(PlanVersion).order_by(PlanVersion.version)).all()
        assert (v2.version, v2.reason, v2.created_by) == (2, "Nasjonal plan kom sent", "Kari Nordmann")
        assert v2.source == v1.source  # the file as given last: a later `plan shift` of it keeps the chosen dates
        assert {"kind": "alternative_chosen", "alternative": "alt-2"} in v2.changes
        chosen = s.exec(select(AuditEntry).where(AuditEntry.action == "plan.alternative_chosen")).one()
        assert (chosen.to_value, chosen.note, chosen.actor) == ("alt-2", "Nasjonal plan kom sent", "Kari Nordmann")
        letter = s.exec(select(OutboxMessage).where(OutboxMessage.event == "deadline_moved")).first()
        assert "Nasjonal plan kom sent" in letter.body_text

    # The coordinators' unchanged file moves nothing back; choosing the same again changes nothing.
    with pytest.raises(DomainError) as same_file, session_scope(engine) as s:
        apply_shift(s, SLUG, EXAMPLE, actor="t", reason="x", today=START)
    assert same_file.value.code == ErrorCode.plan_unchanged
    with pytest.raises(DomainError) as again:
        choose(engine)
    assert again.value.code == ErrorCode.plan_unchanged and "already has the dates of alternative 'alt-2'" in str(again.value)
    assert dates(engine) == after


def test_an_unknown_alternative_is_named_with_those_known(engine):
    before = snapshot(engine)
    with pytest.raises(DomainError) as caught:
        choose(engine, "alt-9")
    assert "the plan in force has no alternative 'alt-9'; known: alt-2" in str(caught.value)
    assert snapshot(engine) == before


def _start_the_other_guidelines_hearing(engine) -> None:
    with session_scope(engine) as s:
        records.complete_draft(s, SLUG, stage_key="utkast-ovrige", actor="t")
    reconcile(engine, dt.date(2024, 9, 11))
    with session_scope(engine) as s:
        records.record_forum_decision(s, SLUG, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 9, 25), today=dt.date(2024, 9, 25), stage_key="hoeringsforslag-ovrige", actor="t")
    reconcile(engine, dt.date(2024, 9, 26))
    assert dates(engine)["hoering-ovrige"][3] == "active"


def test_refused_once_a_stage_it_concerns_has_started(engine):
    _start_the_other_guidelines_hearing(engine)
    before = snapshot(engine)
    with pytest.raises(ShiftRefused) as caught:
        choose(engine)
    assert caught.value.problems == ["alternatives: 'alt-2' concerns stage 'hoering-ovrige', which has started; it can no longer be chosen"]
    assert snapshot(engine) == before


# --- the dashboard ------------------------------------------------------------------------------


def _page(engine) -> str:
    client = log_in(TestClient(create_app(engine, today=lambda: START, prefect_ui="http://127.0.0.1:9")), engine, Role.reader)
    answer = client.get(f"/revisions/{SLUG}")
    assert answer.status_code == 200
    return answer.text


def _api(engine) -> list[dict]:
    client = log_in(TestClient(create_app(engine, today=lambda: START, prefect_ui="http://127.0.0.1:9")), engine, Role.reader)
    return client.get(f"/api/revisions/{SLUG}").json()["alternatives"]


def test_the_dashboard_greys_the_alternative_not_chosen_and_shows_the_chosen_one(engine):
    page = _page(engine)
    assert '<div class="alternative not-chosen" data-alternative="alt-2">' in page
    assert "ikke valgt" in page and f"avtaleflyt plan choose {SLUG} alt-2" in page
    assert "(nå 08.11.2024)" in page  # the hearing's deadline in force beside the alternative's
    (alt,) = _api(engine)
    assert (alt["chosen"], alt["open"]) == (False, True)

    choose(engine)
    page = _page(engine)
    assert '<div class="alternative chosen" data-alternative="alt-2">' in page and "not-chosen" not in page
    assert ">valgt<" in page
    (alt,) = _api(engine)
    assert (alt["chosen"], [d["date"] for d in alt["dates"]]) == (True, ["2024-09-26", "2024-11-10", "2024-12-04"])


def test_the_alternative_not_chosen_goes_once_its_stages_have_started(engine):
    _start_the_other_guidelines_hearing(engine)
    assert 'data-alternative="alt-2"' not in _page(engine)
    assert _api(engine) == []


# --- the CLI on the real Prefect server ---------------------------------------------------------

runner = CliRunner()


def cli(*args: str, expect: int = 0, input: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=input)
    assert result.exit_code == expect, f"avtaleflyt {' '.join(args)} → {result.exit_code}\n{result.output}"
    return result.output


@pytest.mark.e2e
def test_plan_choose_on_a_running_revision(prefect_server, worker, domain_db_url, tmp_path, smtp_server):
    from .test_e2e import wait_for_run

    smtp_env = {"AVTALEFLYT_SMTP_HOST": "127.0.0.1", "AVTALEFLYT_SMTP_PORT": str(smtp_server.port), "AVTALEFLYT_SMTP_STARTTLS": "false"}
    worker(env=smtp_env)
    example = tmp_path / "plan.yaml"
    example.write_text(EXAMPLE, encoding="utf-8")
    assert f"started: {SLUG}" in cli("revision", "start", str(example))
    assert wait_for_run() == "AwaitingDraft"

    declined = cli("plan", "choose", SLUG, "alt-2", "--reason", "Nasjonal plan kom sent", input="n\n", expect=1)
    assert "hoering-ovrige" in declined and "2024-11-08" in declined and "2024-11-10" in declined and "+2 d" in declined
    assert "forums told of a moved meeting (4): FU, ASU, PSU, fagråd" in declined
    unknown = runner.invoke(app, ["plan", "choose", SLUG, "alt-9", "--reason", "x", "--yes"])
    assert unknown.exit_code == 2 and "the plan in force has no alternative 'alt-9'; known: alt-2" in unknown.stderr

    assert f"recorded: plan v2 of {SLUG} (alt-2 chosen)" in cli("plan", "choose", SLUG, "alt-2", "--reason", "Nasjonal plan kom sent", "--yes")
    wait_for_run()
    view = json.loads(cli("revision", "show", SLUG, "--json"))
    stages = {s["key"]: s for s in view["stages"]}
    assert stages["hoering-ovrige"]["dates"] == {"opens": "2024-09-26", "deadline": "2024-11-10"}
    assert stages["sluttbehandling"]["dates"]["meeting"] == "2024-12-04"
    assert stages["politisk"]["dates"]["deadline"] == "2025-03-08"

    # The run goes on: the next recording is taken and the notices leave through the SMTP server.
    cli("draft", "complete", SLUG, "--stage", "utkast")
    assert wait_for_run() == "AwaitingForumDecision"
    with session_scope() as s:
        moved = [m for m in s.exec(select(OutboxMessage)) if m.event.value == "deadline_moved"]
    assert Counter("party" if m.party_id else "forum" for m in moved) == Counter({"party": 21, "forum": 4})
    deadline = dt.datetime.now() + dt.timedelta(seconds=120)
    while any(m.status.value != "sent" for m in moved):
        assert dt.datetime.now() < deadline, Counter(m.status.value for m in moved)
        time.sleep(0.5)
        with session_scope() as s:
            moved = [m for m in s.exec(select(OutboxMessage)) if m.event.value == "deadline_moved"]
    assert {"psu@example.no", "fagrad@example.no"} <= {m.to_address for m in moved}
