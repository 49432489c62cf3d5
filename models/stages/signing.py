"""Signing: every party that approved the agreement in its political treatment signs it.

The stage starts after the political treatment (`after:`); each party that approved (with or
without reservations) owes a signature, with its date and signer (name, optionally title). A
party that rejected owes none. The stage is done when every such party still in the revision
has signed; the agreement is in force for a party from its signing date (models/in_force.py).
Before an exact deadline each unsigned party gets a reminder at each of `before_deadline_days`;
after it, a reminder the day after and then every `overdue_every_days`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from ..enums import DigestKind, EmailEvent, StageKind
from ..errors import DomainError, ErrorCode
from ..plan_fields import DateField, StageSpecBase
from .base import Gate, Progress, ReminderSettings, StageFacts, StageRules, Swept, commands_attribute, due, exact_deadline, overdue_number, reminder_offset

if TYPE_CHECKING:  # the tables (and SQLAlchemy) are not needed to check a plan
    from ..tables import Party, PartyObligation, Stage
    from .signing_commands import PartySigning


class SigningStatus(StrEnum):
    sent = "sent"  # the signing request is sent
    signed = "signed"


class SigningStage(StageSpecBase):
    kind: Literal[StageKind.signing]
    deadline: DateField


def signature_text(row: PartyObligation) -> str | None:
    """A recorded signature as the audit log shows it: `signed 2025-05-02 by Kari Nordmann (ordfører)`."""
    if row.status != SigningStatus.signed:
        return None
    return f"signed {row.answered_on} by {row.signer}" + (f" ({row.signer_title})" if row.signer_title else "")


def signature_changes(row: PartyObligation, party: Party, c: PartySigning) -> bool:
    """True if recording this signature changes anything; False if it is recorded as given. A different
    signature over a recorded one is refused unless it is a correction (`correct` with a reason)."""
    if row.status != SigningStatus.signed:
        return True
    if row.answered_on == c.date and row.signer == c.signer and (c.signer_title is None or c.signer_title == row.signer_title):
        return False
    if c.correct:
        return True
    raise DomainError(
        f"--date: {party.name} has already signed: {signature_text(row)}; to replace it, give --correct and --reason",
        code=ErrorCode.already_answered, field="date", party=party.name, status=row.status, on=row.answered_on, case_no=None,
    )


class SigningRules(StageRules):
    kind = StageKind.signing
    spec = SigningStage
    awaiting = "AwaitingSignatures"
    rank = 4
    dates = ("deadline",)
    party_dates = frozenset({"deadline"})
    party_deadline = "deadline"
    first_status = SigningStatus.sent
    answered = frozenset({SigningStatus.signed})
    digest = {"deadline": DigestKind.signing_deadline}
    asks = frozenset({EmailEvent.signing_request})
    chases = frozenset({EmailEvent.signing_reminder})
    date_words = {"deadline": "signing deadline"}
    approves = frozenset({SigningStatus.signed})  # the agreement is in force for the party from its signing (models/in_force.py)

    def gate(self, stage: Stage, facts: StageFacts, active_party_ids: set[int]) -> Gate:
        owing = {o.party_id for o in facts.obligations if o.party_id in active_party_ids and o.status not in self.answered}
        return Gate.waiting if owing else Gate.met

    def progress(self, stage: Stage, facts: StageFacts) -> Progress:
        return Progress(done=self.answered_count(facts), of=len(facts.obligations))

    def describe(self, p: Progress) -> str:
        return f"{p.done}/{p.of} signed"

    def sweep(self, slug: str, stage: Stage, facts: StageFacts, active_party_ids: set[int], settings: ReminderSettings, as_of: dt.date) -> Swept:
        deadline = exact_deadline(stage)
        if deadline is None:
            return Swept()
        if (k := overdue_number(deadline, as_of, settings.overdue_every_days)) is not None:
            detail = f"#{k}"
        elif (n := reminder_offset(deadline, as_of, settings.before_days)) is not None:
            detail = f"{n}d"
        else:
            return Swept()
        unsigned = [o for o in facts.obligations if o.party_id in active_party_ids and o.status not in self.answered]
        return Swept([due(EmailEvent.signing_reminder, slug, stage, o.party_id, deadline, as_of, detail) for o in unsigned])


RULES = SigningRules()


def __getattr__(name: str) -> object:
    """Its commands (`signing_commands`), imported from here on first use."""
    return commands_attribute(__name__, name)
