"""A hearing: every party is invited to respond by a deadline.

Closed by the coordinator, by the deadline sweep once an exact deadline has passed,
or when every invitee still a party has responded. Before an exact deadline each
invitee that has not responded gets a reminder at each of `before_deadline_days`;
once it has passed, every invitee is told the hearing is closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ..enums import DigestKind, EmailEvent, HearingStatus, StageKind, StageStatus
from ..errors import DomainError, ErrorCode
from ..plan_fields import DateField, Key, PlanContext, PlanProblem, StageSpecBase, unknown_documents
from .base import Gate, Progress, ReminderSettings, StageFacts, StageRules, Swept, commands_attribute, due, exact_deadline, reminder_offset

if TYPE_CHECKING:  # the tables (and SQLAlchemy) are not needed to check a plan
    from ..tables import Stage


class HearingStage(StageSpecBase):
    kind: Literal[StageKind.hearing]
    documents: list[Key] | None = Field(default=None, description="defaults to every document")
    opens: DateField | None = None
    deadline: DateField

    def problems(self, place: str, plan: PlanContext) -> list[PlanProblem]:
        found = unknown_documents(place, self.documents, plan)
        if self.opens and self.deadline.last_day < self.opens.first_day:
            found.append(PlanProblem(f"{place}.deadline", f"{self.deadline} is before the hearing opens ({self.opens})"))
        return found

    def columns(self, all_documents: list[str]) -> dict:
        return {**super().columns(all_documents), "documents": list(self.documents or all_documents)}


def check_reopen(stage: Stage, after: Sequence[Stage], facts_after: Sequence[StageFacts], deadline: dt.date, today: dt.date, changed: Sequence[str]) -> None:
    """A closed hearing may start a new round while nothing after it has been decided: no stage
    after it done, no forum decision or party answer recorded in one (those go back to waiting
    for the hearing). `changed`: its documents changed significantly since it closed; at least one."""
    if stage.status != StageStatus.done:
        raise DomainError(f"--stage: hearing {stage.key!r} is not closed ({stage.status.value}); only a closed hearing is reopened",
                          code=ErrorCode.refused, field="stage", why="hearing_not_closed", stage=stage.key)
    if not changed:
        raise DomainError(
            f"--stage: no document of hearing {stage.key!r} has changed significantly since it closed "
            "(`document add ... --significant`); nothing to hear again",
            code=ErrorCode.refused, field="stage", why="nothing_changed", stage=stage.key,
        )
    if deadline <= today:
        raise DomainError(f"--deadline: {deadline} is not after today ({today})", code=ErrorCode.refused, field="deadline", why="deadline_past", day=deadline)
    decided = [s.key for s, f in zip(after, facts_after) if s.status == StageStatus.done or f.decisions or any(o.answered_on for o in f.obligations)]
    if decided:
        raise DomainError(
            f"--stage: {', '.join(repr(k) for k in decided)} after hearing {stage.key!r} has already been decided on; a new hearing round "
            "can no longer change it (correct or withdraw those decisions first)",
            code=ErrorCode.refused, field="stage", why="decided_after", stage=stage.key, after=decided,
        )


class HearingRules(StageRules):
    kind = StageKind.hearing
    spec = HearingStage
    awaiting = "AwaitingHearingResponses"
    rank = 1
    dates = ("opens", "deadline")
    party_dates = frozenset({"opens", "deadline"})
    party_deadline = "deadline"
    first_status = HearingStatus.invited
    answered = frozenset({HearingStatus.responded})
    digest = {"deadline": DigestKind.hearing_deadline}
    party_column = True
    chases = frozenset({EmailEvent.hearing_reminder})
    tells = frozenset({EmailEvent.hearing_invitation, EmailEvent.hearing_deadline_passed})
    date_words = {"deadline": "hearing deadline"}

    def gate(self, stage: Stage, facts: StageFacts, active_party_ids: set[int]) -> Gate:
        if stage.closed_reason:
            return Gate.met
        rows = [o for o in facts.obligations if o.party_id in active_party_ids]
        return Gate.met if rows and all(o.status in self.answered for o in rows) else Gate.waiting

    def progress(self, stage: Stage, facts: StageFacts) -> Progress:
        return Progress(done=self.answered_count(facts), of=len(facts.obligations), note=stage.closed_reason)

    def describe(self, p: Progress) -> str:
        return f"{p.done}/{p.of} responses" + (f"; {p.note}" if p.note else "")

    def sweep(self, slug: str, stage: Stage, facts: StageFacts, active_party_ids: set[int], settings: ReminderSettings, as_of: dt.date) -> Swept:
        deadline = exact_deadline(stage)
        if deadline is None:
            return Swept()
        invited = [o for o in facts.obligations if o.party_id in active_party_ids]
        if as_of > deadline:
            event = EmailEvent.hearing_deadline_passed
            return Swept([due(event, slug, stage, o.party_id, deadline, as_of) for o in invited], close=True)
        if (n := reminder_offset(deadline, as_of, settings.before_days)) is not None:
            event = EmailEvent.hearing_reminder
            return Swept([due(event, slug, stage, o.party_id, deadline, as_of, f"{n}d") for o in invited if o.status not in self.answered])
        return Swept()


RULES = HearingRules()


def __getattr__(name: str) -> object:
    """Its commands (`hearing_commands`), imported from here on first use."""
    return commands_attribute(__name__, name)
