"""A quorum as a threshold to go on, not a lid (issue 14): with `required: 3` of 4 forums the next
stage starts after the third approval, and the fourth forum's decision is still recorded and shown;
a forum that has not approved by then is a follow-up item. Real SQLite and PostgreSQL, the
reconcile pass as the flow runs it (no Prefect)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from avtaleflyt.models.enums import ForumOutcome
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.followups import FollowUpClose
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import AuditEntry, ForumDecision, Stage
from avtaleflyt.tasks import records
from avtaleflyt.tasks.followups import close_followup, followups_of
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.recorder import lock_revision
from avtaleflyt.tasks.stages.forum_approval import withdraw_forum_decision
from avtaleflyt.tasks.status import revision_views
from avtaleflyt.tasks.store import store_revision
from sqlmodel import select

from avtaleflyt.dashboard import labels
from avtaleflyt.db import engine_for, session_scope

SLUG = "kvorum-2022"
TODAY = dt.date(2022, 6, 1)
FORUMS = ("SU-NORD", "SU-MIDT", "SU-VEST", "SU-SOR")
PLAN = """
helsefellesskap: Helsefellesskapet Vest
revision: Kvorum 2022
coordinators: [{name: Sekretariatet, email: sekretariat@example.no}]
documents:
  - {key: avtale, title: Samarbeidsavtale}
parties:
  - {name: Bergen kommune, kind: municipality, org_number: "964338531", email: post@bergen.example.no, body: Bystyret}
  - {name: Helse Bergen HF, kind: health_trust, org_number: "983974724", email: post@helse-bergen.example.no, body: Styret}
forums:
  - {key: SU-NORD, name: Samarbeidsutvalet Nord}
  - {key: SU-MIDT, name: Samarbeidsutvalet Midt}
  - {key: SU-VEST, name: Samarbeidsutvalet Vest}
  - {key: SU-SOR, name: Samarbeidsutvalet Sør}
stages:
  - {key: utkast, kind: draft, due: 2022-02-01}
  - {key: vedtak, kind: forum_approval, forums: [SU-NORD, SU-MIDT, SU-VEST, SU-SOR], required: 3, meeting: 2022-03-08}
  - {key: politisk, kind: political_treatment, deadline: 2022-09-01}
