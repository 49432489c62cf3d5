"""No letter whose reason is gone: a pending reminder, overdue notice or decision request is
cancelled, with the reason, right before it would be sent, when the stage closed, the party
answered or left, or the deadline it names moved. Through a real SMTP server, on both databases.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from avtaleflyt.cli import app, common
from avtaleflyt.db import get_engine, session_scope
from avtaleflyt.models.enums import EmailEvent, ForumOutcome, OutboxStatus, PartyOutcome, StageStatus
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.stages import rules_for
from avtaleflyt.models.tables import OutboxMessage, Party, PartyObligation, Stage
from avtaleflyt.settings import get_settings
from avtaleflyt.tasks import outbox, records
from avtaleflyt.tasks.outbox.reasons import letter_deadline, reason_gone
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.shift import apply_shift
from avtaleflyt.tasks.store import store_revision
from avtaleflyt.tasks.sweep import run_sweep

from .plans import SMALL_PLAN, drive_to_political_treatment

SLUG = "testrevisjon-2024"
D = dt.date
MALVIK = "Malvik kommune"


def send() -> outbox.SendReport:
    return outbox.send_pending(get_engine(), get_settings())


def rows(event: EmailEvent) -> dict[str, OutboxMessage]:
    """The letters of `event`, by the party's name."""
    with session_scope() as s:
        names = {p.id: p.name for p in s.exec(select(Party))}
        return {names[m.party_id]: m for m in s.exec(select(OutboxMessage).where(OutboxMessage.event == event))}


def enqueue_reminders(as_of: dt.date) -> None:
    report = run_sweep(as_of, send=False)
    assert not report.errors, report.errors


def drive_to_hearing(today: dt.date) -> None:
    with session_scope() as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "t")
    steps = [
        lambda s: None,
        lambda s: records.complete_draft(s, SLUG, stage_key=None, actor="t"),
        lambda s: records.record_forum_decision(s, SLUG, forum="ASU", outcome=ForumOutcome.approved, on=D(2024, 6, 19), today=today, actor="t"),
    ]
    for step in steps:
        with session_scope() as s:
            step(s)
        with session_scope() as s:
            reconcile_revision(s, SLUG, today=today)


@pytest.mark.parametrize("reconciled", [False, True], ids=["before-the-run-reconciles", "after"])
def test_a_reminder_for_a_hearing_closed_before_the_sender_runs_is_cancelled_not_sent(mail, reconciled, monkeypatch):
    drive_to_hearing(D(2024, 6, 20))
    assert send().failed == 0  # the invitations
    enqueue_reminders(D(2024, 9, 7))  # 3 days before the deadline
    pending = rows(EmailEvent.hearing_reminder)
    assert len(pending) == 3 and {m.status for m in pending.values()} == {OutboxStatus.pending}

    with session_scope() as s:
        records.close_hearing(s, SLUG, stage_key=None, reason="nok svar", actor="t")
    if reconciled:
        with session_scope() as s:
            reconcile_revision(s, SLUG, today=D(2024, 9, 7))

    report = send()
    assert report.cancelled == 3 and report.failed == 0 and report.stopped is None
    after = rows(EmailEvent.hearing_reminder)
    assert {m.status for m in after.values()} == {OutboxStatus.cancelled}
    assert all("stage 'hoering' is closed: nok svar" in m.cancelled_reason for m in after.values())
    assert all(m.sent_at is None for m in after.values())
    reminder_ids = {outbox.message_id(m.key) for m in after.values()}
    assert reminder_ids.isdisjoint(r.message_id for r in mail.handler.received)
    assert send().attempted == 0  # never picked up again

    monkeypatch.setattr(common.out, "_console", None)  # made anew, as wide as COLUMNS below (not as an earlier test's)
    shown = CliRunner().invoke(app, ["mail", "outbox", "--status", "cancelled"], env={"COLUMNS": "400"})
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("cancelled") >= 3 and "is closed: nok svar" in shown.output


