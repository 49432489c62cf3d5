"""A draft: the secretariat writes (or revises) the agreement. Done when someone completes it.

A returned forum decision reopens the nearest draft before the forum stage.
"""

from __future__ import annotations

from typing import Literal

from ..enums import StageKind
from ..plan_fields import DateField, StageSpecBase
from .base import StageRules, commands_attribute


class DraftStage(StageSpecBase):
    kind: Literal[StageKind.draft]
    due: DateField | None = None


class DraftRules(StageRules):
    kind = StageKind.draft
    spec = DraftStage
    awaiting = "AwaitingDraft"
    rank = 0
    dates = ("due",)
    takes_returns = True
    date_words = {"due": "draft due"}


RULES = DraftRules()


def __getattr__(name: str) -> object:
    """Its commands (`draft_commands`), imported from here on first use."""
    return commands_attribute(__name__, name)
