"""What the deadline sweep finds due on a given day (pure rules)."""

from __future__ import annotations

import datetime as dt

import pytest

from avtaleflyt.models.enums import EmailEvent, HearingStatus, StageKind, StageStatus, TreatmentStatus
from avtaleflyt.models.digests import digest_key
from avtaleflyt.models.reminders import digest_due, overdue_number, reminder_offset, sweep_plan
from avtaleflyt.models.tables import Party, PartyObligation, Stage

D = dt.date
DEADLINE = D(2024, 9, 10)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (D(2024, 8, 26), None),  # 15 days before
        (D(2024, 8, 27), 14),
        (D(2024, 9, 6), 14),
        (D(2024, 9, 7), 3),
        (D(2024, 9, 9), 3),  # a missed day still sends the latest reminder that came due
        (D(2024, 9, 10), None),  # the deadline itself: no reminder
        (D(2024, 9, 11), None),
    ],
)
def test_reminder_offset(as_of, expected):
    assert reminder_offset(DEADLINE, as_of, [14, 3]) == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(D(2024, 9, 10), None), (D(2024, 9, 11), 1), (D(2024, 9, 17), 1), (D(2024, 9, 18), 2), (D(2024, 9, 25), 3)],
)
def test_overdue_number(as_of, expected):
    assert overdue_number(DEADLINE, as_of, 7) == expected


def parties():
    return [
        Party(id=1, revision_id=1, name="Trondheim kommune", kind="municipality", org_number="942110464", email="t@example.no", body="Bystyret", language="nb"),
        Party(id=2, revision_id=1, name="Malvik kommune", kind="municipality", org_number="938726027", email="m@example.no", body="Kommunestyret", language="nn"),
        Party(id=3, revision_id=1, name="Selbu kommune", kind="municipality", org_number="950320001", email="s@example.no", body="Kommunestyret", language="nb", active=False),
    ]


def hearing(deadline="2024-09-10", status=StageStatus.active):
    return Stage(id=10, revision_id=1, position=0, key="hoering", kind=StageKind.hearing, deadline=deadline, status=status)


def political(deadline="2025-03-01"):
    return Stage(id=20, revision_id=1, position=1, key="politisk", kind=StageKind.political_treatment, deadline=deadline, status=StageStatus.active)


RESPONSES = [
    PartyObligation(stage_id=10, party_id=1, kind="hearing", status=HearingStatus.responded, answered_on=D(2024, 9, 1)),
    PartyObligation(stage_id=10, party_id=2, kind="hearing", status=HearingStatus.invited),
    PartyObligation(stage_id=10, party_id=3, kind="hearing", status=HearingStatus.invited),
]


def plan(stages, as_of, responses=RESPONSES, treatments=()):
    return sweep_plan("rev", stages, parties(), [*responses, *treatments], before_days=[14, 3], overdue_every_days=7, as_of=as_of)


def test_hearing_reminder_only_to_invitees_who_have_not_responded_and_are_still_parties():
    result = plan([hearing()], D(2024, 9, 7))
    assert [(m.event, m.party_id, m.key) for m in result.messages] == [
        (EmailEvent.hearing_reminder, 2, "rev/hoering/2/hearing_reminder/2024-09-10/3d")
    ]
    assert result.close_stages == []


def test_hearing_past_its_deadline_is_closed_and_every_invitee_told():
    result = plan([hearing()], D(2024, 9, 11))
    assert result.close_stages == [("hoering", DEADLINE)]
    assert {(m.event, m.party_id) for m in result.messages} == {(EmailEvent.hearing_deadline_passed, 1), (EmailEvent.hearing_deadline_passed, 2)}


def test_month_only_deadlines_get_nothing():
    assert plan([hearing(deadline="2024-09")], D(2024, 9, 30)) == plan([], D(2024, 9, 30))
    assert plan([hearing(deadline="2024-09")], D(2024, 10, 2)).close_stages == []


def test_stages_not_open_get_nothing():
    assert plan([hearing(status=StageStatus.pending)], D(2024, 9, 7)).messages == []
    assert plan([hearing(status=StageStatus.done)], D(2024, 9, 11)).close_stages == []


def test_political_reminders_then_overdue_notices_to_undecided_parties():
    treatments = [
        PartyObligation(stage_id=20, party_id=1, kind="political_treatment", status=TreatmentStatus.approved, answered_on=D(2025, 2, 1)),
        PartyObligation(stage_id=20, party_id=2, kind="political_treatment", status=TreatmentStatus.scheduled, meeting_date=D(2025, 3, 13)),
    ]
    before = plan([political()], D(2025, 2, 15), treatments=treatments).messages
    assert [(m.event, m.party_id, m.key) for m in before] == [(EmailEvent.decision_reminder, 2, "rev/politisk/2/decision_reminder/2025-03-01/14d")]
    after = plan([political()], D(2025, 3, 9), treatments=treatments).messages
    assert [(m.event, m.key, m.days_left) for m in after] == [(EmailEvent.overdue_notice, "rev/politisk/2/overdue_notice/2025-03-01/#2", -8)]
    assert plan([political()], D(2025, 3, 1), treatments=treatments).messages == []


def test_a_moved_deadline_is_a_new_key_and_an_unchanged_one_is_not():
    first = plan([hearing()], D(2024, 9, 7)).messages
    again = plan([hearing()], D(2024, 9, 8)).messages
    moved = plan([hearing(deadline="2024-09-24")], D(2024, 9, 21)).messages
    assert [m.key for m in first] == [m.key for m in again]
    assert [m.key for m in moved] == ["rev/hoering/2/hearing_reminder/2024-09-24/3d"]


def test_weekly_digest_on_mondays_with_one_key_a_week():
    assert digest_due(D(2024, 11, 25)) and not digest_due(D(2024, 11, 26))
    assert digest_key("Sek@Example.no", D(2024, 11, 25)) == digest_key("sek@example.no", D(2024, 12, 1)) == "digest:sek@example.no:2024-W48"
