"""A forum approval: named forums (ASU, PSU, ...) decide; `required: all | N` must approve.

Each forum's latest decision in the stage's current round counts. The stage is approved
once N forums approved. A `returned` decision sends the revision back to its draft stage
as soon as the quorum can no longer be reached (with `required: all`, at once);
`postponed` only waits.
A quorum is a threshold, not a lid: once done on it, the other forums still decide (a late
`returned` is recorded, not a return), as long as the stage keeps its quorum.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StrictStr, model_validator

from .. import limits
from ..forum_meetings import ForumMeeting, meeting_problems
from ..enums import DigestKind, ForumOutcome, StageKind, StageStatus
from ..errors import DomainError, ErrorCode
from ..plan_fields import DateField, Key, Name, PlanContext, PlanProblem, StageSpecBase, Strict, Title, unknown_documents
from .base import Gate, Progress, StageFacts, StageRules, commands_attribute, forum_problems

if TYPE_CHECKING:  # the tables (and SQLAlchemy) are not needed to check a plan
    from ..tables import ForumDecision, Stage


def _check_required(value: Any) -> Any:
    if value == "all" or (type(value) is int and value >= 1):
        return value
    raise ValueError("expected `all` or a whole number of forums (1 or more)")


def _case_number(value: Any) -> Any:
    return str(value) if type(value) is int else value  # `number: 12` in YAML is a number


CaseNumber = Annotated[StrictStr, BeforeValidator(_case_number), Field(min_length=1, max_length=limits.MAX_CASE_NO), AfterValidator(limits.one_line)]
Markdown = Annotated[StrictStr, Field(min_length=1, max_length=limits.MAX_CASE_TEXT, description="Markdown; HTML in it is shown as text")]


class CaseOfficer(Strict):
    name: Name
    title: Title | None = None


class EarlierCase(Strict):
    number: CaseNumber
    title: Title | None = None

    @model_validator(mode="before")
    @classmethod
    def _number_alone(cls, value: Any) -> Any:
        return {"number": value} if isinstance(value, str | int) and type(value) is not bool else value  # `- 49-2023`


class ForumCase(Strict):
    """The case paper (saksframstilling) the forums get for the stage's meeting (models/papers/forum_case.py)."""

    number: CaseNumber | None = Field(default=None, description="the forum's case number, e.g. 09-2024")
    officer: CaseOfficer | None = Field(default=None, description="saksbehandler: name and title")
    title: Title | None = Field(default=None, description="sakstittel; defaults to the stage's title")
    proposed_resolution: Annotated[StrictStr, Field(min_length=1, max_length=limits.MAX_RESOLUTION)] = Field(description="forslag til vedtak (Markdown)")
    background: Markdown | None = None
    facts: Markdown | None = None
    assessment: Markdown | None = None
    earlier_cases: list[EarlierCase] = Field(default=[], max_length=limits.MAX_EARLIER_CASES, description="the cases this one follows up")


class ForumApprovalStage(StageSpecBase):
    kind: Literal[StageKind.forum_approval]
    forums: list[Key] = Field(min_length=1)
    required: Annotated[Literal["all"] | int, BeforeValidator(_check_required)] = "all"
    meeting: DateField | None = None
    meetings: dict[Key, ForumMeeting] | None = Field(default=None, description="a forum's own meeting date, time and place; the others meet on `meeting:`")
    documents: list[Key] | None = Field(default=None, description="the documents its meeting treats; defaults to every document")
    case: ForumCase | None = Field(default=None, description="its case paper (saksframstilling)")

    def problems(self, place: str, plan: PlanContext) -> list[PlanProblem]:
        found = forum_problems(place, self.forums, plan) + unknown_documents(place, self.documents, plan)
        found += meeting_problems(place, self.forums, self.meeting, self.meetings)
        if isinstance(self.required, int) and self.required > len(self.forums):
            found.append(PlanProblem(f"{place}.required", f"{self.required} approvals required but only {len(self.forums)} forums named"))
        return found

    def columns(self, all_documents: list[str]) -> dict:
        return {
            **super().columns(all_documents), "forums": list(self.forums), "required": None if self.required == "all" else self.required,
            "documents": list(self.documents or []),  # none named: its meeting notice lists every document
            "meetings": {k: m.model_dump(mode="json", exclude_none=True) for k, m in self.meetings.items()} if self.meetings else None,
        }


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


