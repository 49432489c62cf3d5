"""The pure rules, on in-memory rows: the DAG, the gates, and which recordings are legal."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import pytest

from avtaleflyt.models.enums import (
    ForumOutcome,
    HearingStatus,
    Language,
    PartyKind,
    PartyOutcome,
    StageKind,
    StageStatus,
    TreatmentStatus,
)
from avtaleflyt.models.errors import ErrorCode
from avtaleflyt.models.rules import (
    DomainError,
    Gate,
    awaiting,
    check_not_future,
    downstream,
    find_party,
    is_revision_done,
    nearest_drafts,
    pick_stage,
    ready_stages,
    require_active,
)
from avtaleflyt.models.stages import KINDS, StageFacts
from avtaleflyt.models.stages.forum_approval import check_forum_named, forum_tally, required_approvals
from avtaleflyt.models.stages.political_treatment import check_schedule, decision_changes, treatment_status_for
from avtaleflyt.models.tables import ForumDecision, Party, PartyObligation, Stage


# Each kind's gate, as the reconciler asks it: with the facts of that one stage.
def hearing_gate(st: Stage, rows: Sequence[PartyObligation], active: set[int] | None = None) -> Gate:
    rows = [r for r in rows if r.stage_id == st.id]
    return KINDS[StageKind.hearing].gate(st, StageFacts(rows), {r.party_id for r in rows} if active is None else active)


def treatment_gate(st: Stage, rows: Sequence[PartyObligation], active: set[int]) -> Gate:
    return KINDS[StageKind.political_treatment].gate(st, StageFacts([r for r in rows if r.stage_id == st.id]), active)


def forum_gate(st: Stage, decisions: Sequence[ForumDecision]) -> Gate:
    return KINDS[StageKind.forum_approval].gate(st, StageFacts(decisions=list(decisions)), set())


def draft_gate(st: Stage) -> Gate:
    return KINDS[StageKind.draft].gate(st, StageFacts(), set())

_ids = itertools.count(1)

D, H, F, P = StageKind.draft, StageKind.hearing, StageKind.forum_approval, StageKind.political_treatment


def stage(key: str, kind: StageKind, after: Sequence[str] = (), status: StageStatus = StageStatus.pending, **fields) -> Stage:
    return Stage(id=next(_ids), revision_id=1, position=next(_ids), key=key, kind=kind, after=list(after), status=status, **fields)


def revision(**status: StageStatus) -> list[Stage]:
    """The reference plan's DAG: two tracks (overordnet + retn. 1, øvrige) joining in sluttbehandling."""
    shape = [
        ("utkast", D, []),
        ("hoeringsforslag", F, ["utkast"]),
        ("hoering-1", H, ["hoeringsforslag"]),
        ("utkast-ovrige", D, []),
        ("hoeringsforslag-ovrige", F, ["utkast-ovrige"]),
        ("hoering-ovrige", H, ["hoeringsforslag-ovrige"]),
        ("sluttbehandling", F, ["hoering-1", "hoering-ovrige"]),
        ("politisk", P, ["sluttbehandling"]),
    ]
    return [
        Stage(id=i, revision_id=1, position=i, key=key, kind=kind, after=after, status=status.get(key.replace("-", "_"), StageStatus.pending))
        for i, (key, kind, after) in enumerate(shape, start=1)
    ]


def keys(stages) -> list[str]:
    return [s.key for s in stages]


def by_key(stages: list[Stage], key: str) -> Stage:
    return next(s for s in stages if s.key == key)


done, active, pending = StageStatus.done, StageStatus.active, StageStatus.pending


# --- the DAG -------------------------------------------------------------------------


def test_both_roots_are_ready_at_the_start():
    assert keys(ready_stages(revision())) == ["utkast", "utkast-ovrige"]


def test_tracks_advance_independently_and_overlap():
    stages = revision(utkast=done, hoeringsforslag=done, hoering_1=active, utkast_ovrige=done)
    assert keys(ready_stages(stages)) == ["hoeringsforslag-ovrige"]