def test_a_decision_reminder_after_the_party_decided_is_cancelled_and_the_others_are_sent(mail):
    drive_to_political_treatment(today=D(2025, 2, 1))
    assert send().failed == 0
    enqueue_reminders(D(2025, 2, 26))  # 3 days before 2025-03-01
    assert set(rows(EmailEvent.decision_reminder)) == {"St. Olavs hospital HF", "Trondheim kommune", MALVIK}
    before = len(mail.handler.received)

    with session_scope() as s:
        records.record_party_decision(s, SLUG, party=MALVIK, outcome=PartyOutcome.approved, on=D(2025, 2, 26), today=D(2025, 2, 26), actor="t")

    report = send()
    assert (report.sent, report.cancelled, report.failed) == (3, 1, 0)  # two reminders and Malvik's receipt
    after = rows(EmailEvent.decision_reminder)
    assert after[MALVIK].status == OutboxStatus.cancelled
    assert after[MALVIK].cancelled_reason == "Malvik kommune has answered (approved on 2025-02-26)"
    assert {after[p].status for p in after if p != MALVIK} == {OutboxStatus.sent}  # still due: sent
    to = [r.rcpt_tos for r in mail.handler.received[before:]]
    assert (after[MALVIK].to_address,) in to  # the receipt went to Malvik ...
    assert rows(EmailEvent.decision_receipt)[MALVIK].status == OutboxStatus.sent
    assert sum(t == (after[MALVIK].to_address,) for t in to) == 1  # ... and the reminder did not


@pytest.mark.parametrize("as_of, event", [(D(2025, 2, 26), EmailEvent.decision_reminder), (D(2025, 3, 2), EmailEvent.overdue_notice)])
def test_after_a_plan_shift_moved_the_deadline_the_old_letters_are_cancelled(mail, as_of, event):
    drive_to_political_treatment(today=D(2025, 2, 1))
    assert send().failed == 0
    enqueue_reminders(as_of)
    assert len(rows(event)) == 3

    with session_scope() as s:
        apply_shift(s, SLUG, SMALL_PLAN.replace("deadline: 2025-03-01", "deadline: 2025-04-01"), actor="t", reason="nytt møte", today=as_of)

    report = send()
    assert report.cancelled == 3 and report.failed == 0
    after = rows(event)
    assert {m.status for m in after.values()} == {OutboxStatus.cancelled}
    assert {m.cancelled_reason for m in after.values()} == {"the deadline moved: 2025-03-01 is now 2025-04-01"}
    assert {m.status for m in rows(EmailEvent.deadline_moved).values()} == {OutboxStatus.sent}  # the news goes out


def test_a_reminder_to_a_party_that_has_left_is_cancelled(mail):
    drive_to_political_treatment(today=D(2025, 2, 1))
    assert send().failed == 0
    enqueue_reminders(D(2025, 2, 26))
    line = next(line for line in SMALL_PLAN.splitlines(keepends=True) if f"name: {MALVIK}," in line)
    with session_scope() as s:
        apply_shift(s, SLUG, SMALL_PLAN.replace(line, ""), actor="t", reason="sammenslåing", today=D(2025, 2, 26))

    report = send()
    after = rows(EmailEvent.decision_reminder)
    assert after[MALVIK].status == OutboxStatus.cancelled
    assert after[MALVIK].cancelled_reason == "Malvik kommune has left the revision (2025-02-26)"
    assert {after[p].status for p in after if p != MALVIK} == {OutboxStatus.sent}
    assert report.cancelled == 1


# --- the rule itself, pure ------------------------------------------------------------------


def _stage(kind: str, **kw) -> Stage:
    return Stage(**{"revision_id": 1, "position": 0, "key": "s", "kind": kind, "status": StageStatus.active, "deadline": "2025-03-01", **kw})


