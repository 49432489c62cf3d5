"""Follow-up items: what the coordinators must follow up after a revision's decisions, such as a
party that rejected the agreement (a dialogue meeting, say). One is opened by the recording
that gives its reason and stays visible until a coordinator closes it (tasks/followups.py).
Pure: the reasons and the closing command.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from .command_fields import CommandBase, Note


class FollowUpReason(StrEnum):
    rejected = "rejected"  # the party rejected the agreement in its own decision
    forum_returned = "forum_returned"  # a forum returned a stage that went on on its quorum
    forum_undecided = "forum_undecided"  # a forum has not decided a stage that went on on its quorum


class FollowUpClose(CommandBase):
    action: Literal["followup_close"] = "followup_close"
    id: int = Field(ge=1)
    note: Note | None = None  # what was done: "dialogmøte 12.03.2025; ny behandling i juni"


COMMANDS = (FollowUpClose,)
