"""Political treatment: every active party decides in its own council or board.

A rejection does not stop the others; the stage is done when every active party has
decided. Before an exact deadline each undecided party gets a reminder at each of
`before_deadline_days`; after it, an overdue notice the day after and then every
`overdue_every_days`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from ..enums import (
    DigestKind,
    DECIDED_TREATMENTS,
    EmailEvent,
    PartyOutcome,
    StageKind,
    TreatmentStatus,
)
from ..errors import DomainError, ErrorCode

from ..plan_fields import DateField, PlanContext, PlanProblem, StageSpecBase
from ..resolution_templates import ResolutionTemplates, resolution_problems
from pydantic import Field
from .forum_approval import decision_text
from .base import Gate, Progress, ReminderSettings, StageFacts, StageRules, Swept, commands_attribute, due, exact_deadline, overdue_number, reminder_offset

if TYPE_CHECKING:  # the tables (and SQLAlchemy) are not needed to check a plan
    from ..tables import Party, PartyObligation, Stage


class PoliticalTreatmentStage(StageSpecBase):
    kind: Literal[StageKind.political_treatment]
    deadline: DateField
    resolution: ResolutionTemplates | None = Field(default=None, description="the proposed resolution per party kind, in bokmål (placeholders: models/resolution_templates.py)")
    resolution_nn: ResolutionTemplates | None = Field(default=None, description="the same in nynorsk, for a nynorsk party")

    def problems(self, place: str, plan: PlanContext) -> list[PlanProblem]:
        return resolution_problems(place, {"resolution": self.resolution, "resolution_nn": self.resolution_nn})


def check_schedule(row: PartyObligation, party: Party) -> None:
    if row.status in DECIDED_TREATMENTS:
        raise DomainError(
            f"--meeting: {party.name} has already decided ({row.status} on {row.answered_on})",
            code=ErrorCode.already_answered, field="meeting", party=party.name, status=row.status, on=row.answered_on, case_no=row.case_no,
        )


def decision_changes(
    row: PartyObligation, party: Party, outcome: PartyOutcome, on: dt.date, case_no: str | None, *, correct: bool = False
) -> bool:
    """True if recording this decision changes anything; False if it is already recorded as given.

    A different decision over a recorded one is refused unless it is a correction: corrections are not silent.
    """
    if row.status not in DECIDED_TREATMENTS:
        return True
    if row.status == outcome.value and row.answered_on == on and (case_no is None or case_no == row.case_no):
        return False
    if correct:
        return True
    raise DomainError(
        f"--outcome: {party.name} has already decided: {row.status} on {row.answered_on}" + (f" (case {row.case_no})" if row.case_no else "")
        + "; to replace it, give --correct and --reason",
        code=ErrorCode.already_answered, field="outcome", party=party.name, status=row.status, on=row.answered_on, case_no=row.case_no,
        outcome=str(row.status), date=row.answered_on,
    )


def recorded_decision(row: PartyObligation) -> str | None:
    """The party's recorded decision as the audit log shows it, or None while it has not decided."""
    return decision_text(row.status, row.answered_on, row.case_no) if row.status in DECIDED_TREATMENTS else None


def check_returns(outcome: PartyOutcome, reservations: str | None, *, require_reservations: bool = False) -> None:
    """Reservations belong to a conditional approval only. Required with one when `require_reservations`
    (a party's own link: the party knows them); a coordinator recording one without them is warned, not refused."""
    if reservations and outcome != PartyOutcome.approved_with_reservations:
        raise DomainError(
            f"--reservations: only with --outcome {PartyOutcome.approved_with_reservations.value} (the decision is {outcome.value}); give remarks with --note",
            code=ErrorCode.invalid_value, field="reservations", problem="not_allowed", value="",
        )
    if require_reservations and lacks_reservations(outcome, reservations):
        raise DomainError("reservations: required with a conditional approval", code=ErrorCode.required, field="reservations")


def lacks_reservations(outcome: PartyOutcome, reservations: str | None) -> bool:
    return outcome == PartyOutcome.approved_with_reservations and not reservations


def returns_changed(row: PartyObligation, given: dict[str, str | None]) -> dict[str, tuple[str | None, str | None]]:
    """What a decision's returns change on `row`: field -> (before, after). A field not given keeps what it holds."""
    return {k: (getattr(row, k), v) for k, v in given.items() if v is not None and getattr(row, k) != v}


def treatment_status_for(outcome: PartyOutcome) -> TreatmentStatus:
    return TreatmentStatus(outcome.value)


class PoliticalTreatmentRules(StageRules):
    kind = StageKind.political_treatment
    spec = PoliticalTreatmentStage
    awaiting = "AwaitingPoliticalTreatment"
    rank = 3
    dates = ("deadline",)
    party_dates = frozenset({"deadline"})
    party_deadline = "deadline"
    first_status = TreatmentStatus.sent
    answered = DECIDED_TREATMENTS
    digest = {"deadline": DigestKind.decision_deadline}
    party_decision = True
    approves = frozenset({TreatmentStatus.approved, TreatmentStatus.approved_with_reservations})
    rejects = frozenset({TreatmentStatus.rejected})
    asks = frozenset({EmailEvent.decision_request})  # not dropped for a moved deadline: the shift's letter names the new one
    chases = frozenset({EmailEvent.decision_reminder, EmailEvent.overdue_notice})
    date_words = {"deadline": "political treatment deadline"}

    def gate(self, stage: Stage, facts: StageFacts, active_party_ids: set[int]) -> Gate:
        decided = {o.party_id for o in facts.obligations if o.status in self.answered}
        return Gate.met if active_party_ids <= decided else Gate.waiting

    def progress(self, stage: Stage, facts: StageFacts) -> Progress:
        return Progress(done=self.answered_count(facts), of=len(facts.obligations))

    def describe(self, p: Progress) -> str:
        return f"{p.done}/{p.of} decided"

    def sweep(self, slug: str, stage: Stage, facts: StageFacts, active_party_ids: set[int], settings: ReminderSettings, as_of: dt.date) -> Swept:
        deadline = exact_deadline(stage)
        if deadline is None:
            return Swept()
        if (k := overdue_number(deadline, as_of, settings.overdue_every_days)) is not None:
            event, detail = EmailEvent.overdue_notice, f"#{k}"
        elif (n := reminder_offset(deadline, as_of, settings.before_days)) is not None:
            event, detail = EmailEvent.decision_reminder, f"{n}d"
        else:
            return Swept()
        undecided = [o for o in facts.obligations if o.party_id in active_party_ids and o.status not in self.answered]
        return Swept([due(event, slug, stage, o.party_id, deadline, as_of, detail) for o in undecided])


RULES = PoliticalTreatmentRules()


def __getattr__(name: str) -> object:
    """Its commands (`political_treatment_commands`), imported from here on first use."""
    return commands_attribute(__name__, name)