def forum_tally(stage: Stage, decisions: Iterable[ForumDecision], round: int | None = None) -> ForumTally:
    """The stage's tally in `round` (default: its current round)."""
    round = stage.round if round is None else round
    latest: dict[str, ForumDecision] = {}
    for d in sorted(decisions, key=lambda d: (d.decided_on, d.id or 0)):
        if d.stage_id == stage.id and d.round == round and d.forum_key in stage.forums:
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


APPROVING = frozenset({ForumOutcome.approved, ForumOutcome.approved_with_changes})


def quorum_met(stage: Stage, decisions: Iterable[ForumDecision]) -> bool:
    """The stage has started and enough of its forums approved in its current round (done, or about to be)."""
    return stage.status != StageStatus.pending and len((t := forum_tally(stage, decisions)).approved) >= t.required


def still_to_decide(stage: Stage, decisions: Iterable[ForumDecision]) -> list[str]:
    """A stage done on its quorum: its forums that have not approved (undecided, postponed or returned),
    whose decisions are still asked for and recorded. Any other stage: none."""
    decisions = list(decisions)
    if stage.status != StageStatus.done or not quorum_met(stage, decisions):
        return []
    approved = set(forum_tally(stage, decisions).approved)
    return [f for f in stage.forums if f not in approved]


def check_keeps_quorum(stage: Stage, tally: ForumTally, forum: str, outcome: ForumOutcome | None) -> None:
    """A done stage's next stages started on its quorum: a late decision, correction or withdrawal
    (`outcome` None: the forum's decision before it counts, or none) must leave the quorum met."""
    if stage.status != StageStatus.done:
        return
    approved = set(tally.approved) - {forum} | ({forum} if outcome in APPROVING else set())
    if len(approved) < tally.required:
        raise DomainError(
            f"--stage: {stage.key!r} is done on its quorum ({len(tally.approved)} of {len(stage.forums)} approved, {tally.required} required) "
            f"and the stages after it have started; this would leave {len(approved)} approvals",
            code=ErrorCode.stage_done, field="stage", stage=stage.key,
        )


def check_forum_named(stage: Stage, forum_key: str) -> None:
    if forum_key not in stage.forums:
        raise DomainError(
            f"--forum: {forum_key!r} does not decide stage {stage.key!r}; its forums are {', '.join(stage.forums)}",
            code=ErrorCode.forum_not_in_stage, field="forum", forum=forum_key, stage=stage.key, forums=list(stage.forums),
        )


def decision_text(outcome: object, on: object, case_no: str | None) -> str:
    """A recorded decision as the audit log shows it: `approved 2024-06-19 (case 12-2024)`."""
    return f"{getattr(outcome, 'value', outcome)} {on}" + (f" (case {case_no})" if case_no else "")


def check_correction(correct: bool, reason: str | None) -> None:
    """A correction says why; a reason without `correct` belongs to nothing."""
    if correct and not reason:
        raise DomainError("--reason: required with --correct (why the recorded decision is replaced)", code=ErrorCode.required, field="reason")
    if reason and not correct:
        raise DomainError(
            "--reason: only with --correct (a first decision needs no reason)",
            code=ErrorCode.invalid_value, field="reason", problem="not_allowed", value=reason[:60],
        )


