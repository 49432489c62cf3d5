"""For whom the agreement is in force, and from when. Pure: the caller loads the rows.

The rule: the stage kinds whose answers say something of the agreement (`StageRules.approves`
and `rejects`: the political treatment, signing) are looked at for each party still in the
revision. A party that rejected it in any of them has not got it in force. Otherwise the
revision's last such stage (by the kinds' `rank`, then the plan's order) decides: the agreement
is in force for the party from the date of its approving answer there, so from its signing date
when the plan has a signing stage, and from its approving decision when it has none. A party
that has not given that answer yet is pending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from . import wording
from .stages import StageFacts, rules_for

if TYPE_CHECKING:
    from .tables import Party, Stage


class Standing(StrEnum):
    in_force = "in_force"
    rejected = "rejected"
    pending = "pending"  # owes the answer that puts it in force


@dataclass(frozen=True)
class PartyStanding:
    party: str
    party_id: int
    standing: Standing
    since: dt.date | None = None  # in force from
    owes: str | None = None  # pending: the kind of the stage it owes its answer to
    stage: str | None = None  # the stage of the answer that decided (or that it owes)


@dataclass(frozen=True)
class InForce:
    parties: tuple[PartyStanding, ...]

    @property
    def count(self) -> int:
        return sum(p.standing == Standing.in_force for p in self.parties)

    @property
    def of(self) -> int:
        return len(self.parties)

    @property
    def rejected(self) -> list[str]:
        return [p.party for p in self.parties if p.standing == Standing.rejected]

    @property
    def pending(self) -> list[tuple[str, str]]:
        return [(p.party, p.owes or "") for p in self.parties if p.standing == Standing.pending]

    def summary(self, language: str = "nb") -> str:
        """``i kraft for 20 av 21 parter; Kvam herad vedtok ikke avtalen``."""
        return wording.in_force_summary(self.count, self.of, self.rejected, self.pending, language)


def in_force(stages: Sequence[Stage], facts: Mapping[int, StageFacts], parties: Sequence[Party]) -> InForce:
    asking = [s for s in stages if rules_for(s.kind).approves]
    last = max(asking, key=lambda s: (rules_for(s.kind).rank, s.position), default=None)
    out = []
    for p in sorted((p for p in parties if p.active), key=lambda p: p.name):
        rows = {s.id: next((o for o in facts[s.id].obligations if o.party_id == p.id), None) for s in asking}
        rejected = next((s for s in asking if (o := rows[s.id]) is not None and o.status in rules_for(s.kind).rejects), None)
        if rejected is not None:
            out.append(PartyStanding(p.name, p.id, Standing.rejected, rows[rejected.id].answered_on, stage=rejected.key))
            continue
        row = rows[last.id] if last is not None else None
        if row is not None and row.status in rules_for(last.kind).approves:
            out.append(PartyStanding(p.name, p.id, Standing.in_force, row.answered_on, stage=last.key))
        else:
            out.append(PartyStanding(p.name, p.id, Standing.pending, owes=last.kind.value if last is not None else None, stage=last.key if last else None))
    return InForce(tuple(out))
