"""Decisions can be corrected, and conflicts are not accepted in silence (issue 12).

The current decision is the one compared; a different one is refused naming it unless it is
a correction (`correct` and a `reason`); `forum_withdraw`/`party_withdraw` remove a decision
recorded by mistake. Both go in the audit log as from -> to, and the pass in the command's
transaction puts the stages right (a returned stage corrected to approved goes on).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from avtaleflyt import actions
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.commands import parse_command
from avtaleflyt.models.enums import Role
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.tables import AuditEntry, ForumDecision, OutboxMessage, Party, PartyObligation, Revision, Stage
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision

from .plans import SMALL_PLAN
from .test_cli import offline_prefect, run  # noqa: F401 - a fixture
from .web import form_token, log_in

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 2, 10)


class FixedClock:
    def now(self) -> dt.datetime:
        return dt.datetime(2025, 2, 10, 12, tzinfo=dt.timezone.utc)

    def today(self) -> dt.date:
        return TODAY


@pytest.fixture
def engine(domain_db_url):
    engine = engine_for(domain_db_url)
    with session_scope(engine) as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "t")
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)
    return engine


def do(engine, action: str, **fields):  # noqa: ANN201
    command = parse_command({"action": action, "revision": SLUG, **fields})
    return actions.execute(command, actor="kari", clock=FixedClock(), engine=engine)[0]


def refused(engine, action: str, **fields) -> DomainError:
    before = seq(engine)
    with pytest.raises(DomainError) as caught:
        do(engine, action, **fields)
    assert seq(engine) == before, "a refusal writes nothing"
    return caught.value


def seq(engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(Revision.seq)).one()


def stages(engine) -> dict[str, tuple[str, int]]:
    with session_scope(engine) as s:
        return {st.key: (st.status.value, st.round) for st in s.exec(select(Stage).order_by(Stage.position))}


def audit(engine, action: str) -> list[tuple[str | None, str | None, str | None]]:
    with session_scope(engine) as s:
        return [(e.from_value, e.to_value, e.note) for e in s.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]


def decisions(engine, forum: str = "ASU") -> list[tuple[str, int, str, dt.date]]:
    with session_scope(engine) as s:
        rows = s.exec(select(ForumDecision, Stage.key).join(Stage, Stage.id == ForumDecision.stage_id).where(ForumDecision.forum_key == forum).order_by(ForumDecision.id))
        return [(key, d.round, d.outcome.value, d.decided_on) for d, key in rows]


def to_final_approval(engine) -> None:
    """The draft done, ASU approved the hearing draft, the hearing closed: `sluttbehandling` (3 of 4 forums) is open."""
    do(engine, "draft_complete")
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-06-19")
    do(engine, "hearing_close", reason="t")
    assert stages(engine)["sluttbehandling"] == ("active", 1)


def to_political_treatment(engine) -> None:
    to_final_approval(engine)
    for forum in ("ASU", "FU", "PSU"):
        do(engine, "forum_decision", forum=forum, outcome="approved", date="2024-11-27")
    assert stages(engine)["politisk"] == ("active", 1)


# --------------------------------------------------------------------------- forums


def test_a_different_forum_decision_is_refused_naming_the_current_one(engine):
    to_final_approval(engine)
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-11-27", case_no="12-2024")
    err = refused(engine, "forum_decision", forum="ASU", outcome="returned", date="2024-11-28")
    assert (err.code, err.field) == (ErrorCode.already_answered, "outcome")
    assert {k: err.params[k] for k in ("forum", "outcome", "date", "case_no")} == {
        "forum": "ASU", "outcome": "approved", "date": dt.date(2024, 11, 27), "case_no": "12-2024"}
    assert "--outcome: ASU has already decided 'sluttbehandling': approved 2024-11-27 (case 12-2024); to replace it, give --correct and --reason" in err.message
    assert decisions(engine)[-1] == ("sluttbehandling", 1, "approved", dt.date(2024, 11, 27))
    # the same decision again: nothing changes
    assert not do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-11-27").changed


def test_a_correction_is_recorded_from_to_and_the_current_decision_is_compared(engine):
    to_final_approval(engine)
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-11-27", case_no="12-2024")
    assert refused(engine, "forum_decision", forum="ASU", outcome="returned", date="2024-11-28", correct=True).field == "reason"
    assert refused(engine, "forum_decision", forum="ASU", outcome="returned", date="2024-11-28", reason="why").field == "reason"
    corrected = do(engine, "forum_decision", forum="ASU", outcome="returned", date="2024-11-28", correct=True, reason="feil i protokollen")
    assert corrected.changed and "(was approved 2024-11-27 (case 12-2024))" in corrected.message
    assert audit(engine, "forum.corrected") == [("approved 2024-11-27 (case 12-2024)", "returned 2024-11-28", "round 1: feil i protokollen")]
    assert [d for d in decisions(engine) if d[0] == "sluttbehandling"] == [("sluttbehandling", 1, "returned", dt.date(2024, 11, 28))]
    # the replaced decision is no longer "already recorded": it differs from the current one
    err = refused(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-11-27", case_no="12-2024")
    assert (err.code, err.params["outcome"], err.params["date"]) == (ErrorCode.already_answered, "returned", dt.date(2024, 11, 28))
    again = do(engine, "forum_decision", forum="ASU", outcome="returned", date="2024-11-28")
    assert not again.changed and again.message.startswith("already recorded")
    assert stages(engine)["sluttbehandling"] == ("active", 1)  # one of four returned: three can still approve


def test_a_forum_that_postponed_decides_later_without_a_correction(engine):
    to_final_approval(engine)
    do(engine, "forum_decision", forum="PSU", outcome="postponed", date="2024-11-27")
    assert do(engine, "forum_decision", forum="PSU", outcome="approved", date="2024-12-04").changed
    assert audit(engine, "forum.decided")[-1][:2] == ("postponed 2024-11-27", "approved 2024-12-04")
    assert refused(engine, "forum_decision", forum="PSU", outcome="returned", date="2024-12-05").code == ErrorCode.already_answered


def test_a_forum_decision_is_withdrawn(engine):
    to_final_approval(engine)
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-11-27")
    recorded = do(engine, "forum_withdraw", forum="ASU", reason="registrert på feil utvalg")
    assert recorded.changed
    assert audit(engine, "forum.withdrawn") == [("approved 2024-11-27", "withdrawn", "round 1: registrert på feil utvalg")]
    assert [d for d in decisions(engine) if d[0] == "sluttbehandling"] == []
    err = refused(engine, "forum_withdraw", forum="ASU", reason="x")
    assert (err.code, err.params["why"]) == (ErrorCode.refused, "nothing_to_withdraw")
    # the withdrawn one is no conflict any more
    assert do(engine, "forum_decision", forum="ASU", outcome="returned", date="2024-11-27").changed


def test_a_returned_stage_corrected_to_approved_goes_on(engine):
    """The rule: a correction of the decision that returned a stage, while no forum has decided
    it again, belongs to the round it was made in. If that round no longer returns the stage,
    the send-back is undone: the stage is back in that round (and closes if approved), the
    drafts it reopened are done again in their round."""
    do(engine, "draft_complete")
    do(engine, "forum_decision", forum="ASU", outcome="returned", date="2024-06-19", case_no="7-2024")
    assert stages(engine)["hoeringsforslag"] == ("pending", 2) and stages(engine)["utkast"] == ("active", 2)
    # an ordinary decision finds no open stage; only a correction reaches the earlier round
    assert refused(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-06-19").code == ErrorCode.no_open_stage
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-06-19", case_no="7-2024", correct=True, reason="protokollen sier vedtatt")
    assert stages(engine)["utkast"] == ("done", 1)
    assert stages(engine)["hoeringsforslag"] == ("done", 1)
    assert stages(engine)["hoering"] == ("active", 1)
    assert audit(engine, "forum.corrected") == [("returned 2024-06-19 (case 7-2024)", "approved 2024-06-19 (case 7-2024)", "round 1: protokollen sier vedtatt")]
    assert audit(engine, "stage.return_undone")[0][:2] == ("pending (round 2)", "active (round 1)")
    with session_scope(engine) as s:
        assert len(s.exec(select(PartyObligation).where(PartyObligation.kind == "hearing")).all()) == 3  # the hearing started


def test_a_returned_stage_corrected_after_the_draft_was_completed_again(engine):
    do(engine, "draft_complete")
    do(engine, "forum_decision", forum="ASU", outcome="returned", date="2024-06-19")
    do(engine, "draft_complete")
    assert stages(engine)["hoeringsforslag"] == ("active", 2)
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-06-19", correct=True, reason="feil utfall")
    assert stages(engine)["hoeringsforslag"] == ("done", 1) and stages(engine)["hoering"] == ("active", 1)
    assert stages(engine)["utkast"][0] == "done"


def test_withdrawing_the_decision_that_returned_a_stage_reopens_it(engine):
    do(engine, "draft_complete")
    do(engine, "forum_decision", forum="ASU", outcome="returned", date="2024-06-19")
    do(engine, "forum_withdraw", forum="ASU", reason="registrert på feil sak")
    assert stages(engine)["hoeringsforslag"] == ("active", 1) and stages(engine)["utkast"] == ("done", 1)
    assert audit(engine, "forum.withdrawn") == [("returned 2024-06-19", "withdrawn", "round 1: registrert på feil sak")]
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-06-20")
    assert stages(engine)["hoering"] == ("active", 1)


# --------------------------------------------------------------------------- parties


def receipts(engine, address: str = "postmottak@malvik.example.no") -> list[str]:
    with session_scope(engine) as s:
        return [m.key for m in s.exec(select(OutboxMessage).where(OutboxMessage.event == "decision_receipt", OutboxMessage.to_address == address).order_by(OutboxMessage.id))]


def obligation(engine, party: str = "Malvik kommune") -> tuple:
    with session_scope(engine) as s:
        who = s.exec(select(Party).where(Party.name == party)).one()
        row = s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment", PartyObligation.party_id == who.id)).one()
        return str(row.status), row.answered_on, row.meeting_date, row.case_no


def test_a_party_decision_is_corrected_with_a_reason_and_a_new_receipt(engine):
    to_political_treatment(engine)
    do(engine, "party_decision", party="Malvik kommune", outcome="approved", date="2025-02-06", case_no="PS 4/25")
    err = refused(engine, "party_decision", party="Malvik kommune", outcome="rejected", date="2025-02-06")
    assert (err.code, err.field, err.params["outcome"], err.params["date"], err.params["case_no"]) == (
        ErrorCode.already_answered, "outcome", "approved", dt.date(2025, 2, 6), "PS 4/25")
    do(engine, "party_decision", party="Malvik kommune", outcome="rejected", date="2025-02-06", case_no="PS 4/25", correct=True, reason="feil utfall")
    assert obligation(engine)[:2] == ("rejected", dt.date(2025, 2, 6))
    assert audit(engine, "party.corrected") == [("approved 2025-02-06 (case PS 4/25)", "rejected 2025-02-06 (case PS 4/25)", "feil utfall")]
    keys = receipts(engine)
    assert len(keys) == 2 and keys[0].endswith("/decision_receipt/2025-02-06") and "/decision_receipt/2025-02-06/correction-" in keys[1]
    # the replaced decision is compared with the current one: refused, not "already recorded"
    assert refused(engine, "party_decision", party="Malvik kommune", outcome="approved", date="2025-02-06").params["outcome"] == "rejected"


def test_a_party_decision_is_withdrawn_and_the_party_owes_it_again(engine):
    to_political_treatment(engine)
    do(engine, "party_schedule", party="Malvik kommune", meeting="2025-02-05")
    do(engine, "party_decision", party="Malvik kommune", outcome="approved", date="2025-02-06")
    err = refused(engine, "party_withdraw", party="Trondheim kommune", reason="x")
    assert (err.code, err.params["why"]) == (ErrorCode.refused, "nothing_to_withdraw")
    do(engine, "party_withdraw", party="Malvik kommune", reason="vedtaket gjaldt en annen sak")
    assert obligation(engine) == ("scheduled", None, dt.date(2025, 2, 5), None)
    assert audit(engine, "party.withdrawn") == [("approved 2025-02-06", "withdrawn", "vedtaket gjaldt en annen sak")]
    assert do(engine, "party_decision", party="Malvik kommune", outcome="rejected", date="2025-02-10").changed


# --------------------------------------------------------------------------- the CLI


def test_cli_help_names_the_correction_and_withdraw_options():
    for args in (("forum", "decide", "--help"), ("party", "decide", "--help")):
        result = run(*args)
        assert result.exit_code == 0 and "--correct" in result.stdout and "--reason" in result.stdout
    result = run("decision", "withdraw", "--help")
    assert result.exit_code == 0
    for option in ("--forum", "--party", "--stage", "--reason"):
        assert option in result.stdout
    assert "decision" in run("--help").stdout


def test_cli_refuses_a_conflict_and_records_a_correction(engine, offline_prefect):  # noqa: F811
    to_final_approval(engine)
    assert run("forum", "decide", SLUG, "--forum", "ASU", "--outcome", "approved", "--date", "2024-11-27").exit_code == 0
    conflict = run("forum", "decide", SLUG, "--forum", "ASU", "--outcome", "returned", "--date", "2024-11-27")
    assert conflict.exit_code == 2 and "ASU has already decided 'sluttbehandling': approved 2024-11-27" in conflict.stderr
    no_reason = run("forum", "decide", SLUG, "--forum", "ASU", "--outcome", "returned", "--date", "2024-11-27", "--correct")
    assert no_reason.exit_code == 2 and "--reason: required with --correct" in no_reason.stderr
    fixed = run("forum", "decide", SLUG, "--forum", "ASU", "--outcome", "returned", "--date", "2024-11-27", "--correct", "--reason", "feil")
    assert fixed.exit_code == 0 and "corrected: ASU returned" in fixed.stdout
    both = run("decision", "withdraw", SLUG, "--forum", "ASU", "--party", "Malvik kommune", "--reason", "x")
    assert both.exit_code == 2 and "give either --forum or --party" in both.stderr
    gone = run("decision", "withdraw", SLUG, "--forum", "ASU", "--reason", "feil utvalg")
    assert gone.exit_code == 0 and "ASU's decision on 'sluttbehandling' withdrawn (was returned 2024-11-27)" in gone.stdout
    again = run("decision", "withdraw", SLUG, "--forum", "ASU", "--reason", "feil utvalg")
    assert again.exit_code == 2 and "ASU has no decision on 'sluttbehandling' to withdraw" in again.stderr


# --------------------------------------------------------------------------- the dashboard


@pytest.fixture
def app(engine, monkeypatch):
    from avtaleflyt.dashboard import create_app

    monkeypatch.setenv("AVTALEFLYT_DATABASE_URL", str(engine.url))
    get_settings.cache_clear()
    return create_app(engine, today=lambda: TODAY, prefect_ui="http://127.0.0.1:9")


def test_the_dashboard_corrects_and_withdraws_a_party_decision(app, engine):
    to_political_treatment(engine)
    client = log_in(TestClient(app), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}").text
    assert 'id="form-party-withdraw"' in page and 'name="correct"' in page
    # no forum stage is open; the forum forms offer only the one done on its quorum, for fagrad's late decision (test_quorum)
    assert re.findall(r'<option value="([^"]+)">[^<]*\(ferdig; gjenstår: fagrad\)</option>', page) == ["sluttbehandling"] * 2
    token = form_token(page)
    form = {"csrf_token": token, "party": "Malvik kommune", "date": "2025-02-06", "case_no": ""}
    client.post(f"/revisions/{SLUG}/record/party-decision", data=form | {"outcome": "approved"})
    after = client.post(f"/revisions/{SLUG}/record/party-decision", data=form | {"outcome": "rejected"}).text  # the redirect followed
    assert "utfall: «Malvik kommune» har allerede registrert godkjent 06.02.2025" in after and obligation(engine)[0] == "approved"
    client.post(f"/revisions/{SLUG}/record/party-decision", data=form | {"outcome": "rejected", "correct": "true", "reason": "feil utfall"})
    assert obligation(engine)[0] == "rejected" and audit(engine, "party.corrected")[0][2] == "feil utfall"
    empty = client.post(f"/revisions/{SLUG}/record/party-withdraw", data={"csrf_token": token, "party": "Malvik kommune", "reason": ""}).text
    assert "begrunnelse: må fylles ut" in empty and obligation(engine)[0] == "rejected"
    client.post(f"/revisions/{SLUG}/record/party-withdraw", data={"csrf_token": token, "party": "Malvik kommune", "reason": "feil sak"})
    assert obligation(engine)[0] == "scheduled"
    nothing = client.post(f"/revisions/{SLUG}/record/party-withdraw", data={"csrf_token": token, "party": "Malvik kommune", "reason": "feil sak"}).text
    assert "«Malvik kommune» har ikke noe vedtak å trekke tilbake" in nothing


def test_the_dashboard_corrects_a_returned_forum_decision(app, engine):
    do(engine, "draft_complete")
    do(engine, "forum_decision", forum="ASU", outcome="returned", date="2024-06-19")
    client = log_in(TestClient(app), engine, Role.coordinator)
    page = client.get(f"/revisions/{SLUG}").text
    assert 'id="form-forum-decision"' in page and 'id="form-forum-withdraw"' in page and "hoeringsforslag (sendt tilbake)" in page
    form = {"csrf_token": form_token(page), "stage": "hoeringsforslag", "forum": "ASU", "outcome": "approved", "date": "2024-06-19"}
    client.post(f"/revisions/{SLUG}/record/forum-decision", data=form)
    assert stages(engine)["hoeringsforslag"] == ("pending", 2)
    client.post(f"/revisions/{SLUG}/record/forum-decision", data=form | {"correct": "true", "reason": "feil utfall"})
    assert stages(engine)["hoeringsforslag"] == ("done", 1) and stages(engine)["hoering"] == ("active", 1)
