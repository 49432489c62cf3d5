"""The side effects of each stage kind, one module each: the rows a stage makes when it
starts, its letters, and its recording commands. The pure rules are in models/stages/.

Adding a kind: write tasks/stages/<kind>.py with a `StageEffects` subclass (override what
the kind does: `started` letters, `completed` facts for the coordinators' letter,
`reminder` letters for what its rules' `sweep` returns), its recording commands and a
`HANDLERS` table (command model -> recording), add it below, and write its email templates.
"""

from __future__ import annotations

from collections.abc import Callable

from avtaleflyt.models.enums import StageKind

from . import draft, forum_approval, hearing, information, political_treatment, signing
from .base import Recorded, StageEffects

_MODULES = (draft, hearing, forum_approval, political_treatment, signing, information)

EFFECTS: dict[StageKind, StageEffects] = {module.EFFECTS.rules.kind: module.EFFECTS for module in _MODULES}
# Each kind's recording commands: command model (models/stages/<kind>.py) -> the function that records it.
HANDLERS: dict[type, Callable[..., Recorded]] = {command: handler for module in _MODULES for command, handler in module.HANDLERS.items()}


def effects_for(kind: StageKind | str) -> StageEffects:
    return EFFECTS[StageKind(kind)]


__all__ = ["EFFECTS", "HANDLERS", "Recorded", "StageEffects", "effects_for"]