def test_join_waits_for_every_stage_it_comes_after():
    first_track_done = dict(utkast=done, hoeringsforslag=done, hoering_1=done)
    second_track = dict(utkast_ovrige=done, hoeringsforslag_ovrige=done)
    assert ready_stages(revision(**first_track_done, **second_track, hoering_ovrige=active)) == []
    assert keys(ready_stages(revision(**first_track_done, **second_track, hoering_ovrige=done))) == ["sluttbehandling"]


def test_active_and_done_stages_are_not_ready_again():
    stages = revision(utkast=active, utkast_ovrige=done)
    assert keys(ready_stages(stages)) == ["hoeringsforslag-ovrige"]


def test_a_returned_stage_waits_for_the_draft_it_was_returned_to():
    stages = revision(utkast=active, hoeringsforslag=pending, hoering_1=done)
    by_key(stages, "hoeringsforslag").returned_to = "utkast"
    assert "hoeringsforslag" not in keys(ready_stages(stages))
    by_key(stages, "utkast").status = done
    assert "hoeringsforslag" in keys(ready_stages(stages))


def test_returned_to_blocks_even_when_after_is_done():
    stages = [stage("a", D, status=active), stage("b", D, status=done), stage("c", F, after=["b"], returned_to="a")]
    assert ready_stages(stages) == []


def test_revision_done_only_when_every_stage_is():
    every = {k.replace("-", "_"): done for k in keys(revision())}
    assert is_revision_done(revision(**every)) is True
    assert is_revision_done(revision(**dict(every, politisk=active))) is False
    assert is_revision_done([]) is False


def test_nearest_draft_goes_through_a_hearing():
    stages = revision()
    assert [d.key for d in nearest_drafts(by_key(stages, "hoering-ovrige"), stages)] == ["utkast-ovrige"]
    assert [d.key for d in nearest_drafts(by_key(stages, "hoeringsforslag"), stages)] == ["utkast"]


def test_a_stage_joining_two_tracks_goes_back_to_both_drafts():
    stages = revision()
    assert [d.key for d in nearest_drafts(by_key(stages, "sluttbehandling"), stages)] == ["utkast", "utkast-ovrige"]
    final = by_key(stages, "sluttbehandling")
    final.status, final.returned_to = pending, "utkast,utkast-ovrige"
    for key in ("utkast", "hoeringsforslag", "hoering-1", "utkast-ovrige", "hoeringsforslag-ovrige", "hoering-ovrige"):
        by_key(stages, key).status = done
    by_key(stages, "utkast-ovrige").status = active
    assert final not in ready_stages(stages)  # one track's draft is still open
    by_key(stages, "utkast-ovrige").status = done
    assert final in ready_stages(stages)


def test_nearest_draft_prefers_the_closest():
    stages = [
        stage("utkast", D),
        stage("hoering", H, after=["utkast"]),
        stage("forum", F, after=["hoering"]),
        stage("sluttforing", D),
        stage("slutt", F, after=["forum", "sluttforing"]),
    ]
    assert [d.key for d in nearest_drafts(by_key(stages, "slutt"), stages)] == ["sluttforing"]


def test_nearest_draft_none_before_and_unknown_keys_ignored():
    stages = [stage("forum", F, after=["borte"]), stage("politisk", P, after=["forum"])]
    assert nearest_drafts(by_key(stages, "politisk"), stages) == []
    assert nearest_drafts(by_key(stages, "forum"), stages) == []


def test_downstream():
    stages = revision()
    assert downstream("utkast", stages) == {"hoeringsforslag", "hoering-1", "sluttbehandling", "politisk"}
    assert downstream("hoering-ovrige", stages) == {"sluttbehandling", "politisk"}
    assert downstream("politisk", stages) == set()


# --- forum gates ----------------------------------------------------------------------------


def forum_stage(forums: list[str], required: int | None = None, round: int = 1) -> Stage:
    return stage("vedtak", F, forums=forums, required=required, round=round, status=active)


def decision(st: Stage, forum: str, outcome: ForumOutcome, day: int = 1, round: int | None = None, stage_id: int | None = None) -> ForumDecision:
    return ForumDecision(
        id=next(_ids),
        stage_id=st.id if stage_id is None else stage_id,
        forum_key=forum,
        round=st.round if round is None else round,
        outcome=outcome,
        decided_on=dt.date(2024, 11, day),
    )


