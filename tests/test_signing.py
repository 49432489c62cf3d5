"""The signing stage kind (issue 13): only the parties that approved sign, with date and signer; the
agreement is in force for a party from its signing date; a rejection opens a follow-up item.

Through actions.execute on both databases (the reconcile pass in the command's transaction), and
the pure rule (models/in_force.py) on its own.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlmodel import select

from avtaleflyt import actions
from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.commands import parse_command
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.in_force import Standing, in_force
from avtaleflyt.models.plan import parse_plan
from avtaleflyt.models.stages import StageFacts
from avtaleflyt.models.tables import AuditEntry, FollowUp, OutboxMessage, Party, PartyObligation, Revision, Stage
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.store import store_revision
from avtaleflyt.tasks.sweep import sweep_revision

from .plans import SMALL_PLAN

SLUG = "testrevisjon-2024"
TODAY = dt.date(2025, 5, 10)
SIGNING_PLAN = SMALL_PLAN.rstrip("\n") + "\n  - {key: signering, kind: signing, deadline: 2025-06-30}\n"
MALVIK = "Malvik kommune"  # nynorsk; rejects


class FixedClock:
    def now(self) -> dt.datetime:
        return dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.timezone.utc)

    def today(self) -> dt.date:
        return TODAY


def make_engine(url: str, plan: str):  # noqa: ANN201
    engine = engine_for(url)
    with session_scope(engine) as s:
        store_revision(s, parse_plan(plan), plan, "t")
    with session_scope(engine) as s:
        reconcile_revision(s, SLUG, today=TODAY)
    return engine


@pytest.fixture
def engine(domain_db_url):
    return make_engine(domain_db_url, SIGNING_PLAN)


def do(engine, action: str, **fields):  # noqa: ANN201
    return actions.execute(parse_command({"action": action, "revision": SLUG, **fields}), actor="kari", clock=FixedClock(), engine=engine)[0]


def refused(engine, action: str, **fields) -> DomainError:
    before = seq(engine)
    with pytest.raises(DomainError) as caught:
        do(engine, action, **fields)
    assert seq(engine) == before, "a refusal writes nothing"
    return caught.value


def seq(engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(Revision.seq)).one()


def stages(engine) -> dict[str, str]:
    with session_scope(engine) as s:
        return {st.key: st.status.value for st in s.exec(select(Stage).order_by(Stage.position))}


def letters(engine, event: str) -> list[OutboxMessage]:
    with session_scope(engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.id)))


def to_political_treatment(engine) -> None:
    do(engine, "draft_complete")
    do(engine, "forum_decision", forum="ASU", outcome="approved", date="2024-06-19")
    do(engine, "hearing_close", reason="t")
    for forum in ("ASU", "FU", "PSU"):
        do(engine, "forum_decision", forum=forum, outcome="approved", date="2024-11-27")
    assert stages(engine)["politisk"] == "active"


def decide_all(engine) -> None:
    """Malvik rejects; the two others approve (the health trust with reservations)."""
    do(engine, "party_decision", party=MALVIK, outcome="rejected", date="2025-02-13", case_no="PS 12/25")
    do(engine, "party_decision", party="Trondheim kommune", outcome="approved", date="2025-02-20")
    do(engine, "party_decision", party="St. Olavs hospital HF", outcome="approved_with_reservations", date="2025-02-26")


def test_only_the_parties_that_approved_sign_and_the_agreement_is_in_force_from_their_signing(engine):
    to_political_treatment(engine)
    decide_all(engine)
    assert stages(engine)["politisk"] == "done" and stages(engine)["signering"] == "active"
    with session_scope(engine) as s:
        owing = {o.party_id for o in s.exec(select(PartyObligation).where(PartyObligation.kind == "signing"))}
        assert len(owing) == 2
        assert s.exec(select(Revision.status)).one() == "active"
    requests = letters(engine, "signing_request")
    assert sorted(m.to_name for m in requests) == ["St. Olavs hospital HF", "Trondheim kommune"]
    assert all("Frist for signering: måndag 30. juni 2025" in m.body_text or "Frist for signering: mandag 30. juni 2025" in m.body_text for m in requests)
    assert all("Overordnet samarbeidsavtale" in m.body_text and m.ics for m in requests)

    err = refused(engine, "party_signing", party=MALVIK, date="2025-05-02", signer="Ola")
    assert (err.code, err.field) == (ErrorCode.party_not_owing, "party")
    assert err.message == f"--party: {MALVIK} owes no signature in 'signering' (only the parties that approved the agreement sign)"
    assert refused(engine, "party_signing", party="Trondheim kommune", date="2025-05-11", signer="Rita").code == ErrorCode.future_date

    do(engine, "party_signing", party="Trondheim kommune", date="2025-05-02", signer="Rita Ottervik", signer_title="ordfører")
    assert stages(engine)["signering"] == "active"
    assert not do(engine, "party_signing", party="Trondheim kommune", date="2025-05-02", signer="Rita Ottervik").changed  # the same again
    err = refused(engine, "party_signing", party="Trondheim kommune", date="2025-05-03", signer="Rita Ottervik")
    assert err.code == ErrorCode.already_answered
    (receipt,) = letters(engine, "signing_receipt")
    assert "Avtalen er i kraft for Trondheim kommune fra fredag 2. mai 2025." in receipt.body_text
    assert "Rita Ottervik, ordfører" in receipt.body_text

    do(engine, "party_signing", party="883974832", date="2025-05-06", signer="Nils Kvernmo", signer_title="administrerende direktør")
    assert set(stages(engine).values()) == {"done"}
    with session_scope(engine) as s:
        assert s.exec(select(Revision.status)).one() == "completed"
        signers = {(o.signer, o.signer_title, o.answered_on) for o in s.exec(select(PartyObligation).where(PartyObligation.kind == "signing"))}
    assert signers == {("Rita Ottervik", "ordfører", dt.date(2025, 5, 2)), ("Nils Kvernmo", "administrerende direktør", dt.date(2025, 5, 6))}

    (done,) = letters(engine, "revision_completed")
    assert "Avtalen er i kraft for 2 av 3 parter; Malvik kommune vedtok ikke avtalen." in done.body_text
    assert "Åpne oppfølgingspunkter: Malvik kommune." in done.body_text
    (stage_done,) = [m for m in letters(engine, "stage_completed") if m.stage_key == "signering"]
    assert "Signering: 2 av 2 parter signert." in stage_done.body_text


def test_the_standing_of_each_party_is_read_from_the_database(engine):
    from avtaleflyt.tasks.in_force import in_force_by_slug

    to_political_treatment(engine)
    decide_all(engine)
    do(engine, "party_signing", party="Trondheim kommune", date="2025-05-02", signer="Rita Ottervik")
    with session_scope(engine) as s:
        _, standing = in_force_by_slug(s, SLUG)
    by_party = {p.party: (p.standing, p.since) for p in standing.parties}
    assert by_party == {
        MALVIK: (Standing.rejected, dt.date(2025, 2, 13)),
        "St. Olavs hospital HF": (Standing.pending, None),
        "Trondheim kommune": (Standing.in_force, dt.date(2025, 5, 2)),
    }
    assert standing.summary("nb") == "i kraft for 1 av 3 parter; Malvik kommune vedtok ikke avtalen; St. Olavs hospital HF har ikke signert ennå"
    assert standing.summary("nn") == "i kraft for 1 av 3 partar; Malvik kommune vedtok ikkje avtalen; St. Olavs hospital HF har ikkje signert enno"


def test_a_signature_is_corrected_or_withdrawn(engine):
    to_political_treatment(engine)
    decide_all(engine)
    do(engine, "party_signing", party="Trondheim kommune", date="2025-05-02", signer="Rita")
    assert refused(engine, "party_signing", party="Trondheim kommune", date="2025-05-03", signer="Rita", correct=True).field == "reason"
    fixed = do(engine, "party_signing", party="Trondheim kommune", date="2025-05-03", signer="Rita Ottervik", correct=True, reason="feil dato")
    assert "(was signed 2025-05-02 by Rita)" in fixed.message
    assert len(letters(engine, "signing_receipt")) == 2  # the correction has its own receipt
    do(engine, "signing_withdraw", party="Trondheim kommune", reason="signert av feil person")
    with session_scope(engine) as s:
        row = s.exec(select(PartyObligation).where(PartyObligation.kind == "signing", PartyObligation.signer.is_not(None))).first()
        log = [(e.action, e.from_value, e.to_value) for e in s.exec(select(AuditEntry).where(AuditEntry.action.startswith("party.sign")).order_by(AuditEntry.id))]
    assert row is None
    assert log == [
        ("party.signed", "sent", "signed 2025-05-02 by Rita"),
        ("party.signing_corrected", "signed 2025-05-02 by Rita", "signed 2025-05-03 by Rita Ottervik"),
        ("party.signing_withdrawn", "signed 2025-05-03 by Rita Ottervik", "withdrawn"),
    ]
    assert refused(engine, "signing_withdraw", party="Trondheim kommune", reason="x").params["why"] == "nothing_to_withdraw"


def test_the_sweep_reminds_the_parties_that_have_not_signed(engine):
    to_political_treatment(engine)
    decide_all(engine)
    do(engine, "party_signing", party="Trondheim kommune", date="2025-05-02", signer="Rita")
    for day in (dt.date(2025, 6, 16), dt.date(2025, 7, 1)):  # 14 days before, then the day after the deadline
        with session_scope(engine) as s:
            sweep_revision(s, SLUG, day)
    reminders = letters(engine, "signing_reminder")
    assert [m.to_name for m in reminders] == ["St. Olavs hospital HF"] * 2
    assert "går ut om 14 dager" in reminders[0].body_text
    assert "Fristen for signering gikk ut mandag 30. juni 2025, for 1 dag siden" in reminders[1].body_text


def test_a_rejection_opens_a_follow_up_item_until_a_coordinator_closes_it(engine):
    to_political_treatment(engine)
    do(engine, "party_decision", party=MALVIK, outcome="rejected", date="2025-02-13")
    do(engine, "party_decision", party=MALVIK, outcome="rejected", date="2025-02-13")  # the same again: still one item
    with session_scope(engine) as s:
        (item,) = s.exec(select(FollowUp).where(FollowUp.party_id.is_not(None))).all()  # fagrad's item: tests/test_quorum.py
        assert (item.reason, item.opened_on, item.closed_at) == ("rejected", TODAY, None)
    # corrected to an approval: the item recorded by mistake is dropped; rejected again: a new one
    do(engine, "party_decision", party=MALVIK, outcome="approved", date="2025-02-13", correct=True, reason="feil i protokollen")
    with session_scope(engine) as s:
        assert s.exec(select(FollowUp).where(FollowUp.party_id.is_not(None))).all() == []
    do(engine, "party_decision", party=MALVIK, outcome="rejected", date="2025-02-14", correct=True, reason="likevel avvist")
    with session_scope(engine) as s:
        (item,) = s.exec(select(FollowUp).where(FollowUp.party_id.is_not(None))).all()  # fagrad's item: tests/test_quorum.py
    assert refused(engine, "followup_close", id=item.id + 100, note="x").field == "id"
    closed = do(engine, "followup_close", id=item.id, note="dialogmøte 12.03.2025")
    assert closed.message == f"follow-up {item.id} closed (Malvik kommune)"
    err = refused(engine, "followup_close", id=item.id)
    assert err.field == "id" and "was closed by kari" in err.message
    do(engine, "party_decision", party=MALVIK, outcome="rejected", date="2025-02-14")  # unchanged: not opened again
    with session_scope(engine) as s:
        (item,) = s.exec(select(FollowUp).where(FollowUp.party_id.is_not(None))).all()  # fagrad's item: tests/test_quorum.py
        assert (item.closed_by, item.note) == ("kari", "dialogmøte 12.03.2025")
        actions_logged = [e.action for e in s.exec(select(AuditEntry).where(AuditEntry.action.startswith("followup."), AuditEntry.subject.contains("party:")).order_by(AuditEntry.id))]
    assert actions_logged == ["followup.opened", "followup.dropped", "followup.opened", "followup.closed"]


def test_without_a_signing_stage_the_agreement_is_in_force_from_the_approving_decision(domain_db_url):
    from avtaleflyt.tasks.in_force import in_force_by_slug

    engine = make_engine(domain_db_url, SMALL_PLAN)
    to_political_treatment(engine)
    decide_all(engine)
    with session_scope(engine) as s:
        _, standing = in_force_by_slug(s, SLUG)
    assert {p.party: p.since for p in standing.parties if p.standing == Standing.in_force} == {
        "Trondheim kommune": dt.date(2025, 2, 20), "St. Olavs hospital HF": dt.date(2025, 2, 26),
    }
    (done,) = letters(engine, "revision_completed")
    assert "Avtalen er i kraft for 2 av 3 parter; Malvik kommune vedtok ikke avtalen." in done.body_text


# --------------------------------------------------------------------------- the pure rule


def _stage(id_: int, key: str, kind: str, position: int) -> SimpleNamespace:
    return SimpleNamespace(id=id_, key=key, kind=kind, position=position)


def _row(party_id: int, status: str, on: dt.date | None = None) -> SimpleNamespace:
    return SimpleNamespace(party_id=party_id, status=status, answered_on=on)


def test_the_rule_names_who_rejected_and_who_still_owes_a_signature():
    from avtaleflyt.models.enums import StageKind

    parties = [SimpleNamespace(id=i, name=n, active=a) for i, n, a in ((1, "Kvam herad", True), (2, "Hitra kommune", True), (3, "Osen kommune", True), (4, "Gammel kommune", False))]
    stages = [_stage(10, "politisk", StageKind("political_treatment"), 5), _stage(11, "signering", StageKind("signing"), 6)]
    facts = {
        10: StageFacts([_row(1, "rejected", dt.date(2025, 2, 1)), _row(2, "approved", dt.date(2025, 2, 2)), _row(3, "approved", dt.date(2025, 2, 3))]),
        11: StageFacts([_row(2, "signed", dt.date(2025, 5, 2)), _row(3, "sent")]),
    }
    result = in_force(stages, facts, parties)
    assert (result.count, result.of) == (1, 3)  # a party that left is not counted
    assert result.summary("nb") == "i kraft for 1 av 3 parter; Kvam herad vedtok ikke avtalen; Osen kommune har ikke signert ennå"
    # no signing stage: the approving decision puts it in force
    result = in_force(stages[:1], facts, parties)
    assert result.summary("nn") == "i kraft for 2 av 3 partar; Kvam herad vedtok ikkje avtalen"
    assert [p.since for p in result.parties if p.standing == Standing.in_force] == [dt.date(2025, 2, 2), dt.date(2025, 2, 3)]
    two = in_force(stages[:1], {10: StageFacts([_row(1, "rejected"), _row(2, "rejected"), _row(3, "approved")])}, parties)
    assert two.summary("nb") == "i kraft for 1 av 3 parter; Hitra kommune og Kvam herad vedtok ikke avtalen"  # by name


def leave(engine, name: str, on: dt.date) -> None:
    with session_scope(engine) as s:
        party = s.exec(select(Party).where(Party.name == name)).one()
        party.active, party.left_on = False, on


def test_a_party_that_has_left_can_neither_decide_nor_sign_and_is_named(engine):
    """Political treatment and signing refuse a party that has left alike (tasks/stages/base.owed_by)."""
    to_political_treatment(engine)
    leave(engine, MALVIK, dt.date(2025, 2, 1))
    err = refused(engine, "party_decision", party=MALVIK, outcome="rejected", date="2025-02-13")
    assert (err.code, err.field, err.params["left_on"]) == (ErrorCode.party_left, "party", dt.date(2025, 2, 1))
    assert err.message == f"--party: {MALVIK} left the revision on 2025-02-01; a party that has left cannot decide or be scheduled"
    do(engine, "party_decision", party="Trondheim kommune", outcome="approved", date="2025-02-20")
    do(engine, "party_decision", party="St. Olavs hospital HF", outcome="approved", date="2025-02-26")
    assert stages(engine)["signering"] == "active"
    leave(engine, "Trondheim kommune", dt.date(2025, 5, 1))
    err = refused(engine, "party_signing", party="Trondheim kommune", date="2025-05-02", signer="Rita Ottervik")
    assert (err.code, err.field) == (ErrorCode.party_left, "party")
    assert err.message == "--party: Trondheim kommune left the revision on 2025-05-01; a party that has left cannot sign"