def forum_decision_changes(
    current: ForumDecision | None, stage_key: str, forum: str, outcome: ForumOutcome, on: dt.date, case_no: str | None, *, correct: bool,
    late: bool = False,
) -> bool:
    """True if this decision is to be recorded; False if it is the forum's current decision already.

    A forum that postponed decides later without a correction; so does one that returned the case
    of a stage done on its quorum (`late`). Any other decision than the current one (another outcome,
    date or case number) is refused unless it is a correction.
    """
    if current is None:
        return True
    if current.outcome == outcome and current.decided_on == on and (case_no is None or case_no == current.case_no):
        return False
    decides_again = current.outcome == ForumOutcome.postponed or (late and current.outcome == ForumOutcome.returned)
    if correct or (decides_again and on > current.decided_on):
        return True
    raise DomainError(
        f"--outcome: {forum} has already decided {stage_key!r}: {decision_text(current.outcome, current.decided_on, current.case_no)}; "
        "to replace it, give --correct and --reason",
        code=ErrorCode.already_answered, field="outcome", forum=forum, stage=stage_key,
        outcome=current.outcome.value, date=current.decided_on, case_no=current.case_no,
    )


def returned_round(stage: Stage, decisions: Iterable[ForumDecision], forum: str) -> int | None:
    """The round before the current one, if `forum`'s decision there returned the stage and no
    forum has decided in the current round yet: a correction or a withdrawal then belongs to it."""
    if stage.round <= 1 or stage.status == StageStatus.done:
        return None
    decisions = [d for d in decisions if d.stage_id == stage.id]
    if any(d.round == stage.round for d in decisions):
        return None
    latest = forum_tally(stage, decisions, stage.round - 1).latest.get(forum)
    return stage.round - 1 if latest is not None and latest.outcome == ForumOutcome.returned else None


class ForumApprovalRules(StageRules):
    kind = StageKind.forum_approval
    spec = ForumApprovalStage
    awaiting = "AwaitingForumDecision"
    rank = 2
    dates = ("meeting",)
    forum_dates = ("meeting",)
    digest = {"meeting": DigestKind.forum_meeting}
    date_words = {"meeting": "forum meeting"}

    def gate(self, stage: Stage, facts: StageFacts, active_party_ids: set[int], round: int | None = None) -> Gate:
        tally = forum_tally(stage, facts.decisions, round)
        if len(tally.approved) >= tally.required:
            return Gate.met
        still_possible = len(tally.approved) + len(tally.undecided) + len(tally.postponed)
        if tally.returned and still_possible < tally.required:
            return Gate.returned
        return Gate.waiting

    def forums_to_meet(self, stage: Stage, facts: StageFacts) -> set[str]:
        """A stage to come: all its forums; one under way: those that have not decided (or postponed) this round."""
        if stage.status == StageStatus.pending:
            return set(stage.forums)
        tally = forum_tally(stage, facts.decisions)
        return set(tally.undecided) | set(tally.postponed)

    def progress(self, stage: Stage, facts: StageFacts) -> Progress:
        t = forum_tally(stage, facts.decisions)
        if stage.status == StageStatus.done and stage.required is not None:  # done on its quorum: counted of all its forums
            still = [f for f in still_to_decide(stage, facts.decisions) if f not in t.returned]
            return Progress(
                done=len(t.approved), of=len(stage.forums), approved=t.approved, returned=t.returned,
                postponed=[] if still else t.postponed, settled=bool(t.returned or still), still_to_decide=still,
            )
        return Progress(done=len(t.approved), of=t.required, approved=t.approved, returned=t.returned, postponed=t.postponed)

    def describe(self, p: Progress) -> str:
        """`2/3 approved (ASU, FU); returned: PSU`; done on its quorum: `done (3/4 approved: ASU, FU, fagrad); still to decide: PSU`."""
        approved = f": {', '.join(p.approved)}" if p.settled else f" ({', '.join(p.approved)})" if p.approved else ""
        parts = [f"done ({p.done}/{p.of} approved{approved})" if p.settled else f"{p.done}/{p.of} approved{approved}"]
        parts += [f"returned: {', '.join(p.returned)}"] if p.returned else []
        parts += [f"postponed: {', '.join(p.postponed)}"] if p.postponed else []
        parts += [f"still to decide: {', '.join(p.still_to_decide)}"] if p.still_to_decide else []
        return "; ".join(parts)


RULES = ForumApprovalRules()


def __getattr__(name: str) -> object:
    """Its commands (`forum_approval_commands`), imported from here on first use."""
    return commands_attribute(__name__, name)