A, AC, R, PP = ForumOutcome.approved, ForumOutcome.approved_with_changes, ForumOutcome.returned, ForumOutcome.postponed


def test_required_all_is_every_forum():
    assert required_approvals(forum_stage(["ASU", "FU", "PSU"])) == 3
    assert required_approvals(forum_stage(["ASU", "FU", "PSU"], required=2)) == 2


def test_all_required_waits_with_no_decisions():
    assert forum_gate(forum_stage(["ASU", "FU"]), []) == Gate.waiting


def test_all_required_one_returned_is_returned():
    st = forum_stage(["ASU", "FU"])
    assert forum_gate(st, [decision(st, "ASU", A), decision(st, "FU", R)]) == Gate.returned
    assert forum_gate(st, [decision(st, "FU", R)]) == Gate.returned


def test_all_required_postponed_waits():
    st = forum_stage(["ASU", "FU"])
    assert forum_gate(st, [decision(st, "ASU", A), decision(st, "FU", PP)]) == Gate.waiting


def test_all_required_all_approved_is_met_with_changes_counting():
    st = forum_stage(["ASU", "FU"])
    assert forum_gate(st, [decision(st, "ASU", A)]) == Gate.waiting
    assert forum_gate(st, [decision(st, "ASU", A), decision(st, "FU", AC)]) == Gate.met


def test_three_of_four():
    st = forum_stage(["ASU", "FU", "PSU", "fagråd"], required=3)
    one_returned = [decision(st, "PSU", R)]
    assert forum_gate(st, one_returned) == Gate.waiting
    assert forum_gate(st, one_returned + [decision(st, "ASU", A), decision(st, "FU", A)]) == Gate.waiting
    assert forum_gate(st, one_returned + [decision(st, "ASU", A), decision(st, "FU", A), decision(st, "fagråd", AC)]) == Gate.met
    assert forum_gate(st, one_returned + [decision(st, "ASU", R)]) == Gate.returned
    assert forum_gate(st, [decision(st, "ASU", A), decision(st, "FU", A), decision(st, "PSU", A)]) == Gate.met


def test_three_of_four_postponed_keeps_the_quorum_possible():
    st = forum_stage(["ASU", "FU", "PSU", "fagråd"], required=3)
    decisions = [decision(st, "PSU", R), decision(st, "ASU", PP), decision(st, "FU", PP)]
    assert forum_gate(st, decisions) == Gate.waiting


def test_latest_decision_per_forum_counts():
    st = forum_stage(["ASU", "FU"])
    later_approval = [decision(st, "ASU", R, day=1), decision(st, "ASU", A, day=20), decision(st, "FU", A, day=5)]
    assert forum_gate(st, later_approval) == Gate.met
    later_return = [decision(st, "ASU", A, day=1), decision(st, "ASU", R, day=20), decision(st, "FU", A, day=5)]
    assert forum_gate(st, later_return) == Gate.returned


def test_same_day_decisions_the_later_recorded_counts():
    st = forum_stage(["ASU"])
    first, second = decision(st, "ASU", PP, day=27), decision(st, "ASU", A, day=27)
    assert second.id > first.id
    assert forum_gate(st, [second, first]) == Gate.met


def test_only_the_current_round_counts():
    st = forum_stage(["ASU", "FU"], round=2)
    round_one = [decision(st, "ASU", R, round=1), decision(st, "FU", R, round=1)]
    assert forum_gate(st, round_one) == Gate.waiting
    assert forum_gate(st, round_one + [decision(st, "ASU", A), decision(st, "FU", A)]) == Gate.met
    assert forum_gate(st, [decision(st, "ASU", A, round=1), decision(st, "FU", A, round=1)]) == Gate.waiting


def test_other_stages_and_forums_are_ignored():
    st = forum_stage(["ASU"])
    assert forum_gate(st, [decision(st, "ASU", A, stage_id=st.id + 1000)]) == Gate.waiting
    assert forum_gate(st, [decision(st, "PSU", R)]) == Gate.waiting


