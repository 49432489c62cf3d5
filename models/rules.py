"""The pure rules of a revision: which stages are ready, which gates are met,
which recordings are legal. No I/O; the callers pass in what they loaded.

Forum quorum: a forum stage names its forums and how many must approve
(`required: all | N`). Each forum's latest decision in the stage's current
round counts. The stage is approved once N forums approved. A `returned`
decision sends the revision back to its draft stage as soon as the quorum can
no longer be reached (with `required: all`, at once); `postponed` only waits.

Political treatment: every active party decides on its own; a rejection does
not stop the others. The stage is done when every active party has decided.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .enums import (
    DECIDED_TREATMENTS,
    ForumOutcome,
    HearingStatus,
    PartyOutcome,
    StageKind,
    StageStatus,
    TreatmentStatus,
)
from .errors import DomainError, ErrorCode  # noqa: F401 - DomainError is imported from here by many
from .tables import ForumDecision, HearingResponse, Party, PartyTreatment, Stage


# --- the DAG -------------------------------------------------------------------


def ready_stages(stages: Sequence[Stage]) -> list[Stage]:
    """Pending stages whose `after` stages are all done, in plan order.

    A stage sent back by a returned decision also waits for the draft it was returned to.
    """
    done = {s.key for s in stages if s.status == StageStatus.done}
    return [
        s
        for s in stages
        if s.status == StageStatus.pending
        and all(a in done for a in s.after)
        and all(k in done for k in returned_to(s))
    ]


def is_revision_done(stages: Sequence[Stage]) -> bool:
    return bool(stages) and all(s.status == StageStatus.done for s in stages)


def nearest_drafts(stage: Stage, stages: Sequence[Stage]) -> list[Stage]:
    """The closest draft stages `stage` comes after (breadth first along `after`).

    Every draft at the closest distance: a stage that joins two tracks goes back to
    both tracks' drafts when they are as near as each other.
    """
    by_key = {s.key: s for s in stages}
    frontier, seen = list(stage.after), set()
    while frontier:
        next_frontier, found = [], []
        for key in frontier:
            if key in seen or key not in by_key:
                continue
            seen.add(key)
            candidate = by_key[key]
            if candidate.kind == StageKind.draft:
                found.append(candidate)
            next_frontier.extend(candidate.after)
        if found:
            return sorted(found, key=lambda s: s.position)
        frontier = next_frontier
    return []


def returned_to(stage: Stage) -> list[str]:
    """The drafts a returned stage waits for (stored comma-separated)."""
    return stage.returned_to.split(",") if stage.returned_to else []


def downstream(stage_key: str, stages: Sequence[Stage]) -> set[str]:
    """Every stage that comes (directly or not) after `stage_key`."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for s in stages:
            if s.key not in found and (stage_key in s.after or found.intersection(s.after)):
                found.add(s.key)
                changed = True
    return found


# --- gates ---------------------------------------------------------------------


class Gate(StrEnum):
    waiting = "waiting"
    met = "met"
    returned = "returned"


@dataclass(frozen=True)
class ForumTally:
    approved: list[str]
    returned: list[str]
    postponed: list[str]
    undecided: list[str]
    required: int
    latest: dict[str, ForumDecision]  # each forum's decision that counts


def required_approvals(stage: Stage) -> int:
    return len(stage.forums) if stage.required is None else stage.required


def forum_tally(stage: Stage, decisions: Iterable[ForumDecision]) -> ForumTally:
    latest: dict[str, ForumDecision] = {}
    for d in sorted(decisions, key=lambda d: (d.decided_on, d.id or 0)):
        if d.stage_id == stage.id and d.round == stage.round and d.forum_key in stage.forums:
            latest[d.forum_key] = d
    by_outcome: dict[ForumOutcome, list[str]] = {o: [] for o in ForumOutcome}
    for forum in stage.forums:
        if forum in latest:
            by_outcome[latest[forum].outcome].append(forum)
    approved = by_outcome[ForumOutcome.approved] + by_outcome[ForumOutcome.approved_with_changes]
    return ForumTally(
        approved=sorted(approved),
        returned=by_outcome[ForumOutcome.returned],
        postponed=by_outcome[ForumOutcome.postponed],
        undecided=[f for f in stage.forums if f not in latest],
        required=required_approvals(stage),
        latest=latest,
    )


def forum_gate(stage: Stage, decisions: Iterable[ForumDecision]) -> Gate:
    tally = forum_tally(stage, decisions)
    if len(tally.approved) >= tally.required:
        return Gate.met
    still_possible = len(tally.approved) + len(tally.undecided) + len(tally.postponed)
    if tally.returned and still_possible < tally.required:
        return Gate.returned
    return Gate.waiting


def hearing_gate(stage: Stage, responses: Iterable[HearingResponse], active_party_ids: set[int] | None = None) -> Gate:
    """Closed by the coordinator or the deadline sweep, or when every invitee still a party has responded."""
    if stage.closed_reason:
        return Gate.met
    rows = [r for r in responses if r.stage_id == stage.id and (active_party_ids is None or r.party_id in active_party_ids)]
    if rows and all(r.status == HearingStatus.responded for r in rows):
        return Gate.met
    return Gate.waiting


