"""A draft: the secretariat writes (or revises) the agreement. Done when someone completes it.

A returned forum decision reopens the nearest draft before the forum stage.
"""

from __future__ import annotations

from typing import Literal

from ..enums import StageKind
from ..command_fields import CommandBase, Key, Note
from ..plan_fields import DateField, StageSpecBase
from .base import StageRules


class DraftStage(StageSpecBase):
    kind: Literal[StageKind.draft]
    due: DateField | None = None


class DraftComplete(CommandBase):
    action: Literal["draft_complete"] = "draft_complete"
    stage: Key | None = None
    note: Note | None = None


class DraftRules(StageRules):
    kind = StageKind.draft
    spec = DraftStage
    awaiting = "AwaitingDraft"
    rank = 0
    dates = ("due",)
    takes_returns = True
    commands = (DraftComplete,)
    date_words = {"due": "draft due"}


RULES = DraftRules()