def test_forum_tally():
    st = forum_stage(["ASU", "FU", "PSU", "fagråd", "AU"], required=3)
    tally = forum_tally(st, [decision(st, "FU", AC), decision(st, "ASU", A), decision(st, "PSU", R), decision(st, "fagråd", PP)])
    assert (tally.approved, tally.returned, tally.postponed, tally.undecided, tally.required) == (
        ["ASU", "FU"],
        ["PSU"],
        ["fagråd"],
        ["AU"],
        3,
    )


# --- hearing, treatment and draft gates ---------------------------------------------------------


def response(st: Stage, party_id: int, status: HearingStatus, stage_id: int | None = None) -> PartyObligation:
    return PartyObligation(id=next(_ids), stage_id=st.id if stage_id is None else stage_id, party_id=party_id, kind="hearing", status=status)


def test_hearing_closed_by_reason():
    st = stage("hoering", H, status=active, closed_reason="deadline passed")
    assert hearing_gate(st, [response(st, 1, HearingStatus.invited)]) == Gate.met


def test_hearing_met_when_all_responded():
    st = stage("hoering", H, status=active)
    assert hearing_gate(st, [response(st, 1, HearingStatus.responded), response(st, 2, HearingStatus.responded)]) == Gate.met


def test_hearing_waits_while_some_are_invited():
    st = stage("hoering", H, status=active)
    assert hearing_gate(st, [response(st, 1, HearingStatus.responded), response(st, 2, HearingStatus.invited)]) == Gate.waiting


def test_hearing_without_invitees_waits_and_other_stages_do_not_count():
    st = stage("hoering", H, status=active)
    assert hearing_gate(st, []) == Gate.waiting
    assert hearing_gate(st, [response(st, 1, HearingStatus.responded, stage_id=st.id + 1000)]) == Gate.waiting


def treatment(st: Stage, party_id: int, status: TreatmentStatus, decided_on: dt.date | None = None, **fields) -> PartyObligation:
    return PartyObligation(id=next(_ids), stage_id=st.id, party_id=party_id, kind="political_treatment", status=status, answered_on=decided_on, **fields)


def test_a_rejection_counts_as_decided():
    st = stage("politisk", P, status=active)
    rows = [treatment(st, 1, TreatmentStatus.approved), treatment(st, 2, TreatmentStatus.rejected), treatment(st, 3, TreatmentStatus.approved_with_reservations)]
    assert treatment_gate(st, rows, {1, 2, 3}) == Gate.met


def test_treatment_waits_for_sent_and_scheduled():
    st = stage("politisk", P, status=active)
    for status in (TreatmentStatus.sent, TreatmentStatus.scheduled):
        rows = [treatment(st, 1, TreatmentStatus.rejected), treatment(st, 2, status)]
        assert treatment_gate(st, rows, {1, 2}) == Gate.waiting


def test_inactive_parties_are_not_required():
    st = stage("politisk", P, status=active)
    rows = [treatment(st, 1, TreatmentStatus.approved), treatment(st, 2, TreatmentStatus.sent)]
    assert treatment_gate(st, rows, {1}) == Gate.met


def test_treatment_of_another_stage_does_not_count():
    st, other = stage("politisk", P, status=active), stage("politisk-2", P, status=active)
    assert treatment_gate(st, [treatment(other, 1, TreatmentStatus.approved)], {1}) == Gate.waiting


def test_draft_gate():
    assert draft_gate(stage("utkast", D, status=active)) == Gate.waiting
    assert draft_gate(stage("utkast", D, status=active, closed_reason="completed by coordinator")) == Gate.met


# --- what the run waits on --------------------------------------------------------------------


def test_awaiting_names_the_most_advanced_open_stage():
    assert awaiting(revision()) == "AwaitingEvent"
    assert awaiting(revision(utkast=done)) == "AwaitingEvent"
    assert awaiting(revision(utkast=active, utkast_ovrige=active)) == "AwaitingDraft"
    assert awaiting(revision(utkast=done, hoeringsforslag=done, hoering_1=active, utkast_ovrige=active)) == "AwaitingHearingResponses"
    assert awaiting(revision(hoering_1=active, hoeringsforslag_ovrige=active)) == "AwaitingForumDecision"
    assert awaiting(revision(sluttbehandling=active, politisk=active)) == "AwaitingPoliticalTreatment"


