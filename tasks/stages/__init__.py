"""The side effects of each stage kind, one module each: the rows a stage makes when it
starts, its letters, and its recording commands. The pure rules are in models/stages/.

Adding a kind: write tasks/stages/<kind>.py with a `StageEffects` subclass (override what
the kind does: `started` letters, `completed` facts for the coordinators' letter,
`reminder` letters for what its rules' `sweep` returns) and its recording commands,
add it to `EFFECTS` below, and write its email templates.
"""

from __future__ import annotations

from avtaleflyt.models.enums import StageKind
from avtaleflyt.models.stages import KINDS

from . import draft, forum_approval, hearing, political_treatment
from .base import Recorded, StageEffects

EFFECTS: dict[StageKind, StageEffects] = {
    e.rules.kind: e for e in (draft.EFFECTS, hearing.EFFECTS, forum_approval.EFFECTS, political_treatment.EFFECTS)
}
assert EFFECTS.keys() == KINDS.keys(), "every stage kind needs its rules (models/stages) and its effects (tasks/stages)"


def effects_for(kind: StageKind | str) -> StageEffects:
    return EFFECTS[StageKind(kind)]


__all__ = ["EFFECTS", "Recorded", "StageEffects", "effects_for"]