def treatment_gate(stage: Stage, treatments: Iterable[PartyTreatment], active_party_ids: set[int]) -> Gate:
    decided = {t.party_id for t in treatments if t.stage_id == stage.id and t.status in DECIDED_TREATMENTS}
    return Gate.met if active_party_ids <= decided else Gate.waiting


def draft_gate(stage: Stage) -> Gate:
    return Gate.met if stage.closed_reason else Gate.waiting


# --- what the run waits on -------------------------------------------------------

_AWAITING = {  # most advanced first: a run with a hearing and a draft open is named for the hearing
    StageKind.political_treatment: "AwaitingPoliticalTreatment",
    StageKind.forum_approval: "AwaitingForumDecision",
    StageKind.hearing: "AwaitingHearingResponses",
    StageKind.draft: "AwaitingDraft",
}


def awaiting(stages: Sequence[Stage]) -> str:
    """The name of the run's suspended state: what the most advanced open stage waits on."""
    open_kinds = {s.kind for s in stages if s.status == StageStatus.active}
    return next((name for kind, name in _AWAITING.items() if kind in open_kinds), "AwaitingEvent")


# --- legal recordings -------------------------------------------------------------


def pick_stage(
    stages: Sequence[Stage], kind: StageKind, key: str | None, *, where: Callable[[Stage], bool] = lambda s: True, also: str = ""
) -> Stage:
    """The stage a command acts on: the one named by --stage, or the only open one of `kind` (that `where` accepts)."""
    label = kind.value
    if key is not None:
        match = next((s for s in stages if s.key == key), None)
        if match is None:
            raise DomainError(f"--stage: no stage {key!r}; stages: {', '.join(s.key for s in stages)}")
        if match.kind != kind:
            raise DomainError(f"--stage: {key!r} is a {match.kind.value} stage, not {label}")
        return match
    candidates = [s for s in stages if s.kind == kind and s.status == StageStatus.active and where(s)]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        pending = [s.key for s in stages if s.kind == kind and s.status == StageStatus.pending and where(s)]
        hint = f" (not yet started: {', '.join(pending)})" if pending else ""
        raise DomainError(f"no {label} stage is open{also}{hint}")
    raise DomainError(f"several {label} stages are open{also}; name one with --stage: {', '.join(s.key for s in candidates)}")


def check_not_future(day: dt.date, today: dt.date, option: str) -> None:
    if day > today:
        raise DomainError(f"{option}: {day} is after today ({today}); record decisions once they are made")


def require_active(stage: Stage) -> None:
    if stage.status == StageStatus.pending:
        if stage.returned_to:
            why = "it was returned to draft " + ", ".join(repr(k) for k in returned_to(stage))
        elif stage.after:
            why = f"it comes after {', '.join(stage.after)}"
        else:
            why = "the revision has not started"
        raise DomainError(f"--stage: {stage.key!r} has not started yet ({why})")
    if stage.status == StageStatus.done:
        raise DomainError(f"--stage: {stage.key!r} is already done")


def check_forum_named(stage: Stage, forum_key: str) -> None:
    if forum_key not in stage.forums:
        raise DomainError(f"--forum: {forum_key!r} does not decide stage {stage.key!r}; its forums are {', '.join(stage.forums)}")


def find_party(parties: Sequence[Party], name: str) -> Party:
    """By name (any case) or organisation number; the error suggests near names."""
    wanted = name.strip().casefold()
    for p in parties:
        if p.name.casefold() == wanted or p.org_number == wanted.replace(" ", ""):
            return p
    near = difflib.get_close_matches(name, [p.name for p in parties], n=3, cutoff=0.75)
    hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
    raise DomainError(f"--party: no party named {name!r} in this revision{hint}")


def check_schedule(treatment: PartyTreatment, party: Party) -> None:
    if treatment.status in DECIDED_TREATMENTS:
        raise DomainError(f"--meeting: {party.name} has already decided ({treatment.status.value} on {treatment.decided_on})")


def decision_changes(treatment: PartyTreatment, party: Party, outcome: PartyOutcome, on: dt.date, case_no: str | None) -> bool:
    """True if recording this decision changes anything; False if it is already recorded as given.

    A different decision over a recorded one is refused: corrections are not silent.
    """
    if treatment.status not in DECIDED_TREATMENTS:
        return True
    same = treatment.status.value == outcome.value and treatment.decided_on == on and (case_no is None or case_no == treatment.case_no)
    if same:
        return False
    raise DomainError(
        f"--outcome: {party.name} has already decided: {treatment.status.value} on {treatment.decided_on}"
        + (f" (case {treatment.case_no})" if treatment.case_no else "")
    )


def treatment_status_for(outcome: PartyOutcome) -> TreatmentStatus:
    return TreatmentStatus(outcome.value)