# --- choosing the stage a command acts on -------------------------------------------------------


def test_pick_stage_by_name():
    stages = revision(hoering_1=active)
    assert pick_stage(stages, H, "hoering-ovrige").key == "hoering-ovrige"


def test_pick_stage_named_of_the_wrong_kind():
    with pytest.raises(DomainError, match=r"^--stage: 'utkast' is a draft stage, not hearing$"):
        pick_stage(revision(), H, "utkast")


def test_pick_stage_unknown():
    with pytest.raises(DomainError, match=r"^--stage: no stage 'hoering-3'; stages: utkast, hoeringsforslag, hoering-1, "):
        pick_stage(revision(), H, "hoering-3")


def test_pick_stage_the_only_open_one():
    stages = revision(hoering_1=active)
    assert pick_stage(stages, H, None).key == "hoering-1"


def test_pick_stage_none_open_hints_at_pending():
    with pytest.raises(DomainError, match=r"^no hearing stage is open \(not yet started: hoering-1, hoering-ovrige\)$"):
        pick_stage(revision(), H, None)
    stages = revision(hoering_1=done, hoering_ovrige=done)
    with pytest.raises(DomainError, match=r"^no hearing stage is open$"):
        pick_stage(stages, H, None)


def test_pick_stage_several_open():
    stages = revision(hoering_1=active, hoering_ovrige=active)
    with pytest.raises(DomainError, match=r"^several hearing stages are open; name one with --stage: hoering-1, hoering-ovrige$"):
        pick_stage(stages, H, None)


def test_pick_stage_by_forum_narrows_and_explains():
    stages = revision(hoeringsforslag=active, sluttbehandling=active)
    for st in stages:
        st.forums = ["ASU", "FU", "PSU", "fagråd"] if st.key == "sluttbehandling" else ["ASU"]
    assert pick_stage(stages, F, None, forum="PSU").key == "sluttbehandling"
    with pytest.raises(DomainError, match=r"^several forum_approval stages are open for forum 'ASU'; name one") as several:
        pick_stage(stages, F, None, forum="ASU")
    assert (several.value.code, several.value.field, several.value.params["stages"]) == (ErrorCode.several_open_stages, "stage", ["hoeringsforslag", "sluttbehandling"])
    with pytest.raises(DomainError, match=r"^no forum_approval stage is open for forum 'AU'$") as none_open:
        pick_stage(stages, F, None, forum="AU")
    assert (none_open.value.code, none_open.value.params["forum"]) == (ErrorCode.no_open_stage, "AU")


def test_require_active():
    stages = revision(utkast=active, hoeringsforslag=done)
    require_active(by_key(stages, "utkast"))
    with pytest.raises(DomainError, match=r"^--stage: 'hoeringsforslag' is already done$"):
        require_active(by_key(stages, "hoeringsforslag"))
    with pytest.raises(DomainError, match=r"^--stage: 'sluttbehandling' has not started yet \(it comes after hoering-1, hoering-ovrige\)$"):
        require_active(by_key(stages, "sluttbehandling"))


def test_require_active_explains_a_return_and_a_root():
    returned = stage("sluttbehandling", F, after=["hoering-1"], returned_to="utkast")
    with pytest.raises(DomainError, match=r"\(it was returned to draft 'utkast'\)$"):
        require_active(returned)
    with pytest.raises(DomainError, match=r"^--stage: 'utkast' has not started yet \(the revision has not started\)$"):
        require_active(stage("utkast", D))


def test_check_forum_named():
    st = forum_stage(["ASU", "FU", "PSU", "fagråd"], required=3)
    check_forum_named(st, "fagråd")
    with pytest.raises(DomainError, match=r"^--forum: 'AU' does not decide stage 'vedtak'; its forums are ASU, FU, PSU, fagråd$"):
        check_forum_named(st, "AU")
    with pytest.raises(DomainError, match="--forum: 'asu'"):
        check_forum_named(st, "asu")


def test_check_not_future():
    today = dt.date(2024, 11, 27)
    check_not_future(today, today, "--date")
    with pytest.raises(DomainError, match=r"^--date: 2024-11-28 is after today \(2024-11-27\)"):
        check_not_future(dt.date(2024, 11, 28), today, "--date")