"""


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:
        store_revision(s, parse_plan(PLAN), PLAN, "tester")
    reconcile(engine)
    record(engine, records.complete_draft, stage_key=None)
    reconcile(engine)
    return engine


def reconcile(engine):
    with session_scope(engine) as s:
        return reconcile_revision(s, SLUG, today=TODAY)


def record(engine, fn, **kwargs):
    with session_scope(engine) as s:
        return fn(s, SLUG, actor="tester", **kwargs)


def decide(engine, forum: str, outcome: ForumOutcome, day: int, **kwargs):
    return record(engine, records.record_forum_decision, forum=forum, outcome=outcome, on=dt.date(2022, 3, day), today=TODAY, **kwargs)


def statuses(engine) -> dict[str, tuple[str, int]]:
    with session_scope(engine) as s:
        return {st.key: (st.status.value, st.round) for st in s.exec(select(Stage))}


def stage_view(engine, key: str):
    with session_scope(engine) as s:
        (view,) = revision_views(s, slug=SLUG, today=TODAY)
    return next(st for st in view.stages if st.key == key)


def items(engine, *, open_only: bool = True) -> list[tuple[str | None, str, str | None, bool]]:
    with session_scope(engine) as s:
        return [(f.forum, f.reason, f.stage, f.open) for f in followups_of(s, lock_revision(s, SLUG), open_only=open_only)]


def three_approve(engine) -> None:
    for day, forum in enumerate(FORUMS[:3], start=8):
        decide(engine, forum, ForumOutcome.approved, day)
    reconcile(engine)


def test_three_of_four_go_on_and_the_fourth_decides_later(engine):
    decide(engine, "SU-NORD", ForumOutcome.approved, 8)
    decide(engine, "SU-MIDT", ForumOutcome.approved, 9)
    reconcile(engine)
    assert statuses(engine)["vedtak"] == ("active", 1)
    assert items(engine) == []  # no quorum yet: nothing to follow up
    decide(engine, "SU-VEST", ForumOutcome.approved_with_changes, 10)
    result = reconcile(engine)
    assert statuses(engine)["vedtak"] == ("done", 1)
    assert statuses(engine)["politisk"] == ("active", 1)
    assert result.awaiting == "AwaitingPoliticalTreatment"

    # shown: the CLI's words and the dashboard's (nb)
    view = stage_view(engine, "vedtak")
    assert view.progress == "done (3/4 approved: SU-MIDT, SU-NORD, SU-VEST); still to decide: SU-SOR"
    assert labels.progress(view.kind, view.detail) == "ferdig (3/4 godkjent: SU-MIDT, SU-NORD, SU-VEST); gjenstår: SU-SOR"
    assert items(engine) == [("SU-SOR", "forum_undecided", "vedtak", True)]

    # the fourth decides later (no --stage: the only stage it has still to decide), recorded
    late = decide(engine, "SU-SOR", ForumOutcome.approved, 22, case_no="14/22")
    assert late.changed
    again = reconcile(engine)
    assert again.changes == []  # nothing reopened, nothing started again
    assert statuses(engine) == {"utkast": ("done", 1), "vedtak": ("done", 1), "politisk": ("active", 1)}
    with session_scope(engine) as s:
        row = s.exec(select(ForumDecision).where(ForumDecision.forum_key == "SU-SOR")).one()
        assert (row.outcome, row.decided_on, row.case_no, row.round) == (ForumOutcome.approved, dt.date(2022, 3, 22), "14/22", 1)
    assert stage_view(engine, "vedtak").progress == "4/4 approved (SU-MIDT, SU-NORD, SU-SOR, SU-VEST)"
    assert items(engine) == []  # closed by its approval ...
    assert items(engine, open_only=False) == [("SU-SOR", "forum_undecided", "vedtak", False)]  # ... and kept, closed
    with session_scope(engine) as s:
        (item,) = followups_of(s, lock_revision(s, SLUG))
    assert (item.closed_by, item.note) == ("tester", "SU-SOR vedtatt 22.03.2022")
    assert decide(engine, "SU-SOR", ForumOutcome.approved, 22).changed is False  # the same decision again: unchanged


def test_a_late_return_is_recorded_and_followed_up_not_a_return(engine):
    three_approve(engine)
    decide(engine, "SU-SOR", ForumOutcome.returned, 15)
    result = reconcile(engine)
    assert result.changes == []
    assert statuses(engine) == {"utkast": ("done", 1), "vedtak": ("done", 1), "politisk": ("active", 1)}
    view = stage_view(engine, "vedtak")
    assert view.progress == "done (3/4 approved: SU-MIDT, SU-NORD, SU-VEST); returned: SU-SOR"
    assert labels.progress(view.kind, view.detail) == "ferdig (3/4 godkjent: SU-MIDT, SU-NORD, SU-VEST); sendt tilbake: SU-SOR"
    assert items(engine) == [("SU-SOR", "forum_returned", "vedtak", True)]  # the same item, its reason now the return
    # the forum treats it again at a later meeting: recorded without a correction, the item closed
    decide(engine, "SU-SOR", ForumOutcome.approved, 29)
    assert reconcile(engine).changes == []
    assert items(engine) == []


def test_a_forum_that_returned_before_the_quorum_is_followed_up_once(engine):
    decide(engine, "SU-SOR", ForumOutcome.returned, 7)
    reconcile(engine)
    assert statuses(engine)["vedtak"] == ("active", 1)  # three can still approve: waits, as before
    three_approve(engine)
    assert statuses(engine)["politisk"] == ("active", 1)
    reconcile(engine)
    assert decide(engine, "SU-VEST", ForumOutcome.approved, 10, stage_key="vedtak").changed is False  # unchanged: no second item
    assert items(engine) == [("SU-SOR", "forum_returned", "vedtak", True)]
    with session_scope(engine) as s:
        opened = s.exec(select(AuditEntry).where(AuditEntry.action == "followup.opened")).all()
    assert [e.subject for e in opened] == ["stage:vedtak/forum:SU-SOR"]

    # a coordinator closes it (a dialogue meeting); a later return does not open it again
    with session_scope(engine) as s:
        (item,) = followups_of(s, lock_revision(s, SLUG))
        close_followup(s, FollowUpClose(revision=SLUG, id=item.id, note="dialogmøte 20.03.2022"), actor="tester")
    decide(engine, "SU-SOR", ForumOutcome.postponed, 28, correct=True, reason="feilregistrert: saken ble utsatt")
    assert items(engine) == []


def test_a_late_change_may_not_undo_the_quorum_the_next_stages_started_on(engine):
    three_approve(engine)
    with pytest.raises(DomainError, match="done on its quorum") as refused:
        decide(engine, "SU-NORD", ForumOutcome.returned, 8, stage_key="vedtak", correct=True, reason="feil utfall")
    assert refused.value.code == ErrorCode.stage_done
    with pytest.raises(DomainError, match="done on its quorum"):
        record(engine, withdraw_forum_decision, forum="SU-MIDT", stage_key="vedtak", reason="feilregistrert")
    with session_scope(engine) as s:
        assert {d.forum_key: d.outcome for d in s.exec(select(ForumDecision))} == dict.fromkeys(FORUMS[:3], ForumOutcome.approved)
    # a correction that keeps the quorum is taken (the case number of one of the three)
    decide(engine, "SU-NORD", ForumOutcome.approved, 8, case_no="3/22", stage_key="vedtak", correct=True, reason="saksnummeret manglet")
    # the fourth's late approval, then a withdrawal of it (no --stage: it was decided after the stage was done): open again
    decide(engine, "SU-SOR", ForumOutcome.approved, 22)
    assert items(engine) == []
    record(engine, withdraw_forum_decision, forum="SU-SOR", reason="feil utvalg")
    assert items(engine) == [("SU-SOR", "forum_undecided", "vedtak", True)]
    assert reconcile(engine).changes == []


def test_returned_when_the_quorum_can_no_longer_be_reached(engine):
    decide(engine, "SU-SOR", ForumOutcome.returned, 8)
    decide(engine, "SU-VEST", ForumOutcome.returned, 9)
    reconcile(engine)
    assert statuses(engine)["vedtak"] == ("pending", 2)
    assert statuses(engine)["utkast"] == ("active", 2)
    assert items(engine) == []  # sent back, as before: nothing to follow up


def test_a_forum_owing_a_done_stage_and_deciding_an_open_one_names_the_stage(domain_db_url):
    plan = PLAN.replace(
        "  - {key: politisk,",
        "  - {key: etterhandsvedtak, kind: forum_approval, forums: [SU-SOR], meeting: 2022-04-05}\n  - {key: politisk,",
    )
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:
        store_revision(s, parse_plan(plan), plan, "tester")
    reconcile(engine)
    record(engine, records.complete_draft, stage_key=None)
    reconcile(engine)
    three_approve(engine)
    assert statuses(engine)["etterhandsvedtak"] == ("active", 1)
    with pytest.raises(DomainError, match="name one with --stage: etterhandsvedtak, vedtak") as ambiguous:
        decide(engine, "SU-SOR", ForumOutcome.approved, 29)
    assert ambiguous.value.code == ErrorCode.several_open_stages
    decide(engine, "SU-SOR", ForumOutcome.approved, 29, stage_key="vedtak")
    assert items(engine) == []


def test_the_revision_page_shows_the_stage_the_item_and_takes_the_late_decision(engine, monkeypatch, domain_db_url):
    from avtaleflyt.models.enums import Role
    from fastapi.testclient import TestClient

    from avtaleflyt.dashboard import create_app
    from avtaleflyt.settings import get_settings

    from .web import form_token, log_in

    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", domain_db_url)
    get_settings.cache_clear()
    three_approve(engine)
    client = log_in(TestClient(create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}").text
    sor = "(SU-SOR|Samarbeidsutvalet Sør)"  # the forum's key, or its name where the page names forums
    assert re.search(rf"ferdig \(3/4 godkjent: [^)]+\); gjenstår: {sor}<", page)
    assert "har ikke vedtatt saken ennå (vedtak)" in page
    assert '<option value="vedtak">vedtak (ferdig; gjenstår: SU-SOR)</option>' in page
    api = client.get(f"/api/revisions/{SLUG}").json()
    assert [(f["forum"], f["stage"], f["reason"], f["open"]) for f in api["followups"]] == [("SU-SOR", "vedtak", "forum_undecided", True)]
    answer = client.post(
        f"/revisions/{SLUG}/record/forum-decision",
        data={"csrf_token": form_token(page), "stage": "vedtak", "forum": "SU-SOR", "outcome": "returned", "date": "2022-03-22"},
    )
    assert answer.status_code == 200, answer.text
    assert statuses(engine) == {"utkast": ("done", 1), "vedtak": ("done", 1), "politisk": ("active", 1)}
    page = client.get(f"/revisions/{SLUG}").text
    assert re.search(rf"ferdig \(3/4 godkjent: [^)]+\); sendt tilbake: {sor}<", page) and "sendte saken tilbake (vedtak)" in page
