"""The reconcile pass and the recordings against a real SQLite database (no Prefect)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlmodel import select

from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import ForumOutcome, PartyOutcome, RevisionStatus
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.rules import DomainError
from avtaleflyt.models.tables import AuditEntry, OutboxMessage, PartyObligation, Revision, Stage
from avtaleflyt.tasks import records
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision

from .plans import SMALL_PLAN

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 6, 1)


@pytest.fixture
def engine(domain_db_url):
    return engine_for(domain_db_url)


@pytest.fixture
def revision(engine):
    with session_scope(engine) as s:
        store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "tester")
    return SLUG


def reconcile(engine):
    with session_scope(engine) as s:
        return reconcile_revision(s, SLUG, today=TODAY)


def record(engine, fn, **kwargs):
    with session_scope(engine) as s:
        return fn(s, SLUG, actor="tester", **kwargs)


def stage_status(engine) -> dict[str, tuple[str, int]]:
    with session_scope(engine) as s:
        return {st.key: (st.status.value, st.round) for st in s.exec(select(Stage).order_by(Stage.position))}


def test_first_pass_starts_the_root_and_waits(engine, revision):
    result = reconcile(engine)
    assert stage_status(engine)["utkast"] == ("active", 1)
    assert stage_status(engine)["hoeringsforslag"] == ("pending", 1)
    assert result.awaiting == "AwaitingDraft"
    assert not result.completed


def test_a_pass_over_an_unchanged_database_changes_nothing(engine, revision):
    first = reconcile(engine)
    second = reconcile(engine)
    assert second.changes == []
    assert second.seq == first.seq
    with session_scope(engine) as s:
        entries = s.exec(select(AuditEntry)).all()
    assert len(entries) == 1 + len(first.changes)


def test_starting_a_stored_revision_twice_is_refused(engine, revision):
    with pytest.raises(DomainError, match="already exists"):
        with session_scope(engine) as s:
            store_revision(s, parse_plan(SMALL_PLAN), SMALL_PLAN, "tester")


def test_whole_revision_with_return_quorum_and_rejection(engine, revision):
    reconcile(engine)
    record(engine, records.complete_draft, stage_key=None)
    reconcile(engine)
    assert stage_status(engine)["hoeringsforslag"] == ("active", 1)

    record(engine, records.record_forum_decision, forum="ASU", outcome=ForumOutcome.returned, on=dt.date(2024, 6, 19), today=TODAY)
    result = reconcile(engine)
    assert stage_status(engine)["utkast"] == ("active", 2)
    assert stage_status(engine)["hoeringsforslag"] == ("pending", 2)
    assert result.awaiting == "AwaitingDraft"
    with pytest.raises(DomainError, match="no forum_approval stage is open for forum 'ASU'"):
        record(engine, records.record_forum_decision, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 6, 20), today=TODAY)

    record(engine, records.complete_draft, stage_key="utkast")
    reconcile(engine)
    assert stage_status(engine)["hoeringsforslag"] == ("active", 2)
    record(engine, records.record_forum_decision, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 6, 26), today=TODAY, case_no="09-2024")
    reconcile(engine)
    assert stage_status(engine)["hoering"] == ("active", 1)
    with session_scope(engine) as s:
        assert len(s.exec(select(PartyObligation).where(PartyObligation.kind == "hearing")).all()) == 3

    for party in ("St. Olavs hospital HF", "trondheim kommune", "938726027"):
        record(engine, records.record_hearing_response, party=party, on=dt.date(2024, 9, 1), today=TODAY)
    reconcile(engine)
    assert stage_status(engine)["hoering"] == ("done", 1)

    # 3 of 4: one returned does not send it back while three can still approve
    record(engine, records.record_forum_decision, forum="PSU", outcome=ForumOutcome.returned, on=dt.date(2024, 11, 27), today=TODAY)
    reconcile(engine)
    assert stage_status(engine)["sluttbehandling"] == ("active", 1)
    for forum in ("ASU", "FU"):
        record(engine, records.record_forum_decision, forum=forum, outcome=ForumOutcome.approved, on=dt.date(2024, 11, 27), today=TODAY)
    reconcile(engine)
    assert stage_status(engine)["sluttbehandling"] == ("active", 1)
    record(engine, records.record_forum_decision, forum="fagrad", outcome=ForumOutcome.approved_with_changes, on=dt.date(2024, 11, 28), today=TODAY)
    result = reconcile(engine)
    assert stage_status(engine)["sluttbehandling"] == ("done", 1)
    assert stage_status(engine)["politisk"] == ("active", 1)
    assert result.awaiting == "AwaitingPoliticalTreatment"

    record(engine, records.schedule_party, party="Malvik kommune", meeting=dt.date(2025, 2, 13))
    record(engine, records.record_party_decision, party="Malvik kommune", outcome=PartyOutcome.rejected, on=dt.date(2025, 2, 13), today=TODAY)
    record(engine, records.record_party_decision, party="Trondheim kommune", outcome=PartyOutcome.approved, on=dt.date(2025, 2, 20), today=TODAY, case_no="12/25")
    result = reconcile(engine)
    assert not result.completed
    record(engine, records.record_party_decision, party="St. Olavs hospital HF", outcome=PartyOutcome.approved_with_reservations, on=dt.date(2025, 2, 25), today=TODAY)
    result = reconcile(engine)
    assert result.completed
    with session_scope(engine) as s:
        assert s.exec(select(Revision)).one().status == RevisionStatus.completed
        treatments = {t.party_id: t.status for t in s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment"))}
    assert sorted(treatments.values()) == ["approved", "approved_with_reservations", "rejected"]
    assert {status for status, _ in stage_status(engine).values()} == {"done"}

    with session_scope(engine) as s:
        sent = [(m.event.value, m.to_address, m.language.value) for m in s.exec(select(OutboxMessage).order_by(OutboxMessage.id))]
        malvik_request = s.exec(select(OutboxMessage).where(OutboxMessage.event == "decision_request", OutboxMessage.to_address == "postmottak@malvik.example.no")).one()
    count = Counter(event for event, _, _ in sent)
    assert count == {
        "hearing_invitation": 3, "decision_request": 3, "decision_receipt": 3,
        "stage_completed": 6, "revision_completed": 1,
    }  # the draft completes twice (returned once); no forum has an email here: no meeting notices
    assert ("hearing_invitation", "postmottak@malvik.example.no", "nn") in sent
    assert ("hearing_invitation", "postmottak@trondheim.example.no", "nb") in sent
    assert "Framlegg til vedtak" in malvik_request.body_text
    assert "Kommunestyret godkjenner revidert overordna samarbeidsavtale med tilhøyrande retningslinjer mellom Malvik kommune" in malvik_request.body_text
    # the deadline, Saturday 1 March 2025, as the letter writes it: the Friday before
    assert malvik_request.ics and "DTSTART;VALUE=DATE:20250228" in malvik_request.ics


def test_recordings_are_idempotent_and_corrections_refused(engine, revision):
    reconcile(engine)
    record(engine, records.complete_draft, stage_key=None)
    reconcile(engine)
    with pytest.raises(DomainError, match="--stage: 'utkast' is already done"):
        record(engine, records.complete_draft, stage_key="utkast")
    asu = dict(forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 6, 19), today=TODAY)
    assert record(engine, records.record_forum_decision, **asu).changed
    repeat = record(engine, records.record_forum_decision, **asu)
    assert not repeat.changed and repeat.message.startswith("already recorded")
    reconcile(engine)
    record(engine, records.close_hearing, stage_key=None, reason="test")
    reconcile(engine)
    for forum in ("ASU", "FU", "PSU"):
        record(engine, records.record_forum_decision, forum=forum, outcome=ForumOutcome.approved, on=dt.date(2024, 11, 27), today=TODAY)
    reconcile(engine)
    decision = dict(party="Malvik kommune", outcome=PartyOutcome.approved, on=dt.date(2025, 2, 13), today=TODAY)
    assert record(engine, records.record_party_decision, **decision).changed
    assert not record(engine, records.record_party_decision, **decision).changed
    with pytest.raises(DomainError, match="--outcome: Malvik kommune has already decided: approved on 2025-02-13"):
        record(engine, records.record_party_decision, **{**decision, "outcome": PartyOutcome.rejected})
    with pytest.raises(DomainError, match="--meeting: Malvik kommune has already decided"):
        record(engine, records.schedule_party, party="Malvik kommune", meeting=dt.date(2025, 2, 20))


def test_decision_dated_in_the_future_is_refused(engine, revision):
    reconcile(engine)
    record(engine, records.complete_draft, stage_key=None)
    reconcile(engine)
    with pytest.raises(DomainError, match="--date: 2025-06-02 is after today"):
        record(engine, records.record_forum_decision, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2025, 6, 2), today=TODAY)


def test_refused_recording_writes_nothing(engine, revision):
    reconcile(engine)
    with pytest.raises(DomainError, match="no political_treatment stage is open \\(not yet started: politisk\\)"):
        record(engine, records.schedule_party, party="Trondheim kommune", meeting=dt.date(2025, 2, 1))
    record(engine, records.complete_draft, stage_key=None)
    reconcile(engine)
    record(engine, records.record_forum_decision, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 6, 19), today=TODAY)
    reconcile(engine)
    with session_scope(engine) as s:
        seq_before = s.exec(select(Revision)).one().seq
    with pytest.raises(DomainError, match="--party: no party named 'Trondhjem kommune' in this revision; did you mean 'Trondheim kommune'\\?$"):
        record(engine, records.record_hearing_response, party="Trondhjem kommune", on=dt.date(2024, 8, 1), today=TODAY)
    with session_scope(engine) as s:
        assert s.exec(select(Revision)).one().seq == seq_before
