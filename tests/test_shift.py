"""`plan shift` against a real database: the reference example's plan moves, parties come and go.

No Prefect here: the shift is a database change like any recording, and the run is
nudged afterwards (see test_cli's shift test for that part).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlmodel import func, select

from avtaleflyt.db import engine_for, session_scope
from avtaleflyt.models.enums import EmailEvent, ForumOutcome, PartyOutcome, StageStatus
from avtaleflyt.models.plan import PlanInvalid, parse_plan
from avtaleflyt.models.shift import ShiftRefused, shift_plan
from avtaleflyt.models.tables import AuditEntry, Milestone, OutboxMessage, Party, PartyObligation, PlanVersion, Revision, Stage
from avtaleflyt.tasks import records
from avtaleflyt.tasks.reconcile import reconcile_revision
from avtaleflyt.tasks.shift import apply_shift, preview_shift
from avtaleflyt.tasks.store import store_revision
from avtaleflyt.tasks.sweep import run_sweep

from .plans import SMALL_PLAN, drive_to_political_treatment

EXAMPLE = (Path(__file__).resolve().parent.parent / "examples" / "sondre-trondelag-2024.yaml").read_text()
SLUG = "revidering-av-samarbeidsavtalen-2024"
ASU_MEETING = "    meeting: 2024-09-25\n"  # hoeringsforslag-ovrige: ASU adopts the other guidelines' hearing draft
RESPONDED = ["Trondheim kommune", "Malvik kommune", "Heim kommune"]
TODAY = dt.date(2024, 8, 28)


def edited(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} is not unique in the plan"
    return text.replace(old, new)


@pytest.fixture
def engine(tmp_path):
    return engine_for(f"sqlite:///{tmp_path / 'domain.db'}")


def reconcile(engine, today=TODAY):
    with session_scope(engine) as s:
        return reconcile_revision(s, SLUG, today=today)


@pytest.fixture
def example(engine):
    """The example in its first hearing: three parties have answered; the 14-day reminders are out."""
    with session_scope(engine) as s:
        store_revision(s, parse_plan(EXAMPLE), EXAMPLE, "sekretariatet")
    reconcile(engine, dt.date(2024, 6, 18))
    with session_scope(engine) as s:
        records.complete_draft(s, SLUG, stage_key="utkast", actor="t")
    reconcile(engine, dt.date(2024, 6, 18))
    with session_scope(engine) as s:
        records.record_forum_decision(s, SLUG, forum="ASU", outcome=ForumOutcome.approved, on=dt.date(2024, 6, 19), today=dt.date(2024, 6, 19), actor="t")
    reconcile(engine, dt.date(2024, 6, 19))
    for name in RESPONDED:
        with session_scope(engine) as s:
            records.record_hearing_response(s, SLUG, party=name, on=dt.date(2024, 8, 1), today=dt.date(2024, 8, 1), stage_key="hoering-1", actor="t")
    run_sweep(dt.date(2024, 8, 27), send=False, engine=engine)
    assert outbox(engine)[EmailEvent.hearing_reminder] == 21 - len(RESPONDED)
    return engine


def outbox(engine) -> Counter:
    with session_scope(engine) as s:
        return Counter(m.event for m in s.exec(select(OutboxMessage)))


def messages(engine, event: EmailEvent) -> list[OutboxMessage]:
    with session_scope(engine) as s:
        rows = list(s.exec(select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.id)))
        for row in rows:
            s.expunge(row)
        return rows


def stage_dates(engine) -> dict[str, tuple]:
    with session_scope(engine) as s:
        return {st.key: (st.opens, st.due, st.meeting, st.deadline, st.status.value) for st in s.exec(select(Stage).order_by(Stage.position))}


def snapshot(engine) -> tuple:
    """Everything a refused shift must leave as it was."""
    with session_scope(engine) as s:
        return (
            stage_dates(engine),
            s.exec(select(Revision.seq, Revision.plan_version)).one(),
            s.exec(select(func.count()).select_from(PlanVersion)).one(),
            s.exec(select(func.count()).select_from(OutboxMessage)).one(),
            s.exec(select(func.count()).select_from(AuditEntry)).one(),
            sorted((p.name, p.active) for p in s.exec(select(Party))),
            s.exec(select(func.count()).select_from(Milestone)).one(),
        )


def shift(engine, text: str, reason: str = "ASU-møtet 25.09 er flyttet", today: dt.date = TODAY):
    with session_scope(engine) as s:
        return apply_shift(s, SLUG, text, actor="Kari Nordmann", reason=reason, today=today)


def test_moving_the_asu_meeting_two_weeks_moves_what_comes_after_it(example):
    before = stage_dates(example)
    applied = shift(example, edited(EXAMPLE, ASU_MEETING, "    meeting: 2024-10-09\n"))

    after = stage_dates(example)
    assert after["hoeringsforslag-ovrige"][2] == "2024-10-09"
    assert after["hoering-ovrige"][:4] == ("2024-10-10", None, None, "2024-11-22")
    assert after["sluttbehandling"][2] == "2024-12-11"
    assert after["politisk"][3] == "2025-03-15"
    for unmoved in ("utkast", "hoeringsforslag", "hoering-1", "utkast-ovrige"):
        assert after[unmoved] == before[unmoved]
    moved_with = {(m.stage, m.field): m.moved_with for m in applied.preview.shift.date_moves}
    assert moved_with[("hoeringsforslag-ovrige", "meeting")] is None
    assert moved_with[("politisk", "deadline")] == "sluttbehandling"

    with session_scope(example) as s:
        versions = s.exec(select(PlanVersion).order_by(PlanVersion.version)).all()
        assert [(v.version, v.created_by, v.reason) for v in versions] == [
            (1, "sekretariatet", "baseline"),
            (2, "Kari Nordmann", "ASU-møtet 25.09 er flyttet"),
        ]
        assert versions[0].effective["stages"][7]["deadline"] == "2025-03-01"  # the baseline keeps its dates
        assert versions[1].effective["stages"][7]["deadline"] == "2025-03-15"
        assert s.exec(select(Revision.plan_version)).one() == 2
        moved = s.exec(select(AuditEntry).where(AuditEntry.action == "stage.date_moved")).all()
        assert {e.subject for e in moved} == {
            "stage:hoeringsforslag-ovrige.meeting", "stage:hoering-ovrige.opens", "stage:hoering-ovrige.deadline",
            "stage:sluttbehandling.meeting", "stage:politisk.deadline", "stage:signering.deadline",
        }


def test_every_party_told_once_of_both_moved_deadlines_and_no_reminder_twice(example):
    reminders_before = messages(example, EmailEvent.hearing_reminder)
    shift(example, edited(EXAMPLE, ASU_MEETING, "    meeting: 2024-10-09\n"))

    notices = [n for n in messages(example, EmailEvent.deadline_moved) if n.party_id is not None]
    # The other guidelines' hearing and the political treatment are still to come, so every
    # party is due to meet both; the first hearing's deadline did not move.
    assert len(notices) == 21 and len({n.to_address + n.to_name for n in notices}) == 21
    # ...and the forums meeting on the moved ASU meeting and the final treatment are told too.
    forums = sorted(n.to_address for n in messages(example, EmailEvent.deadline_moved) if n.party_id is None)
    assert forums == ["asu@example.no", "fagrad@example.no", "fu@example.no", "psu@example.no"]
    for n in notices:
        # the political deadline moved to Saturday 15 March 2025: written as the Friday before
        assert "22. november 2024" in n.body_text and "fredag 14. mars 2025" in n.body_text and "15. mars" not in n.body_text
        assert "10. september" not in n.body_text
    heim = next(n for n in notices if n.to_name == "Heim kommune")
    assert heim.language == "nn" and "høyringsfristen er flytta" in heim.body_text

    # The sweep on the same day, and on the day of the 3-day reminder, sends nothing twice.
    run_sweep(dt.date(2024, 8, 28), send=False, engine=example)
    assert messages(example, EmailEvent.hearing_reminder) == reminders_before
    run_sweep(dt.date(2024, 9, 7), send=False, engine=example)
    keys = [m.key for m in messages(example, EmailEvent.hearing_reminder)]
    assert len(keys) == len(set(keys)) == 2 * (21 - len(RESPONDED))


def test_extending_a_hearing_under_way_tells_only_those_who_have_not_answered(example):
    invitations = {m.to_name: m for m in messages(example, EmailEvent.hearing_invitation) if m.stage_key == "hoering-1"}
    shift(example, edited(EXAMPLE, "    deadline: 2024-09-10\n", "    deadline: 2024-09-24\n"), reason="utvidet høringsfrist")

    notices = messages(example, EmailEvent.deadline_moved)
    assert sorted(n.to_name for n in notices) == sorted(set(invitations) - set(RESPONDED))
    assert stage_dates(example)["hoering-1"][3] == "2024-09-24"
    # hoering-1 does not `moves_with_after`-lead anything that is not itself moved: sluttbehandling
    # comes after both hearings, the later of which still ends 2024-11-08.
    assert stage_dates(example)["sluttbehandling"][2] == "2024-11-27"
    # The notice's calendar entry replaces the invitation's: same UID, new day.
    notice = next(n for n in notices if n.to_name == "Tydal kommune")
    old, new = (Calendar.from_ical(m.ics).walk("VEVENT")[0] for m in (invitations["Tydal kommune"], notice))
    assert str(old["UID"]) == str(new["UID"])
    assert (old.decoded("DTSTART"), new.decoded("DTSTART")) == (dt.date(2024, 9, 10), dt.date(2024, 9, 24))


def test_a_party_joins_and_one_leaves_mid_hearing(example):
    text = edited(EXAMPLE, "  - {name: Tydal kommune", "  - {name: Ny kommune, kind: municipality, org_number: \"944000003\", email: postmottak@ny.example.no, body: Kommunestyret}\n  - {name: Tydal kommune")
    osen = next(line for line in EXAMPLE.splitlines(keepends=True) if line.startswith("  - {name: Osen kommune"))
    text = edited(text, osen, "")
    applied = shift(example, text, reason="Ny kommune er med; Osen slått sammen")

    assert [p.name for p in applied.preview.shift.parties_joined] == ["Ny kommune"]
    assert [p.name for p in applied.preview.shift.parties_left] == ["Osen kommune"]
    with session_scope(example) as s:
        osen_row = s.exec(select(Party).where(Party.name == "Osen kommune")).one()
        ny = s.exec(select(Party).where(Party.name == "Ny kommune")).one()
        assert (osen_row.active, osen_row.left_on, ny.joined_on) == (False, TODAY, TODAY)
        hearing = s.exec(select(Stage).where(Stage.key == "hoering-1")).one()
        invited = {r.party_id for r in s.exec(select(PartyObligation).where(PartyObligation.kind == "hearing").where(PartyObligation.stage_id == hearing.id))}
        assert {osen_row.id, ny.id} <= invited  # Osen's row is history; Ny's is new
    ny_letters = [m for m in messages(example, EmailEvent.hearing_invitation) if m.to_name == "Ny kommune"]
    assert len(ny_letters) == 1 and "10. september 2024" in ny_letters[0].body_text

    # Osen is reminded no more; the parties still in the hearing are.
    run_sweep(dt.date(2024, 9, 7), send=False, engine=example)
    reminded_at_3 = [m.to_name for m in messages(example, EmailEvent.hearing_reminder)]
    assert reminded_at_3.count("Osen kommune") == 1  # the 14-day one, before it left
    assert reminded_at_3.count("Ny kommune") == 1 and reminded_at_3.count("Tydal kommune") == 2

    # The hearing closes when every party still in it has answered: Osen is not waited for.
    with session_scope(example) as s:
        names = [p.name for p in s.exec(select(Party).where(Party.active == True))]  # noqa: E712
    for name in names:
        if name not in RESPONDED:
            with session_scope(example) as s:
                records.record_hearing_response(s, SLUG, party=name, on=TODAY, today=TODAY, stage_key="hoering-1", actor="t")
    reconcile(example)
    assert stage_dates(example)["hoering-1"][4] == "done"


def test_a_party_that_leaves_during_political_treatment_is_not_waited_for(engine):
    today = dt.date(2025, 1, 10)
    drive_to_political_treatment(engine, today=today)
    slug = "testrevisjon-2024"
    with session_scope(engine) as s:
        records.record_party_decision(s, slug, party="Malvik kommune", outcome=PartyOutcome.approved, on=today, today=today, actor="t")
    malvik = next(line for line in SMALL_PLAN.splitlines(keepends=True) if "Malvik" in line)
    text = SMALL_PLAN.replace(malvik, "")
    with session_scope(engine) as s:
        apply_shift(s, slug, text, actor="t", reason="Malvik slått sammen med Trondheim", today=today)
    for name in ("St. Olavs hospital HF", "Trondheim kommune"):
        with session_scope(engine) as s:
            records.record_party_decision(s, slug, party=name, outcome=PartyOutcome.approved, on=today, today=today, actor="t")
    with session_scope(engine) as s:
        result = reconcile_revision(s, slug, today=today)
        assert result.completed
        malvik_row = s.exec(select(Party).where(Party.name == "Malvik kommune")).one()
        kept = s.exec(select(PartyObligation).where(PartyObligation.kind == "political_treatment").where(PartyObligation.party_id == malvik_row.id)).one()
        assert (malvik_row.active, kept.status) == (False, "approved")  # its decision is history


def test_rewriting_a_completed_stage_is_refused_and_changes_nothing(example):
    before = snapshot(example)
    text = edited(EXAMPLE, "    meeting: 2024-06-19\n", "    meeting: 2024-06-26\n")
    with pytest.raises(ShiftRefused) as refused:
        shift(example, text)
    assert "'hoeringsforslag' is completed; it cannot be rewritten (changed: meeting)" in str(refused.value)
    assert snapshot(example) == before


def test_removing_a_stage_under_way_is_refused(example):
    before = snapshot(example)
    start = EXAMPLE.index("  - key: utkast-ovrige")
    end = EXAMPLE.index("  # [M] \"ASU 25.09")
    text = EXAMPLE[:start] + EXAMPLE[end:]
    with pytest.raises(ShiftRefused, match="'utkast-ovrige' is under way; it cannot be removed"):
        shift(example, text)
    assert snapshot(example) == before


def test_a_cycle_is_refused_and_changes_nothing(example):
    before = snapshot(example)
    text = edited(EXAMPLE, "    after: [hoering-1, hoering-ovrige]\n", "    after: [hoering-1, hoering-ovrige, politisk]\n")
    with pytest.raises(PlanInvalid, match="cycle"):
        shift(example, text)
    assert snapshot(example) == before


def test_the_preview_writes_nothing_and_says_who_would_be_told(example):
    before = snapshot(example)
    with session_scope(example) as s:
        preview = preview_shift(s, SLUG, edited(EXAMPLE, "    deadline: 2024-09-10\n", "    deadline: 2024-09-24\n"))
    assert (preview.from_version, preview.to_version) == (1, 2)
    assert len(preview.notices) == 21 - len(RESPONDED)
    assert snapshot(example) == before


def test_the_same_file_again_is_refused_as_nothing_to_shift(example):
    with pytest.raises(Exception, match="nothing to shift"):
        shift(example, EXAMPLE)


def test_editing_the_same_file_twice_keeps_the_dates_moved_the_first_time(example):
    first = edited(EXAMPLE, ASU_MEETING, "    meeting: 2024-10-09\n")
    shift(example, first)
    # The coordinator's file still has the old dates of the stages that moved along;
    # changing a milestone only must not move them back.
    second = edited(first, "responsible: PSU}\n  - {date: 2025-03-01", "responsible: PSU}\n  - {date: 2025-03-14")
    applied = shift(example, second, reason="ny milepæl")
    assert stage_dates(example)["politisk"][3] == "2025-03-15"
    assert applied.preview.shift.date_moves == []
    assert [(str(m.before), str(m.after)) for m in applied.preview.shift.milestones_moved] == [("2025-03-01", "2025-03-14")]
    assert len(messages(example, EmailEvent.deadline_moved)) == 21 + 4  # the parties and forums of the first shift; no notice for a milestone


# --- the rule itself, without a database ------------------------------------------------------


def _plan(text: str):
    return parse_plan(text, dates_in_order=False).plan


def test_a_stage_given_its_own_new_date_keeps_it():
    base = _plan(EXAMPLE)
    text = edited(EXAMPLE, ASU_MEETING, "    meeting: 2024-10-09\n")
    text = edited(text, "    deadline: 2025-03-01\n", "    deadline: 2025-04-01\n")
    result = shift_plan(base, base, _plan(text), {})
    politisk = next(s for s in result.effective.stages if s.key == "politisk")
    assert str(politisk.deadline) == "2025-04-01"


def test_without_moves_with_after_nothing_follows():
    text = edited(EXAMPLE, "moves_with_after: true\n", "moves_with_after: false\n")
    base = _plan(text)
    result = shift_plan(base, base, _plan(edited(text, "    meeting: 2024-11-27\n", "    meeting: 2024-12-11\n")), {})
    assert [(m.stage, m.field) for m in result.date_moves] == [("sluttbehandling", "meeting")]
    # ...and a shift that leaves a later stage starting before the one it comes after is refused.
    with pytest.raises(ShiftRefused, match=r"stages\[5\]: starts 2024-09-26, before stage 'hoeringsforslag-ovrige'"):
        shift_plan(base, base, _plan(edited(text, ASU_MEETING, "    meeting: 2024-10-09\n")), {})


def test_an_earlier_meeting_moves_what_follows_earlier_too_and_month_dates_keep_their_precision():
    text = edited(EXAMPLE, "    deadline: 2025-03-01\n", "    deadline: 2025-03\n")
    base = _plan(text)
    result = shift_plan(base, base, _plan(edited(text, "    meeting: 2024-11-27\n", "    meeting: 2024-11-20\n")), {})
    politisk = next(s for s in result.effective.stages if s.key == "politisk")
    assert str(politisk.deadline) == "2025-02"  # 1 March minus a week, still a month


def test_a_stage_under_way_may_move_but_not_change_shape():
    base = _plan(EXAMPLE)
    text = edited(EXAMPLE, "    documents: [overordnet, retningslinje-1]\n", "    documents: [overordnet]\n")
    with pytest.raises(ShiftRefused, match="'hoering-1' has started; only its dates and title can change \\(changed: documents\\)"):
        shift_plan(base, base, _plan(text), {"hoering-1": StageStatus.active})
