"""What every stage kind's side effects provide (`StageEffects`), and what the kinds'
recording commands share: the result they return, the rows they read."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlmodel import Session, col, select

from avtaleflyt.models import wording
from avtaleflyt.models.enums import EmailEvent
from avtaleflyt.models.errors import DomainError, ErrorCode
from avtaleflyt.models.reminders import Due
from avtaleflyt.models.stages import StageFacts, StageRules
from avtaleflyt.models.tables import ForumDecision, OutboxMessage, Party, PartyObligation, Revision, Stage
from avtaleflyt.models.titles import title_in

from ..recorder import Recorder


@dataclass(frozen=True)
class Recorded:
    slug: str
    changed: bool
    message: str
    seq: int
    flow_run_id: str | None


def done(recorder: Recorder, message: str) -> Recorded:
    r = recorder.revision
    return Recorded(r.slug, recorder.changed, message if recorder.changed else f"already recorded: {message}", r.seq, r.flow_run_id)


def stages_of(session: Session, revision: Revision) -> list[Stage]:
    return list(session.exec(select(Stage).where(Stage.revision_id == revision.id).order_by(Stage.position)).all())


def parties_of(session: Session, revision: Revision) -> list[Party]:
    return list(session.exec(select(Party).where(Party.revision_id == revision.id).order_by(Party.name)).all())


def facts_by_stage(session: Session, stage_ids: Sequence[int]) -> dict[int, StageFacts]:
    """Every stage's recorded facts, in two queries whatever the number of stages."""
    obligations: dict[int, list[PartyObligation]] = defaultdict(list)
    decisions: dict[int, list[ForumDecision]] = defaultdict(list)
    for o in session.exec(select(PartyObligation).where(col(PartyObligation.stage_id).in_(stage_ids)).order_by(PartyObligation.id)):
        obligations[o.stage_id].append(o)
    for d in session.exec(select(ForumDecision).where(col(ForumDecision.stage_id).in_(stage_ids)).order_by(ForumDecision.id)):
        decisions[d.stage_id].append(d)
    return {sid: StageFacts(obligations[sid], decisions[sid]) for sid in stage_ids}


def facts_of(session: Session, stage: Stage) -> StageFacts:
    return facts_by_stage(session, [stage.id])[stage.id]


def obligation(session: Session, stage: Stage, party: Party) -> PartyObligation | None:
    return session.exec(select(PartyObligation).where(PartyObligation.stage_id == stage.id, PartyObligation.party_id == party.id)).first()


def owed_by(session: Session, stage: Stage, party: Party, *, none: str, left: str | None = None) -> PartyObligation:
    """`party`'s row in `stage`, for a command about it. Refused naming the party when it has none
    (`none`: why, after its name) and, given `left` (what a party that has left cannot do), when it has left."""
    row = obligation(session, stage, party)
    if row is None:
        raise DomainError(
            f"--party: {party.name} {none}",
            code=ErrorCode.party_not_owing, field="party", party=party.name, stage=stage.key, kind=stage.kind.value,
        )
    if left is not None and not party.active:
        raise DomainError(
            f"--party: {party.name} left the revision on {party.left_on}; a party that has left {left}",
            code=ErrorCode.party_left, field="party", party=party.name, left_on=party.left_on,
        )
    return row


class StageEffects:
    """The side effects of one stage kind. Subclasses override what their kind does."""

    rules: ClassVar[StageRules]
    # The letter that first puts a party's deadline of this kind in its calendar; a letter
    # about a moved deadline updates that entry (same UID).
    calendar_event: ClassVar[EmailEvent | None] = None

    def enter(self, session: Session, stage: Stage, parties: Sequence[Party]) -> list[Party]:
        """The rows a stage makes when it starts (or a party joins it under way): one
        obligation per party that has none yet. Returns those parties."""
        if self.rules.first_status is None:
            return []
        have = set(session.exec(select(PartyObligation.party_id).where(PartyObligation.stage_id == stage.id)).all())
        new = [p for p in parties if p.id not in have]
        session.add_all(PartyObligation(stage_id=stage.id, party_id=p.id, kind=stage.kind.value, status=self.rules.first_status) for p in new)
        session.flush()
        return new

    def started(self, session: Session, revision: Revision, stage: Stage, parties: Sequence[Party]) -> list[OutboxMessage]:
        """The letters that go out when a stage starts (to `parties`, for the kinds that write to parties)."""
        return []

    def completed(self, session: Session, revision: Revision, stage: Stage, facts: StageFacts) -> dict[str, Any]:
        """The kind's part of the coordinators' "stage completed" letter (models/letters.StageCompleted)."""
        return {}

    def reminder(self, session: Session, revision: Revision, stage: Stage, party: Party, due: Due, row: PartyObligation | None = None) -> OutboxMessage:
        """The sweep's letter `due` to `party`; `row`: the party's obligation in `stage`, if the caller has read it."""
        raise ValueError(f"{stage.kind.value} stages send no reminders ({due.event})")

    def close_past_deadline(self, session: Session, slug: str, stage_key: str, deadline: dt.date, *, actor: str) -> None:
        """What the sweep does with a stage whose rules close it at its deadline."""
        raise ValueError(f"{self.rules.kind.value} stages do not close at their deadline")

    def calendar_title(self, revision: Revision, party: Party) -> str:
        """The title of the party's calendar entry for this kind's deadline, in its language."""
        return wording.calendar_title(self.rules.kind.value, party.language.value, title_in(party.language, revision.title, revision.title_nn))
