"""The stage kinds, one module each: its plan schema, gate, the name of the run's state
while it is open, its progress and its reminders. The side effects of each kind (the rows
a stage makes when it starts, its letters, its recording commands) are in tasks/stages/.

Adding a kind: write models/stages/<kind>.py with a `StageRules` subclass and its plan
schema, add it to `KINDS` below and its value to `StageKind`, then tasks/stages/<kind>.py
(see there). Everything else (reconcile, status, reminders, shift, export) iterates over
`KINDS`.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from ..enums import StageKind
from . import draft, forum_approval, hearing, information, political_treatment, signing
from .base import Gate, Progress, StageFacts, StageRules

KINDS: dict[StageKind, StageRules] = {
    r.kind: r for r in (draft.RULES, hearing.RULES, forum_approval.RULES, political_treatment.RULES, signing.RULES, information.RULES)
}

StageSpec = Annotated[Union[tuple(r.spec for r in KINDS.values())], Field(discriminator="kind")]  # noqa: UP007


def rules_for(kind: StageKind | str) -> StageRules:
    return KINDS[StageKind(kind)]


def kind_names() -> list[str]:
    return [k.value for k in KINDS]


__all__ = ["KINDS", "Gate", "Progress", "StageFacts", "StageRules", "StageSpec", "kind_names", "rules_for"]