def test_the_rule_names_each_reason_and_keeps_what_is_still_due():
    treatment, hearing = rules_for("political_treatment"), rules_for("hearing")
    party, left = Party(id=1, name="Hitra kommune", active=True), Party(id=1, name="Hitra kommune", active=False, left_on=D(2025, 1, 2))
    owes = PartyObligation(stage_id=1, party_id=1, kind="political_treatment", status="scheduled")
    decided = PartyObligation(stage_id=1, party_id=1, kind="political_treatment", status="rejected", answered_on=D(2025, 2, 2))
    deadline = D(2025, 3, 1)
    gone = treatment.letter_reason_gone
    assert gone(EmailEvent.decision_reminder, _stage("political_treatment"), owes, party, deadline) is None
    assert gone(EmailEvent.overdue_notice, _stage("political_treatment"), owes, party, None) is None  # unknown: kept
    assert gone(EmailEvent.decision_reminder, _stage("political_treatment"), decided, party, deadline) == "Hitra kommune has answered (rejected on 2025-02-02)"
    assert gone(EmailEvent.decision_reminder, _stage("political_treatment"), owes, left, deadline) == "Hitra kommune has left the revision (2025-01-02)"
    assert gone(EmailEvent.decision_reminder, _stage("political_treatment", status=StageStatus.done), owes, party, deadline) == "stage 's' is closed (done)"
    assert gone(EmailEvent.decision_reminder, _stage("political_treatment"), None, party, deadline) == "Hitra kommune owes stage 's' nothing"
    assert gone(EmailEvent.overdue_notice, _stage("political_treatment"), owes, party, D(2025, 2, 1)) == "the deadline moved: 2025-02-01 is now 2025-03-01"
    # A decision request carries the documents: a moved deadline does not drop it (the shift's letter names the new one).
    assert gone(EmailEvent.decision_request, _stage("political_treatment"), owes, party, D(2025, 2, 1)) is None
    assert gone(EmailEvent.decision_request, _stage("political_treatment"), decided, party, deadline) is not None
    # Receipts and the like are never dropped.
    assert gone(EmailEvent.decision_receipt, _stage("political_treatment", status=StageStatus.done), decided, left, None) is None
    # A hearing's invitation and closing letter are dropped only for a party that left.
    invited = PartyObligation(stage_id=1, party_id=1, kind="hearing", status="invited")
    closed = _stage("hearing", closed_reason="fristen er ute")
    assert hearing.letter_reason_gone(EmailEvent.hearing_deadline_passed, closed, invited, party, deadline) is None
    assert hearing.letter_reason_gone(EmailEvent.hearing_invitation, _stage("hearing"), invited, left, deadline) is not None
    assert hearing.letter_reason_gone(EmailEvent.hearing_reminder, closed, invited, party, deadline) == "stage 's' is closed: fristen er ute"


def test_letters_without_a_stage_or_a_party_are_never_cancelled_and_read_nothing():
    digest = OutboxMessage(key="r/weekly_digest/2025-02-24", revision_id=1, event=EmailEvent.weekly_digest, language="nb",
                           to_name="S", to_address="s@example.no", subject="x", body_text="x", body_html="x")
    to_forum = OutboxMessage(key="r/s/forum_meeting_notice", revision_id=1, stage_key="s", event=EmailEvent.overdue_notice,
                             language="nb", to_name="ASU", to_address="asu@example.no", subject="x", body_text="x", body_html="x")
    assert reason_gone(None, digest) is None  # no engine: it would fail if it read anything
    assert reason_gone(None, to_forum) is None


def test_an_overdue_notice_names_its_deadline_in_its_key():
    row = OutboxMessage(key="r/politisk/7/overdue_notice/2025-03-01/#2", event=EmailEvent.overdue_notice, due=None, language="nb",
                        to_name="x", to_address="x@example.no", subject="x", body_text="x", body_html="x")
    assert letter_deadline(row) == D(2025, 3, 1)
    row.due = D(2025, 4, 1)
    assert letter_deadline(row) == D(2025, 4, 1)