# --- parties ------------------------------------------------------------------------------------


def party(name: str, org_number: str, pid: int, active: bool = True) -> Party:
    return Party(
        id=pid,
        revision_id=1,
        name=name,
        kind=PartyKind.health_trust if name.endswith("HF") else PartyKind.municipality,
        org_number=org_number,
        email="postmottak@example.no",
        body="Kommunestyret",
        language=Language.nb,
        active=active,
    )


PARTIES = [
    party("St. Olavs hospital HF", "883974832", 1),
    party("Trondheim kommune", "942110464", 2),
    party("Malvik kommune", "950310006", 3),
    party("Midtre Gauldal kommune", "950270004", 4),
]


def test_find_party_by_name_in_any_case():
    assert find_party(PARTIES, "trondheim KOMMUNE").id == 2
    assert find_party(PARTIES, "  Malvik kommune ").id == 3


def test_find_party_by_org_number_with_or_without_spaces():
    assert find_party(PARTIES, "883974832").id == 1
    assert find_party(PARTIES, "942 110 464").id == 2


def test_find_party_suggests_a_near_miss():
    with pytest.raises(DomainError, match=r"^--party: no party named 'Trondhjem kommune' in this revision; did you mean 'Trondheim kommune'"):
        find_party(PARTIES, "Trondhjem kommune")


def test_find_party_without_a_near_name():
    with pytest.raises(DomainError, match=r"^--party: no party named 'Xyz' in this revision$"):
        find_party(PARTIES, "Xyz")


def test_check_schedule():
    st = stage("politisk", P, status=active)
    for status in (TreatmentStatus.sent, TreatmentStatus.scheduled):
        check_schedule(treatment(st, 2, status), PARTIES[1])
    decided = treatment(st, 2, TreatmentStatus.rejected, decided_on=dt.date(2025, 2, 13))
    with pytest.raises(DomainError, match=r"^--meeting: Trondheim kommune has already decided \(rejected on 2025-02-13\)$"):
        check_schedule(decided, PARTIES[1])


def test_decision_changes_when_undecided():
    st = stage("politisk", P, status=active)
    for status in (TreatmentStatus.sent, TreatmentStatus.scheduled):
        assert decision_changes(treatment(st, 2, status), PARTIES[1], PartyOutcome.approved, dt.date(2025, 2, 13), None) is True


def test_the_same_decision_again_changes_nothing():
    st = stage("politisk", P, status=active)
    row = treatment(st, 2, TreatmentStatus.approved, decided_on=dt.date(2025, 2, 13), case_no="24/1234")
    assert decision_changes(row, PARTIES[1], PartyOutcome.approved, dt.date(2025, 2, 13), "24/1234") is False
    assert decision_changes(row, PARTIES[1], PartyOutcome.approved, dt.date(2025, 2, 13), None) is False


@pytest.mark.parametrize(
    ("outcome", "day", "case_no"),
    [
        (PartyOutcome.rejected, dt.date(2025, 2, 13), "24/1234"),
        (PartyOutcome.approved, dt.date(2025, 2, 14), "24/1234"),
        (PartyOutcome.approved, dt.date(2025, 2, 13), "24/9999"),
    ],
)
def test_a_different_decision_is_refused(outcome, day, case_no):
    st = stage("politisk", P, status=active)
    row = treatment(st, 2, TreatmentStatus.approved, decided_on=dt.date(2025, 2, 13), case_no="24/1234")
    with pytest.raises(DomainError, match=r"^--outcome: Trondheim kommune has already decided: approved on 2025-02-13 \(case 24/1234\); to replace it, give --correct and --reason$"):
        decision_changes(row, PARTIES[1], outcome, day, case_no)
    assert decision_changes(row, PARTIES[1], outcome, day, case_no, correct=True) is True


def test_treatment_status_for_every_outcome():
    assert {o: treatment_status_for(o) for o in PartyOutcome} == {
        PartyOutcome.approved: TreatmentStatus.approved,
        PartyOutcome.approved_with_reservations: TreatmentStatus.approved_with_reservations,
        PartyOutcome.rejected: TreatmentStatus.rejected,
    }
